"""tests/platform/test_auth.py — authentication and connect outcomes
(PLATFORM.md S-024 … S-040): use-token-auth, API keys, the refusals
(CONNACK 5, never 4, close 180), anonymous access, durable sessions,
disabled devices, the org's IP and country blacklist or whitelist
(S-038, CONNACK 5 and close 180; countries from an override file), the authentication rate limit (176), the no-data timeout
(164) and the first-packet limit (165)."""

import json
import os
import socket
import subprocess
import time

from platform_harness import mqttraw
from platform_harness import APP_TOKEN, ORG, OTHER_ORG, TOKEN, PlatformTestCase, uid


class Auth(PlatformTestCase):
    org_settings = ("allow_durable=false",)

    @classmethod
    def setup(cls):
        cls.device("sensor", "s1")
        cls.device("sensor", "long", "d", "T" * 36)
        cls.device("sensor", "victim")
        cls.device("gwtype", "gw1", "g")
        cls.device("sensor", "dev", "d", TOKEN, OTHER_ORG)

    def test_S024_use_token_auth_is_the_only_device_user_name(self):
        self.raw_as("d:%s:sensor:s1" % ORG)
        cid = "d:%s:sensor:s1" % ORG
        self.raw_as(cid, username="someone", expect_rc=5).expect_closed()
        self.assert_close_code(cid, 180)
        # a real client
        p = self.paho_as(cid, "v5")
        self.assertFalse(p.session_present)

    def test_S025_tokens_are_opaque_up_to_36(self):
        self.raw_as("d:%s:sensor:long" % ORG, password="T" * 36)
        self.raw_as("d:%s:sensor:long" % ORG, password="T" * 35, expect_rc=5).expect_closed()

    def test_S026_tokens_are_not_stored_in_clear(self):
        with open(self.db, "rb") as f:
            data = f.read()
        for name in ("registry.db-wal",):
            path = os.path.join(os.path.dirname(self.db), name)
            if os.path.exists(path):
                with open(path, "rb") as f:
                    data += f.read()
        self.assertNotIn(TOKEN.encode(), data)
        self.assertNotIn(APP_TOKEN.encode(), data)

    def test_S027_api_key_org_must_match_client_id(self):
        self.raw_app(key=self.apikey)
        cid = "a:%s:%s" % (ORG, uid("app"))
        self.raw_as(cid, username=self.other_apikey, password=APP_TOKEN, expect_rc=5).expect_closed()
        self.assert_close_code(cid, 180)

    def test_S028_one_api_key_many_client_ids(self):
        a = self.raw_app(uid("app"))
        b = self.raw_app(uid("app"))
        self.assert_open(a)
        self.assert_open(b)

    def test_S029_credentials_of_another_class_refused(self):
        # an application id with a device token, a device id with an API key,
        # a gateway's identity used as a device
        self.raw_as("a:%s:%s" % (ORG, uid("app")), expect_rc=5).expect_closed()
        self.raw_as("d:%s:sensor:s1" % ORG, username=self.apikey, password=APP_TOKEN,
                    expect_rc=5).expect_closed()
        self.raw_as("d:%s:gwtype:gw1" % ORG, expect_rc=5).expect_closed()
        self.raw_as("g:%s:gwtype:gw1" % ORG)

    def test_S030_bad_credentials_connack_5_then_close_180(self):
        for version, rc in ((mqttraw.V311, 5), (mqttraw.V5, 0x87)):
            cid = "d:%s:sensor:s1" % ORG
            c = self.raw_as(cid, version, password="wrong-token-%d" % version, expect_rc=rc)
            c.expect_closed()
            reason = self.assert_close_code(cid, 180)
            self.assertEqual(reason, "The operation is not authorized")
            self.log_mark = self.broker.log_size()
        # paho sees "not authorised" (5)
        p = self.paho_as("d:%s:sensor:s1" % ORG, password="nope", connect=False)
        self.assertRaises(AssertionError, p.connect)

    def test_S031_never_connack_4(self):
        for user, pw in (("use-token-auth", "bad"), ("bogus", TOKEN), (self.apikey, "bad")):
            c = self.raw_as("d:%s:sensor:s1" % ORG, username=user, password=pw, expect_rc=None)
            self.assertEqual(c.connack.rc, 5)
            c.expect_closed()

    def test_S032_anonymous_refused_outside_quickstart(self):
        cid = "d:%s:sensor:s1" % ORG
        self.raw_as(cid, username=None, password=None, expect_rc=5).expect_closed()
        self.assert_close_code(cid, 180)
        self.raw_as("d:quickstart:any:%s" % uid("q"), username=None, password=None)

    def test_S033_durable_session_refused_close_292(self):
        cid = "d:%s:sensor:s1" % ORG
        self.raw_as(cid, clean=False, expect_rc=5).expect_closed()
        self.assertEqual(self.assert_close_code(cid, 292), "A cleansession=0 session is not allowed")
        # MQTT 5: a session expiry asks for a durable session too
        self.raw_as(cid, mqttraw.V5, props=[(mqttraw.SESSION_EXPIRY, 60)],
                    expect_rc=0x87).expect_closed()

    def test_S034_disabled_device_disconnected_at_once(self):
        cid = "d:%s:sensor:victim" % ORG
        c = self.raw_as(cid)
        self.reg("disable", "device", ORG, "sensor", "victim")
        t0 = time.monotonic()
        c.expect_closed(timeout=5)
        self.assertLess(time.monotonic() - t0, 3)
        self.assert_close_code(cid, 94)
        self.raw_as(cid, expect_rc=5).expect_closed()


