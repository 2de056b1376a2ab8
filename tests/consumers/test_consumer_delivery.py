"""tests/consumers/test_consumer_delivery.py — events from real MQTT clients
(paho 3.1.1 and 5.0, mosquitto_pub) reach libgannet consumers, threaded and
inline (gn_consumer_opts.on_events), complete, in per-publisher order, with
the decoded platform fields, client id, QoS and a receive timestamp order; filter semantics; in-process commands reach MQTT
devices with normal QoS semantics (including a persistent session that was
offline)."""

import ctypes
import ctypes.util
import threading
import time
import unittest

import harness
from harness import TIMEOUT, uid
from probe import ProbeTestCase

PLATFORM = "iot-2/type/+/id/+/evt/+/fmt/+"

_xxhash = ctypes.CDLL(ctypes.util.find_library("xxhash") or "libxxhash.so.0")
_xxhash.XXH3_64bits.restype = ctypes.c_uint64
_xxhash.XXH3_64bits.argtypes = (ctypes.c_char_p, ctypes.c_size_t)


def xxh3(s):
    """XXH3_64bits of a client id: the engine's shard of it is this % shards."""
    b = s.encode()
    return _xxhash.XXH3_64bits(b, len(b))


class ConsumerDelivery(ProbeTestCase):
    consumers = ("name=plat,filter=%s,mode=block" % PLATFORM,
                 "name=all,filter=#,mode=block,batch=5",
                 "name=abc,filter=a/+/c,mode=drop",
                 "name=inl,filter=%s,mode=block,inline=1" % PLATFORM)

    # -- publishers and what a consumer must have seen from them ---------

    def publish_paho(self, run, n, count=4):
        """`count` paho publishers (3.1.1 and 5.0 alternately, QoS 0/1/2 in
        turn) on their own connections (spread over both shards), n events
        each, concurrently."""
        pubs = [self.paho("pub%d-%s" % (k, run), protocol="v5" if k % 2 else "v311")
                for k in range(count)]

        def publish(k, c):
            for i in range(n):
                c.publish("iot-2/type/kind%d/id/%s-%d/evt/reading/fmt/json" % (k, run, k),
                          "%s:%d:%d" % (run, k, i), qos=i % 3, wait=(i % 3 != 0))

        ts = [threading.Thread(target=publish, args=(k, c)) for k, c in enumerate(pubs)]
        for t in ts:
            t.start()
        for t in ts:
            t.join(TIMEOUT * 3)

    def check_paho(self, name, run, n, count=4):
        """Consumer `name` got every event of publish_paho once, in each
        publisher's order, with its fields and client id."""
        want = count * n
        deadline = time.monotonic() + TIMEOUT
        mine = []
        while time.monotonic() < deadline:
            mine = [e for e in self.broker.events(name) if e["payload"].startswith(run + ":")]
            if len(mine) >= want:
                break
            time.sleep(0.05)
        self.assertEqual(len(mine), want, name)
        per = {}
        for e in mine:
            _, k, i = e["payload"].split(":")
            k, i = int(k), int(i)
            per.setdefault(k, []).append(i)
            self.assertEqual(e["type"], "kind%d" % k)
            self.assertEqual(e["id"], "%s-%d" % (run, k))
            self.assertEqual(e["evt"], "reading")
            self.assertEqual(e["fmt"], "json")
            self.assertEqual(e["cid"], "pub%d-%s" % (k, run))
            self.assertEqual(e["qos"], i % 3)
            self.assertEqual(e["topic"], "iot-2/type/kind%d/id/%s-%d/evt/reading/fmt/json" % (k, run, k))
            self.assertTrue(e["flags"] & 0x02)          # GN_EVENT_PLATFORM_EVT
        for k in range(count):
            self.assertEqual(per[k], list(range(n)),
                             "%s: publisher %d out of order or incomplete" % (name, k))
        shards = {e["shard"] for e in mine}
        self.assertTrue(shards <= {"0", "1"})
        return mine

    def publish_mosquitto(self, run):
        """200 lines at QoS 1 (MQTT 3.1.1) then one message at QoS 2 (MQTT
        5.0): two mosquitto_pub runs, two connections. Returns the lines."""
        topic = "iot-2/type/meter/id/%s/evt/usage/fmt/text" % run
        lines = ["%s-%d" % (run, i) for i in range(200)]
        harness.mosquitto_pub(self.broker.port, topic, lines=lines, qos=1)
        harness.mosquitto_pub(self.broker.port, topic, message=run + "-q2", qos=2,
                              version="mqttv5")
        return lines

    def check_mosquitto(self, name, run, lines):
        evs = []
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            evs = [e for e in self.broker.events(name) if e["id"] == run]
            if len(evs) >= len(lines) + 1:
                break
            time.sleep(0.05)
        # order is per publisher: the two mosquitto_pub runs are two
        # connections, possibly on two shards whose rings the consumer
        # drains in its own order
        q1 = [e for e in evs if e["qos"] == 1]
        q2 = [e for e in evs if e["qos"] != 1]
        self.assertEqual([e["payload"] for e in q1], lines, name)
        self.assertEqual([(e["payload"], e["qos"]) for e in q2], [(run + "-q2", 2)], name)
        self.assertEqual(len(evs), len(lines) + 1, name)
        self.assertTrue(all(e["type"] == "meter" and e["fmt"] == "text" and e["evt"] == "usage"
                            for e in evs), name)
        return evs

    # -- tests -----------------------------------------------------------

    def test_paho_publishers_complete_in_order(self):
        """Four paho publishers (3.1.1 and 5.0, QoS 0/1/2) on different
        connections (spread over both shards): every event arrives once, in
        its publisher's order, with its fields."""
        run = uid("")
        self.publish_paho(run, 300)
        self.check_paho("plat", run, 300)

    def test_mosquitto_pub_lines(self):
        run = uid("")
        self.check_mosquitto("plat", run, self.publish_mosquitto(run))

    def test_inline_consumer_delivery(self):
        """An inline consumer (on_events, called by each shard on its own
        thread, on both at once): the paho publishers' and mosquitto_pub's
        events arrive once each, in per-publisher order, with their fields
        and client ids, from both shards; its stats count them all read,
        nothing dropped."""
        # a run whose publisher client ids land on both shards (the engine
        # hands a connection to the shard owning its client id,
        # gn_shard_owner: XXH3_64bits(id) % shards), so both shards call the
        # callback, concurrently
        while True:
            run = uid("")
            if {xxh3("pub%d-%s" % (k, run)) % 2 for k in range(6)} == {0, 1}:
                break
        self.publish_paho(run, 300, count=6)
        lines = self.publish_mosquitto(run)
        mine = self.check_paho("inl", run, 300, count=6)
        self.check_mosquitto("inl", run, lines)
        self.assertEqual({e["shard"] for e in mine}, {"0", "1"})
        self.assertTrue(all(int(e["shard"]) == xxh3(e["cid"]) % 2 for e in mine))
        want = 6 * 300 + len(lines) + 1     # the stats file lags the events file by up to 20 ms
        st = self.broker.wait_stats("inl", lambda st: st["read"] == st["events"] and st["read"] >= want)
        self.assertEqual(st["read"], st["events"])
        self.assertEqual((st["dropped"], st["oversize"]), (0, 0))
        self.assertGreaterEqual(st["read"], want)

    def test_filter_rules(self):
        """a/+/c: one level only; '#' sees everything except $-topics;
        non-platform topics carry no platform fields."""
        run = uid("")
        c = self.paho()
        for t in ("a/%s/c" % run, "a/%s/c/d" % run, "a/%s" % run, "x/%s" % run):
            c.publish(t, run, qos=1)
        c.publish("$SYS/%s" % run, run, qos=1)
        c.publish("iot-2/type/T/id/%s/evt/E/fmt" % run, run, qos=1)   # one level short
        self.broker.wait_events("all", 1)
        time.sleep(harness.QUIET)
        abc = [e["topic"] for e in self.broker.events("abc") if e["payload"] == run]
        self.assertEqual(abc, ["a/%s/c" % run])
        alls = [e for e in self.broker.events("all") if e["payload"] == run]
        self.assertEqual([e["topic"] for e in alls],
                         ["a/%s/c" % run, "a/%s/c/d" % run, "a/%s" % run, "x/%s" % run,
                          "iot-2/type/T/id/%s/evt/E/fmt" % run])
        self.assertTrue(all(e["flags"] & 0x06 == 0 and e["type"] == "" for e in alls))
        self.assertEqual([e for e in self.broker.events("plat") if e["payload"] == run], [])

    def test_inproc_command_reaches_devices(self):
        """gn_engine_publish: an online device gets its command at QoS 1; a
        persistent session that is offline gets it queued after reconnecting;
        the '#' consumer sees it as a platform command."""
        run = uid("")
        online = self.paho("dev-on-" + run)
        online.subscribe("iot-2/type/lamp/id/%s-on/cmd/+/fmt/+" % run, qos=1)
        off_id = "dev-off-" + run
        off = self.paho(off_id, clean=False)
        off.subscribe("iot-2/type/lamp/id/%s-off/cmd/+/fmt/+" % run, qos=1)
        off.disconnect()
        off.close()
        r = self.broker.publish_inproc([
            (1, "iot-2/type/lamp/id/%s-on/cmd/blink/fmt/json" % run, '{"n":1}'),
            (1, "iot-2/type/lamp/id/%s-off/cmd/dim/fmt/json" % run, '{"n":2}'),
            (0, "bad/+/wildcard", "x"),
        ])
        self.assertEqual(r, "ok 2 bad 1")
        m = online.get()
        self.assertEqual(m.topic, "iot-2/type/lamp/id/%s-on/cmd/blink/fmt/json" % run)
        self.assertEqual(m.payload, b'{"n":1}')
        self.assertEqual(m.qos, 1)
        back = self.paho(off_id, clean=False)
        m = back.get()
        self.assertEqual(m.topic, "iot-2/type/lamp/id/%s-off/cmd/dim/fmt/json" % run)
        self.assertEqual(m.qos, 1)
        cmds = [e for e in self.broker.wait_events("all", 1) if run in e["topic"] and e["flags"] & 0x04]
        deadline = time.monotonic() + TIMEOUT
        while len(cmds) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
            cmds = [e for e in self.broker.events("all") if run in e["topic"] and e["flags"] & 0x04]
        self.assertEqual([(e["evt"], e["cid"], e["qos"]) for e in cmds], [("blink", "", 1), ("dim", "", 1)])

    def test_will_reaches_consumers(self):
        """A will (published by the engine, no socket behind it) is an event
        like any other: the device's status topic, QoS and payload."""
        run = uid("")
        topic = "iot-2/type/gw/id/%s/evt/lwt/fmt/text" % run
        c = self.raw_connected("gw-" + run, will={"topic": topic, "payload": b"gone", "qos": 1})
        c.sock.close()          # no DISCONNECT: the will is published
        evs = []
        deadline = time.monotonic() + TIMEOUT
        while not evs and time.monotonic() < deadline:
            time.sleep(0.05)
            evs = [e for e in self.broker.events("plat") if e["id"] == run]
        self.assertEqual([(e["evt"], e["payload"], e["qos"]) for e in evs], [("lwt", "gone", 1)])


if __name__ == "__main__":
    unittest.main()
