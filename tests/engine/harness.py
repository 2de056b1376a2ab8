"""tests/engine/harness.py — runs a broker under test and gives the
integration tests their clients.

Owns: choosing the broker (GANNET_BROKER=gannetd|mosquitto; gannetd is the
default when GANNETD names an existing binary), starting it on a free
127.0.0.1 port, waiting until it accepts, stopping it (SIGTERM, then SIGKILL
after a bound), capturing its log, and client helpers: paho-mqtt 1.6.1
clients for MQTT 3.1 / 3.1.1 / 5.0, raw-socket clients (mqttraw.RawClient)
and mosquitto_pub / mosquitto_sub subprocesses. Every wait is bounded.

Environment:
  GANNET_BROKER        gannetd | mosquitto
  GANNETD              path of the gannetd binary (set by meson)
  GANNET_TIMEOUT_SCALE multiply every timeout (slow sanitizer builds)
  GANNET_NO_SKIP=1     run the gannetd-only behaviour tests against mosquitto
                       too (to see them fail there)
  GANNET_KEEP_LOGS=1   always print the broker log at the end of a test file
"""

import os
import queue
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import uuid

import paho.mqtt.client as paho
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.subscribeoptions import SubscribeOptions

import mqttraw

SCALE = float(os.environ.get("GANNET_TIMEOUT_SCALE", "1") or "1")
TIMEOUT = 10.0 * SCALE          # waiting for something that should happen
QUIET = 1.0 * SCALE             # watching for something that should NOT happen
HOST = "127.0.0.1"


def broker_kind():
    kind = os.environ.get("GANNET_BROKER", "").strip()
    if kind:
        return kind
    path = os.environ.get("GANNETD", "")
    if path and os.access(path, os.X_OK):
        return "gannetd"
    return "mosquitto"


KIND = broker_kind()
IS_GANNETD = KIND == "gannetd"
IS_MOSQUITTO = KIND == "mosquitto"
NO_SKIP = os.environ.get("GANNET_NO_SKIP") == "1"


def gannetd_only(reason):
    """Skip a test (or class) unless the broker under test is gannetd."""
    return unittest.skipUnless(IS_GANNETD or NO_SKIP, "gannetd-specific: " + reason)


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def uid(prefix="t"):
    """A unique, short name for client ids and topics."""
    return "%s%s" % (prefix, uuid.uuid4().hex[:12])


def proc_rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


# ---------------------------------------------------------------- broker

