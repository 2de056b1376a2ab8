"""tests/platform/test_scalable.py — scalable applications (S-020, S-021,
S-022, S-144) with gannetd on 2 shards forced.

Members of `A:org:app` all use the same client id; each connection stays
on the shard that accepted it (the debug line "scalable application member
... on this shard" names it, so the tests place members on both shards on
purpose) and every subscription is one shared group per filter: each event
reaches exactly one member. Devices publish from both shards (their client
ids hash to either). Members are paho 3.1.1 / 5.0 clients, or raw-socket
clients (tests/engine/mqttraw.py) where a member must not acknowledge.

Counting rule used throughout: every payload is unique; a member's share
is the set of payloads it received; "nothing lost" is the union of shares
being every payload published, "nothing duplicated" the sum of shares being
the number published. QoS 1 redelivery after a member drops is at least
once: a message the dropped member received but did not acknowledge is
delivered again, to another member (counted, and allowed, below).
"""

import re
import time
import unittest

from platform_harness import mqttraw
from platform_harness import APP_TOKEN, ORG, TIMEOUT, PlatformTestCase, uid

EVT = "iot-2/type/+/id/+/evt/+/fmt/+"
MEMBER_RE = re.compile(r"\[shard (\d+)\][^\n]*scalable application member '([^']*)'")
NDEV = 8


class ScalableCase(PlatformTestCase):
    shards = 2
    platform_conf = "log_level debug\n"

    @classmethod
    def setup(cls):
        for i in range(NDEV):
            cls.device("sensor", "sc%d" % i)

    def setUp(self):
        super().setUp()
        self.devs = [self.raw_as("d:%s:sensor:sc%d" % (ORG, i)) for i in range(NDEV)]
        self.seq = 0

    # -- members -------------------------------------------------------
    def member_lines(self, cid):
        return [int(m.group(1)) for m in MEMBER_RE.finditer(self.broker.log())
                if m.group(2) == cid]

    def _connect_member(self, cid, kind, **kw):
        before = len(self.member_lines(cid))
        if kind == "raw5" or kind == "raw":
            ver = mqttraw.V5 if kind == "raw5" else mqttraw.V311
            c = self.raw_as(cid, ver, username=self.apikey, password=APP_TOKEN, **kw)
        else:
            c = self.paho(cid, "v5" if kind == "v5" else "v311", username=self.apikey,
                          password=APP_TOKEN, **kw)
        deadline = time.monotonic() + TIMEOUT
        while len(self.member_lines(cid)) <= before and time.monotonic() < deadline:
            time.sleep(0.02)
        lines = self.member_lines(cid)
        self.assertGreater(len(lines), before, "no member line for %s" % cid)
        return c, lines[before]

    def members(self, cid, kinds, both=True, cap=24):
        """Connect len(kinds) members of cid (kinds: 'v311', 'v5', 'raw',
        'raw5'); with both, retry extra connections until the members use
        both shards. Returns [(client, shard)]."""
        got = []
        tries = 0
        while len(got) < len(kinds):
            tries += 1
            self.assertLess(tries, cap, "members stayed on one shard: %r" % [s for _, s in got])
            kind = kinds[len(got)]
            c, shard = self._connect_member(cid, kind)
            shards = {s for _, s in got} | {shard}
            last = len(got) == len(kinds) - 1
            if both and last and len(shards) < 2:
                closed = self.close_count(cid)
                self.close_client(c)
                # the broker frees the member's place (S-100 count) when it
                # handles the close: wait for that before the next attempt
                self.wait_close_count(cid, closed + 1)
                continue
            got.append((c, shard))
        return got

    def close_count(self, cid):
        """How many close lines gannetd has logged for cid so far."""
        return len(re.findall(r"close: client=%s addr=" % re.escape(cid), self.broker.log()))

    def wait_close_count(self, cid, n):
        deadline = time.monotonic() + TIMEOUT
        while self.close_count(cid) < n and time.monotonic() < deadline:
            time.sleep(0.02)
        self.assertGreaterEqual(self.close_count(cid), n, "no close line for %s" % cid)

    def close_client(self, c):
        if isinstance(c, mqttraw.RawClient):
            c.close()
        else:
            c.close()

    # -- publishing and counting --------------------------------------
    def publish(self, n, qos=1):
        """n events from the devices in turn (both shards); their payloads."""
        out = []
        for _ in range(n):
            d = self.devs[self.seq % NDEV]
            p = b"e%06d" % self.seq
            self.seq += 1
            d.publish("iot-2/evt/e/fmt/txt", p, qos=qos, pid=(self.seq % 60000) + 1)
            out.append(p)
        return out

    def drain(self, c, settle=0.4, ack=True):
        """Payloads c received until nothing came for `settle` seconds."""
        got = []
        if isinstance(c, mqttraw.RawClient):
            while True:
                try:
                    p = c.next_publish(timeout=settle)
                except (TimeoutError, mqttraw.ConnectionClosed):
                    return got
                if ack:
                    c.ack(p)
                got.append(p.payload)
        while True:
            try:
                got.append(c.messages.get(timeout=settle).payload)
            except Exception:
                return got

    def shares(self, clients, expected, settle=0.4, timeout=TIMEOUT):
        """Each client's payloads, waiting (at most timeout) until `expected`
        arrived in all."""
        shares = [[] for _ in clients]
        deadline = time.monotonic() + timeout
        while sum(map(len, shares)) < expected and time.monotonic() < deadline:
            for i, c in enumerate(clients):
                shares[i] += self.drain(c, settle=0.05)
        for i, c in enumerate(clients):
            shares[i] += self.drain(c, settle=settle)
        return shares

    def assert_exactly_once(self, shares, sent):
        flat = [p for s in shares for p in s]
        self.assertEqual(sorted(flat), sorted(sent),
                         "each event to exactly one member (sizes %r)" % [len(s) for s in shares])

    def member_id(self):
        return "A:%s:%s" % (ORG, uid("app"))


