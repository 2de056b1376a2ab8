"""tests/platform/test_scalable_quota.py — what is counted for a scalable
application org-wide, across the 2 shards gannetd is forced to: the
retained monitoring state of an application with several members (S-105
with S-020) and the org quotas of S-100 (members per application, shared
groups per org), set small by configuration.

Members are placed on both shards on purpose (ScalableCase.members), so
every count below is one the shards share."""

import json
import time
import unittest

from platform_harness import mqttraw
from platform_harness import APP_TOKEN, ORG, uid
from test_scalable import EVT, ScalableCase

DEV_EVT = "iot-2/type/sensor/id/+/evt/%s/fmt/+"


class TestScalableRetainedState(ScalableCase):

    def mon_state(self, app, settle=0.8):
        """What a subscriber arriving now learns of app's monitoring topic:
        the retained message (parsed), or None."""
        w = self.paho_app()
        w.subscribe("iot-2/app/%s/mon" % app, 0)
        try:
            m = w.messages.get(timeout=settle)
        except Exception:
            m = None
        w.close()
        if m is None:
            return None
        self.assertTrue(m.retain, "a message at subscribe time is the retained one")
        return json.loads(m.payload)

    def quiet(self, c, settle=0.4):
        while True:
            try:
                c.messages.get(timeout=settle)
            except Exception:
                return

    def test_S105_S020_retained_connect_stays_while_any_member_is_connected(self):
        app = uid("ret")
        cid = "A:%s:%s" % (ORG, app)
        live = self.paho_app()
        live.subscribe("iot-2/app/%s/mon" % app, 0)
        (a, sa), (b, sb) = self.members(cid, ["v311", "v5"])
        self.assertNotEqual(sa, sb)
        self.assertEqual(json.loads(live.get().payload)["Action"], "Connect")
        self.quiet(live)        # members() may have tried extra connections
        a.disconnect()
        m = live.get()
        self.assertEqual(json.loads(m.payload)["Action"], "Disconnect")
        self.assertFalse(m.retain)      # a member's Disconnect is still published, not retained
        st = self.mon_state(app)
        self.assertIsNotNone(st, "one member is still connected: the retained Connect stays")
        self.assertEqual((st["Action"], st["ClientID"]), ("Connect", cid))
        # a member joining and leaving again does not clear it either
        c, _ = self._connect_member(cid, "v311")
        c.disconnect()
        self.assertEqual([json.loads(x.payload)["Action"] for x in live.get_n(2)],
                         ["Connect", "Disconnect"])
        self.assertEqual(self.mon_state(app)["Action"], "Connect")
        b.disconnect()
        self.assertEqual(json.loads(live.get().payload)["Action"], "Disconnect")
        self.assertIsNone(self.mon_state(app), "the last member left: the retained state is cleared")
        # and it starts again with the next member
        d, _ = self._connect_member(cid, "v311")
        live.get()
        self.assertEqual(self.mon_state(app)["Action"], "Connect")
        d.disconnect()
        live.get()
        self.assertIsNone(self.mon_state(app))

    def test_S105_instances_and_plain_members_share_the_app_topic(self):
        """A:org:app:inst and A:org:app publish to the same iot-2/app/{app}/mon:
        the count covers both kinds."""
        app = uid("reti")
        live = self.paho_app()
        live.subscribe("iot-2/app/%s/mon" % app, 0)
        inst = self.paho("A:%s:%s:i1" % (ORG, app), "v311", username=self.apikey,
                         password=APP_TOKEN)
        plain, _ = self._connect_member("A:%s:%s" % (ORG, app), "v311")
        live.get_n(2)
        plain.disconnect()
        live.get()
        self.assertEqual(self.mon_state(app)["ClientID"], "A:%s:%s" % (ORG, app))
        inst.disconnect()
        live.get()
        self.assertIsNone(self.mon_state(app))


