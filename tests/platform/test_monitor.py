"""tests/platform/test_monitor.py — monitoring messages (PLATFORM.md S-104 …
S-109, S-019; seeds 000/001 "Monitoring messages"): the topics, every JSON
field, the retention rules, takeover (288), and the Disconnects a restarted
gannetd publishes for the clients of the previous run (after kill -9: 92
with a recovery reason; after a graceful stop: 93).

Applications subscribe with paho-mqtt; devices connect with paho or the raw
client (for MQTT 3.1 and for dropping a socket)."""

import json
import queue
import re
import signal
import time
import unittest

from platform_harness import mqttraw
from platform_harness import ORG, TIMEOUT, PlatformTestCase, uid
import tlsenv  # noqa: E402  (tests/engine, on the path through platform_harness)

ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
ALWAYS = ("Action", "Time", "ClientAddr", "ClientID", "Port", "Secure", "Protocol")
COUNTERS = ("ReadBytes", "ReadMsg", "WriteBytes", "WriteMsg")


class MonitorCase(PlatformTestCase):
    type_ = "montype"

    pool = 24          # devices registered before the broker starts

    @classmethod
    def setup(cls):
        cls.free = []
        for i in range(cls.pool):
            id_ = "m%02d" % i
            cls.free.append((cls.device(cls.type_, id_), id_))
        # a gateway whose resource group holds one device (S-056)
        cls.device("gwtype", "gw1", "g")
        cls.device(cls.type_, "ingroup")
        cls.device(cls.type_, "outside")
        cls.reg("group", ORG, "mong")
        cls.reg("member", ORG, "mong", cls.type_, "ingroup")
        cls.reg("attach", ORG, "mong", "gwtype", "gw1")

    def dev(self):
        """A registered device's client id (d:ORG:montype:ID) and its id, not used before."""
        return self.free.pop(0)

    def watcher(self, *filters):
        """An application subscribed to the monitoring filters."""
        a = self.paho_app()
        for f in filters or ("iot-2/type/+/id/+/mon", "iot-2/app/+/mon"):
            self.assertEqual(a.subscribe(f), [0])
        return a

    def mon(self, app, client_id, action, timeout=TIMEOUT):
        """The next monitoring message for client_id with this Action
        (others are skipped): (paho message, decoded JSON)."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("no %s for %s" % (action, client_id))
            m = app.get(timeout=left)
            js = json.loads(m.payload.decode())
            if js.get("ClientID") == client_id and js.get("Action") == action:
                return m, js

    def no_mon(self, app, client_id, wait=0.5):
        """No monitoring message for client_id arrives within `wait` s."""
        deadline = time.monotonic() + wait
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return
            try:
                m = app.messages.get(timeout=left)
            except queue.Empty:
                return
            js = json.loads(m.payload.decode())
            self.assertNotEqual(js.get("ClientID"), client_id, js)


class TestMonitor(MonitorCase):
    shards = 2

    def test_S104_device_and_application_monitoring_topics_qos0(self):
        w = self.watcher()
        cid, id_ = self.dev()
        d = self.paho_as(cid)
        m, js = self.mon(w, cid, "Connect")
        self.assertEqual(m.topic, "iot-2/type/%s/id/%s/mon" % (self.type_, id_))
        self.assertEqual(m.qos, 0)
        app = uid("app")
        a = self.paho_app(app)
        m, js = self.mon(w, "a:%s:%s" % (ORG, app), "Connect")
        self.assertEqual(m.topic, "iot-2/app/%s/mon" % app)
        self.assertEqual(m.qos, 0)
        d.disconnect()
        a.disconnect()
        # a named device's topic alone
        cid2, id2 = self.dev()
        w2 = self.watcher("iot-2/type/%s/id/%s/mon" % (self.type_, id2))
        self.paho_as(cid2)
        m, js = self.mon(w2, cid2, "Connect")
        self.no_mon(w2, cid)

    def test_S105_device_connect_and_disconnect_are_retained(self):
        cid, id_ = self.dev()
        d = self.paho_as(cid)
        topic = "iot-2/type/%s/id/%s/mon" % (self.type_, id_)
        late = self.watcher(topic)
        m, js = self.mon(late, cid, "Connect")
        self.assertTrue(m.retain, "a new subscriber gets the retained Connect")
        d.disconnect()
        m, js = self.mon(late, cid, "Disconnect")
        self.assertFalse(m.retain, "live delivery")
        later = self.watcher("iot-2/type/+/id/+/mon")
        m, js = self.mon(later, cid, "Disconnect")
        self.assertTrue(m.retain, "the device's Disconnect is retained")

    def test_S105_failed_connect_is_not_retained(self):
        cid, id_ = self.dev()
        w = self.watcher()
        c = self.raw_as(cid, password="wrong-token", expect_rc=5)
        c.expect_closed()
        m, js = self.mon(w, cid, "FailedConnect")
        self.assertEqual(js["CloseCode"], 180)
        self.assertEqual(js["Reason"], "The operation is not authorized")
        self.assertFalse(m.retain)
        for k in COUNTERS + ("ConnectTime",):
            self.assertNotIn(k, js)
        late = self.watcher("iot-2/type/%s/id/%s/mon" % (self.type_, id_))
        self.no_mon(late, cid)

    def test_S105_application_disconnect_clears_its_retained_message(self):
        app = uid("app")
        acid = "a:%s:%s" % (ORG, app)
        a = self.paho_app(app)
        w = self.watcher("iot-2/app/%s/mon" % app)
        m, js = self.mon(w, acid, "Connect")
        self.assertTrue(m.retain)
        a.disconnect()
        m, js = self.mon(w, acid, "Disconnect")
        self.assertFalse(m.retain)
        self.assertIn("ReadBytes", js)
        late = self.watcher("iot-2/app/+/mon")
        self.no_mon(late, acid)

    def test_S105_quickstart_disconnect_clears_its_retained_message(self):
        id_ = uid("q")
        qcid = "d:quickstart:qtype:%s" % id_
        q = self.paho(qcid, "v311")
        w = self.paho("a:quickstart:%s" % uid("qa"), "v311")
        self.assertEqual(w.subscribe("iot-2/type/+/id/%s/mon" % id_), [0])
        m, js = self.mon(w, qcid, "Connect")
        self.assertTrue(m.retain)
        q.disconnect()
        m, js = self.mon(w, qcid, "Disconnect")
        w2 = self.paho("a:quickstart:%s" % uid("qa"), "v311")
        self.assertEqual(w2.subscribe("iot-2/type/+/id/%s/mon" % id_), [0])
        self.no_mon(w2, qcid)
        # an application of another org never sees it
        w3 = self.watcher()
        self.no_mon(w3, qcid, 0.2)

    def test_S106_every_field_of_connect_and_disconnect(self):
        w = self.watcher()
        cid, id_ = self.dev()
        d = self.paho_as(cid)
        m, c = self.mon(w, cid, "Connect")
        for k in ALWAYS:
            self.assertIn(k, c)
        self.assertRegex(c["Time"], ISO)
        self.assertEqual(c["ClientAddr"], "127.0.0.1")
        self.assertEqual(c["Port"], self.broker.port)
        self.assertIs(c["Secure"], False)
        self.assertEqual(c["Protocol"], "mqtt4")
        self.assertEqual(c["User"], "use-token-auth")
        for k in COUNTERS + ("ConnectTime", "CloseCode", "Reason", "Certname"):
            self.assertNotIn(k, c)
        d.publish("iot-2/evt/e/fmt/json", b'{"a":1}', qos=1)
        d.publish("iot-2/evt/e/fmt/json", b'{"a":2}', qos=1)
        d.disconnect()
        m, x = self.mon(w, cid, "Disconnect")
        for k in ALWAYS + COUNTERS + ("ConnectTime", "User"):
            self.assertIn(k, x)
        self.assertNotIn("CloseCode", x, "a normal close has no CloseCode")
        self.assertNotIn("Reason", x)
        self.assertEqual(x["ConnectTime"][:19], c["Time"][:19])
        self.assertRegex(x["ConnectTime"], ISO)
        self.assertEqual(x["ReadMsg"], 2)               # messages: the 2 PUBLISH
        self.assertGreater(x["ReadBytes"], 2 * len('{"a":1}') + 2 * len("iot-2/evt/e/fmt/json"))
        self.assertEqual(x["WriteMsg"], 0)              # nothing was delivered to it
        self.assertGreaterEqual(x["WriteBytes"], 4 + 2 * 4)     # CONNACK, 2 PUBACK
        self.assertEqual(x["Protocol"], "mqtt4")

    def test_S106_protocol_mqtt3_mqtt5_and_the_close_code(self):
        w = self.watcher()
        for version, name in ((mqttraw.V31, "mqtt3"), (mqttraw.V5, "mqtt5")):
            cid, _ = self.dev()
            r = self.raw_as(cid, version)
            m, js = self.mon(w, cid, "Connect")
            self.assertEqual(js["Protocol"], name)
            r.abort()                                   # the socket drops: 91
            m, js = self.mon(w, cid, "Disconnect")
            self.assertEqual(js["Protocol"], name)
            self.assertEqual(js["CloseCode"], 91)
            self.assertEqual(js["Reason"], "The connection was closed by the client")

    def test_S106_json_escapes_the_user_name(self):
        w = self.watcher()
        cid, _ = self.dev()
        user = 'we"ird\\user\x01'
        c = self.raw_as(cid, username=user, password="nope", expect_rc=5)
        c.expect_closed()
        m, js = self.mon(w, cid, "FailedConnect")
        self.assertEqual(js["User"], user)
        self.assertIn(b'we\\"ird\\\\user\\u0001', m.payload)

    def test_S105_gateway_gets_retained_state_of_its_group_only(self):
        inside = "d:%s:%s:ingroup" % (ORG, self.type_)
        outside = "d:%s:%s:outside" % (ORG, self.type_)
        self.paho_as(inside)
        self.paho_as(outside)
        w = self.watcher("iot-2/type/%s/id/+/mon" % self.type_)
        got = set()
        while got != {inside, outside}:      # every device of the type, these two among them
            got.add(json.loads(w.get().payload.decode())["ClientID"])
            got &= {inside, outside}
        g = self.paho_as("g:%s:gwtype:gw1" % ORG)
        self.assertEqual(g.subscribe("iot-2/type/+/id/+/mon"), [0])
        m, js = self.mon(g, inside, "Connect")
        self.assertTrue(m.retain)
        self.no_mon(g, outside)

    def test_S109_takeover_288_leaves_the_device_connected(self):
        w = self.watcher()
        cid, id_ = self.dev()
        first = self.raw_as(cid, mqttraw.V5)
        self.mon(w, cid, "Connect")
        second = self.raw_as(cid, mqttraw.V5)
        first.expect_closed()
        m, js = self.mon(w, cid, "Disconnect")
        self.assertEqual(js["CloseCode"], 288)
        self.assertEqual(js["Reason"], "The clientID was reused")
        m, js2 = self.mon(w, cid, "Connect")     # the old Disconnect came first (S-019)
        self.assert_open(second)
        late = self.watcher("iot-2/type/%s/id/%s/mon" % (self.type_, id_))
        m, js = self.mon(late, cid, "Connect")
        self.assertTrue(m.retain, "the retained state is the new connection's Connect")
        self.no_mon(late, cid, 0.3)


class TestMonitorTlsWebSockets(MonitorCase):
    """Secure, Certname and the -ws protocols (TLS and WebSocket listeners
    with the development certificates of tests/engine/tlsenv.py)."""
    shards = 2
    ports = tlsenv.Ports()
    platform_conf = tlsenv.gannetd_conf(ports, "optional")

    def test_S106_secure_certname_and_ws_protocols(self):
        w = self.watcher()
        cases = (  # port, transport, paho protocol, TLS context, Protocol, Secure, Certname
            (self.ports.tls, "tcp", "v311", tlsenv.client_context(cert="client-t1-good"),
             "mqtt4", True, "d:t1:good"),
            (self.ports.tls, "tcp", "v5", tlsenv.client_context(), "mqtt5", True, None),
            (self.ports.ws, "websockets", "v311", None, "mqtt4-ws", False, None),
            (self.ports.ws, "websockets", "v31", None, "mqtt3-ws", False, None),
            (self.ports.wss, "websockets", "v5", tlsenv.client_context(cert="client-t1-good"),
             "mqttv5-ws", True, "d:t1:good"),
        )
        for port, transport, proto, ctx, name, secure, certname in cases:
            cid, _ = self.dev()
            d = self.paho_as(cid, proto, port=port, transport=transport, tls=ctx)
            m, js = self.mon(w, cid, "Connect")
            self.assertEqual(js["Protocol"], name, cid)
            self.assertIs(js["Secure"], secure, cid)
            self.assertEqual(js["Port"], port, cid)
            if certname:
                self.assertEqual(js["Certname"], certname)
            else:
                self.assertNotIn("Certname", js)
            d.disconnect()
            m, js = self.mon(w, cid, "Disconnect")
            self.assertEqual((js["Protocol"], js["Secure"], js.get("Certname")),
                             (name, secure, certname))


class TestMonitorRestart(MonitorCase):
    """Each test restarts the broker (the registry and its files stay)."""
    shards = 2

    def restart(self, sig):
        b = self.broker
        if sig == signal.SIGKILL:
            b.proc.kill()
            b.proc.wait(timeout=10)
            b.proc = None
            b.logf.close()
        else:
            self.assertEqual(b.stop(), 0)
        b.start()
        self.log_mark = 0

    def recovered(self):
        """How many Disconnects the last start published for the previous run."""
        deadline = time.monotonic() + TIMEOUT
        while True:
            text = self.broker.log()
            text = text[text.rindex("starting (config"):]
            m = re.search(r"monitor: published (\d+) Disconnect messages", text)
            if m or time.monotonic() > deadline:
                return int(m.group(1)) if m else 0
            time.sleep(0.05)

    def test_kill9_restart_publishes_disconnect_for_connected_clients(self):
        devs = [self.dev() for _ in range(6)]
        clients = [self.paho_as(cid) for cid, _ in devs]
        app = uid("app")
        self.paho_app(app)
        gone, _ = self.dev()
        self.paho_as(gone).disconnect()
        self.close_line(gone, code=0)       # the broker has seen it go
        self.assertEqual(len(clients), 6)
        self.restart(signal.SIGKILL)        # the clients stay connected until the kill
        # 6 devices, the application (and a client of the previous test
        # whose close the kill may have beaten)
        self.assertGreaterEqual(self.recovered(), 7)
        w = self.watcher("iot-2/type/+/id/+/mon")
        seen = {}
        for _ in devs:
            m, js = None, None
            msg = w.get()
            js = json.loads(msg.payload.decode())
            self.assertTrue(msg.retain)
            seen[js["ClientID"]] = js
        self.assertEqual(set(seen), {cid for cid, _ in devs})
        for js in seen.values():
            self.assertEqual(js["Action"], "Disconnect")
            self.assertEqual(js["CloseCode"], 92)
            self.assertIn("restarted", js["Reason"])
            self.assertRegex(js["ConnectTime"], ISO)
            for k in ALWAYS + COUNTERS:
                self.assertIn(k, js)
        self.no_mon(w, gone, 0.3)       # closed before the crash: nothing new
        # a device that reconnects is connected again
        cid, id_ = devs[0]
        self.paho_as(cid)
        m, js = self.mon(w, cid, "Connect")
        # the next start: the reconnected device and the watcher only
        self.restart(signal.SIGKILL)
        self.assertEqual(self.recovered(), 2)

    def test_connected_client_file_is_compacted(self):
        """Connects and closes by the hundred keep the file small (it is
        rewritten from the live connections), and a kill -9 afterwards
        still finds exactly the connected clients."""
        import glob
        import os
        stay = [self.dev() for _ in range(3)]
        for cid, _ in stay:
            self.raw_as(cid)
        churn, _ = self.dev()
        for _ in range(1500):
            c = self.raw_as(churn)
            c.send(mqttraw.disconnect())
            c.close()
            self.clients.remove(c)
        self.close_line(churn, code=0)
        files = glob.glob(self.db + ".mon.*")
        total = sum(os.path.getsize(f) for f in files)
        self.assertTrue(files)
        self.assertLess(total, 2 * 65536 + 4096, "1500 connections: %d bytes" % total)
        time.sleep(0.2)
        self.restart(signal.SIGKILL)
        self.assertEqual(self.recovered(), 3)
        w = self.watcher("iot-2/type/+/id/+/mon")
        got = {json.loads(m.payload.decode())["ClientID"] for m in w.get_n(3)}
        self.assertEqual(got, {cid for cid, _ in stay})
        self.no_mon(w, churn, 0.3)

    def test_graceful_shutdown_disconnect_has_close_code_93(self):
        cid, id_ = self.dev()
        d = self.paho_as(cid)
        d.publish("iot-2/evt/e/fmt/json", b"{}", qos=1)
        self.restart(signal.SIGTERM)
        d.close()
        w = self.watcher("iot-2/type/%s/id/%s/mon" % (self.type_, id_))
        m, js = self.mon(w, cid, "Disconnect")
        self.assertTrue(m.retain)
        self.assertEqual(js["CloseCode"], 93)
        self.assertEqual(js["Reason"], "The connection was closed because the server was shut down")
        self.assertEqual(js["ReadMsg"], 1)             # counted at the shutdown
        self.assertRegex(js["ConnectTime"], ISO)


if __name__ == "__main__":
    unittest.main()
