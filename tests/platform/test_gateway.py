"""tests/platform/test_gateway.py — the gateway topic space, resource
groups, auto-registration and notifications (PLATFORM.md S-052 … S-067,
S-143): a gateway is never disconnected for a bad topic; it gets a notify
message on its own iot-2/type/{gwType}/id/{gwId}/notify topic and an ack."""

import json
import time

from platform_harness import mqttraw
from platform_harness import ORG, QUIET, TOKEN, PlatformTestCase, gannetctl, uid


def ev(type_, id_, e="temp", f="json"):
    return "iot-2/type/%s/id/%s/evt/%s/fmt/%s" % (type_, id_, e, f)


class Gateway(PlatformTestCase):

    @classmethod
    def setup(cls):
        for i in range(1, 10):
            cls.device("gwtype", "gw%d" % i, "g")
        cls.device("gwtype", "std", "g", TOKEN, ORG, "standard")
        cls.device("gwtype", "grouped", "g")
        cls.device("sensor", "s1")
        cls.device("sensor", "ingroup")
        cls.device("sensor", "outside")
        cls.device("sensor", "todisable")
        cls.reg("group", ORG, "g1")
        cls.reg("member", ORG, "g1", "sensor", "ingroup")
        cls.reg("member", ORG, "g1", "sensor", "todisable")
        cls.reg("attach", ORG, "g1", "gwtype", "grouped")
        # a new gateway's default group "gw:{type}:{id}" (S-056) holds the
        # devices behind it
        for gw in ("gw1", "gw2", "gw4"):
            cls.reg("member", ORG, "gw:gwtype:" + gw, "sensor", "s1")

    def gw(self, name="gw1", version=mqttraw.V311, notify=True):
        c = self.raw_as("g:%s:gwtype:%s" % (ORG, name), version)
        if notify:
            ack = c.mqtt_subscribe([("iot-2/type/gwtype/id/%s/notify" % name, 0)], pid=99)
            self.assertEqual(ack.codes, [0])
        return c

    def app_sub(self, flt, qos=1):
        a = self.raw_app()
        a.mqtt_subscribe([(flt, qos)])
        return a

    def notification(self, c):
        p = c.next_publish()
        self.assertTrue(p.topic.endswith("/notify"), p)
        self.assertEqual(p.qos, 0)
        self.assertFalse(p.retain)
        return json.loads(p.payload)

    def test_S052_gateway_publishes_for_devices_behind_it(self):
        a = self.app_sub(ev("sensor", "s1", "+", "+"))
        g = self.gw("gw1", notify=False)
        g.publish(ev("sensor", "s1"), b"from gw", qos=1)
        p = a.next_publish()
        self.assertEqual((p.topic, p.payload), (ev("sensor", "s1"), b"from gw"))
        # and for itself
        a2 = self.app_sub(ev("gwtype", "gw1", "+", "+"))
        g.publish(ev("gwtype", "gw1", "state"), b"up", qos=1)
        self.assertEqual(a2.next_publish().payload, b"up")

    def test_S053_gateway_subscribes_to_commands_with_wildcards(self):
        g = self.gw("gw2", notify=False)
        ack = g.mqtt_subscribe([("iot-2/type/sensor/id/+/cmd/+/fmt/+", 1)])
        self.assertEqual(ack.codes, [1])
        a = self.raw_app()
        a.publish("iot-2/type/sensor/id/s1/cmd/reboot/fmt/json", b"go", qos=1)
        p = g.next_publish()
        self.assertEqual(p.topic, "iot-2/type/sensor/id/s1/cmd/reboot/fmt/json")

    def test_S054_gateway_cannot_publish_commands_or_subscribe_to_events(self):
        g = self.gw("gw3")
        r = g.publish("iot-2/type/sensor/id/s1/cmd/c/fmt/json", b"x", qos=1)
        self.assertEqual(r.rc, 0)          # acked as accepted (S-061)
        n = self.notification(g)
        self.assertEqual((n["Request"], n["RC"]), ("Publish", 276))
        ack = g.mqtt_subscribe([("iot-2/type/+/id/+/evt/+/fmt/+", 0)])
        self.assertEqual(ack.codes, [0x80])
        n = self.notification(g)
        self.assertEqual(n["Request"], "Subscribe")
        self.assert_open(g)

    def test_S055_gateway_topic_gets_only_the_org(self):
        a = self.app_sub(ev("sensor", "s1", "+", "+"))
        g = self.gw("gw4", notify=False)
        g.publish(ev("sensor", "s1", "rewrite", "txt"), b"1", qos=1)
        self.assertEqual(a.next_publish().topic, ev("sensor", "s1", "rewrite", "txt"))

    def test_S056_resource_group_limits_the_gateway(self):
        a = self.app_sub("iot-2/type/sensor/id/+/evt/+/fmt/+")
        g = self.gw("grouped")
        g.publish(ev("sensor", "ingroup"), b"ok", qos=1)
        self.assertEqual(a.next_publish().payload, b"ok")
        r = g.publish(ev("sensor", "outside"), b"denied", qos=1)
        self.assertEqual(r.rc, 0)
        n = self.notification(g)
        self.assertEqual(n["RC"], 180)
        self.assertEqual((n["Type"], n["Id"]), ("sensor", "outside"))
        self.assertEqual([p for p in a.collect(QUIET) if p.type == mqttraw.PUBLISH], [])
        # a wildcard subscription reaches only devices of its groups
        g.mqtt_subscribe([("iot-2/type/sensor/id/+/cmd/+/fmt/+", 0)])
        app = self.raw_app()
        app.publish("iot-2/type/sensor/id/outside/cmd/c/fmt/json", b"no", qos=1)
        app.publish("iot-2/type/sensor/id/ingroup/cmd/c/fmt/json", b"yes", qos=1)
        self.assertEqual(g.next_publish().payload, b"yes")
        self.assert_open(g)

    def test_S057_standard_gateway_does_not_auto_register(self):
        g = self.gw("std")
        dev = uid("new")
        g.publish(ev("sensor", dev), b"x", qos=1)
        n = self.notification(g)
        self.assertEqual(n["RC"], 180)
        # the device was not created: connecting as it is still refused
        self.raw_as("d:%s:sensor:%s" % (ORG, dev), expect_rc=5).expect_closed()

    def test_S058_privileged_gateway_auto_registers(self):
        a = self.app_sub("iot-2/type/autotype/id/+/evt/+/fmt/+")
        g = self.gw("gw5")
        dev = uid("auto")
        r = g.publish(ev("autotype", dev), b"first", qos=1)
        self.assertEqual(r.rc, 0)
        p = a.next_publish()
        self.assertEqual((p.topic, p.payload), (ev("autotype", dev), b"first"))
        g.publish(ev("autotype", dev), b"second", qos=0)
        self.assertEqual(a.next_publish().payload, b"second")

    def test_S061_errors_ack_and_keep_the_gateway(self):
        for version, sub_rc in ((mqttraw.V311, 0x80), (mqttraw.V5, 0x8F), (mqttraw.V31, 0x00)):
            g = self.gw("gw6", version, notify=False)
            r = g.publish("not/a/platform/topic", b"x", qos=1)
            self.assertEqual(r.rc, 0)
            g.send(mqttraw.publish("not/a/platform/topic", b"x", qos=2, pid=5, version=version))
            self.assertEqual(g.expect(mqttraw.PUBREC).rc, 0)
            ack = g.mqtt_subscribe([("iot-2/type/+/id/+/evt/+/fmt/+", 1)])
            self.assertEqual(ack.codes, [sub_rc])
            g.publish("not/a/platform/topic", b"x", qos=0)
            self.assert_open(g)
            g.close()

    def test_S062_notify_topic_qos0_not_retained(self):
        g = self.gw("gw7")
        g.publish("bad/topic", b"x", qos=1)
        p = g.next_publish()
        self.assertEqual(p.topic, "iot-2/type/gwtype/id/gw7/notify")
        self.assertEqual((p.qos, p.retain), (0, False))
        # another gateway does not see gw7's notifications
        other = self.gw("gw8")
        g.publish("bad/topic", b"x", qos=1)
        self.assertEqual([x for x in other.collect(QUIET) if x.type == mqttraw.PUBLISH], [])

    def test_S063_notification_fields(self):
        g = self.gw("gw9")
        t0 = time.time()
        g.publish("iot-2/type/sensor/id/s1/cmd/c/fmt/json", b"x", qos=1)
        n = self.notification(g)
        self.assertEqual(set(n), {"Request", "Time", "Topic", "Client", "RC", "Message"})
        self.assertEqual(n["Request"], "Publish")
        self.assertEqual(n["Topic"], "iot-2/type/sensor/id/s1/cmd/c/fmt/json")
        self.assertEqual(n["Client"], "g:%s:gwtype:gw9" % ORG)
        self.assertIsInstance(n["RC"], int)
        self.assertRegex(n["Time"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
        self.assertLess(abs(time.mktime(time.strptime(n["Time"][:19], "%Y-%m-%dT%H:%M:%S"))
                            - time.timezone - t0), 60)
        g.mqtt_unsubscribe(["iot-2/type/+/id/+/evt/+/fmt/+"])
        n = self.notification(g)
        self.assertEqual(n["Request"], "Unsubscribe")

    def test_S064_disabled_device_notified_180(self):
        g = self.gw("grouped")
        g.publish(ev("sensor", "todisable"), b"ok", qos=1)
        self.registered("disable", "device", ORG, "sensor", "todisable")
        r = g.publish(ev("sensor", "todisable"), b"after", qos=1)
        self.assertEqual(r.rc, 0)
        n = self.notification(g)
        self.assertEqual(n["RC"], 180)
        self.assertEqual(n["Id"], "todisable")
        self.assert_open(g)

    def test_S065_gateway_owns_its_session(self):
        # gw1 and gw2 may both act for sensor:s1 (their default groups hold it)
        a_id = "g:%s:gwtype:gw1" % ORG
        g1 = self.raw_as(a_id, clean=False)
        g1.mqtt_subscribe([("iot-2/type/sensor/id/s1/cmd/+/fmt/+", 1)])
        g1.close()
        app = self.raw_app()
        app.publish("iot-2/type/sensor/id/s1/cmd/queued/fmt/json", b"for gw1's session", qos=1)
        g2 = self.raw_as("g:%s:gwtype:gw2" % ORG, clean=True)
        g2.mqtt_subscribe([("iot-2/type/sensor/id/s1/cmd/+/fmt/+", 1)])
        self.assertEqual([p for p in g2.collect(QUIET) if p.type == mqttraw.PUBLISH], [])
        g1 = self.raw_as(a_id, clean=False)
        self.assertTrue(g1.connack.session_present)
        p = g1.next_publish()
        self.assertEqual(p.payload, b"for gw1's session")
        g1.ack(p)
        g1.close()
        self.raw_as(a_id, clean=True)      # end the durable session

    def test_S067_gateway_subscribes_to_device_status(self):
        g = self.gw("gw1", notify=False)
        ack = g.mqtt_subscribe([("iot-2/type/+/id/+/mon", 0), ("iotdm-1/type/+/id/+/#", 1)])
        self.assertEqual(ack.codes, [0, 1])

    def test_S143_gateway_never_disconnected_for_a_bad_topic(self):
        cid = "g:%s:gwtype:gw2" % ORG
        g = self.gw("gw2", notify=False)
        for t in ("$SYS/x", "iot-2/evt/e/fmt/json", "a/b/c", "iot-2/type/x/id/y/cmd/c/fmt/f"):
            g.publish(t, b"x", qos=0)
            g.publish(t, b"x", qos=1)
        g.mqtt_subscribe([("#", 0)])
        self.assert_open(g)
        g.close()
        code, _, _ = self.close_line(cid)
        self.assertIn(code, (0, 91))


class AutoRegistrationLimit(PlatformTestCase):
    org_settings = ("gw_max_devices=1",)

    @classmethod
    def setup(cls):
        cls.device("gwtype", "gw1", "g")

    def test_S060_failed_auto_registration_notified_and_dropped(self):
        a = self.raw_app()
        a.mqtt_subscribe([("iot-2/type/lim/id/+/evt/+/fmt/+", 1)])
        g = self.raw_as("g:%s:gwtype:gw1" % ORG)
        g.mqtt_subscribe([("iot-2/type/gwtype/id/gw1/notify", 0)])
        first, second = uid("d1"), uid("d2")
        g.publish(ev("lim", first), b"1", qos=1)
        self.assertEqual(a.next_publish().payload, b"1")
        # over gw_max_devices: the registration fails, the message is dropped
        r = g.publish(ev("lim", second), b"2", qos=1)
        self.assertEqual(r.rc, 0)
        p = g.next_publish()
        n = json.loads(p.payload)
        self.assertEqual((n["Id"], n["RC"]), (second, 173))
        self.assertEqual(n["Message"], "Too many active devices")
        self.assertEqual([x for x in a.collect(QUIET) if x.type == mqttraw.PUBLISH], [])
        # not retried at once: the next message for it is dropped too, with a notification
        g.publish(ev("lim", second), b"3", qos=1)
        n = json.loads(g.next_publish().payload)
        self.assertEqual(n["Id"], second)
        self.assert_open(g)


class AutoRegistrationOrgQuota(PlatformTestCase):
    """S-100: the org's max_devices binds auto-registration too (the gateway
    is one of the org's devices): the registration over it fails like any
    other (S-060), 173 "Too many active devices", and the message is dropped."""
    org_settings = ("max_devices=2",)

    @classmethod
    def setup(cls):
        cls.device("gwtype", "gw1", "g")

    def test_S100_auto_registration_over_max_devices_fails_173(self):
        a = self.raw_app()
        a.mqtt_subscribe([("iot-2/type/quota/id/+/evt/+/fmt/+", 1)])
        g = self.raw_as("g:%s:gwtype:gw1" % ORG)
        g.mqtt_subscribe([("iot-2/type/gwtype/id/gw1/notify", 0)])
        first, second = uid("q1"), uid("q2")
        g.publish(ev("quota", first), b"1", qos=1)
        self.assertEqual(a.next_publish().payload, b"1")
        self.assertEqual(g.publish(ev("quota", second), b"2", qos=1).rc, 0)
        n = json.loads(g.next_publish().payload)
        self.assertEqual((n["Id"], n["RC"], n["Message"]), (second, 173, "Too many active devices"))
        self.assertEqual([x for x in a.collect(QUIET) if x.type == mqttraw.PUBLISH], [])
        self.assert_open(g)

class PendingAutoRegistrations(PlatformTestCase):
    """S-059: at most gw_max_pending_autoreg (10) auto-registrations of one
    gateway pending at once. The gateway does not wait for each: the
    PUBLISHes it already sent behind the first one for a new device get
    their registrations submitted at once, so an 11th new device while 10
    are pending fails with 173 "Too many active devices"."""

    @classmethod
    def setup(cls):
        cls.device("gwtype", "gw1", "g")
        cls.device("gwtype", "gw2", "g")

    def burst(self, g, devices, pid0=1):
        """One write holding a QoS 1 PUBLISH for each device, in order."""
        g.send(b"".join(mqttraw.publish(ev("burst", d), d.encode(), qos=1, pid=pid0 + i)
                        for i, d in enumerate(devices)))

    def test_S059_eleventh_pending_registration_fails_173(self):
        a = self.raw_app()
        a.mqtt_subscribe([("iot-2/type/burst/id/+/evt/+/fmt/+", 1)])
        g = self.raw_as("g:%s:gwtype:gw1" % ORG)
        g.mqtt_subscribe([("iot-2/type/gwtype/id/gw1/notify", 0)])
        devs = [uid("b%02d" % i) for i in range(11)]
        self.burst(g, devs)
        # every PUBLISH is acknowledged, in order, the connection stays
        acks, notes = [], []
        deadline = time.monotonic() + 20
        while len(acks) < 11 and time.monotonic() < deadline:
            p = g.read_packet(max(0.1, deadline - time.monotonic()))
            self.assertIn(p.type, (mqttraw.PUBACK, mqttraw.PUBLISH), p)
            (acks if p.type == mqttraw.PUBACK else notes).append(p)
        self.assertEqual([p.pid for p in acks], list(range(1, 12)))
        notes += [p for p in g.collect(QUIET) if p.type == mqttraw.PUBLISH]
        self.assertEqual(len(notes), 1, notes)
        n = json.loads(notes[0].payload)
        self.assertEqual((n["Id"], n["RC"], n["Message"]), (devs[10], 173, "Too many active devices"))
        # the first ten were registered and delivered, in order; the 11th dropped
        got = [p.payload.decode() for p in a.collect(QUIET * 2) if p.type == mqttraw.PUBLISH]
        self.assertEqual(got, devs[:10])
        listed = json.loads(gannetctl(self.db, "--json", "device", "list", ORG, "--type", "burst"))
        ids = {d["id"] for d in listed if d["auto_registered"]}
        self.assertTrue(set(devs[:10]) <= ids)
        self.assertNotIn(devs[10], ids)
        # nothing pending any more: the 11th device registers now
        g.publish(ev("burst", devs[10]), b"again", qos=1, pid=20)
        self.assertEqual(a.next_publish().payload, b"again")
        self.assert_open(g)

    def test_S059_ten_pending_registrations_all_succeed(self):
        a = self.raw_app()
        a.mqtt_subscribe([("iot-2/type/burst/id/+/evt/+/fmt/+", 1)])
        g = self.raw_as("g:%s:gwtype:gw2" % ORG)
        g.mqtt_subscribe([("iot-2/type/gwtype/id/gw2/notify", 0)])
        devs = [uid("t%02d" % i) for i in range(10)]
        # two messages per device, the second behind the ten first ones
        g.send(b"".join(mqttraw.publish(ev("burst", d), b"1" + d.encode(), qos=1, pid=1 + i)
                        for i, d in enumerate(devs)) +
               b"".join(mqttraw.publish(ev("burst", d), b"2" + d.encode(), qos=1, pid=11 + i)
                        for i, d in enumerate(devs)))
        got = []
        deadline = time.monotonic() + 20
        while len(got) < 20 and time.monotonic() < deadline:
            got.append(a.next_publish(timeout=deadline - time.monotonic()).payload.decode())
        self.assertEqual(got, ["1" + d for d in devs] + ["2" + d for d in devs])
        self.assertEqual([p for p in g.collect(QUIET) if p.type == mqttraw.PUBLISH], [])   # no notification
