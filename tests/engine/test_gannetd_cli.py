"""tests/engine/test_gannetd_cli.py — the gannetd program: --help,
--version, usage errors, -c FILE, --print-config, the start-up log, the
connect timeout from the config, SIGTERM (graceful: MQTT 5 clients get
DISCONNECT 0x8B, exit 0) and SIGHUP (reload)."""

import os
import re
import signal
import socket
import subprocess
import tempfile
import time
import unittest

import mqttraw as m
from harness import Broker, HOST, IS_GANNETD, SCALE, TIMEOUT, free_port, uid

GANNETD = os.environ.get("GANNETD", "")


def run(*args, timeout=TIMEOUT):
    return subprocess.run([GANNETD] + list(args), capture_output=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)


@unittest.skipUnless(IS_GANNETD, "gannetd-specific: the gannetd command line")
class GannetdCliTest(unittest.TestCase):

    def setUp(self):
        self.brokers = []
        self.tmp = tempfile.mkdtemp(prefix="gannetd-cli-")

    def tearDown(self):
        for b in self.brokers:
            if b.proc is not None:
                b.stop()
            report = b.sanitizer_report()
            tail = "\n".join(b.log().splitlines()[-60:])
            b.cleanup()
            if report:
                self.fail("sanitizer findings in the gannetd log:\n" + tail)

    def broker(self, conf=None, shards=1, extra=()):
        b = Broker("gannetd", shards=shards, gannetd_conf=conf, extra_args=extra)
        self.brokers.append(b)
        return b.start()

    def conn(self, b, cid, version=m.V311):
        c = b.raw_connected(cid, version)
        self.addCleanup(c.close)
        return c

    def write(self, name, text):
        path = os.path.join(self.tmp, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    # -- command line ------------------------------------------------------

    def test_help_lists_options_and_exits_0(self):
        r = run("--help")
        self.assertEqual(r.returncode, 0)
        out = r.stdout.decode()
        for opt in ("-c", "-p", "-t", "--help", "--version"):
            self.assertIn(opt, out)

    def test_version_prints_version_and_exits_0(self):
        r = run("--version")
        self.assertEqual(r.returncode, 0)
        self.assertRegex(r.stdout.decode(), r"gannetd \d+\.\d+\.\d+")

    def test_unknown_option_is_usage_error(self):
        r = run("--no-such-option")
        self.assertEqual(r.returncode, 2)
        self.assertTrue(r.stderr)

    def test_missing_config_file_fails(self):
        r = run("-c", os.path.join(self.tmp, "absent.conf"), "-p", str(free_port()))
        self.assertEqual(r.returncode, 2)
        self.assertIn(b"absent.conf", r.stderr)

    def test_bad_config_key_names_file_and_line(self):
        path = self.write("bad.conf", "# comment\nport 1\nno_such_key 5\n")
        r = run("-c", path)
        self.assertEqual(r.returncode, 2)
        self.assertIn(b"bad.conf:3", r.stderr)
        self.assertIn(b"no_such_key", r.stderr)

    def test_config_file_sets_port(self):
        port = free_port()
        path = self.write("port.conf", "listener %d 127.0.0.1\nshards 1\n" % port)
        proc = subprocess.Popen([GANNETD, "-c", path], stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE)
        try:
            end = time.monotonic() + TIMEOUT
            while True:
                try:
                    with m.RawClient(port) as c:
                        self.assertEqual(c.mqtt_connect(uid("cf")).rc, 0)
                    break
                except OSError:
                    if time.monotonic() > end or proc.poll() is not None:
                        self.fail("gannetd -c FILE did not listen on the file's port")
                    time.sleep(0.05)
        finally:
            proc.send_signal(signal.SIGTERM)
            self.assertEqual(proc.wait(TIMEOUT), 0)
            proc.stderr.close()

    def test_print_config_loads_back(self):
        r = run("--print-config", "-o", "max_queued_messages=1234")
        self.assertEqual(r.returncode, 0)
        self.assertRegex(r.stdout.decode(), r"(?m)^max_queued_messages\s+1234\b")
        path = self.write("dump.conf", r.stdout.decode())
        b = self.broker(conf=open(path).read())
        self.assertTrue(b.alive())

    def test_default_port_1883_without_config(self):
        try:
            with socket.socket() as s:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                s.bind(("0.0.0.0", 1883))
        except OSError:
            self.skipTest("port 1883 is in use on this machine")
        proc = subprocess.Popen([GANNETD, "-t", "1"], stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE)
        try:
            end = time.monotonic() + TIMEOUT
            while True:
                try:
                    with m.RawClient(1883) as c:
                        self.assertEqual(c.mqtt_connect(uid("d")).rc, 0)
                    break
                except OSError:
                    if time.monotonic() > end or proc.poll() is not None:
                        self.fail("gannetd without arguments is not on 1883")
                    time.sleep(0.05)
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(TIMEOUT)
            proc.stderr.close()

    def test_port_in_use_fails_with_exit_1(self):
        with socket.socket() as s:
            s.bind((HOST, 0))
            s.listen(1)
            port = s.getsockname()[1]
            r = run("-p", str(port), "-t", "1", "-o", "listen_address=127.0.0.1")
        self.assertEqual(r.returncode, 1)
        self.assertTrue(r.stderr)

    # -- running -----------------------------------------------------------

    def test_log_states_listener_shards_and_io_uring(self):
        b = self.broker(shards=2)
        log = b.log()
        self.assertIn(str(b.port), log)
        self.assertRegex(log, r"\b2 shards\b")
        self.assertIn("io_uring", log)
        self.assertRegex(log, r"(?i)anonymous|every client is accepted")

    def test_connect_timeout_from_config(self):
        b = self.broker(conf="connect_timeout_ms 500\n")
        with m.RawClient(b.port) as c:
            start = time.monotonic()
            c.expect_closed(timeout=TIMEOUT)
            self.assertLess(time.monotonic() - start, 0.5 + 2.0 * SCALE)

    def test_sigterm_sends_0x8b_to_v5_clients(self):
        b = self.broker(shards=2)
        v5 = [self.conn(b, uid("st"), m.V5) for _ in range(4)]
        v3 = self.conn(b, uid("st3"))
        b.signal(signal.SIGTERM)
        for c in v5:
            got = c.expect_closed(timeout=TIMEOUT)
            self.assertTrue(got and got[-1].type == m.DISCONNECT, got)
            self.assertEqual(got[-1].rc, m.RC_SERVER_SHUTTING_DOWN)
        got = v3.expect_closed(timeout=TIMEOUT)
        self.assertEqual([p for p in got if p.type == m.DISCONNECT], [],
                         "MQTT 3.1.1 has no server DISCONNECT")
        self.assertEqual(b.proc.wait(TIMEOUT), 0, "gannetd exit code after SIGTERM")

    def test_sigterm_flushes_queued_messages(self):
        b = self.broker()
        t = "flush/" + uid("")
        sub = self.conn(b, uid("fl"), m.V5)
        sub.mqtt_subscribe([(t, 0)])
        with b.raw_connected(uid("flp"), m.V5) as p:
            p.send(b"".join(m.publish(t, b"%d" % i, version=m.V5) for i in range(100)))
            p.ping()
        b.signal(signal.SIGTERM)
        got = sub.expect_closed(timeout=TIMEOUT)
        pubs = [x.payload for x in got if x.type == m.PUBLISH] + [x.payload for x in sub.pending]
        self.assertEqual(len(pubs), 100, "messages accepted before SIGTERM were not flushed")
        self.assertEqual(got[-1].rc, m.RC_SERVER_SHUTTING_DOWN)

    def test_sigint_stops_gracefully(self):
        b = self.broker()
        b.signal(signal.SIGINT)
        self.assertEqual(b.proc.wait(TIMEOUT), 0)

    def test_sighup_reloads_config(self):
        b = self.broker(conf="max_packet_size 2000\n")
        conf = os.path.join(b.dir, "gannetd.conf")
        with b.raw_connected(uid("h1"), m.V5) as c:
            self.assertEqual(c.connack.prop(m.MAXIMUM_PACKET_SIZE), 2000)
        with open(conf, "w") as f:
            f.write("max_packet_size 3000\n")
        b.signal(signal.SIGHUP)
        end = time.monotonic() + TIMEOUT
        while True:
            with b.raw_connected(uid("h2"), m.V5) as c:
                if c.connack.prop(m.MAXIMUM_PACKET_SIZE) == 3000:
                    break
            if time.monotonic() > end:
                self.fail("SIGHUP did not apply the new max_packet_size")
            time.sleep(0.05)
        self.assertTrue(b.alive())

    def test_sighup_with_broken_file_keeps_running_config(self):
        b = self.broker(conf="max_packet_size 2000\n")
        with open(os.path.join(b.dir, "gannetd.conf"), "w") as f:
            f.write("max_packet_size banana\n")
        b.signal(signal.SIGHUP)
        end = time.monotonic() + TIMEOUT
        while "banana" not in b.log() and time.monotonic() < end:
            time.sleep(0.05)
        self.assertTrue(b.alive(), "a bad file on SIGHUP must not stop gannetd")
        with b.raw_connected(uid("h3"), m.V5) as c:
            self.assertEqual(c.connack.prop(m.MAXIMUM_PACKET_SIZE), 2000)

    def test_qos0_drop_counted(self):
        b = self.broker(conf="qos0_high_water_bytes 8k\n")
        t = "drop/" + uid("")
        slow = socket.create_connection((HOST, b.port), timeout=TIMEOUT)
        slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        slow.sendall(m.connect(uid("slow")) + m.subscribe(1, [(t, 0)]))
        time.sleep(0.3)  # let the SUBSCRIBE land; the socket is then never read
        with b.raw_connected() as p:
            for _ in range(40):
                p.send(m.publish(t, b"D" * 4096) * 50)
            p.ping()
        b.stop()
        slow.close()
        found = re.findall(r"stopped: .*?(\d+) QoS 0 dropped", b.log())
        self.assertTrue(found, "no QoS 0 drop counter in the shutdown log")
        self.assertGreater(sum(int(x) for x in found), 0, "8 MiB for a stalled subscriber "
                           "with an 8 KiB high-water mark and nothing dropped")


if __name__ == "__main__":
    unittest.main()
