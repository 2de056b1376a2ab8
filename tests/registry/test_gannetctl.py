"""tests/registry/test_gannetctl.py — gannetctl end to end: every
subcommand in text and --json form, its errors and exit codes, tokens
shown once and stored only as PBKDF2 hashes, the CSV/TSV import, and a
running registry (reg_watch, the registry thread gannetd runs) seeing each
change without a restart.

Environment: GANNETCTL and REG_WATCH (set by meson)."""

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import tempfile
import time
import unittest

GANNETCTL = os.environ.get("GANNETCTL", "")
REG_WATCH = os.environ.get("REG_WATCH", "")
SCALE = float(os.environ.get("GANNET_TIMEOUT_SCALE", "1") or "1")

EXIT_OK, EXIT_USAGE, EXIT_NOT_FOUND, EXIT_EXISTS, EXIT_INVALID = 0, 2, 3, 4, 5
EXIT_LIMIT, EXIT_STATE, EXIT_DB, EXIT_SCHEMA = 6, 7, 8, 9


@unittest.skipUnless(os.path.exists(GANNETCTL), "GANNETCTL not built")
class GannetctlBase(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="gannetctl-")
        self.db = os.path.join(self.dir, "var", "registry.db")

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def run_ctl(self, *args, expect=EXIT_OK, stdin=None):
        p = subprocess.run([GANNETCTL, "--db", self.db, "--kdf-iterations", "8", *args],
                           input=stdin, capture_output=True, text=True, timeout=60 * SCALE)
        self.assertEqual(p.returncode, expect,
                         "gannetctl %s -> %d\nstdout: %s\nstderr: %s" % (" ".join(args), p.returncode,
                                                                         p.stdout, p.stderr))
        if expect != EXIT_OK:
            self.assertTrue(p.stderr.startswith("gannetctl: ") or p.stderr.startswith("usage"), p.stderr)
        return p

    def js(self, *args, stdin=None):
        return json.loads(self.run_ctl("--json", *args, stdin=stdin).stdout)

    def stored_token(self, table, where, params):
        con = sqlite3.connect(self.db)
        try:
            return con.execute("SELECT token FROM %s WHERE %s" % (table, where), params).fetchone()[0]
        finally:
            con.close()

    def assert_hash_matches(self, stored, token):
        algo, iters, salt, digest = stored.split("$")
        self.assertEqual(algo, "pbkdf2-sha256")
        self.assertNotIn(token, stored)
        got = hashlib.pbkdf2_hmac("sha256", token.encode(), bytes.fromhex(salt), int(iters), 32)
        self.assertEqual(got.hex(), digest)

    def make_org(self, org="abc123"):
        self.run_ctl("org", "create", "--id", org, "--name", "Acme")
        return org


class TestHelpAndUsage(GannetctlBase):
    def test_global_help_lists_every_command_and_exit_codes(self):
        p = self.run_ctl("--help")
        for noun in ("org", "type", "device", "gateway", "apikey", "group"):
            self.assertIn("\n  %s " % noun, p.stdout)
        self.assertIn("Exit codes", p.stdout)
        self.run_ctl(expect=EXIT_USAGE)

    def test_every_subcommand_has_help(self):
        p = self.run_ctl("--help")
        # two-word verbs: "org ca add"
        cmds = [line.split()[:3] if line.split()[1] == "ca" else line.split()[:2]
                for line in p.stdout.splitlines()
                if line.startswith("  ") and len(line.split()) >= 2 and
                line.split()[0] in ("org", "type", "device", "gateway", "apikey", "group")]
        self.assertGreaterEqual(len(cmds), 49)
        for cmd in cmds:
            h = self.run_ctl(*cmd, "--help")
            self.assertIn("usage: gannetctl", h.stdout)
            self.assertIn(" ".join(cmd), h.stdout)
        self.assertIn("device commands", self.run_ctl("device", "--help").stdout)
        self.assertIn("gannetctl org ca remove", self.run_ctl("org", "ca", "--help").stdout)

    def test_usage_errors(self):
        self.make_org()
        self.assertIn("unknown command", self.run_ctl("frob", expect=EXIT_USAGE).stderr)
        self.assertIn("unknown command", self.run_ctl("device", "frob", expect=EXIT_USAGE).stderr)
        self.assertIn("takes 3 arguments", self.run_ctl("device", "add", "abc123", expect=EXIT_USAGE).stderr)
        self.assertIn("unknown option", self.run_ctl("org", "list", "--bogus", expect=EXIT_USAGE).stderr)
        self.assertIn("does not take --force",
                      self.run_ctl("org", "list", "--force", expect=EXIT_USAGE).stderr)
        self.assertIn("needs a value", self.run_ctl("org", "create", "--id", expect=EXIT_USAGE).stderr)
        self.run_ctl("device", "add", "abc123", "t", "d", "--token", "abcdefgh", "--no-token",
                     expect=EXIT_USAGE)

    def test_missing_database_and_unknown_schema(self):
        self.assertIn("no such database", self.run_ctl("org", "list", expect=EXIT_DB).stderr)
        self.assertFalse(os.path.exists(self.db))
        self.make_org()
        con = sqlite3.connect(self.db)
        con.execute("PRAGMA user_version=42")
        con.commit()
        con.close()
        self.assertIn("schema version 42", self.run_ctl("org", "list", expect=EXIT_SCHEMA).stderr)
        other = os.path.join(self.dir, "other.db")
        con = sqlite3.connect(other)
        con.execute("CREATE TABLE x(y)")
        con.commit()
        con.close()
        p = subprocess.run([GANNETCTL, "--db", other, "org", "list"], capture_output=True, text=True)
        self.assertEqual(p.returncode, EXIT_SCHEMA)
        self.assertIn("not a gannet registry", p.stderr)


