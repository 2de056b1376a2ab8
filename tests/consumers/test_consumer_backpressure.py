"""tests/consumers/test_consumer_backpressure.py — a consumer's backpressure
mode under a stalled pipeline:
  block        nothing is lost (QoS 0 and 1, every message counted), the
               publisher stops being read while the ring is full, and a QoS 1
               PUBACK exists only for messages already placed in the ring
  drop-oldest  publishers are never slowed, the oldest events are dropped
               and counted exactly: read + dropped == published."""

import time
import unittest

import mqttraw
from harness import TIMEOUT, uid
from probe import ProbeTestCase, RawPublisher

TOTAL = 3000
RING = 65536        # ~200 of these events fit: the stall fills it many times over


def packets(topic, run, qos):
    return [mqttraw.publish(topic, ("%s:%06d:" % (run, i)) + "x" * 180, qos=qos,
                            pid=(i % 65535) + 1 if qos else None)
            for i in range(TOTAL)]


class Backpressure(ProbeTestCase):
    consumers = ("name=blk,filter=bp/blk/#,mode=block,ring=%d" % RING,
                 "name=drp,filter=bp/drp/#,mode=drop,ring=%d" % RING)

    def seqs(self, name, run):
        return [int(e["payload"].split(":")[1]) for e in self.broker.events(name)
                if e["payload"].startswith(run + ":")]

    def stalled_publisher(self, name, qos):
        """Stall consumer `name`, start a raw publisher of TOTAL messages to
        it; returns (run, counters before, publisher, sender thread)."""
        b = self.broker
        run = uid("")
        b.stall(name)
        base = b.settle(name, quiet=0.2)
        pub = RawPublisher(b.port, name + "-" + run)
        self.addCleanup(pub.close)
        return run, base, pub, pub.send_all(packets("bp/%s/%s" % (name, run), run, qos))

    def block_case(self, qos):
        b = self.broker
        run, base, pub, sender = self.stalled_publisher("blk", qos)
        st = b.settle("blk", quiet=1.0)
        placed = st["events"] - base["events"]
        self.assertGreater(placed, 0)
        self.assertLess(placed, TOTAL, "the stalled ring should have filled")
        self.assertEqual(st["dropped"], 0)
        if qos == 1:
            # Every PUBACK follows its placement, and nothing placed waits for one.
            self.assertEqual(pub.acked, placed)
        b.stall("blk", False)
        sender.join(TIMEOUT * 3)
        deadline = time.monotonic() + TIMEOUT * 3
        got = self.seqs("blk", run)
        while len(got) < TOTAL and time.monotonic() < deadline:
            time.sleep(0.05)
            got = self.seqs("blk", run)
        self.assertEqual(got, list(range(TOTAL)), "block mode lost or reordered events")
        self.assertEqual(b.stats("blk")["dropped"], 0)
        if qos == 1:
            deadline = time.monotonic() + TIMEOUT
            while pub.acked < TOTAL and time.monotonic() < deadline:
                time.sleep(0.02)
            self.assertEqual(pub.acked, TOTAL)
            self.assertEqual(pub.acked_pids, [(i % 65535) + 1 for i in range(TOTAL)])

    def test_block_qos1_loses_nothing_puback_after_placement(self):
        self.block_case(1)

    def test_block_qos0_loses_nothing(self):
        self.block_case(0)

    def test_block_qos2_exactly_once_through_replays(self):
        """paho MQTT 5 at QoS 2 (PUBREC only after placement): a stalled ring
        makes the engine replay PUBLISHes; each must still arrive exactly once."""
        b = self.broker
        run = uid("")
        n = 1500
        b.stall("blk")
        pub = self.paho("q2-" + run, protocol="v5", max_inflight=100)
        infos = [pub.c.publish("bp/blk/%s" % run, ("%s:%06d:" % (run, i)) + "z" * 120, qos=2)
                 for i in range(n)]
        st = b.settle("blk", quiet=1.0)
        self.assertFalse(all(i.is_published() for i in infos), "the stalled ring should hold them back")
        b.stall("blk", False)
        for i in infos:
            i.wait_for_publish(TIMEOUT)
        deadline = time.monotonic() + TIMEOUT
        got = self.seqs("blk", run)
        while len(got) < n and time.monotonic() < deadline:
            time.sleep(0.05)
            got = self.seqs("blk", run)
        time.sleep(0.3)
        self.assertEqual(self.seqs("blk", run), list(range(n)))
        self.assertEqual(st["dropped"], 0)

    def test_block_pauses_only_its_publishers(self):
        """While one block-mode ring is full, other publishers and consumers go on."""
        b = self.broker
        run, _, _, sender = self.stalled_publisher("blk", 1)
        b.settle("blk", quiet=0.5)
        other = self.raw_connected("other-" + run)
        for i in range(20):
            other.publish("bp/drp/%s" % run, "%s:%06d:" % (run, i), qos=1, pid=i + 1)
        got = []
        deadline = time.monotonic() + TIMEOUT
        while len(got) < 20 and time.monotonic() < deadline:
            time.sleep(0.02)
            got = self.seqs("drp", run)
        self.assertEqual(got, list(range(20)))
        b.stall("blk", False)
        sender.join(TIMEOUT * 3)
        deadline = time.monotonic() + TIMEOUT * 3
        while len(self.seqs("blk", run)) < TOTAL and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertEqual(self.seqs("blk", run), list(range(TOTAL)))

    def test_drop_oldest_counts_exactly(self):
        b = self.broker
        run, base, pub, sender = self.stalled_publisher("drp", 0)
        sender.join(TIMEOUT * 3)
        self.assertEqual(pub.sent, TOTAL)       # never slowed down by the stalled consumer
        st = b.wait_stats("drp", lambda s: s["events"] - base["events"] >= TOTAL)
        self.assertEqual(st["events"] - base["events"], TOTAL)
        dropped = st["dropped"] - base["dropped"]
        self.assertGreater(dropped, 0)
        b.stall("drp", False)
        deadline = time.monotonic() + TIMEOUT
        got = self.seqs("drp", run)
        while len(got) + dropped < TOTAL and time.monotonic() < deadline:
            time.sleep(0.05)
            got = self.seqs("drp", run)
        st = b.settle("drp", quiet=0.3)
        self.assertEqual(st["dropped"] - base["dropped"], dropped)
        self.assertEqual(len(got) + dropped, TOTAL, "read + dropped must equal published")
        # The newest survive, in order and contiguous.
        self.assertEqual(got, list(range(TOTAL - len(got), TOTAL)))


if __name__ == "__main__":
    unittest.main()