class Broker:
    """One broker process. Not thread-safe; owned by a test class."""

    def __init__(self, kind=KIND, shards=None, mosquitto_conf="", gannetd_conf=None,
                 extra_args=()):
        self.kind = kind
        self.shards = shards
        self.mosquitto_conf = mosquitto_conf
        self.gannetd_conf = gannetd_conf
        self.extra_args = list(extra_args)
        self.proc = None
        self.port = None
        self.dir = tempfile.mkdtemp(prefix="gannet-itest-")
        self.log_path = os.path.join(self.dir, "broker.log")
        self.returncode = None

    def command(self, port):
        if self.kind == "gannetd":
            exe = os.environ.get("GANNETD", "")
            if not exe or not os.access(exe, os.X_OK):
                raise unittest.SkipTest("GANNETD does not name a gannetd binary")
            cmd = [exe, "-p", str(port)]
            if self.shards:
                cmd += ["-t", str(self.shards)]
            if self.gannetd_conf is not None:
                conf = os.path.join(self.dir, "gannetd.conf")
                with open(conf, "w") as f:
                    f.write(self.gannetd_conf)
                cmd += ["-c", conf]
            return cmd + self.extra_args
        if self.kind == "mosquitto":
            exe = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
            conf = os.path.join(self.dir, "mosquitto.conf")
            lines = ["listener %d %s" % (port, HOST), "allow_anonymous true",
                     "persistence false", "log_dest stderr",
                     "log_type error", "log_type warning", "log_type notice",
                     "log_type information"]
            if os.geteuid() == 0:
                lines.append("user root")
            with open(conf, "w") as f:
                f.write("\n".join(lines) + "\n" + self.mosquitto_conf + "\n")
            return [exe, "-c", conf] + self.extra_args
        raise unittest.SkipTest("unknown GANNET_BROKER=%r" % self.kind)

    def start(self):
        last = None
        for _attempt in range(3):
            port = free_port()
            cmd = self.command(port)
            self.logf = open(self.log_path, "ab")
            self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=self.logf,
                                         stderr=subprocess.STDOUT, start_new_session=True)
            self.port = port
            try:
                self._wait_accepting(15.0 * SCALE)
                return self
            except RuntimeError as e:
                last = e
                self.stop()
        raise RuntimeError("broker did not start: %s\n%s" % (last, self.log()))

    def _wait_accepting(self, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("exited with %s" % self.proc.returncode)
            try:
                with socket.create_connection((HOST, self.port), timeout=1.0):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("not accepting on port %d after %.0fs" % (self.port, timeout))

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def signal(self, sig):
        self.proc.send_signal(sig)

    def stop(self, grace=10.0):
        """SIGTERM, then SIGKILL after `grace` seconds. Returns the exit code."""
        if self.proc is None:
            return self.returncode
        if self.proc.poll() is None:
            try:
                self.proc.send_signal(signal.SIGTERM)
                self.proc.wait(timeout=grace * SCALE)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.returncode = self.proc.returncode
        self.proc = None
        self.logf.close()
        return self.returncode

    def log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
                       "WARNING: ThreadSanitizer", "Segmentation fault", "Assertion `")

    def sanitizer_report(self, since=0):
        """Sanitizer / crash findings in the log (from byte offset `since`), or ''."""
        text = self.log()[since:]
        return "\n".join(l for l in text.splitlines()
                         if any(mk in l for mk in self.SANITIZER_MARKS))

    def log_size(self):
        try:
            return os.path.getsize(self.log_path)
        except OSError:
            return 0

    def sanitized(self):
        """True when the broker binary is built with ASan/TSan (RSS figures
        are then meaningless: the sanitizer's quarantine holds freed memory)."""
        exe = os.environ.get("GANNETD", "") if self.kind == "gannetd" else ""
        if not exe:
            return False
        try:
            with open(exe, "rb") as f:
                data = f.read()
        except OSError:
            return False
        return b"__asan_init" in data or b"__tsan_init" in data

    def cleanup(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    # -- clients -------------------------------------------------------

    def raw(self, version=mqttraw.V311, timeout=TIMEOUT):
        return mqttraw.RawClient(self.port, HOST, version=version, timeout=timeout)

    def raw_connected(self, client_id=None, version=mqttraw.V311, **kw):
        c = self.raw(version)
        c.connack = c.mqtt_connect(client_id if client_id is not None else uid("r"), **kw)
        return c

    def paho(self, client_id=None, protocol="v311", **kw):
        return PahoClient(self, client_id if client_id is not None else uid("p"), protocol, **kw)


# ---------------------------------------------------------------- paho

PROTOCOLS = {"v31": paho.MQTTv31, "v311": paho.MQTTv311, "v5": paho.MQTTv5}


def props(packet_type, **kw):
    """paho Properties for packet_type ('CONNECT', 'PUBLISH', ...)."""
    p = Properties(getattr(PacketTypes, packet_type))
    for k, v in kw.items():
        setattr(p, k, v)
    return p


class PahoClient:
    """A paho-mqtt client on its own network thread. Received messages, acks
    and disconnects are put on queues; every wait is bounded."""

    def __init__(self, broker, client_id, protocol="v311", clean=True, keepalive=30,
                 will=None, username=None, password=None, connect_props=None,
                 max_inflight=None, connect=True, port=None, transport="tcp", tls=None,
                 ws_path=None, bind_address=""):
        self.broker = broker
        self.bind_address = bind_address    # source address ("" = any), e.g. 127.0.0.2
        self.port = port            # another listener than the broker's main port
        self.client_id = client_id
        self.v5 = protocol == "v5"
        kw = {}
        if not self.v5:
            kw["clean_session"] = clean
        self.c = paho.Client(client_id=client_id, protocol=PROTOCOLS[protocol],
                             reconnect_on_failure=False, transport=transport, **kw)
        if tls is not None:
            self.c.tls_set_context(tls)
        if ws_path is not None:
            self.c.ws_set_options(path=ws_path)
        self.clean = clean
        self.keepalive = keepalive
        self.connect_props = connect_props
        self.messages = queue.Queue()
        self.connacks = queue.Queue()
        self.disconnects = queue.Queue()
        self.subacks = {}
        self.unsubacks = {}
        self.cv = threading.Condition()
        if will is not None:
            self.c.will_set(will["topic"], will.get("payload"), will.get("qos", 0),
                            will.get("retain", False), will.get("properties"))
        if username is not None:
            self.c.username_pw_set(username, password)
        if max_inflight is not None:
            self.c.max_inflight_messages_set(max_inflight)
        self.c.on_connect = self._on_connect
        self.c.on_disconnect = self._on_disconnect
        self.c.on_message = self._on_message
        self.c.on_subscribe = self._on_subscribe
        self.c.on_unsubscribe = self._on_unsubscribe
        self.started = False
        if connect:
            self.connect()

    # callbacks (paho network thread)
    def _on_connect(self, c, ud, flags, rc, properties=None):
        self.connacks.put((flags, rc, properties))

    def _on_disconnect(self, c, ud, rc, properties=None):
        self.disconnects.put((rc, properties))

    def _on_message(self, c, ud, msg):
        self.messages.put(msg)

    def _on_subscribe(self, c, ud, mid, granted, properties=None):
        with self.cv:
            self.subacks[mid] = granted
            self.cv.notify_all()

    def _on_unsubscribe(self, c, ud, mid, properties=None, reasons=None):
        with self.cv:
            self.unsubacks[mid] = reasons
            self.cv.notify_all()

    # actions (test thread)
    def connect(self, expect_rc=0):
        kw = {}
        if self.v5:
            kw["clean_start"] = self.clean
            kw["properties"] = self.connect_props
        self.c.connect(HOST, self.port or self.broker.port, self.keepalive,
                       bind_address=self.bind_address, **kw)
        if not self.started:
            self.c.loop_start()
            self.started = True
        try:
            flags, rc, p = self.connacks.get(timeout=TIMEOUT)
        except queue.Empty:
            raise AssertionError("no CONNACK for %s within %.0fs" % (self.client_id, TIMEOUT))
        code = rc.value if hasattr(rc, "value") else rc
        if expect_rc is not None and code != expect_rc:
            raise AssertionError("CONNACK rc=%r for %s" % (rc, self.client_id))
        self.session_present = bool(flags.get("session present"))
        self.connack_props = p
        return flags, rc, p

    def subscribe(self, topic, qos=0, options=None, properties=None):
        if self.v5:
            if options is None:
                options = SubscribeOptions(qos=qos)
            rc, mid = self.c.subscribe(topic, options=options, properties=properties)
        else:
            rc, mid = self.c.subscribe(topic, qos)
        if rc != paho.MQTT_ERR_SUCCESS:
            raise AssertionError("subscribe failed locally: %s" % rc)
        with self.cv:
            if not self.cv.wait_for(lambda: mid in self.subacks, timeout=TIMEOUT):
                raise AssertionError("no SUBACK for %r" % topic)
            granted = self.subacks.pop(mid)
        return [g.value if hasattr(g, "value") else g for g in granted]

    def unsubscribe(self, topic):
        rc, mid = self.c.unsubscribe(topic)
        with self.cv:
            if not self.cv.wait_for(lambda: mid in self.unsubacks, timeout=TIMEOUT):
                raise AssertionError("no UNSUBACK for %r" % topic)
            return self.unsubacks.pop(mid)

    def publish(self, topic, payload=b"", qos=0, retain=False, properties=None, wait=True):
        info = self.c.publish(topic, payload, qos, retain, properties)
        if wait and qos > 0:
            info.wait_for_publish(TIMEOUT)
            if not info.is_published():
                raise AssertionError("QoS %d publish to %r not acknowledged" % (qos, topic))
        return info

    def get(self, timeout=TIMEOUT):
        try:
            return self.messages.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError("%s: no message within %.1fs" % (self.client_id, timeout))

    def get_n(self, n, timeout=TIMEOUT):
        deadline = time.monotonic() + timeout
        out = []
        while len(out) < n:
            left = deadline - time.monotonic()
            try:
                out.append(self.messages.get(timeout=max(0.0, left)))
            except queue.Empty:
                raise AssertionError("%s: got %d of %d messages within %.1fs"
                                     % (self.client_id, len(out), n, timeout))
        return out

    def disconnect(self, reasoncode=None, properties=None):
        if self.v5 and reasoncode is not None:
            from paho.mqtt.reasoncodes import ReasonCodes
            rc = ReasonCodes(PacketTypes.DISCONNECT, identifier=reasoncode)
            self.c.disconnect(rc, properties)
        else:
            self.c.disconnect()
        try:
            self.disconnects.get(timeout=TIMEOUT)
        except queue.Empty:
            pass

    def close(self):
        try:
            self.c.disconnect()
        except Exception:
            pass
        if self.started:
            self.c.loop_stop()
            self.started = False


# ---------------------------------------------------------------- mosquitto_pub/sub

def mosquitto_pub(port, topic, message=None, qos=0, retain=False, version="mqttv311",
                  extra=(), lines=None):
    """One message (-m), or with lines= one message per line read from stdin (-l)."""
    cmd = ["mosquitto_pub", "-h", HOST, "-p", str(port), "-t", topic,
           "-q", str(qos), "-V", version] + (["-r"] if retain else []) + list(extra)
    cmd += ["-l"] if lines is not None else ["-m", message]
    data = ("".join(l + "\n" for l in lines)).encode() if lines is not None else None
    r = subprocess.run(cmd, capture_output=True, timeout=TIMEOUT * 3, input=data)
    if r.returncode != 0:
        raise AssertionError("mosquitto_pub failed (%d): %s" % (r.returncode, r.stderr.decode()))
    return r


class MosquittoSub:
    """mosquitto_sub -v in the background, subscribed to `topics` plus a probe
    topic; a reader thread collects "topic payload" lines. wait_subscribed()
    publishes probes until one comes back, so the subscription is known to
    be in place. Bounded by -W and by kill() at cleanup."""

    def __init__(self, port, topics, qos=0, version="mqttv311", extra=(), count=None):
        self.port = port
        self.probe_topic = "probe/" + uid("")
        if isinstance(topics, str):
            topics = [topics]
        cmd = ["mosquitto_sub", "-h", HOST, "-p", str(port), "-q", str(qos), "-v",
               "-V", version, "-W", str(int(TIMEOUT * 3))]
        for t in list(topics) + [self.probe_topic]:
            cmd += ["-t", t]
        if count is not None:
            cmd += ["-C", str(count)]
        self.proc = subprocess.Popen(cmd + list(extra), stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE)
        self.lines = queue.Queue()
        self.t = threading.Thread(target=self._read, daemon=True)
        self.t.start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.put(line.decode("utf-8", "replace").rstrip("\n"))

    def wait_subscribed(self):
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError("mosquitto_sub exited: %s" % self.proc.stderr.read().decode())
            mosquitto_pub(self.port, self.probe_topic, "probe")
            try:
                while True:
                    line = self.lines.get(timeout=0.3)
                    if line.startswith(self.probe_topic + " "):
                        break
                # drain further probes later in get_lines
                return
            except queue.Empty:
                continue
        raise AssertionError("mosquitto_sub never received a probe")

    def get_lines(self, n, timeout=TIMEOUT):
        """n lines that are not probes."""
        out = []
        deadline = time.monotonic() + timeout
        while len(out) < n:
            try:
                line = self.lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError("mosquitto_sub: got %r, wanted %d lines" % (out, n))
            if not line.startswith(self.probe_topic + " "):
                out.append(line)
        return out

    def wait_exit(self, timeout=TIMEOUT):
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError("mosquitto_sub did not exit")

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=5)
        self.t.join(timeout=5)
        self.proc.stdout.close()
        self.proc.stderr.close()


