"""tests/platform/test_identity.py — client identifiers (PLATFORM.md
S-010 … S-023): the five forms, what a malformed id gets under MQTT 3.1.1
and 5.0 and the close code logged, one connection per client id, and
applications that need only an API key."""

import unittest

from platform_harness import mqttraw
from platform_harness import ORG, PlatformTestCase, uid


class Identity(PlatformTestCase):

    @classmethod
    def setup(cls):
        cls.device("sensor", "s1")
        cls.device("gwtype", "gw1", "g")
        cls.device("sensor", "a" * 36)
        cls.device("sensor", "takeover")

    def test_S010_five_client_id_forms_connect(self):
        self.raw_as("d:%s:sensor:s1" % ORG)
        self.raw_as("g:%s:gwtype:gw1" % ORG)
        for cls_, app in (("a", uid("app")), ("A", uid("app")), ("A", uid("app") + ":inst1")):
            c = self.raw_app(app, cls_=cls_)
            self.assertEqual(c.connack.rc, 0)
        # and with a real client, MQTT 5
        p = self.paho_app(protocol="v5")
        self.assertEqual(p.session_present, False)

    def test_S011_unknown_class_connack_5_close_166(self):
        for version, rc in ((mqttraw.V311, 5), (mqttraw.V5, 0x87)):
            cid = "x:%s:foo%d" % (ORG, version)
            c = self.raw_as(cid, version, expect_rc=rc)
            c.expect_closed()
            self.assertEqual(self.assert_close_code(cid, 166), "The ClientID is not valid")

    def test_S012_org_id_must_exist(self):
        cid = "d:nosuch:sensor:s1"
        c = self.raw_as(cid, expect_rc=5)
        c.expect_closed()
        self.assert_close_code(cid, 180)
        # not 6 lowercase alphanumerics: no form at all
        c = self.raw_as("d:ABC123:sensor:s1", expect_rc=5)
        c.expect_closed()

    def test_S013_field_charset_and_length(self):
        self.raw_as("d:%s:sensor:%s" % (ORG, "a" * 36))
        cid = "d:%s:sensor:%s" % (ORG, "a" * 37)
        c = self.raw_as(cid, expect_rc=2)
        c.expect_closed()
        self.assert_close_code(cid, 166)

    def test_S014_instance_id_at_most_36(self):
        c = self.raw_app(uid("app") + ":" + "i" * 36, cls_="A")
        self.assertEqual(c.connack.rc, 0)
        self.raw_app(uid("app") + ":" + "i" * 37, cls_="A", expect_rc=2).expect_closed()

    def test_S015_bad_device_id_connack_2_close_166(self):
        for version, rc in ((mqttraw.V311, 2), (mqttraw.V5, 0x85)):
            cid = "d:%s:type:dev#%d" % (ORG, version)
            self.raw_as(cid, version, expect_rc=rc).expect_closed()
            self.assert_close_code(cid, 166)
        cid = "d:%s:type:dev@1" % ORG
        self.raw_as(cid, expect_rc=2).expect_closed()
        self.assert_close_code(cid, 166)

    def test_S016_forbidden_characters_connack_2(self):
        for cid in ("d:%s:ty/pe:d1" % ORG, "d:%s:type:d+1" % ORG, "d:%s:type:d\x01" % ORG):
            self.raw_as(cid, expect_rc=2).expect_closed()

    def test_S017_unregistered_device_refused(self):
        cid = "d:%s:sensor:%s" % (ORG, uid("nobody"))
        self.raw_as(cid, expect_rc=5).expect_closed()
        self.assert_close_code(cid, 180)

    def test_S018_second_connection_closes_first_with_288(self):
        cid = "d:%s:sensor:takeover" % ORG
        first = self.raw_as(cid, mqttraw.V5)
        second = self.raw_as(cid, mqttraw.V5)
        got = first.expect_closed()
        self.assertTrue(any(p.type == mqttraw.DISCONNECT and p.rc == 0x8E for p in got), got)
        self.assertEqual(self.assert_close_code(cid, 288), "The clientID was reused")
        self.assert_open(second)
        # MQTT 3.1.1: just closed, same code
        v3a = self.raw_as(cid)
        v3b = self.raw_as(cid)
        v3a.expect_closed()
        self.assert_open(v3b)

    def test_S021_scalable_without_instance_needs_clean_session(self):
        app = uid("app")
        self.raw_app(app, cls_="A", clean=False, expect_rc=5).expect_closed()
        self.assert_close_code("A:%s:%s" % (ORG, app), 292)
        self.raw_app(app, cls_="A", clean=True)

    def test_S022_instance_form_accepts_either_clean_session(self):
        app = uid("app")
        self.raw_app(app + ":i1", cls_="A", clean=False)
        self.raw_app(app + ":i2", cls_="A", clean=True)

    def test_S023_application_needs_no_registration(self):
        # any appId works with a valid API key of the org
        c = self.raw_app("never-registered-" + uid(""))
        self.assertEqual(c.connack.rc, 0)


class TwoShards(PlatformTestCase):
    """Client ids hash to an owner shard; a CONNECT accepted on the other
    shard moves there before the platform rules see it."""
    shards = 2

    @classmethod
    def setup(cls):
        for i in range(8):
            cls.device("sensor", "m%d" % i)

    def test_S018_takeover_and_rules_across_shards(self):
        a = self.raw_app()
        a.mqtt_subscribe([("iot-2/type/sensor/id/+/evt/+/fmt/+", 1)])
        devs = [self.raw_as("d:%s:sensor:m%d" % (ORG, i)) for i in range(8)]
        for i, d in enumerate(devs):
            d.publish("iot-2/evt/e/fmt/json", b"%d" % i, qos=1)
        got = sorted(int(a.next_publish().payload) for _ in range(8))
        self.assertEqual(got, list(range(8)))
        cid = "d:%s:sensor:m3" % ORG
        again = self.raw_as(cid)
        devs[3].expect_closed()
        self.assert_close_code(cid, 288)
        self.assert_open(again)
        bad = "d:%s:sensor:m5" % ORG
        devs[5].send(mqttraw.publish("iot-2/type/x/id/y/evt/e/fmt/json", b"x"))
        devs[5].expect_closed()
        _, _, line = self.close_line(bad, code=276)
        self.assertRegex(line, r"addr=127\.0\.0\.1:\d+ ")