class IpLists(PlatformTestCase):
    """S-038: an org's IP blacklist or whitelist, set with gannetctl while
    gannetd runs. The clients connect from 127.0.0.1, or bind 127.0.0.2 as
    their source address."""

    @classmethod
    def setup(cls):
        cls.device("sensor", "s1")
        cls.device("sensor", "s2")
        cls.device("sensor", "dev", "d", TOKEN, OTHER_ORG)

    def setUp(self):
        super().setUp()
        self.reg_ctl("org", "ipclear", ORG)
        time.sleep(0.4)                     # the previous test's list is gone in gannetd too

    def tearDown(self):
        self.reg_ctl("org", "ipclear", ORG)
        super().tearDown()

    def reg_ctl(self, *args, ok=(0,)):
        from platform_harness import gannetctl
        return gannetctl(self.db, *args, ok=ok)

    def set_list(self, verb, prefixes):
        self.reg_ctl("org", verb, ORG, prefixes)
        time.sleep(0.4)                     # gannetd polls the registry every 100 ms

    def refused_180(self, cid, source=""):
        """A paho client (3.1.1) from source is refused with CONNACK 5 and
        the broker logs close 180 for it; from 127.0.0.1 a raw MQTT 5
        client then gets 0x87 (not authorized)."""
        self.log_mark = self.broker.log_size()
        p = self.paho_as(cid, connect=False, bind_address=source)
        flags, rc, _ = p.connect(expect_rc=None)
        self.assertEqual(rc, 5)
        # (code=180: an earlier client's normal close may be logged after the mark)
        _, reason, _ = self.close_line(cid, code=180)
        self.assertEqual(reason, "The operation is not authorized")
        if source:
            return
        self.log_mark = self.broker.log_size()
        self.raw_as(cid, mqttraw.V5, expect_rc=0x87).expect_closed()
        self.close_line(cid, code=180)

    def test_S038_whitelist_refuses_addresses_outside_it(self):
        cid = "d:%s:sensor:s1" % ORG
        self.set_list("whitelist", "127.0.0.2/32")
        self.refused_180(cid)
        # from the whitelisted address the same device gets in
        p = self.paho_as(cid, bind_address="127.0.0.2")
        self.assertTrue(p.c.is_connected())
        p.disconnect()
        # another org's devices are not affected
        self.paho_as("d:%s:sensor:dev" % OTHER_ORG).disconnect()
        # IPv6 and v4 prefixes in one list: 127.0.0.1 is in again
        self.set_list("whitelist", "2001:db8::/32,127.0.0.0/30")
        self.paho_as(cid).disconnect()
        # cleared: everyone in
        self.reg_ctl("org", "ipclear", ORG)
        time.sleep(0.4)
        self.paho_as("d:%s:sensor:s2" % ORG, bind_address="127.0.0.3").disconnect()

    def test_S038_blacklist_refuses_listed_prefix(self):
        cid = "d:%s:sensor:s2" % ORG
        self.set_list("blacklist", "127.0.0.0/8")
        self.refused_180(cid)
        self.refused_180(cid, source="127.0.0.2")
        # the refusal comes before authentication: a wrong token changes nothing
        self.raw_as(cid, password="wrong", expect_rc=5).expect_closed()
        # a blacklist that does not hold 127.0.0.1 lets it in
        self.set_list("blacklist", "::1/128,127.0.0.2/32,10.0.0.0/8")
        self.paho_as(cid).disconnect()
        self.refused_180(cid, source="127.0.0.2")

    def test_S038_blacklist_and_whitelist_not_both(self):
        self.set_list("blacklist", "127.0.0.2")
        exe = os.environ["GANNETCTL"]
        r = subprocess.run([exe, "--db", self.db, "org", "whitelist", ORG, "127.0.0.1/32"],
                           capture_output=True, timeout=30)
        self.assertEqual(r.returncode, 7, r.stderr)     # not allowed in this state
        self.assertIn(b"not both", r.stderr)
        shown = json.loads(self.reg_ctl("--json", "org", "iplist", ORG))
        self.assertEqual(shown, {"org": ORG, "mode": "black", "prefixes": ["127.0.0.2/32"],
                                 "countries": []})
        # the blacklist still applies in gannetd: 127.0.0.1 in, 127.0.0.2 out
        self.paho_as("d:%s:sensor:s1" % ORG).disconnect()
        self.refused_180("d:%s:sensor:s1" % ORG, source="127.0.0.2")
        # bad syntax: exit 5 and nothing changes
        r = subprocess.run([exe, "--db", self.db, "org", "blacklist", ORG, "127.0.0.1/33"],
                           capture_output=True, timeout=30)
        self.assertEqual(r.returncode, 5, r.stderr)
        shown = json.loads(self.reg_ctl("--json", "org", "iplist", ORG))
        self.assertEqual(shown["prefixes"], ["127.0.0.2/32"])

    def test_S038_connected_client_from_newly_blocked_address_is_disconnected(self):
        """Decision: a list that now refuses a connected client's address
        closes that connection at the registry's next change pass (as for
        S-034), with close 180 and MQTT 5 DISCONNECT 0x87; clients the list
        still allows stay connected."""
        a_cid, b_cid = "d:%s:sensor:s1" % ORG, "d:%s:sensor:s2" % ORG
        a = self.paho_as(a_cid, "v5")
        b = self.paho_as(b_cid, bind_address="127.0.0.2")
        other = self.paho_as("d:%s:sensor:dev" % OTHER_ORG)
        self.log_mark = self.broker.log_size()
        t0 = time.monotonic()
        self.reg_ctl("org", "blacklist", ORG, "127.0.0.1/32")
        rc, props = a.disconnects.get(timeout=5)
        self.assertLess(time.monotonic() - t0, 3)
        self.assertEqual(getattr(rc, "value", rc), 0x87)
        self.assertEqual(self.assert_close_code(a_cid, 180), "The operation is not authorized")
        self.assertTrue(b.c.is_connected())
        self.assertTrue(other.c.is_connected())
        b.publish("iot-2/evt/e/fmt/txt", b"still here", qos=1)
        other.publish("iot-2/evt/e/fmt/txt", b"still here", qos=1)
        # a whitelist without 127.0.0.2 then closes b as well
        self.reg_ctl("org", "ipclear", ORG)
        self.reg_ctl("org", "whitelist", ORG, "10.0.0.0/8")
        b.disconnects.get(timeout=5)
        self.assert_close_code(b_cid, 180)
        self.assertTrue(other.c.is_connected())
        other.disconnect()