class TestScalableApplications(ScalableCase):

    def test_S020_S072_seed_scenario_three_members_across_shards(self):
        """The seed's scenario step by step: 1 member gets 100 %; 2 and then
        3 share the stream; after 2 and 3 unsubscribe, member 1 gets 100 %
        again while 2 and 3 stay connected."""
        cid = self.member_id()
        (c1, s1), (c2, s2), (c3, s3) = self.members(cid, ["v311", "v311", "v5"])
        self.assertEqual({s1, s2, s3}, {0, 1})
        self.assertEqual(c1.subscribe(EVT, 1), [1])
        sent = self.publish(30)
        one, = self.shares([c1], 30)
        self.assertEqual(sorted(one), sorted(sent))

        self.assertEqual(c2.subscribe(EVT, 1), [1])
        sent = self.publish(60)
        sh = self.shares([c1, c2], 60)
        self.assert_exactly_once(sh, sent)
        for s in sh:
            self.assertGreaterEqual(len(s), 20, [len(x) for x in sh])

        self.assertEqual(c3.subscribe(EVT, 1), [1])
        sent = self.publish(90)
        sh = self.shares([c1, c2, c3], 90)
        self.assert_exactly_once(sh, sent)
        for s in sh:
            self.assertGreaterEqual(len(s), 20, [len(x) for x in sh])

        c2.unsubscribe(EVT)
        c3.unsubscribe(EVT)
        sent = self.publish(30)
        sh = self.shares([c1, c2, c3], 30)
        self.assertEqual(sorted(sh[0]), sorted(sent))
        self.assertEqual(sh[1] + sh[2], [])
        # still connected, and nobody was taken over
        for c in (c1, c2, c3):
            self.assertTrue(c.c.is_connected())
        self.assertNotRegex(self.broker.log()[self.log_mark:],
                            r"close: client=%s .*code=288" % re.escape(cid))

    def test_S020_share_balanced_within_tolerance(self):
        cid = self.member_id()
        (a, _), (b, _) = self.members(cid, ["v311", "v5"])
        a.subscribe(EVT, 1)
        b.subscribe(EVT, 1)
        sent = self.publish(400)
        sh = self.shares([a, b], 400)
        self.assert_exactly_once(sh, sent)
        for s in sh:
            self.assertLessEqual(abs(len(s) - 200), 20, "±10 %%: %r" % [len(x) for x in sh])

    def test_S020_members_never_take_each_other_over(self):
        cid = self.member_id()
        got = self.members(cid, ["raw", "raw5", "raw", "raw5"], both=False)
        time.sleep(0.3)
        for c, _ in got:
            self.assert_open(c)
        self.assertNotRegex(self.broker.log()[self.log_mark:],
                            r"close: client=%s .*code=288" % re.escape(cid))
        # each connection has its own close line
        for c, _ in got:
            c.send(mqttraw.disconnect(version=c.version))
            c.expect_closed()
        deadline = time.monotonic() + TIMEOUT
        pat = re.compile(r"close: client=%s addr=\S+ code=0 " % re.escape(cid))
        while len(pat.findall(self.broker.log()[self.log_mark:])) < 4 and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertEqual(len(pat.findall(self.broker.log()[self.log_mark:])), 4)

    def test_S020_no_local_of_a_v5_member_is_not_a_protocol_error(self):
        """The member did not write $share: No Local is dropped, the
        subscription granted (0x82 would be $share's rule)."""
        cid = self.member_id()
        c, _ = self._connect_member(cid, "raw5")
        opts = mqttraw.sub_options(qos=1, no_local=True)
        self.assertEqual(c.mqtt_subscribe([(EVT, opts)]).codes, [1])
        sent = self.publish(3)
        self.assertEqual(sorted(self.drain(c)), sorted(sent))

    def test_S105_each_member_has_its_own_connect_and_disconnect(self):
        app = uid("mon")
        cid = "A:%s:%s" % (ORG, app)
        w = self.paho_app()
        w.subscribe("iot-2/app/%s/mon" % app, 0)
        a, _ = self._connect_member(cid, "v311")
        b, _ = self._connect_member(cid, "v5")
        import json
        msgs = [json.loads(m.payload) for m in w.get_n(2)]
        self.assertEqual([m["Action"] for m in msgs], ["Connect", "Connect"])
        self.assertEqual({m["Protocol"] for m in msgs}, {"mqtt4", "mqtt5"})
        self.assertTrue(all(m["ClientID"] == cid for m in msgs))
        b.disconnect()
        m = json.loads(w.get().payload)
        self.assertEqual((m["Action"], m["ClientID"], m["Protocol"]), ("Disconnect", cid, "mqtt5"))
        self.assertTrue(a.c.is_connected())

    def test_S020_unacked_qos1_of_a_dropped_member_go_to_another(self):
        """A raw 3.1.1 member receives its share and acknowledges nothing
        (all of it in flight), then its TCP connection is reset: the other
        member gets every one of them. Nothing lost; the dropped member's
        unacknowledged messages are delivered twice in all (once to it,
        once to the survivor): QoS 1's at-least-once."""
        self._drop_case("raw", {})

    def test_S020_unacked_and_queued_qos1_of_a_dropped_v5_member_go_to_another(self):
        """The same with an MQTT 5 member whose Receive Maximum is 4: most of
        its share waits in its queue behind the window when it drops."""
        self._drop_case("raw5", {"props": [(mqttraw.RECEIVE_MAXIMUM, 4)]})

    def _drop_case(self, kind, kw):
        cid = self.member_id()
        (keeper, _), = self.members(cid, ["v311"], both=False)
        before = len(self.member_lines(cid))
        if kind == "raw5":
            dropper = self.raw_as(cid, mqttraw.V5, username=self.apikey, password=APP_TOKEN, **kw)
        else:
            dropper = self.raw_as(cid, mqttraw.V311, username=self.apikey, password=APP_TOKEN, **kw)
        deadline = time.monotonic() + TIMEOUT
        while len(self.member_lines(cid)) <= before and time.monotonic() < deadline:
            time.sleep(0.02)
        keeper.subscribe(EVT, 1)
        self.assertEqual(dropper.mqtt_subscribe([(EVT, 1)]).codes, [1])
        sent = self.publish(60)
        time.sleep(0.5)
        seen_by_dropper = self.drain(dropper, settle=0.3, ack=False)
        self.assertGreater(len(seen_by_dropper), 0)
        if kind == "raw5":
            self.assertLessEqual(len(seen_by_dropper), 4)     # the window: the rest is queued
        dropper.abort()
        kept = self.shares([keeper], 60, settle=0.6)[0]
        self.assertEqual(sorted(kept), sorted(sent), "the keeper got every message once")
        self.assertEqual(len(kept), len(set(kept)))
        # the dropped member's messages were the only ones delivered twice
        self.assertTrue(set(seen_by_dropper) <= set(kept))

    def test_S020_last_member_dropping_loses_its_unacked_share_and_says_so(self):
        """No other member left in a non-durable group: what the member had
        not acknowledged cannot go anywhere; it is dropped, counted and
        logged (docs/PLATFORM.md)."""
        cid = self.member_id()
        c = self.raw_as(cid, mqttraw.V311, username=self.apikey, password=APP_TOKEN)
        c.mqtt_subscribe([(EVT, 1)])
        self.publish(5)
        time.sleep(0.3)
        self.assertEqual(len(self.drain(c, settle=0.3, ack=False)), 5)
        c.abort()
        deadline = time.monotonic() + TIMEOUT
        pat = re.compile(r"session of '%s' ended with 5 shared message\(s\) no other member"
                         % re.escape(cid))
        while not pat.search(self.broker.log()[self.log_mark:]) and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertRegex(self.broker.log()[self.log_mark:], pat)

    def test_S021_durable_A_org_app_refused_by_default(self):
        cid = self.member_id()
        r = self.raw_as(cid, mqttraw.V311, username=self.apikey, password=APP_TOKEN,
                        clean=False, expect_rc=5)
        r.expect_closed()
        self.assert_close_code(cid, 292)
        r5 = self.raw_as(cid, mqttraw.V5, username=self.apikey, password=APP_TOKEN,
                         props=[(mqttraw.SESSION_EXPIRY, 60)], expect_rc=0x87)
        r5.expect_closed()
        p = self.paho(cid, "v311", username=self.apikey, password=APP_TOKEN, clean=False,
                      connect=False)
        p.connect(expect_rc=5)
        p.close()

    def test_S022_mixed_durability_offline_durable_member_gets_its_share(self):
        app = uid("mix")
        durable_id = "A:%s:%s:dur1" % (ORG, app)
        transient_id = "A:%s:%s:tmp1" % (ORG, app)
        plain_id = "A:%s:%s" % (ORG, app)
        d = self.paho(durable_id, "v311", username=self.apikey, password=APP_TOKEN, clean=False)
        t = self.paho(transient_id, "v5", username=self.apikey, password=APP_TOKEN)
        plain, _ = self._connect_member(plain_id, "v311")
        for c in (d, t, plain):
            c.subscribe(EVT, 1)
        sent = self.publish(40)
        sh = self.shares([d, t], 40)
        self.assert_exactly_once(sh, sent)
        self.assertTrue(all(sh), [len(x) for x in sh])
        # the group without an instance is another group: it gets everything
        self.assertEqual(sorted(self.shares([plain], 40)[0]), sorted(sent))

        d.close()       # offline, its session and its membership stay
        time.sleep(0.3)
        sent = self.publish(40)
        online = self.shares([t], 40, settle=0.8, timeout=1.5)[0]     # not all: d has its share
        self.assertEqual(sorted(self.shares([plain], 40)[0]), sorted(sent))
        self.assertGreater(len(online), 0)
        self.assertLess(len(online), 40, "the offline durable member keeps its share")
        d2 = self.paho(durable_id, "v311", username=self.apikey, password=APP_TOKEN, clean=False,
                       connect=False)
        d2.connect()
        self.assertTrue(d2.session_present)
        queued = self.shares([d2], 40 - len(online))[0]
        self.assert_exactly_once([online, queued], sent)

        # a non-durable member takes part only while connected
        t.close()
        time.sleep(0.3)
        sent = self.publish(20)
        self.assertEqual(sorted(self.shares([d2], 20)[0]), sorted(sent))
        t2 = self.paho(transient_id, "v5", username=self.apikey, password=APP_TOKEN)
        self.assertEqual(self.drain(t2, settle=0.5), [])
        d2.close()
        plain.close()


