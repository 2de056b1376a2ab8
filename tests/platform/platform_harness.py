"""tests/platform/platform_harness.py — gannetd in platform mode for the
integration tests, on top of tests/engine/harness.py (same broker runner,
clients and bounded waits).

Owns: a registry database per test class, written before gannetd starts
(and while it runs: gannetd sees changes within its poll interval) with
tools/gannetctl (GANNETCTL, set by meson), the platform config
(mode platform, platform_registry, per-class extra keys), client helpers
that connect as a device / gateway / application, and waiting for the
close line the broker logs for a client ("close: client=... code=N").
"""

import json
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


def gannetctl(db, *args, ok=(0,)):
    """Run tools/gannetctl on db (GANNETCTL, set by meson); returns stdout.
    Exit codes in `ok` are success (4 = already exists, for idempotent set-up)."""
    exe = os.environ.get("GANNETCTL", "")
    if not exe or not os.access(exe, os.X_OK):
        raise harness.unittest.SkipTest("GANNETCTL does not name the gannetctl binary")
    cmd = [exe, "--db", db, "--kdf-iterations", "1000"] + [str(a) for a in args]
    r = subprocess.run(cmd, capture_output=True, timeout=30)
    if r.returncode not in ok:
        raise AssertionError("gannetctl %s: exit %d: %s" % (" ".join(map(str, args)), r.returncode,
                                                            r.stderr.decode()))
    return r.stdout.decode().strip()


def registry(db, what, *args):
    """The tests' registry set-up in a few words, through gannetctl:
      org ORG [NAME=VALUE ...]                 create (if missing) and set settings
                                               (tls_policy=optional unless given)
      device ORG TYPE ID d|g TOKEN [standard]  register (the type too)
      apikey ORG TOKEN [PERMS]                 returns the key
      disable device ORG TYPE ID
      group ORG NAME / member ORG GROUP TYPE ID / attach ORG GROUP GWTYPE GWID"""
    if what == "org":
        gannetctl(db, "org", "create", "--id", args[0], ok=(0, 4))
        # The tests talk plain MQTT on 1883 unless they ask for a TLS
        # policy (a new org's default is "token": TLS only, S-003).
        settings = list(args[1:])
        if not any(kv.startswith("tls_policy=") for kv in settings):
            settings.insert(0, "tls_policy=optional")
        for kv in settings:
            k, v = kv.split("=", 1)
            gannetctl(db, "org", "set", args[0], k, v)
        return ""
    if what == "device":
        org, type_, id_, cls_, token = args[:5]
        gw = cls_ == "g"
        gannetctl(db, "type", "add", org, type_, *(["--gateway"] if gw else []), ok=(0, 4))
        extra = ["--standard"] if len(args) > 5 and args[5] == "standard" else []
        return gannetctl(db, "gateway" if gw else "device", "add", org, type_, id_,
                         "--token", token, *extra)
    if what == "apikey":
        org, token = args[:2]
        perms = ["--perms", args[2]] if len(args) > 2 else []
        out = gannetctl(db, "--json", "apikey", "create", org, "--token", token, *perms)
        return json.loads(out)["key"]
    if what == "disable":
        return gannetctl(db, args[0], "disable", *args[1:])
    if what == "group":
        return gannetctl(db, "group", "create", *args)
    if what == "member":
        return gannetctl(db, "group", "add", *args)
    if what == "attach":
        return gannetctl(db, "group", "attach", *args)
    raise ValueError(what)


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
        registry(cls.db, "org", ORG, *cls.org_settings)
        registry(cls.db, "org", OTHER_ORG)
        cls.apikey = registry(cls.db, "apikey", ORG, APP_TOKEN)
        cls.other_apikey = registry(cls.db, "apikey", OTHER_ORG, APP_TOKEN)
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
        return registry(cls.db, *args)

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

    def plain_as(self, client_id, expect_rc=0):
        """A device / gateway over plain TCP with the token, expecting expect_rc."""
        c = self.paho_as(client_id, connect=False)
        self.clients.append(c)
        c.connect(expect_rc=expect_rc)
        return c

    def paho_app(self, app=None, protocol="v311", **kw):
        return self.paho("a:%s:%s" % (ORG, app or uid("app")), protocol, username=self.apikey,
                         password=APP_TOKEN, **kw)

    # -- the close log line --------------------------------------------
    def close_line(self, client_id, timeout=TIMEOUT, code=None):
        """The broker's close line for client_id logged during this test
        (the first one, or the first with `code`)."""
        m = self.wait_log_line(r"close: client=%s addr=\S+ code=(%s) reason=\"([^\"]*)\".*"
                               % (re.escape(client_id), code if code is not None else r"\d+"),
                               timeout, "no close line for %s" % client_id)
        return int(m.group(1)), m.group(2), m.group(0)

    def wait_log_line(self, pattern, timeout=TIMEOUT, what=None):
        """The first match of regex `pattern` in the broker log of this test."""
        pat = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            m = pat.search(self.broker.log()[self.log_mark:])
            if m:
                return m
            time.sleep(0.05)
        raise AssertionError("%s in the broker log:\n%s"
                             % (what or "no match of %r" % pattern,
                                "\n".join(self.broker.log()[self.log_mark:].splitlines()[-20:])))

    def assert_close_code(self, client_id, code):
        got, reason, line = self.close_line(client_id)
        self.assertEqual(got, code, line)
        return reason

    def assert_closed(self, c):
        c.expect_closed()

    def assert_open(self, c):
        self.assertTrue(c.is_open(QUIET))
        c.ping()
