"""tests/platform/platform_harness.py — gannetd in platform mode for the
integration tests, on top of tests/engine/harness.py (same broker runner,
clients and bounded waits).

Owns: a registry database per test class, written before gannetd starts
(and while it runs: gannetd sees changes within its poll interval) with
tests/platform/pfixture (PFIXTURE, set by meson), the platform config
(mode platform, platform_registry, per-class extra keys), client helpers
that connect as a device / gateway / application, and waiting for the
close line the broker logs for a client ("close: client=... code=N").
"""

import os
import re
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "engine"))

import harness  # noqa: E402
import mqttraw  # noqa: E402
from harness import TIMEOUT, QUIET, uid  # noqa: E402,F401

ORG = "abc123"
OTHER_ORG = "zzz999"
TOKEN = "tok-en-123456"
APP_TOKEN = "app-token-12345"


def pfixture(db, *args):
    exe = os.environ.get("PFIXTURE", "")
    if not exe or not os.access(exe, os.X_OK):
        raise harness.unittest.SkipTest("PFIXTURE does not name the pfixture binary")
    r = subprocess.run([exe, db] + [str(a) for a in args], capture_output=True, timeout=30)
    if r.returncode != 0:
        raise AssertionError("pfixture %s: %s" % (" ".join(map(str, args)), r.stderr.decode()))
    return r.stdout.decode().strip()


@harness.gannetd_only("platform mode")
class PlatformTestCase(harness.BrokerTestCase):
    """A broker in platform mode over its own registry. Subclasses add
    config lines (platform_conf) and org settings (org_settings); setup()
    registers what the class needs before the broker starts."""

    platform_conf = ""
    org_settings = ()
    shards = 1
    db = None

    @classmethod
    def setUpClass(cls):
        import tempfile
        cls.dbdir = tempfile.mkdtemp(prefix="gannet-ptest-")
        cls.db = os.path.join(cls.dbdir, "registry.db")
        pfixture(cls.db, "org", ORG, *cls.org_settings)
        pfixture(cls.db, "org", OTHER_ORG)
        cls.apikey = pfixture(cls.db, "apikey", ORG, APP_TOKEN)
        cls.other_apikey = pfixture(cls.db, "apikey", OTHER_ORG, APP_TOKEN)
        cls.setup()
        cls.gannetd_conf = ("mode platform\nplatform_registry %s\nlog_level info\n%s\n"
                            % (cls.db, cls.platform_conf))
        super().setUpClass()

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        import shutil
        shutil.rmtree(cls.dbdir, ignore_errors=True)

    @classmethod
    def setup(cls):
        pass

    # -- registry ------------------------------------------------------
    @classmethod
    def reg(cls, *args):
        return pfixture(cls.db, *args)

    @classmethod
    def device(cls, type_, id_, cls_="d", token=TOKEN, org=ORG, *extra):
        cls.reg("device", org, type_, id_, cls_, token, *extra)
        return "%s:%s:%s:%s" % (cls_, org, type_, id_)

    def registered(self, *args):
        """A registry write while the broker runs: wait until it has seen it."""
        self.reg(*args)
        time.sleep(0.4 * harness.SCALE)

    # -- clients -------------------------------------------------------
    def raw_as(self, client_id, version=mqttraw.V311, username="use-token-auth",
               password=TOKEN, expect_rc=0, **kw):
        c = self.raw(version)
        if username is not None:
            kw["username"] = username
        if password is not None:
            kw["password"] = password.encode() if isinstance(password, str) else password
        c.connack = c.mqtt_connect(client_id, expect_rc=expect_rc, **kw)
        return c

    def raw_app(self, app=None, version=mqttraw.V311, key=None, expect_rc=0, cls_="a", **kw):
        cid = "%s:%s:%s" % (cls_, ORG, app or uid("app"))
        return self.raw_as(cid, version, username=key or self.apikey, password=APP_TOKEN,
                           expect_rc=expect_rc, **kw)

    def paho_as(self, client_id, protocol="v311", username="use-token-auth", password=TOKEN, **kw):
        return self.paho(client_id, protocol, username=username, password=password, **kw)

    def paho_app(self, app=None, protocol="v311", **kw):
        return self.paho("a:%s:%s" % (ORG, app or uid("app")), protocol, username=self.apikey,
                         password=APP_TOKEN, **kw)

    # -- the close log line --------------------------------------------
    def close_line(self, client_id, timeout=TIMEOUT, code=None):
        """The broker's close line for client_id logged during this test
        (the first one, or the first with `code`)."""
        pat = re.compile(r"close: client=%s addr=\S+ code=(%s) reason=\"([^\"]*)\""
                         % (re.escape(client_id), code if code is not None else r"\d+"))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.broker.log()[self.log_mark:]
            m = pat.search(text)
            if m:
                return int(m.group(1)), m.group(2), m.group(0)
            time.sleep(0.05)
        raise AssertionError("no close line for %s in the broker log:\n%s"
                             % (client_id, "\n".join(self.broker.log()[self.log_mark:].splitlines()[-20:])))

    def assert_close_code(self, client_id, code):
        got, reason, line = self.close_line(client_id)
        self.assertEqual(got, code, line)
        return reason

    def assert_closed(self, c):
        c.expect_closed()

    def assert_open(self, c):
        self.assertTrue(c.is_open(QUIET))
        c.ping()