class TestScalableDurableAccepted(ScalableCase):
    """platform_scalable_clean_only false (S-021, S-144): A:org:app with
    cleansession=0 is accepted as a non-durable member (the seed's wording)."""
    platform_conf = "log_level debug\nplatform_scalable_clean_only false\n"

    def test_S021_configured_durable_flag_accepted_as_non_durable(self):
        cid = self.member_id()
        a = self.paho(cid, "v311", username=self.apikey, password=APP_TOKEN, clean=False)
        self.assertFalse(a.session_present)
        b = self.paho(cid, "v311", username=self.apikey, password=APP_TOKEN, clean=False)
        self.assertFalse(b.session_present)
        a.subscribe(EVT, 1)
        b.subscribe(EVT, 1)
        sent = self.publish(40)
        self.assert_exactly_once(self.shares([a, b], 40), sent)
        self.assertTrue(a.c.is_connected() and b.c.is_connected())     # no takeover
        # nothing is kept for a member that leaves: it comes back empty
        a.close()
        b.close()
        time.sleep(0.3)
        self.publish(10)
        c = self.paho(cid, "v311", username=self.apikey, password=APP_TOKEN, clean=False)
        self.assertFalse(c.session_present)
        self.assertEqual(self.drain(c, settle=0.5), [])
        r5 = self.raw_as(cid, mqttraw.V5, username=self.apikey, password=APP_TOKEN,
                         props=[(mqttraw.SESSION_EXPIRY, 60)])
        self.assertEqual(r5.connack.prop(mqttraw.SESSION_EXPIRY), 0)


if __name__ == "__main__":
    unittest.main()
