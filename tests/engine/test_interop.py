"""tests/engine/test_interop.py — Debian's mosquitto_pub / mosquitto_sub
(MQTT 3.1, 3.1.1 and 5.0) against the broker, and with paho clients on the
other side."""

import unittest

from harness import BrokerTestCase, mosquitto_pub, uid


class InteropTest(BrokerTestCase):

    def _pub_sub(self, version, qos):
        t = self.topic()
        sub = self.mosquitto_sub(t, qos=qos, version=version)
        sub.wait_subscribed()
        mosquitto_pub(self.broker.port, t, "hello-" + version, qos=qos, version=version)
        self.assertEqual(sub.get_lines(1), [t + " hello-" + version])

    def test_mosquitto_pub_sub_v31(self):
        self._pub_sub("mqttv31", 1)

    def test_mosquitto_pub_sub_v311_qos2(self):
        self._pub_sub("mqttv311", 2)

    def test_mosquitto_pub_sub_v5(self):
        self._pub_sub("mqttv5", 1)

    def test_mosquitto_sub_wildcards(self):
        base = self.topic()
        sub = self.mosquitto_sub([base + "/+/temp", base + "/alarm/#"], qos=1)
        sub.wait_subscribed()
        for t, msg in (("/a/temp", "1"), ("/a/b/temp", "no"), ("/alarm", "2"), ("/alarm/x/y", "3")):
            mosquitto_pub(self.broker.port, base + t, msg, qos=1)
        self.assertEqual(sub.get_lines(3), [base + "/a/temp 1", base + "/alarm 2",
                                            base + "/alarm/x/y 3"])

    def test_mosquitto_pub_lines_arrive_in_order(self):
        t = self.topic()
        sub = self.mosquitto_sub(t, qos=1)
        sub.wait_subscribed()
        lines = ["line-%04d" % i for i in range(200)]
        mosquitto_pub(self.broker.port, t, qos=1, lines=lines)
        self.assertEqual(sub.get_lines(200), [t + " " + l for l in lines])

    def test_mosquitto_retained_then_sub_count_exits(self):
        t = self.topic()
        mosquitto_pub(self.broker.port, t, "kept", qos=1, retain=True)
        sub = self.mosquitto_sub(t, qos=1, count=1)
        self.assertEqual(sub.get_lines(1), [t + " kept"])
        self.assertEqual(sub.wait_exit(), 0)
        mosquitto_pub(self.broker.port, t, "", qos=1, retain=True)

    def test_mosquitto_pub_v5_user_property_to_paho(self):
        t = self.topic()
        c = self.paho(protocol="v5")
        c.subscribe(t, 1)
        mosquitto_pub(self.broker.port, t, "props", qos=1, version="mqttv5",
                      extra=["-D", "publish", "user-property", "origin", "mosquitto_pub",
                             "-D", "publish", "content-type", "text/plain"])
        msg = c.get()
        self.assertEqual(msg.payload, b"props")
        self.assertEqual(msg.properties.UserProperty, [("origin", "mosquitto_pub")])
        self.assertEqual(msg.properties.ContentType, "text/plain")

    def test_paho_publish_to_mosquitto_sub(self):
        t = self.topic()
        sub = self.mosquitto_sub(t, qos=2, version="mqttv5")
        sub.wait_subscribed()
        c = self.paho(protocol="v311")
        for i in range(3):
            c.publish(t, "from-paho-%d" % i, qos=2)
        self.assertEqual(sub.get_lines(3), [t + " from-paho-%d" % i for i in range(3)])

    def test_mosquitto_pub_to_paho_v31(self):
        t = self.topic()
        c = self.paho(protocol="v31")
        c.subscribe(t, 2)
        mosquitto_pub(self.broker.port, t, "to-v31", qos=2)
        msg = c.get()
        self.assertEqual((msg.payload, msg.qos), (b"to-v31", 2))

    def test_mosquitto_sub_clean_session_false_gets_queued(self):
        t, cid = self.topic(), uid("ms")
        sub = self.mosquitto_sub(t, qos=1, extra=["-i", cid, "-c"])
        sub.wait_subscribed()
        sub.close()
        mosquitto_pub(self.broker.port, t, "while-away", qos=1)
        sub = self.mosquitto_sub(t, qos=1, extra=["-i", cid, "-c"])
        self.assertEqual(sub.get_lines(1), [t + " while-away"])


if __name__ == "__main__":
    unittest.main()