class TestScalableMemberQuota(ScalableCase):
    """S-100: platform_max_app_instances 2 (the platform's 50)."""
    platform_conf = "log_level debug\nplatform_max_app_instances 2\n"

    def test_S100_members_over_the_app_limit_get_173(self):
        app = uid("q")
        cid = "A:%s:%s" % (ORG, app)
        got = self.members(cid, ["v311", "v311"])
        self.assertEqual(len({s for _, s in got}), 2)
        p = self.paho(cid, "v311", username=self.apikey, password=APP_TOKEN, connect=False)
        p.connect(expect_rc=3)
        p.close()
        self.close_line(cid, code=173)
        r5 = self.raw_as(cid, mqttraw.V5, username=self.apikey, password=APP_TOKEN,
                         expect_rc=0x97)
        r5.expect_closed()
        # an instance id is a member of the same application
        inst = self.paho("A:%s:%s:i9" % (ORG, app), "v311", username=self.apikey,
                         password=APP_TOKEN, connect=False)
        inst.connect(expect_rc=3)
        inst.close()
        # another application of the org has its own count
        other = self.members("A:%s:%s" % (ORG, uid("q")), ["v311", "v311"], both=False)
        self.assertEqual(len(other), 2)
        # a member leaving makes room (once gannetd has handled its close)
        closed = self.close_count(cid)
        got[0][0].disconnect()
        self.wait_close_count(cid, closed + 1)
        again, _ = self._connect_member(cid, "v5")
        self.assertTrue(again.c.is_connected())


class TestScalableGroupQuota(ScalableCase):
    """S-100: platform_max_app_groups 2 (the platform's 10), org-wide."""
    platform_conf = "log_level debug\nplatform_max_app_groups 2\n"

    def test_S100_shared_groups_over_the_org_limit_get_a_failure_code(self):
        app1, app2 = uid("g"), uid("g")
        (a, _), (b, _) = self.members("A:%s:%s" % (ORG, app1), ["v311", "v5"])
        self.assertEqual(a.subscribe(DEV_EVT % "one", 1), [1])
        # the same filter of another member is the same group: no new one
        self.assertEqual(b.subscribe(DEV_EVT % "one", 1), [1])
        c, _ = self._connect_member("A:%s:%s" % (ORG, app2), "v5")
        self.assertEqual(c.subscribe(DEV_EVT % "one", 1), [1])       # app2's own group: 2 of 2
        self.assertEqual(a.subscribe(DEV_EVT % "two", 1), [0x80])    # 3.1.1: failure
        self.assertEqual(b.subscribe(DEV_EVT % "two", 1), [0x97])    # MQTT 5: quota exceeded
        # a refused filter is not subscribed: nothing arrives on it
        dev = self.devs[0]
        dev.publish("iot-2/evt/two/fmt/txt", b"x", qos=1, pid=1)
        self.assertEqual(self.drain(a, settle=0.4) + self.drain(b, settle=0.1), [])
        self.assertTrue(a.c.is_connected() and b.c.is_connected())
        # an instance group is a group too (separate from the plain one, S-022)
        i = self.paho("A:%s:%s:i1" % (ORG, app1), "v311", username=self.apikey,
                      password=APP_TOKEN)
        self.assertEqual(i.subscribe(DEV_EVT % "one", 1), [0x80])
        # the group lives while one member has it ...
        a.unsubscribe(DEV_EVT % "one")
        self.assertEqual(i.subscribe(DEV_EVT % "three", 1), [0x80])
        # ... and its last member leaving (here: its session ending) frees it
        b.disconnect()
        self.close_line("A:%s:%s" % (ORG, app1), code=0)
        deadline = time.monotonic() + 3
        while i.subscribe(DEV_EVT % "three", 1) != [1]:
            self.assertLess(time.monotonic(), deadline, "the group was not released")
            i.unsubscribe(DEV_EVT % "three")
            time.sleep(0.05)
        self.assertEqual(a.subscribe(DEV_EVT % "four", 1), [0x80])   # 2 of 2 again
        c.unsubscribe(DEV_EVT % "one")
        self.assertEqual(a.subscribe(DEV_EVT % "four", 1), [1])


if __name__ == "__main__":
    unittest.main()
