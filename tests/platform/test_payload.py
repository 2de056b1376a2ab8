"""tests/platform/test_payload.py — payload size, formats, retain and
will (PLATFORM.md S-074 … S-081): 131072 bytes plus topic bytes beyond
200 (close 287, no PUBACK), free-text formats, the retain flag cleared,
and the will topic checked against the publish allow-list."""

from platform_harness import mqttraw
from platform_harness import ORG, QUIET, PlatformTestCase


class Payload(PlatformTestCase):

    @classmethod
    def setup(cls):
        for i in range(1, 9):
            cls.device("sensor", "s%d" % i)
        cls.device("gwtype", "gw1", "g")

    def dev(self, n, version=mqttraw.V311, **kw):
        return self.raw_as("d:%s:sensor:s%d" % (ORG, n), version, **kw)

    def watch(self, flt):
        a = self.raw_app()
        a.mqtt_subscribe([(flt, 1)])
        return a

    def test_S074_payload_over_131072_closes_287(self):
        a = self.watch("iot-2/type/sensor/id/s1/evt/+/fmt/+")
        d = self.dev(1)
        d.publish("iot-2/evt/big/fmt/bin", b"x" * 131072, qos=1)      # exactly the limit
        self.assertEqual(len(a.next_publish().payload), 131072)
        d.send(mqttraw.publish("iot-2/evt/big/fmt/bin", b"x" * 131073, qos=1, pid=9))
        got = d.expect_closed()
        self.assertFalse(any(p.type == mqttraw.PUBACK for p in got), got)
        reason = self.assert_close_code("d:%s:sensor:s1" % ORG, 287)
        self.assertEqual(reason, "The message size is too large for this endpoint")
        # MQTT 5: DISCONNECT 0x95
        d5 = self.dev(1, mqttraw.V5)
        d5.send(mqttraw.publish("iot-2/evt/big/fmt/bin", b"x" * 131073, version=mqttraw.V5))
        got = d5.expect_closed()
        self.assertTrue(any(p.type == mqttraw.DISCONNECT and p.rc == 0x95 for p in got), got)

    def test_S075_topic_bytes_beyond_200_count(self):
        ev = "e" * (201 - len("iot-2/evt//fmt/bin"))
        topic = "iot-2/evt/%s/fmt/bin" % ev
        self.assertEqual(len(topic), 201)
        d = self.dev(2)
        d.publish(topic, b"x" * 131071, qos=1)                        # 131071 + 1 = limit
        d.send(mqttraw.publish(topic, b"x" * 131072, qos=1, pid=2))   # 1 byte over
        d.expect_closed()
        self.assert_close_code("d:%s:sensor:s2" % ORG, 287)

    def test_S076_format_is_free_text(self):
        a = self.watch("iot-2/type/sensor/id/s3/evt/+/fmt/+")
        d = self.paho_as("d:%s:sensor:s3" % ORG)
        for fmt, payload in (("json", b"not json at all"), ("bin", bytes(range(256))),
                             ("xml", b"<a/>"), ("whatever", b"\xff\xfe")):
            d.publish("iot-2/evt/e/fmt/" + fmt, payload, qos=1)
            self.assertEqual(a.next_publish().payload, payload)

    def test_S077_utf8_payload_check_0x99(self):
        cid = "d:%s:sensor:s6" % ORG
        a = self.watch("iot-2/type/sensor/id/s6/evt/+/fmt/+")
        d = self.dev(6, mqttraw.V5)
        ok = d.publish("iot-2/evt/e/fmt/text", "grüezi".encode(), qos=1,
                       props=[(mqttraw.PAYLOAD_FORMAT, 1)])
        self.assertLess(ok.rc, 0x80)
        self.assertEqual(a.next_publish().payload, "grüezi".encode())
        for qos, pid in ((1, 2), (2, 3)):
            d.send(mqttraw.publish("iot-2/evt/e/fmt/text", b"\xff\xfe", qos=qos, pid=pid,
                                   props=[(mqttraw.PAYLOAD_FORMAT, 1)], version=mqttraw.V5))
            ack = d.expect(mqttraw.PUBACK if qos == 1 else mqttraw.PUBREC)
            self.assertEqual((ack.pid, ack.rc), (pid, 0x99))
        # not marked UTF-8: not checked
        self.assertLess(d.publish("iot-2/evt/e/fmt/bin", b"\xff", qos=1, pid=4).rc, 0x80)
        self.assert_open(d)
        # QoS 0: closed
        d.send(mqttraw.publish("iot-2/evt/e/fmt/text", b"\xff", props=[(mqttraw.PAYLOAD_FORMAT, 1)],
                               version=mqttraw.V5))
        got = d.expect_closed()
        self.assertTrue(any(p.type == mqttraw.DISCONNECT and p.rc == 0x99 for p in got), got)
        self.assert_close_code(cid, 105)

    def test_S079_retain_flag_cleared(self):
        a = self.watch("iot-2/type/sensor/id/s4/evt/+/fmt/+")
        d = self.dev(4)
        d.publish("iot-2/evt/r/fmt/json", b"retained?", qos=1, retain=True)
        p = a.next_publish()
        self.assertEqual((p.payload, p.retain), (b"retained?", False))
        late = self.raw_app()
        late.mqtt_subscribe([("iot-2/type/sensor/id/s4/evt/+/fmt/+", 1)])
        self.assertEqual([x for x in late.collect(QUIET) if x.type == mqttraw.PUBLISH], [])

    def test_S080_will_topic_checked_and_rewritten(self):
        cid = "d:%s:sensor:s5" % ORG
        for version, rc in ((mqttraw.V311, 5), (mqttraw.V5, 0x90)):
            c = self.dev(5, version, expect_rc=rc,
                         will={"topic": "iot-2/type/other/id/x/evt/w/fmt/text", "payload": b"w"})
            c.expect_closed()
        self.assert_close_code(cid, 276)
        a = self.watch("iot-2/type/sensor/id/s5/evt/+/fmt/+")
        c = self.dev(5, will={"topic": "iot-2/evt/gone/fmt/text", "payload": b"bye", "retain": True})
        c.abort()
        p = a.next_publish()
        self.assertEqual((p.topic, p.payload, p.retain),
                         ("iot-2/type/sensor/id/s5/evt/gone/fmt/text", b"bye", False))

    def test_S081_gateway_state_will(self):
        a = self.watch("iot-2/type/gwtype/id/gw1/evt/+/fmt/+")
        g = self.raw_as("g:%s:gwtype:gw1" % ORG,
                        will={"topic": "iot-2/type/gwtype/id/gw1/evt/STATE/fmt/text", "payload": b"down"})
        g.abort()
        p = a.next_publish()
        self.assertEqual((p.topic, p.payload), ("iot-2/type/gwtype/id/gw1/evt/STATE/fmt/text", b"down"))