class TestOrgs(GannetctlBase):
    def test_org_lifecycle(self):
        out = self.js("org", "create")
        self.assertRegex(out["org"], r"^[a-z0-9]{6}$")
        self.run_ctl("org", "create", "--id", "lite01", "--plan", "lite")
        self.run_ctl("org", "create", "--id", "lite01", expect=EXIT_EXISTS)
        self.run_ctl("org", "create", "--id", "Bad", expect=EXIT_INVALID)
        self.run_ctl("org", "create", "--id", "abc123", "--plan", "gold", expect=EXIT_INVALID)
        orgs = {o["org"]: o for o in self.js("org", "list")}
        self.assertEqual(set(orgs), {out["org"], "lite01", "quickstart"})
        self.assertEqual(orgs["lite01"]["plan"], "lite")
        show = self.js("org", "show", "lite01")
        self.assertEqual(show["settings"]["max_devices"], 500)
        self.assertIs(show["settings"]["allow_retain"], False)
        self.assertEqual(show["settings"]["tls_policy"], "token")
        qs = self.js("org", "show", "quickstart")
        self.assertTrue(qs["quickstart"])
        self.assertIs(qs["settings"]["allow_anonymous"], True)
        self.assertEqual(qs["settings"]["max_qos"], 0)
        self.assertIn("max_subs_device", self.run_ctl("org", "show", "lite01").stdout)
        self.assertEqual((show["settings"]["rate_model"], show["settings"]["rate_device_in_msgs"],
                          show["settings"]["throttle_limit"]), ("watson", 5, 60))
        self.run_ctl("org", "set", "lite01", "rate_model", "ioto")
        self.run_ctl("org", "set", "lite01", "rate_model", "fast", expect=EXIT_INVALID)
        self.assertEqual(self.js("org", "show", "lite01")["settings"]["rate_model"], "ioto")
        self.run_ctl("org", "set", "lite01", "allow_retain", "yes")
        self.run_ctl("org", "set", "lite01", "tls_policy", "optional")
        self.run_ctl("org", "set", "lite01", "max_qos", "3", expect=EXIT_INVALID)
        self.run_ctl("org", "set", "lite01", "no_such_setting", "1", expect=EXIT_INVALID)
        self.run_ctl("org", "set", "nosuch", "max_qos", "1", expect=EXIT_NOT_FOUND)
        show = self.js("org", "show", "lite01")
        self.assertIs(show["settings"]["allow_retain"], True)
        self.assertEqual(show["settings"]["tls_policy"], "optional")
        self.run_ctl("org", "disable", "lite01")
        self.assertEqual(self.js("org", "show", "lite01")["status"], "disabled")
        self.run_ctl("org", "enable", "lite01")
        self.assertEqual(self.js("org", "show", "lite01")["status"], "enabled")
        self.run_ctl("org", "remove", "quickstart", expect=EXIT_STATE)
        self.run_ctl("type", "add", "lite01", "t")
        self.run_ctl("device", "add", "lite01", "t", "d1")
        self.run_ctl("org", "remove", "lite01")
        self.run_ctl("org", "show", "lite01", expect=EXIT_NOT_FOUND)
        con = sqlite3.connect(self.db)
        self.assertEqual(con.execute("SELECT count(*) FROM devices").fetchone()[0], 0)
        con.close()

    def test_org_ip_lists(self):
        """S-038: org blacklist / whitelist / iplist / ipclear."""
        self.run_ctl("org", "create", "--id", "abc123")
        self.assertEqual(self.js("org", "iplist", "abc123"), {"org": "abc123", "mode": "none", "prefixes": [],
                                                               "countries": []})
        out = self.run_ctl("org", "blacklist", "abc123", "10.0.0.0/8,2001:DB8::/32,10.0.0.0/8,127.0.0.1").stdout
        self.assertEqual(out.strip(), "org abc123: blacklist 10.0.0.0/8,127.0.0.1/32,2001:db8::/32")
        self.assertEqual(self.js("org", "iplist", "abc123"),
                         {"org": "abc123", "mode": "black",
                          "prefixes": ["10.0.0.0/8", "127.0.0.1/32", "2001:db8::/32"], "countries": []})
        self.assertEqual(self.js("org", "show", "abc123")["settings"]["ip_acl"],
                         "black:10.0.0.0/8,127.0.0.1/32,2001:db8::/32")
        # one or the other: a whitelist needs the blacklist cleared first
        p = self.run_ctl("org", "whitelist", "abc123", "192.0.2.0/24", expect=EXIT_STATE)
        self.assertIn("not both", p.stderr)
        # a new blacklist replaces the old one
        self.assertEqual(self.js("org", "blacklist", "abc123", "::1")["prefixes"], ["::1/128"])
        # countries: two letters, any case, kept upper case, sorted, after the prefixes
        out = self.run_ctl("org", "blacklist", "abc123", "fr,10.0.0.0/8,DE,fr").stdout
        self.assertEqual(out.strip(), "org abc123: blacklist 10.0.0.0/8,DE,FR")
        self.assertEqual(self.js("org", "iplist", "abc123"),
                         {"org": "abc123", "mode": "black", "prefixes": ["10.0.0.0/8"],
                          "countries": ["DE", "FR"]})
        self.assertEqual(self.js("org", "blacklist", "abc123", "::1")["countries"], [])
        for bad in ("10.0.0.0/33", "10.0.0.1/8", "300.1.1.1", "fe80::/129", "a,b", "10.0.0.0/8,", "x" * 100,
                    "DEU", "D1", "fr,"):
            self.run_ctl("org", "blacklist", "abc123", bad, expect=EXIT_INVALID)
        self.run_ctl("org", "blacklist", "abc123",
                     ",".join("10.%d.0.0/16" % i for i in range(33)), expect=EXIT_INVALID)
        self.run_ctl("org", "set", "abc123", "ip_acl", "grey:10.0.0.0/8", expect=EXIT_INVALID)
        self.assertEqual(self.js("org", "iplist", "abc123")["prefixes"], ["::1/128"])   # unchanged
        self.assertEqual(self.js("org", "ipclear", "abc123")["result"], "IP list cleared")
        self.assertEqual(self.js("org", "whitelist", "abc123", "192.0.2.0/24")["mode"], "white")
        self.run_ctl("org", "blacklist", "abc123", "10.0.0.0/8", expect=EXIT_STATE)
        # errors and usage
        self.run_ctl("org", "iplist", "nosuch", expect=EXIT_NOT_FOUND)
        self.run_ctl("org", "blacklist", "nosuch", "10.0.0.0/8", expect=EXIT_NOT_FOUND)
        self.run_ctl("org", "blacklist", "abc123", expect=EXIT_USAGE)
        self.run_ctl("org", "ipclear", expect=EXIT_USAGE)
        for verb in ("iplist", "blacklist", "whitelist", "ipclear"):
            self.assertIn("usage: gannetctl", self.run_ctl("org", verb, "--help").stdout)


