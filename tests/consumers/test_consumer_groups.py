"""tests/consumers/test_consumer_groups.py — several consumers on one filter:
without a group each gets every event; in a group they share them (each
event to exactly one member, balanced round robin like a $share group),
keeping each publisher's order within a member; an MQTT client joining
$share/<group>/<filter> becomes one more member of the same group."""

import time
import unittest

import mqttraw
from harness import TIMEOUT, uid
from probe import ProbeTestCase, RawPublisher

N = 1500


class Groups(ProbeTestCase):
    consumers = ("name=g1,filter=grp/+/t,mode=block,group=workers",
                 "name=g2,filter=grp/+/t,mode=block,group=workers",
                 "name=g3,filter=grp/+/t,mode=block,group=workers",
                 "name=solo1,filter=grp/+/t,mode=block",
                 "name=solo2,filter=grp/#,mode=drop",
                 "name=st1,filter=stall/+,mode=block,group=st,ring=65536",
                 "name=st2,filter=stall/+,mode=block,group=st,ring=65536")

    def mine(self, name, run):
        return [e["payload"] for e in self.broker.events(name) if e["payload"].startswith(run + ":")]

    def publish_two(self, run):
        pubs = [self.raw_connected("gp%d-%s" % (k, run)) for k in range(2)]
        for i in range(N):
            for k, p in enumerate(pubs):
                p.publish("grp/p%d/t" % k, "%s:%d:%d" % (run, k, i), qos=1, pid=(i % 60000) + 1)
        return 2 * N

    def wait_total(self, names, run, want):
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            if sum(len(self.mine(n, run)) for n in names) >= want:
                break
            time.sleep(0.05)
        time.sleep(0.3)     # nothing more should come

    def test_group_shares_balanced_and_ordered(self):
        run = uid("")
        total = self.publish_two(run)
        members = ("g1", "g2", "g3")
        self.wait_total(members, run, total)
        got = {n: self.mine(n, run) for n in members}
        union = [p for n in members for p in got[n]]
        self.assertEqual(len(union), total, "each event exactly once across the group")
        self.assertEqual(len(set(union)), total)
        for n in members:
            # Balanced: round robin gives each member a third (allow 10%).
            self.assertGreater(len(got[n]), total / 3 * 0.9, (n, len(got[n])))
            self.assertLess(len(got[n]), total / 3 * 1.1, (n, len(got[n])))
            for k in range(2):
                seq = [int(p.split(":")[2]) for p in got[n] if p.split(":")[1] == str(k)]
                self.assertEqual(seq, sorted(seq), "publisher order kept within a member")

    def test_without_group_each_gets_everything(self):
        run = uid("")
        total = self.publish_two(run)
        for n in ("solo1", "solo2"):
            self.wait_total((n,), run, total)
            got = self.mine(n, run)
            for k in range(2):
                seq = [int(p.split(":")[2]) for p in got if p.split(":")[1] == str(k)]
                self.assertEqual(seq, list(range(N)), (n, k))

    def test_mqtt_share_member_joins_the_group(self):
        """Consumer groups and MQTT $share groups share one namespace: an MQTT
        client in $share/workers/<the same filter> joins the consumers'
        group, and every message goes to exactly one of the four members."""
        run = uid("")
        sub = self.paho("share-" + run)
        sub.subscribe("$share/workers/grp/+/t", qos=1)
        pub = self.raw_connected("gpx-" + run)
        n = 400
        for i in range(n):
            pub.publish("grp/x/t", "%s:9:%d" % (run, i), qos=1, pid=i + 1)
        deadline = time.monotonic() + TIMEOUT
        mqtt = []
        while time.monotonic() < deadline:
            try:
                while True:
                    mqtt.append(sub.get(timeout=0.05).payload.decode())
            except AssertionError:
                pass
            cons = sum(len(self.mine(m, run)) for m in ("g1", "g2", "g3"))
            if cons + len(mqtt) >= n:
                break
        cons = sum(len(self.mine(m, run)) for m in ("g1", "g2", "g3"))
        self.assertEqual(cons + len(mqtt), n)
        self.assertGreater(len(mqtt), n / 4 * 0.8)     # four members, round robin

    def test_stalled_member_does_not_block_the_group(self):
        """Block mode in a group: once a stalled member's ring is half full the
        picker skips it, so the publisher is not paused for it and every
        message is placed (and acknowledged) with the other member."""
        b = self.broker
        run = uid("")
        total = 3000
        b.stall("st1")
        pub = RawPublisher(b.port, "st-" + run)
        self.addCleanup(pub.close)
        sender = pub.send_all([mqttraw.publish("stall/%s" % run, ("%s:%d:" % (run, i)) + "y" * 150,
                                               qos=1, pid=i + 1) for i in range(total)])
        sender.join(TIMEOUT * 3)
        deadline = time.monotonic() + TIMEOUT * 2
        while pub.acked < total and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertEqual(pub.acked, total, "publisher paused for the stalled member")
        held = b.stats("st1")["events"]
        self.assertLess(held, total / 4)
        b.stall("st1", False)
        deadline = time.monotonic() + TIMEOUT
        got = []
        while time.monotonic() < deadline:
            got = self.mine("st1", run) + self.mine("st2", run)
            if len(got) >= total:
                break
            time.sleep(0.05)
        self.assertEqual(sorted(int(p.split(":")[1]) for p in got), list(range(total)))


if __name__ == "__main__":
    unittest.main()
