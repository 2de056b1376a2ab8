"""tests/registry/test_registry_live.py — the registry inside a running
gannetd in platform mode, driven by gannetctl and real paho-mqtt clients:
a device registered after start-up connects without a restart; disabling it
(or its type, or its org) closes its connection at once and refuses the
next CONNECT (S-034); a rotated token replaces the old one for new
connections; an API key works and stops working when removed.

Needs a gannetd with platform mode (the rules, engine/platform/); skipped
otherwise. Environment: GANNETD, GANNETCTL (set by meson)."""

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "engine"))
import harness  # noqa: E402

GANNETCTL = os.environ.get("GANNETCTL", "")
ORG = "live01"
TOKEN = "device-token-1"


def platform_mode_available():
    exe = os.environ.get("GANNETD", "")
    if not exe or not os.access(exe, os.X_OK) or not os.access(GANNETCTL, os.X_OK):
        return False
    p = subprocess.run([exe, "-o", "mode=platform", "-o", "platform_registry=/nonexistent/x.db",
                        "--print-config"], capture_output=True, text=True, timeout=20)
    return p.returncode == 0 and re.search(r"^mode\s+platform\b", p.stdout, re.M) is not None


def ctl(db, *args):
    p = subprocess.run([GANNETCTL, "--db", db, "--kdf-iterations", "16", "--json", *args],
                       capture_output=True, text=True, timeout=30 * harness.SCALE)
    if p.returncode != 0:
        raise AssertionError("gannetctl %s: exit %d: %s" % (" ".join(args), p.returncode, p.stderr))
    return p.stdout


@unittest.skipUnless(platform_mode_available(), "gannetd has no platform mode (rules not merged)")
class LiveRegistry(harness.BrokerTestCase):
    shards = 2

    @classmethod
    def setUpClass(cls):
        cls.dbdir = tempfile.mkdtemp(prefix="gannet-live-")
        cls.db = os.path.join(cls.dbdir, "registry.db")
        ctl(cls.db, "org", "create", "--id", ORG)
        ctl(cls.db, "org", "set", ORG, "tls_policy", "optional")   # plain 1883 (S-003)
        ctl(cls.db, "type", "add", ORG, "sensor")
        cls.gannetd_conf = ("mode platform\nplatform_registry %s\nregistry_poll_interval_ms 50\n"
                            % cls.db)
        super().setUpClass()

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        shutil.rmtree(cls.dbdir, ignore_errors=True)

    def device_client(self, dev, password=TOKEN, expect_rc=0):
        c = harness.PahoClient(self.broker, "d:%s:sensor:%s" % (ORG, dev), username="use-token-auth",
                               password=password, connect=False)
        self.clients.append(c)
        c.connect(expect_rc=expect_rc)
        return c

    def connect_eventually(self, dev, password=TOKEN):
        """The registry sees a change within its poll interval: retry CONNECT briefly."""
        deadline = time.time() + 5 * harness.SCALE
        while True:
            try:
                return self.device_client(dev, password)
            except AssertionError:
                if time.time() > deadline:
                    raise
                time.sleep(0.1)

    def assert_disconnected(self, c, within=3.0):
        t0 = time.monotonic()
        try:
            c.disconnects.get(timeout=within * harness.SCALE)
        except Exception:
            self.fail("%s still connected %.1fs after it was disabled" % (c.client_id, within))
        return time.monotonic() - t0

    def test_device_registered_while_running_connects_and_is_cut_off_when_disabled(self):
        self.device_client("late", expect_rc=5)              # not registered yet (S-030)
        ctl(self.db, "device", "add", ORG, "sensor", "late", "--token", TOKEN)
        c = self.connect_eventually("late")
        c.publish("iot-2/evt/status/fmt/json", b'{"ok":1}', qos=1)
        ctl(self.db, "device", "disable", ORG, "sensor", "late")
        took = self.assert_disconnected(c)
        self.assertLess(took, 2.0 * harness.SCALE)
        self.device_client("late", expect_rc=5)              # and cannot reconnect (S-034)
        ctl(self.db, "device", "enable", ORG, "sensor", "late")
        self.connect_eventually("late")

    def test_disabled_type_and_org_cut_off_their_devices(self):
        ctl(self.db, "type", "add", ORG, "meter")
        ctl(self.db, "device", "add", ORG, "sensor", "t1", "--token", TOKEN)
        c = self.connect_eventually("t1")
        ctl(self.db, "type", "disable", ORG, "sensor")
        self.assert_disconnected(c)
        ctl(self.db, "type", "enable", ORG, "sensor")
        c = self.connect_eventually("t1")
        ctl(self.db, "org", "disable", ORG)
        self.assert_disconnected(c)
        ctl(self.db, "org", "enable", ORG)
        self.connect_eventually("t1")

    def test_rotated_token_replaces_the_old_one(self):
        ctl(self.db, "device", "add", ORG, "sensor", "rot", "--token", TOKEN)
        self.connect_eventually("rot").close()
        ctl(self.db, "device", "rotate", ORG, "sensor", "rot", "--token", "second-token-2")
        c = self.connect_eventually("rot", password="second-token-2")
        c.close()
        self.device_client("rot", expect_rc=5)

    def test_api_key_works_until_removed(self):
        import json
        out = json.loads(ctl(self.db, "apikey", "create", ORG))
        deadline = time.time() + 5 * harness.SCALE
        while True:
            a = harness.PahoClient(self.broker, "a:%s:dash" % ORG, username=out["key"],
                                   password=out["token"], connect=False)
            self.clients.append(a)
            try:
                a.connect()
                break
            except AssertionError:
                if time.time() > deadline:
                    raise
                time.sleep(0.1)
        ctl(self.db, "apikey", "remove", out["key"])
        self.assert_disconnected(a)


if __name__ == "__main__":
    unittest.main()