class TestTypesAndDevices(GannetctlBase):
    def test_types(self):
        org = self.make_org()
        self.assertIn("type sensor added", self.run_ctl("type", "add", org, "sensor",
                                                         "--description", "temperature").stdout)
        self.run_ctl("type", "add", org, "gwt", "--gateway")
        self.run_ctl("type", "add", org, "sensor", expect=EXIT_EXISTS)
        self.run_ctl("type", "add", org, "bad#type", expect=EXIT_INVALID)
        self.run_ctl("type", "add", "zzz999", "sensor", expect=EXIT_NOT_FOUND)
        types = {t["type"]: t for t in self.js("type", "list", org)}
        self.assertEqual(types["gwt"]["class"], "gateway")
        self.assertEqual(types["sensor"]["devices"], 0)
        self.run_ctl("device", "add", org, "sensor", "d1")
        self.assertEqual(self.js("type", "show", org, "sensor")["devices"], 1)
        self.run_ctl("type", "disable", org, "sensor")
        self.assertEqual(self.js("type", "show", org, "sensor")["status"], "disabled")
        self.run_ctl("type", "enable", org, "sensor")
        # per-type rate settings (0 = the org's)
        self.assertEqual(self.js("type", "show", org, "sensor")["settings"],
                         {"rate_in_msgs": 0, "rate_in_bytes": 0, "throttle_limit": 0})
        self.run_ctl("type", "set", org, "sensor", "rate_in_msgs", "50")
        self.run_ctl("type", "set", org, "sensor", "throttle_limit", "10")
        self.assertEqual(self.js("type", "show", org, "sensor")["settings"],
                         {"rate_in_msgs": 50, "rate_in_bytes": 0, "throttle_limit": 10})
        self.assertIn("rate_in_msgs", self.run_ctl("type", "show", org, "sensor").stdout)
        self.run_ctl("type", "set", org, "sensor", "rate_model", "ioto", expect=EXIT_INVALID)
        self.run_ctl("type", "set", org, "sensor", "rate_in_msgs", "x", expect=EXIT_INVALID)
        self.run_ctl("type", "set", org, "nosuch", "rate_in_msgs", "1", expect=EXIT_NOT_FOUND)
        self.assertIn("--force", self.run_ctl("type", "remove", org, "sensor", expect=EXIT_STATE).stderr)
        self.run_ctl("type", "remove", org, "sensor", "--force")
        self.run_ctl("type", "show", org, "sensor", expect=EXIT_NOT_FOUND)
        self.run_ctl("device", "show", org, "sensor", "d1", expect=EXIT_NOT_FOUND)

    def test_type_tls_policy(self):
        """S-035: a type's own TLS policy overrides the org's; "org" undoes it."""
        org = self.make_org()
        self.run_ctl("type", "add", org, "sensor")
        self.assertEqual(self.js("type", "show", org, "sensor")["tls_policy"], "org")
        self.assertIn("tls_policy = token+cert",
                      self.run_ctl("type", "set", org, "sensor", "tls_policy", "token+cert").stdout)
        self.assertIn("tls_policy: token+cert", self.run_ctl("type", "show", org, "sensor").stdout)
        self.assertEqual(self.js("type", "list", org)[0]["tls_policy"], "token+cert")
        self.assertEqual(self.js("type", "set", org, "sensor", "tls_policy", "cert|token")["value"],
                         "cert|token")
        self.run_ctl("type", "set", org, "sensor", "tls_policy", "org")
        self.assertEqual(self.js("type", "show", org, "sensor")["tls_policy"], "org")
        self.assertIn("one of org, optional",
                      self.run_ctl("type", "set", org, "sensor", "tls_policy", "strict",
                                   expect=EXIT_INVALID).stderr)
        self.assertIn("not a device type setting",
                      self.run_ctl("type", "set", org, "sensor", "max_qos", "1", expect=EXIT_INVALID).stderr)
        self.run_ctl("type", "set", org, "nosuch", "tls_policy", "cert", expect=EXIT_NOT_FOUND)
        # the org's own setting does not take "org"
        self.run_ctl("org", "set", org, "tls_policy", "org", expect=EXIT_INVALID)

    def test_device_lifecycle_and_tokens(self):
        org = self.make_org()
        self.run_ctl("type", "add", org, "sensor")
        p = self.run_ctl("device", "add", org, "sensor", "d1")
        token = [l.split(": ", 1)[1] for l in p.stdout.splitlines() if l.startswith("token: ")][0]
        self.assertEqual(len(token), 18)
        self.assertIn("shown once", p.stdout)
        stored = self.stored_token("devices", "id=?", ("d1",))
        self.assert_hash_matches(stored, token)
        out = self.js("device", "add", org, "sensor", "d2", "--token", "my-own-token")
        self.assertNotIn("token", out)
        self.assert_hash_matches(self.stored_token("devices", "id=?", ("d2",)), "my-own-token")
        self.run_ctl("device", "add", org, "sensor", "d3", "--token", "short", expect=EXIT_INVALID)
        self.run_ctl("device", "add", org, "sensor", "d3", "--token", "has space in it", expect=EXIT_INVALID)
        self.run_ctl("device", "add", org, "sensor", "d/3", expect=EXIT_INVALID)
        self.run_ctl("device", "add", org, "nosuch", "d3", expect=EXIT_NOT_FOUND)
        self.run_ctl("device", "add", org, "sensor", "d1", expect=EXIT_EXISTS)
        self.run_ctl("device", "add", org, "sensor", "d4", "--no-token")
        self.assertFalse(self.js("device", "show", org, "sensor", "d4")["has_token"])
        show = self.run_ctl("device", "show", org, "sensor", "d1").stdout
        self.assertNotIn(token, show)
        self.assertIn("set (hash only)", show)
        devs = self.js("device", "list", org)
        self.assertEqual([d["id"] for d in devs], ["d1", "d2", "d4"])
        self.assertEqual(len(self.js("device", "list", org, "--type", "sensor")), 3)
        self.run_ctl("device", "list", org, "--type", "nosuch", expect=EXIT_NOT_FOUND)
        self.run_ctl("device", "disable", org, "sensor", "d1")
        self.assertEqual(self.js("device", "show", org, "sensor", "d1")["status"], "disabled")
        self.run_ctl("device", "enable", org, "sensor", "d1")
        self.assertEqual(self.js("device", "show", org, "sensor", "d1")["status"], "enabled")
        rot = self.js("device", "rotate", org, "sensor", "d1")
        self.assertNotEqual(rot["token"], token)
        self.assert_hash_matches(self.stored_token("devices", "id=?", ("d1",)), rot["token"])
        self.run_ctl("device", "rotate", org, "sensor", "d1", "--token", "chosen-token-9")
        self.assert_hash_matches(self.stored_token("devices", "id=?", ("d1",)), "chosen-token-9")
        self.run_ctl("device", "remove", org, "sensor", "d1")
        self.run_ctl("device", "remove", org, "sensor", "d1", expect=EXIT_NOT_FOUND)
        self.run_ctl("device", "disable", org, "sensor", "d1", expect=EXIT_NOT_FOUND)

    def test_device_limit(self):
        org = self.make_org()
        self.run_ctl("type", "add", org, "t")
        self.run_ctl("org", "set", org, "max_devices", "2")
        self.run_ctl("device", "add", org, "t", "a")
        self.run_ctl("device", "add", org, "t", "b")
        self.assertIn("maximum of 2 devices", self.run_ctl("device", "add", org, "t", "c", expect=EXIT_LIMIT).stderr)

    def test_quickstart_takes_no_registrations(self):
        self.make_org()
        self.assertIn("S-110", self.run_ctl("device", "add", "quickstart", "t", "d", expect=EXIT_STATE).stderr)
        self.run_ctl("apikey", "create", "quickstart", expect=EXIT_STATE)


