"""tests/consumers/probe.py — the consumer integration tests' process under
test: consumer_probe (an embedded engine plus consumers, see
consumer_probe.c) started through tests/engine/harness.py's Broker, so the
tests keep its bounded waits, log capture and sanitizer checks.

Environment: CONSUMER_PROBE (set by meson) names the binary.
"""

import os
import socket
import struct
import threading
import time
import unittest

import harness
import mqttraw
from harness import HOST, TIMEOUT


class Probe(harness.Broker):
    """consumer_probe with the given -C consumer specs."""

    def __init__(self, consumers, shards=2, extra_args=()):
        super().__init__(kind="gannetd", shards=shards, extra_args=extra_args)
        self.consumers = list(consumers)

    def command(self, port):
        exe = os.environ.get("CONSUMER_PROBE", "")
        if not exe or not os.access(exe, os.X_OK):
            raise unittest.SkipTest("CONSUMER_PROBE does not name the consumer_probe binary")
        cmd = [exe, "-d", self.dir, "-p", str(port), "-o", "listen_address=127.0.0.1"]
        if self.shards:
            cmd += ["-t", str(self.shards)]
        for c in self.consumers:
            cmd += ["-C", c]
        return cmd + self.extra_args

    # -- what the consumers saw ---------------------------------------

    def events(self, name):
        """Events read so far: dicts with shard, qos, flags, cid, topic,
        type, id, evt, fmt, payload."""
        keys = ("shard", "qos", "flags", "cid", "topic", "type", "id", "evt", "fmt", "payload")
        out = []
        try:
            with open(os.path.join(self.dir, name + ".events"), "rb") as f:
                data = f.read().decode("utf-8", "replace")
        except OSError:
            return out
        for line in data.split("\n"):
            parts = line.split("\t")
            if len(parts) != len(keys):
                continue
            ev = dict(zip(keys, parts))
            ev["qos"] = int(ev["qos"])
            ev["flags"] = int(ev["flags"])
            out.append(ev)
        return out

    def stats(self, name):
        """{'read', 'events', 'dropped', 'oversize'} from the consumer's stats file."""
        try:
            with open(os.path.join(self.dir, name + ".stats")) as f:
                w = f.read().split()
        except OSError:
            return {}
        return {w[i]: int(w[i + 1]) for i in range(0, len(w) - 1, 2)}

    def wait_events(self, name, n, timeout=TIMEOUT):
        deadline = time.monotonic() + timeout
        evs = self.events(name)
        while len(evs) < n and time.monotonic() < deadline:
            time.sleep(0.02)
            evs = self.events(name)
        return evs

    def wait_stats(self, name, pred, timeout=TIMEOUT):
        """Poll the stats until pred(stats) holds or timeout; returns the last stats."""
        deadline = time.monotonic() + timeout
        st = self.stats(name)
        while not (st and pred(st)) and time.monotonic() < deadline:
            time.sleep(0.02)
            st = self.stats(name)
        return st

    def settle(self, name, quiet=0.5, timeout=TIMEOUT):
        """Wait until the consumer's counters stop changing for `quiet` seconds."""
        deadline = time.monotonic() + timeout
        last, since = self.stats(name), time.monotonic()
        while time.monotonic() < deadline:
            time.sleep(0.05)
            st = self.stats(name)
            if st != last:
                last, since = st, time.monotonic()
            elif time.monotonic() - since >= quiet:
                break
        return last

    def stall(self, name, on=True):
        path = os.path.join(self.dir, name + ".stall")
        if on:
            open(path, "w").close()
        elif os.path.exists(path):
            os.unlink(path)

    def publish_inproc(self, lines):
        """gn_engine_publish each (qos, topic, payload); returns 'ok N bad M'."""
        done = os.path.join(self.dir, "publish.done")
        if os.path.exists(done):
            os.unlink(done)
        tmp = os.path.join(self.dir, "publish.tmp")
        with open(tmp, "w") as f:
            for qos, topic, payload in lines:
                f.write("%d\t%s\t%s\n" % (qos, topic, payload))
        os.rename(tmp, os.path.join(self.dir, "publish.cmd"))
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            if os.path.exists(done):
                with open(done) as f:
                    return f.read().strip()
            time.sleep(0.02)
        raise AssertionError("the probe did not run the publish commands")


class ProbeTestCase(harness.BrokerTestCase):
    """BrokerTestCase with consumer_probe as the process under test."""

    consumers = ()

    @classmethod
    def setUpClass(cls):
        cls._failed = False
        cls.broker = Probe(cls.consumers, shards=cls.shards or 2,
                           extra_args=cls.extra_args).start()


class RawPublisher:
    """An MQTT 3.1.1 connection that pipelines PUBLISHes from a sender thread
    (blocking in sendall when the broker stops reading: TCP backpressure)
    while a reader thread counts the PUBACKs."""

    def __init__(self, port, client_id):
        self.sock = socket.create_connection((HOST, port), timeout=TIMEOUT)
        self.sock.sendall(mqttraw.connect(client_id, clean=True, keepalive=600))
        ack = self._recv_exact(4)
        assert ack[0] == 0x20 and ack[3] == 0, ack
        self.acked = 0
        self.acked_pids = []
        self.sent = 0
        self.sock.settimeout(None)
        self.reader = threading.Thread(target=self._read_acks, daemon=True)
        self.reader.start()

    def _recv_exact(self, n):
        b = b""
        while len(b) < n:
            chunk = self.sock.recv(n - len(b))
            if not chunk:
                raise EOFError("connection closed")
            b += chunk
        return b

    def _read_acks(self):
        try:
            while True:
                b = self._recv_exact(4)
                if b[0] != 0x40:
                    raise AssertionError("expected PUBACK, got %r" % b)
                self.acked_pids.append(struct.unpack("!H", b[2:4])[0])
                self.acked += 1
        except (OSError, EOFError):
            pass

    def send_all(self, packets):
        """Send in the background; returns the thread."""
        def run():
            for p in packets:
                self.sock.sendall(p)
                self.sent += 1
        t = threading.Thread(target=run, daemon=True)
        t.start()
        return t

    def close(self):
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()
        self.reader.join(timeout=5)