class IpListsTwoShards(IpLists):
    """The same over two shards: clients are handed to their owner shard
    after CONNECT, and both shards' change passes recheck addresses."""
    shards = 2


COUNTRIES_CSV = "# test countries for the loopback addresses\n127.0.0.1/32,DE\n127.0.0.2/32,fr\n"


class CountryLists(IpLists):
    """S-038's country part: the list names countries; the operator's
    override file (platform_geoip_override) gives 127.0.0.1 DE and
    127.0.0.2 FR, 127.0.0.3 is in no country (loopback is in none in
    Debian's geoip-database either). The IP-list tests run here too, with
    the country data loaded."""

    @classmethod
    def setUpClass(cls):
        import tempfile
        fd, cls.csv = tempfile.mkstemp(prefix="gannet-countries-", suffix=".csv")
        with os.fdopen(fd, "w") as f:
            f.write(COUNTRIES_CSV)
        cls.platform_conf = "platform_geoip_override %s\n" % cls.csv
        super().setUpClass()

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        os.unlink(cls.csv)

    def test_S038_country_blacklist_refuses_its_countries(self):
        cid = "d:%s:sensor:s1" % ORG
        self.set_list("blacklist", "de")
        self.refused_180(cid)                                   # 127.0.0.1: DE
        p = self.paho_as(cid, bind_address="127.0.0.2")         # FR
        self.assertTrue(p.c.is_connected())
        p.disconnect()
        self.paho_as(cid, bind_address="127.0.0.3").disconnect()   # no country: not listed
        self.paho_as("d:%s:sensor:dev" % OTHER_ORG).disconnect()   # another org: no list
        # countries and prefixes in one list
        self.set_list("blacklist", "127.0.0.3/32,FR")
        self.paho_as(cid).disconnect()
        self.refused_180(cid, source="127.0.0.2")
        self.refused_180(cid, source="127.0.0.3")
        shown = json.loads(self.reg_ctl("--json", "org", "iplist", ORG))
        self.assertEqual(shown, {"org": ORG, "mode": "black", "prefixes": ["127.0.0.3/32"],
                                 "countries": ["FR"]})

    def test_S038_country_whitelist_lets_only_its_countries_in(self):
        cid = "d:%s:sensor:s2" % ORG
        self.set_list("whitelist", "FR,NL")
        self.refused_180(cid)                                   # DE
        self.refused_180(cid, source="127.0.0.3")               # no country: not in a whitelist
        p = self.paho_as(cid, "v5", bind_address="127.0.0.2")
        self.assertTrue(p.c.is_connected())
        p.disconnect()
        # a whitelisted prefix lets its address in whatever its country
        self.set_list("whitelist", "FR,127.0.0.1")
        self.paho_as(cid).disconnect()

    def test_S038_connected_client_from_newly_blocked_country_is_disconnected(self):
        a_cid, b_cid = "d:%s:sensor:s1" % ORG, "d:%s:sensor:s2" % ORG
        a = self.paho_as(a_cid, "v5")                           # DE
        b = self.paho_as(b_cid, bind_address="127.0.0.2")       # FR
        self.log_mark = self.broker.log_size()
        self.reg_ctl("org", "blacklist", ORG, "DE")
        rc, _ = a.disconnects.get(timeout=5)
        self.assertEqual(getattr(rc, "value", rc), 0x87)
        self.assertEqual(self.assert_close_code(a_cid, 180), "The operation is not authorized")
        self.assertTrue(b.c.is_connected())
        b.publish("iot-2/evt/e/fmt/txt", b"still here", qos=1)
        self.reg_ctl("org", "ipclear", ORG)
        self.reg_ctl("org", "whitelist", ORG, "DE")
        b.disconnects.get(timeout=5)
        self.assert_close_code(b_cid, 180)

    def test_S038_country_list_errors(self):
        exe = os.environ["GANNETCTL"]
        for bad in ("D", "DEU", "D1"):
            r = subprocess.run([exe, "--db", self.db, "org", "blacklist", ORG, bad],
                               capture_output=True, timeout=30)
            self.assertEqual(r.returncode, 5, (bad, r.stderr))
        many = ",".join("%c%c" % (65 + i // 26, 65 + i % 26) for i in range(65))
        r = subprocess.run([exe, "--db", self.db, "org", "blacklist", ORG, many],
                           capture_output=True, timeout=30)
        self.assertEqual(r.returncode, 5, r.stderr)
        self.assertIn(b"more than 64 countries", r.stderr)


class AuthRate(PlatformTestCase):
    platform_conf = "platform_max_auth_per_second 2\n"

    @classmethod
    def setup(cls):
        for i in range(6):
            cls.device("sensor", "r%d" % i)

    def test_S039_too_many_authentications_close_176(self):
        codes = []
        for i in range(6):
            c = self.raw_as("d:%s:sensor:r%d" % (ORG, i), expect_rc=None)
            codes.append(c.connack.rc)
        self.assertIn(3, codes)             # server unavailable (3.1.1) for the delayed ones
        self.assertEqual(codes[0], 0)
        refused = codes.index(3)
        self.assert_close_code("d:%s:sensor:r%d" % (ORG, refused), 176)


class FirstPacket(PlatformTestCase):
    platform_conf = "connect_timeout_ms 500\nplatform_first_packet_max 512\n"

    @classmethod
    def setup(cls):
        cls.device("sensor", "s1")

    def test_S040_no_data_closes_164_and_big_first_packet_165(self):
        s = socket.create_connection(("127.0.0.1", self.broker.port), timeout=5)
        s.settimeout(5)
        t0 = time.monotonic()
        self.assertEqual(s.recv(10), b"")
        self.assertLess(time.monotonic() - t0, 4)
        s.close()
        _, reason, _ = self.close_line("-", code=164)
        self.assertEqual(reason, "No data was received on a connection")
        self.log_mark = self.broker.log_size()
        cid = "d:%s:sensor:s1" % ORG
        c = self.raw()
        c.send(mqttraw.connect(cid, username="use-token-auth", password=TOKEN.encode(),
                               will={"topic": "iot-2/evt/w/fmt/bin", "payload": b"x" * 1000}))
        c.expect_closed()
        _, reason, _ = self.close_line("-", code=165)
        self.assertEqual(reason, "The initial packet is too large")
        # a normal first packet is fine
        self.raw_as(cid)