def read_text(path):
    with open(path) as f:
        return f.read()


def make_ca(directory):
    """A development CA (tools/gannet-certs); returns its directory."""
    tool = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools",
                        "gannet-certs", "gannet-certs")
    subprocess.run([tool, directory, "server"], check=True, capture_output=True, timeout=60 * SCALE)
    return directory


class TestOrgCas(GannetctlBase):
    """S-036: an org's own CA certificates (org ca add / list / remove)."""

    def test_add_list_remove(self):
        org = self.make_org()
        a, b = make_ca(os.path.join(self.dir, "a")), make_ca(os.path.join(self.dir, "b"))
        out = self.run_ctl("org", "ca", "add", org, os.path.join(a, "ca.crt")).stdout
        self.assertRegex(out, r"^CA [0-9a-f]{64} \(CN=Gannet development CA\) added to org abc123\n$")
        fp_a = out.split()[1]
        added = self.js("org", "ca", "add", org, os.path.join(b, "ca.crt"))
        self.assertEqual(added["org"], org)
        fp_b = added["added"][0]["fingerprint"]
        self.assertNotEqual(fp_a, fp_b)
        listed = self.js("org", "ca", "list", org)
        self.assertEqual([c["fingerprint"] for c in listed], [fp_a, fp_b])
        self.assertRegex(listed[0]["not_after"], r"^20\d\d-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        self.assertIn(fp_a, self.run_ctl("org", "ca", "list", org).stdout)
        # stored as canonical PEM with its fingerprint
        con = sqlite3.connect(self.db)
        try:
            pem, = con.execute("SELECT pem FROM org_cas WHERE fingerprint=?", (fp_a,)).fetchone()
        finally:
            con.close()
        self.assertTrue(pem.startswith("-----BEGIN CERTIFICATE-----"))
        self.assertIn("already in org", self.run_ctl("org", "ca", "add", org, os.path.join(a, "ca.crt"),
                                                     expect=EXIT_EXISTS).stderr)
        # a bundle of both, again: all or nothing
        bundle = os.path.join(self.dir, "bundle.pem")
        with open(bundle, "w") as f:
            f.write(read_text(os.path.join(a, "ca.crt")) + read_text(os.path.join(b, "ca.crt")))
        self.run_ctl("org", "ca", "add", org, bundle, expect=EXIT_EXISTS)
        self.assertEqual(len(self.js("org", "ca", "list", org)), 2)
        # remove by a prefix, with or without colons and in upper case
        self.run_ctl("org", "ca", "remove", org, "1234", expect=EXIT_INVALID)
        self.run_ctl("org", "ca", "remove", org, "00000000", expect=EXIT_NOT_FOUND)
        colons = ":".join(fp_a[i:i + 2] for i in range(0, 16, 2)).upper()
        self.assertIn("CA %s removed" % fp_a, self.run_ctl("org", "ca", "remove", org, colons).stdout)
        self.assertEqual([c["fingerprint"] for c in self.js("org", "ca", "list", org)], [fp_b])
        self.run_ctl("org", "ca", "remove", org, fp_b)
        self.assertEqual(self.js("org", "ca", "list", org), [])
        # in one command, both: an org removal takes its CAs along
        self.run_ctl("org", "ca", "add", org, bundle)
        self.assertEqual(len(self.js("org", "ca", "list", org)), 2)
        self.run_ctl("org", "remove", org)
        self.run_ctl("org", "ca", "list", org, expect=EXIT_NOT_FOUND)
        self.run_ctl("org", "ca", "add", "quickstart", bundle, expect=EXIT_STATE)

    def test_garbage_is_refused_with_a_clear_error(self):
        org = self.make_org()
        a = make_ca(os.path.join(self.dir, "a"))
        subprocess.run([os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools",
                                     "gannet-certs", "gannet-certs"), a, "client", "t", "d"],
                       check=True, capture_output=True, timeout=60 * SCALE)

        def refused(text, why, code=EXIT_INVALID, binary=False):
            path = os.path.join(self.dir, "in.pem")
            with open(path, "wb" if binary else "w") as f:
                f.write(text)
            err = self.run_ctl("org", "ca", "add", org, path, expect=code).stderr
            self.assertIn(why, err)
            self.assertTrue(err.startswith("gannetctl: %s: " % path), err)
            return err

        refused("", "no PEM certificate")
        refused("hello, I am not a certificate\n", "no PEM certificate")
        refused(os.urandom(4096), "no PEM certificate", binary=True)
        refused("-----BEGIN CERTIFICATE-----\nnot base64 at all!\n-----END CERTIFICATE-----\n",
                "certificate 1 is not valid PEM")
        refused("-----BEGIN CERTIFICATE-----\nAAAAAAAAAAAA\n-----END CERTIFICATE-----\n",
                "certificate 1 is not valid PEM")
        good = read_text(os.path.join(a, "ca.crt"))
        cut = good[:len(good) // 2] + "\n-----END CERTIFICATE-----\n"
        refused(good + cut, "certificate 2 is not valid PEM")
        refused(read_text(os.path.join(a, "ca.key")), "no PEM certificate")     # a key
        refused(read_text(os.path.join(a, "client-t-d.crt")), "is not a CA certificate")
        refused(read_text(os.path.join(a, "server.crt")), "is not a CA certificate")
        refused("x" * (300 * 1024), "not a CA file")
        self.assertIn("No such file", self.run_ctl("org", "ca", "add", org, os.path.join(self.dir, "nope"),
                                                   expect=EXIT_USAGE).stderr)
        self.assertEqual(self.js("org", "ca", "list", org), [])     # nothing half-added

    def test_schema_1_database_is_upgraded(self):
        org = self.make_org()
        self.run_ctl("type", "add", org, "sensor")
        con = sqlite3.connect(self.db)
        con.executescript("DROP TRIGGER cas_ci; DROP TRIGGER cas_cd; DROP TABLE org_cas;"
                          "DROP TRIGGER typeset_gone; DROP TRIGGER typeset_ci; DROP TRIGGER typeset_cu;"
                          "DROP TABLE type_settings; PRAGMA user_version=1;")
        con.close()
        self.assertEqual(self.js("type", "show", org, "sensor")["tls_policy"], "org")
        con = sqlite3.connect(self.db)
        try:
            self.assertEqual(con.execute("PRAGMA user_version").fetchone()[0], 2)
            self.assertEqual(con.execute("SELECT count(*) FROM org_cas").fetchone()[0], 0)
        finally:
            con.close()
        self.run_ctl("type", "set", org, "sensor", "tls_policy", "cert")
        con = sqlite3.connect(self.db)
        try:
            self.assertEqual(con.execute("SELECT key, value FROM type_settings").fetchall(),
                             [("tls_policy", "cert")])
        finally:
            con.close()
        self.run_ctl("type", "remove", org, "sensor")          # its settings go with it
        con = sqlite3.connect(self.db)
        try:
            self.assertEqual(con.execute("SELECT count(*) FROM type_settings").fetchone()[0], 0)
        finally:
            con.close()


class TestImport(GannetctlBase):
    def test_csv_import_with_tokens_header_comments_and_quotes(self):
        org = self.make_org()
        self.run_ctl("type", "add", org, "sensor")
        path = os.path.join(self.dir, "devices.csv")
        with open(path, "w") as f:
            f.write("type,id,token\n# a comment\n\nsensor,s1,token-0001\r\n\"sensor\",\"s2\",\"token-02\"\n"
                    "meter,m1\n")
        self.run_ctl("device", "import", org, path, expect=EXIT_NOT_FOUND)   # no type meter
        self.assertEqual(self.js("device", "list", org), [])                # all or nothing
        out = self.js("device", "import", org, path, "--create-types")
        self.assertEqual(out["imported"], 3)
        self.assert_hash_matches(self.stored_token("devices", "id=?", ("s1",)), "token-0001")
        self.assertEqual(self.js("type", "show", org, "meter")["devices"], 1)
        self.assertFalse(self.js("device", "show", org, "meter", "m1")["has_token"])
        self.run_ctl("device", "import", org, path, "--create-types", expect=EXIT_EXISTS)
        out = self.js("device", "import", org, path, "--create-types", "--skip-existing")
        self.assertEqual((out["imported"], out["skipped"]), (0, 3))

    def test_tsv_from_stdin_and_bad_lines(self):
        org = self.make_org()
        self.run_ctl("type", "add", org, "t")
        out = self.js("device", "import", org, "-", stdin="t\td1\tabcdefgh1\nt\td2\n")
        self.assertEqual(out["imported"], 2)
        self.assert_hash_matches(self.stored_token("devices", "id=?", ("d1",)), "abcdefgh1")
        for bad, why in (("t,d9,tok,extra\n", "more than 3 fields"), ("t\n", "at least type and id"),
                         ("t,\"d9\n", "quoted"), ("t,d\"9\n", "quote inside"),
                         ("t,%s\n" % ("x" * 70), "longer than 64"), ("t,d#9\n", "not a valid")):
            p = self.run_ctl("device", "import", org, "-", stdin="t,ok1\n" + bad,
                             expect=EXIT_INVALID)
            self.assertIn(why, p.stderr)
            self.assertIn("line 2", p.stderr)
        self.assertEqual(len(self.js("device", "list", org)), 2)
        self.run_ctl("device", "import", org, os.path.join(self.dir, "nope.csv"), expect=EXIT_USAGE)


class TestGateways(GannetctlBase):
    def test_gateway_lifecycle_and_groups(self):
        org = self.make_org()
        self.run_ctl("type", "add", org, "gwt", "--gateway")
        self.run_ctl("type", "add", org, "t")
        out = self.js("gateway", "add", org, "gwt", "gw1")
        self.assertEqual(out["class"], "gateway")
        self.assertEqual(len(out["token"]), 18)
        self.run_ctl("gateway", "add", org, "gwt", "legacy", "--no-group", "--standard")
        gws = {g["id"]: g for g in self.js("gateway", "list", org)}
        self.assertEqual(gws["gw1"]["role"], "privileged")
        self.assertEqual(gws["legacy"]["role"], "standard")
        self.assertEqual(self.js("device", "list", org), [])
        self.run_ctl("device", "show", org, "gwt", "gw1", expect=EXIT_NOT_FOUND)
        self.run_ctl("gateway", "role", org, "gwt", "legacy", "privileged")
        self.assertEqual(self.js("gateway", "show", org, "gwt", "legacy")["role"], "privileged")
        self.run_ctl("gateway", "role", org, "gwt", "legacy", "boss", expect=EXIT_INVALID)
        self.run_ctl("gateway", "disable", org, "gwt", "gw1")
        self.assertEqual(self.js("gateway", "show", org, "gwt", "gw1")["status"], "disabled")
        self.run_ctl("gateway", "enable", org, "gwt", "gw1")
        rot = self.js("gateway", "rotate", org, "gwt", "gw1")
        self.assertNotEqual(rot["token"], out["token"])
        # groups
        groups = {g["group"]: g for g in self.js("group", "list", org)}
        self.assertTrue(groups["gw:gwt:gw1"]["default"])
        self.run_ctl("group", "create", org, "floor2")
        self.run_ctl("group", "create", org, "floor2", expect=EXIT_EXISTS)
        self.run_ctl("group", "create", org, "gw:mine", expect=EXIT_INVALID)
        self.run_ctl("group", "create", org, "bad/name", expect=EXIT_INVALID)
        self.run_ctl("device", "add", org, "t", "d1")
        self.run_ctl("group", "add", org, "floor2", "t", "d1")
        self.run_ctl("group", "add", org, "floor2", "t", "d1", expect=EXIT_EXISTS)
        self.run_ctl("group", "add", org, "floor2", "t", "nosuch", expect=EXIT_NOT_FOUND)
        self.run_ctl("group", "attach", org, "floor2", "gwt", "gw1")
        self.run_ctl("group", "attach", org, "floor2", "t", "d1", expect=EXIT_INVALID)
        show = self.js("group", "show", org, "floor2")
        self.assertEqual(show["member_list"], [{"type": "t", "id": "d1"}])
        self.assertEqual(show["gateway_list"], [{"type": "gwt", "id": "gw1"}])
        self.assertIn("t:d1", self.run_ctl("group", "show", org, "floor2").stdout)
        self.run_ctl("org", "set", org, "max_group_devices", "1")
        self.run_ctl("device", "add", org, "t", "d2")
        self.run_ctl("group", "add", org, "floor2", "t", "d2", expect=EXIT_LIMIT)
        self.run_ctl("group", "del", org, "floor2", "t", "d1")
        self.run_ctl("group", "del", org, "floor2", "t", "d1", expect=EXIT_NOT_FOUND)
        self.run_ctl("group", "detach", org, "floor2", "gwt", "gw1")
        self.run_ctl("group", "detach", org, "floor2", "gwt", "gw1", expect=EXIT_NOT_FOUND)
        self.assertIn("S-056", self.run_ctl("group", "remove", org, "gw:gwt:gw1", expect=EXIT_STATE).stderr)
        self.run_ctl("group", "detach", org, "gw:gwt:gw1", "gwt", "gw1", expect=EXIT_STATE)
        self.run_ctl("group", "remove", org, "floor2")
        self.run_ctl("group", "show", org, "floor2", expect=EXIT_NOT_FOUND)
        self.run_ctl("gateway", "remove", org, "gwt", "gw1")
        self.run_ctl("group", "show", org, "gw:gwt:gw1", expect=EXIT_NOT_FOUND)


    def test_S100_quotas_name_the_setting_and_exit_6(self):
        org = self.make_org()
        self.run_ctl("org", "set", org, "max_device_types", "2")
        self.run_ctl("type", "add", org, "gwt", "--gateway")
        self.run_ctl("type", "add", org, "t")
        err = self.run_ctl("type", "add", org, "t3", expect=EXIT_LIMIT).stderr
        self.assertIn("maximum of 2 device types (org setting max_device_types)", err)
        self.run_ctl("org", "set", org, "max_device_types", "0")     # 0: no limit
        self.run_ctl("type", "add", org, "t3")
        self.run_ctl("org", "set", org, "max_devices", "1")
        self.run_ctl("device", "add", org, "t", "d1")
        self.assertIn("(org setting max_devices)",
                      self.run_ctl("device", "add", org, "t", "d2", expect=EXIT_LIMIT).stderr)
        self.run_ctl("org", "set", org, "max_devices", "0")
        # 10 groups per device, 10 per gateway (its default group is one)
        self.run_ctl("gateway", "add", org, "gwt", "gw1")
        for i in range(11):
            self.run_ctl("group", "create", org, "g%d" % i)
        for i in range(10):
            self.run_ctl("group", "add", org, "g%d" % i, "t", "d1")
        self.assertIn("already in 10 groups",
                      self.run_ctl("group", "add", org, "g10", "t", "d1", expect=EXIT_LIMIT).stderr)
        for i in range(9):
            self.run_ctl("group", "attach", org, "g%d" % i, "gwt", "gw1")
        self.assertIn("attached to 10 groups",
                      self.run_ctl("group", "attach", org, "g9", "gwt", "gw1", expect=EXIT_LIMIT).stderr)

class TestApiKeys(GannetctlBase):
    def test_apikey_lifecycle(self):
        org = self.make_org()
        out = self.js("apikey", "create", org, "--description", "dashboard", "--perms", "event_recv,dm_status")
        key, token = out["key"], out["token"]
        self.assertRegex(key, r"^a-abc123-[A-Za-z0-9]{10}$")
        self.assertEqual(len(token), 18)
        self.assert_hash_matches(self.stored_token("api_keys", "key=?", (key,)), token)
        self.run_ctl("apikey", "create", org, "--perms", "root", expect=EXIT_INVALID)
        self.run_ctl("apikey", "create", "zzz999", expect=EXIT_NOT_FOUND)
        keys = self.js("apikey", "list", org)
        self.assertEqual([k["key"] for k in keys], [key])
        self.assertEqual(keys[0]["perms"], "event_recv,dm_status")
        self.assertNotIn(token, self.run_ctl("apikey", "show", key).stdout)
        self.run_ctl("apikey", "perms", key, "all")
        self.assertEqual(self.js("apikey", "show", key)["perms"],
                         "event_send,event_recv,cmd_send,cmd_recv,dm_protocol,dm_status")
        self.run_ctl("apikey", "perms", key, "bogus", expect=EXIT_INVALID)
        self.run_ctl("apikey", "disable", key)
        self.assertEqual(self.js("apikey", "show", key)["status"], "disabled")
        self.run_ctl("apikey", "enable", key)
        rot = self.js("apikey", "rotate", key)
        self.assert_hash_matches(self.stored_token("api_keys", "key=?", (key,)), rot["token"])
        self.run_ctl("apikey", "show", "a-abc123-short", expect=EXIT_INVALID)
        self.run_ctl("apikey", "remove", key)
        self.run_ctl("apikey", "show", key, expect=EXIT_NOT_FOUND)
        self.run_ctl("org", "set", org, "max_api_keys", "1")
        self.run_ctl("apikey", "create", org)
        self.run_ctl("apikey", "create", org, expect=EXIT_LIMIT)


@unittest.skipUnless(os.path.exists(REG_WATCH), "REG_WATCH not built")
class TestLiveRegistry(GannetctlBase):
    """A running registry thread (what gannetd runs) sees gannetctl's writes
    without a restart, and its revocation log names a disabled device."""

    def read_until(self, proc, pred, timeout=5.0):
        deadline = time.time() + timeout * SCALE
        lines = []
        while time.time() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line.strip())
            if pred(line):
                return line.strip()
        self.fail("registry never reported it; saw %r" % lines)

    def test_changes_reach_a_running_registry(self):
        org = self.make_org()
        self.run_ctl("type", "add", org, "t")
        w = subprocess.Popen([REG_WATCH, self.db, org, "t", "d1"], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True)
        try:
            self.read_until(w, lambda l: l.startswith("ready"))
            self.read_until(w, lambda l: "present=0" in l)
            t0 = time.time()
            self.run_ctl("device", "add", org, "t", "d1")
            self.read_until(w, lambda l: "present=1 usable=1" in l)
            self.assertLess(time.time() - t0, 2.0 * SCALE)
            self.run_ctl("device", "disable", org, "t", "d1")
            line = self.read_until(w, lambda l: "usable=0" in l)
            self.assertIn("revoked=1", line)
            self.run_ctl("device", "enable", org, "t", "d1")
            self.read_until(w, lambda l: "usable=1" in l)
            self.run_ctl("type", "disable", org, "t")
            self.read_until(w, lambda l: "usable=0" in l)
            self.run_ctl("type", "enable", org, "t")
            self.read_until(w, lambda l: "usable=1" in l)
            self.run_ctl("device", "remove", org, "t", "d1")
            self.read_until(w, lambda l: "present=0" in l)
        finally:
            w.stdin.close()
            w.wait(timeout=10)


if __name__ == "__main__":
    unittest.main()