# ---------------------------------------------------------------- test base

class BrokerTestCase(unittest.TestCase):
    """One broker per test class (started in setUpClass, stopped in
    tearDownClass). Tests use unique client ids and topics (self.topic()),
    so they do not see each other. After each test the broker must still be
    running; sanitizer reports in its log fail the class."""

    shards = None
    mosquitto_conf = ""
    gannetd_conf = None
    extra_args = ()
    broker = None

    @classmethod
    def setUpClass(cls):
        cls._failed = False
        cls.broker = Broker(shards=cls.shards, mosquitto_conf=cls.mosquitto_conf,
                            gannetd_conf=cls.gannetd_conf,
                            extra_args=cls.extra_args).start()

    @classmethod
    def tearDownClass(cls):
        b = cls.broker
        if b is None:
            return
        was_alive = b.alive()
        rc = b.stop()
        report = b.sanitizer_report()
        if cls._failed or report or not was_alive or os.environ.get("GANNET_KEEP_LOGS") == "1":
            tail = "\n".join(b.log().splitlines()[-80:])
            sys.stderr.write("\n---- %s broker log (tail) ----\n%s\n---- end ----\n"
                             % (b.kind, tail))
        b.cleanup()
        if report:
            raise AssertionError("sanitizer findings in the broker log:\n" + report)
        if not was_alive:
            raise AssertionError("broker exited during the tests (code %s)" % rc)

    def setUp(self):
        self.clients = []
        self._publisher = None
        self.log_mark = self.broker.log_size()
        self.addCleanup(self._close_clients)

    def run(self, result=None):
        before = (len(result.failures) + len(result.errors)) if result else 0
        out = super().run(result)
        if result and len(result.failures) + len(result.errors) > before:
            type(self)._failed = True
        return out

    def _close_clients(self):
        for c in reversed(self.clients):
            try:
                c.close()
            except Exception:
                pass
        if self.broker is not None and not self.broker.alive():
            raise AssertionError("broker is no longer running (exit code %s)"
                                 % self.broker.proc.returncode)
        report = self.broker.sanitizer_report(self.log_mark)
        if report:
            raise AssertionError("sanitizer findings in the broker log during this test:\n"
                                 + report)

    # helpers that register clients for cleanup
    def topic(self, suffix=""):
        return "itest/%s/%s%s" % (self._testMethodName, uid(""), suffix)

    def paho(self, client_id=None, protocol="v311", **kw):
        c = self.broker.paho(client_id, protocol, **kw)
        self.clients.append(c)
        return c

    def mosquitto_sub(self, topics, **kw):
        s = MosquittoSub(self.broker.port, topics, **kw)
        self.clients.append(s)
        return s

    def raw(self, version=mqttraw.V311, timeout=TIMEOUT):
        c = self.broker.raw(version, timeout)
        self.clients.append(c)
        return c

    def raw_connected(self, client_id=None, version=mqttraw.V311, **kw):
        c = self.raw(version)
        c.connack = c.mqtt_connect(client_id if client_id is not None else uid("r"),
                                   **kw)
        return c

    def pub(self):
        """This test's one publishing connection (MQTT 5). Messages under test
        and the marker published after them go through it, so they keep
        their order even when the broker spreads connections over shards."""
        if self._publisher is None:
            self._publisher = self.raw_connected(uid("pub"), mqttraw.V5)
        return self._publisher

    def assert_broker_serves(self):
        """A fresh client can still connect, subscribe and receive."""
        t = self.topic("/alive")
        with self.broker.raw_connected() as c:
            c.mqtt_subscribe([(t, 1)])
            c.publish(t, b"alive", qos=1)
            p = c.next_publish()
            self.assertEqual(p.payload, b"alive")
