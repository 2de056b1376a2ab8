#!/usr/bin/env python3
"""bench/compare_tls.py — gannetd against mosquitto over TLS, in the same
run and with the same certificates (made by tools/gannet-certs: ECDSA
P-256 CA and server key): QoS 0 ingest over TLS (4 publishers, 16-byte
payloads) and TLS connection storms (TCP + TLS handshake + MQTT
CONNECT/CONNACK per attempt, gnload --mode storm --tls). Each broker runs
on one shard / thread pinned to CPU 0, gnload on CPU 1 (taskset); a fresh
broker per repetition. Prints one JSON line per summary and ratio, then a
Markdown table; --raw adds every run's gnload JSON.

Handshake rates are bounded by the client on this 2-core machine (gnload
does the client half of every handshake on one core), so the per-core
figure is also given: connects_per_s / broker_cpu (connections the broker
completes per second of its own CPU).

    bench/compare_tls.py [--reps 3] [--seconds 5] [--nice -5] [--raw]
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import compare  # noqa: E402  (Broker, Runner, summarize, median)

HERE = os.path.dirname(os.path.abspath(__file__))
CERTS = os.path.join(HERE, "..", "tools", "gannet-certs", "gannet-certs")


class TlsBroker(compare.Broker):
    """A broker with TLS, WebSocket and WebSocket-over-TLS listeners; .port
    is the one named by .use ("tls", "ws" or "wss")."""

    def __init__(self, name, binary, pin, workdir, certs, nice=0):
        super().__init__(name, binary, pin, workdir, nice)
        self.certs = certs
        self.use = "tls"

    def start(self):
        self.ports = {k: compare.free_port() for k in ("plain", "tls", "ws", "wss")}
        self.port = self.ports[self.use]
        self.launch(self.command(), self.port)

    def command(self):
        c, p = self.certs, self.ports
        keys = "cafile %s/ca.crt\ncertfile %s/server.crt\nkeyfile %s/server.key\n" % (c, c, c)
        if self.name == "mosquitto":
            conf = os.path.join(self.workdir, "mosquitto-tls-%d.conf" % p["tls"])
            with open(conf, "w") as f:
                f.write("listener %d 127.0.0.1\nallow_anonymous true\n" % p["plain"])
                f.write("listener %d 127.0.0.1\n%s" % (p["tls"], keys))
                # Not bound to an address: mosquitto 2.0.11 / libwebsockets 4.1
                # cannot start a websockets listener bound to 127.0.0.1.
                f.write("listener %d\nprotocol websockets\n" % p["ws"])
                f.write("listener %d\nprotocol websockets\n%s" % (p["wss"], keys))
                if os.geteuid() == 0:
                    f.write("user root\n")
            return [self.binary, "-c", conf]
        conf = os.path.join(self.workdir, "gannetd-tls-%d.conf" % p["tls"])
        with open(conf, "w") as f:
            f.write("tls_port %d\nws_port %d\nwss_port %d\n" % (p["tls"], p["ws"], p["wss"]))
            f.write("tls_cert_file %s/server.crt\ntls_key_file %s/server.key\n" % (c, c))
        return [self.binary, "-p", str(p["plain"]), "-t", "1", "-c", conf]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--storm-conns", type=int, default=16)
    ap.add_argument("--gnload")
    ap.add_argument("--gannetd")
    ap.add_argument("--mosquitto", default=shutil.which("mosquitto") or "/usr/sbin/mosquitto")
    ap.add_argument("--raw", action="store_true")
    ap.add_argument("--nice", type=int, default=0)
    args = ap.parse_args()
    args.gnload = args.gnload or compare.newest("build*/bench/loadgen/gnload")
    args.gannetd = args.gannetd or compare.newest("build*/tools/gannetd/gannetd")
    if not args.gnload or not args.gannetd:
        sys.exit("compare_tls: gnload / gannetd not found in build*/")
    pin = (os.cpu_count() or 1) >= 2 and shutil.which("taskset") is not None
    work = tempfile.mkdtemp(prefix="gncompare-tls-")
    certs = os.path.join(work, "certs")
    subprocess.run([CERTS, certs, "server", "127.0.0.1"], check=True, capture_output=True)
    for root, _d, files in os.walk(certs):
        for f in files:
            os.chmod(os.path.join(root, f), 0o644)
    brokers = [TlsBroker("mosquitto", args.mosquitto, pin, work, certs, args.nice),
               TlsBroker("gannetd", args.gannetd, pin, work, certs, args.nice)]
    run = compare.Runner(args, pin)
    tls = ["--cafile", os.path.join(certs, "ca.crt")]
    ingest = ["--mode", "ingest", "--pubs", "4", "--qos", "0", "--payload", "16"]
    scen = {
        "tls_ingest": ("tls", ingest + tls, "sent_per_s",
                       "QoS0 16 B ingest over TLS, 4 publishers (msg/s)", 3.0),
        "tls_storm": ("tls", ["--mode", "storm", "--conns", str(args.storm_conns)] + tls,
                      "connects_per_s", "TLS connections/s (TCP + TLS + CONNECT/CONNACK)", 1.0),
        "ws_ingest": ("ws", ingest + ["--ws"], "sent_per_s",
                      "QoS0 16 B ingest over WebSockets, 4 publishers (msg/s)", None),
        "wss_ingest": ("wss", ingest + ["--ws"] + tls, "sent_per_s",
                       "QoS0 16 B ingest over WebSockets over TLS (msg/s)", None),
    }
    summary = {}
    for b in brokers:
        for sc, (use, extra, metric, _label, _goal) in scen.items():
            b.use = use
            rs = [run.gnload(b, extra, args.seconds) for _ in range(args.reps)]
            per_core = [r[metric] / r["broker_cpu"] for r in rs
                        if r.get("ok") and r.get("broker_cpu")]
            summary[(sc, b.name)] = compare.summarize(
                sc, b.name, rs, metric,
                {"per_broker_core": sorted(per_core)[len(per_core) // 2] if per_core else None})
    print()
    print("| scenario | mosquitto | broker CPU | per core | gannetd | broker CPU | per core | ratio | per-core ratio | goal |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    rc = 0
    for sc, (_u, _e, metric, label, goal) in scen.items():
        m, g = summary[(sc, "mosquitto")], summary[(sc, "gannetd")]
        ratio = g["median"] / m["median"] if m.get("median") and g.get("median") else None
        pc = (g["per_broker_core"] / m["per_broker_core"]
              if m.get("per_broker_core") and g.get("per_broker_core") else None)
        goal_text = ">= %gx" % goal if goal else "-"
        print(json.dumps({"scenario": sc, "ratio_gannetd_over_mosquitto": ratio,
                          "per_core_ratio": pc, "goal": goal_text}))

        def f(v):
            return "n/a" if v is None else ("%.0f" % v if abs(v) >= 100 else "%.2f" % v)
        print("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            label, f(m["median"]), f(m["broker_cpu"]), f(m["per_broker_core"]), f(g["median"]),
            f(g["broker_cpu"]), f(g["per_broker_core"]), f(ratio), f(pc), goal_text))
    failed = [r for r in run.raw if not r.get("ok")]
    if failed:
        compare.log("%d run(s) failed; logs in %s" % (len(failed), work))
        rc = 1
    else:
        shutil.rmtree(work, ignore_errors=True)
    return rc


if __name__ == "__main__":
    sys.exit(main())
