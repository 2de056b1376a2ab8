#!/usr/bin/python3
"""bench/compare.py — run the issue-4 broker scenarios against gannetd and
Debian's mosquitto in one run and print medians and gannetd/mosquitto ratios.

Each broker runs on its own free port on 127.0.0.1, pinned to core 0; the
load generator (gnload) is pinned to core 1. Every repetition gets a freshly
started broker, so no run sees another run's backlog or memory. Every
subprocess is bounded in time. Output: one JSON line per run (with --raw),
one JSON line per scenario and broker (medians), one JSON line per scenario
with the ratio, then a Markdown table. If gannetd is missing, only the
mosquitto side runs and the script says so.

Usage: bench/compare.sh [--reps 3] [--qos1-reps 5] [--seconds 5] [--quick]
                        [--only ingest,fanin0,fanin1,latency,idle,storm]
                        [--gnload PATH] [--gannetd PATH] [--mosquitto PATH]
                        [--idle-conns 19000] [--mosquitto-idle-conns N] [--raw]
                        [--nice N] [--rt PRIO] [--gannetd-conf FILE]
                        [--storm-io reuse|uring|epoll]

The storm also reports each broker's CPU per connection (broker CPU time /
connections, in microseconds; scenario "storm_cpu", ratio mosquitto /
gannetd): with one load core the client's kernel TCP work bounds the rate,
so CPU per connection is the comparable figure of the brokers themselves.
"""

import argparse
import glob
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCENARIOS = ["ingest", "fanin0", "fanin1", "latency", "idle", "storm"]


def log(msg):
    print("# " + msg, file=sys.stderr, flush=True)


def newest(pattern):
    found = [p for p in glob.glob(os.path.join(ROOT, pattern)) if os.access(p, os.X_OK)]
    return max(found, key=os.path.getmtime) if found else None


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_port(port, proc, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        s = socket.socket()
        s.settimeout(0.2)
        ok = s.connect_ex(("127.0.0.1", port)) == 0
        s.close()
        if ok:
            return True
        time.sleep(0.05)
    return False


class Broker:
    """One broker process, started fresh for every repetition."""

    def __init__(self, name, binary, pin, workdir, nice=0, conf=None, rt=0):
        self.name, self.binary, self.pin, self.workdir = name, binary, pin, workdir
        self.conf = conf
        self.nice = nice
        self.rt = rt
        self.proc = None
        self.port = None
        self.logf = None

    def start(self):
        self.port = free_port()
        self.launch(self.command(), self.port)

    def command(self):
        if self.name == "mosquitto":
            conf = os.path.join(self.workdir, "mosquitto-%d.conf" % self.port)
            with open(conf, "w") as f:
                f.write("listener %d 127.0.0.1\nallow_anonymous true\n" % self.port)
                if os.geteuid() == 0:
                    f.write("user root\n")
            cmd = [self.binary, "-c", conf]
        else:
            cmd = [self.binary, "-p", str(self.port), "-t", "1"]
            if self.conf:
                cmd += ["-c", self.conf]
        return cmd

    def launch(self, cmd, port):
        """Start cmd (pinned to CPU 0, niced as asked) and wait until port accepts."""
        if self.pin:
            cmd = ["taskset", "-c", "0"] + cmd
        if self.nice:
            cmd = ["nice", "-n", str(self.nice)] + cmd
        if self.rt:
            cmd = ["chrt", "-f", str(self.rt)] + cmd
        self.logf = open(os.path.join(self.workdir, "%s.log" % self.name), "ab")
        self.proc = subprocess.Popen(cmd, stdout=self.logf, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL)
        if not wait_port(port, self.proc):
            self.stop()
            raise RuntimeError("%s did not start listening on %d" % (self.name, port))
        time.sleep(0.2)            # let it finish start-up before RSS baselines

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        self.proc = None
        if self.logf:
            self.logf.close()
            self.logf = None


class Runner:
    def __init__(self, args, pin):
        self.args, self.pin = args, pin
        self.raw = []

    def gnload(self, broker, extra, seconds):
        """One repetition on a fresh broker; returns gnload's JSON dict."""
        broker.start()
        try:
            cmd = [self.args.gnload, "--port", str(broker.port), "--broker-pid",
                   str(broker.proc.pid), "--json", "--seconds", str(seconds)] + extra
            if self.pin:
                cmd = ["taskset", "-c", "1"] + cmd
            if self.args.nice:
                cmd = ["nice", "-n", str(self.args.nice)] + cmd
            if self.args.rt:
                cmd = ["chrt", "-f", str(self.args.rt)] + cmd
            bound = seconds + 60
            try:
                out = subprocess.run(cmd, capture_output=True, text=True, timeout=bound)
            except subprocess.TimeoutExpired:
                r = {"ok": False, "error": "gnload exceeded %d s" % bound}
            else:
                line = out.stdout.strip().splitlines()[-1:] or ["{}"]
                try:
                    r = json.loads(line[0])
                except ValueError:
                    r = {"ok": False, "error": "no JSON from gnload: " + out.stderr.strip()[-200:]}
            r["broker"] = broker.name
            r["command"] = " ".join(cmd[cmd.index(self.args.gnload):])
            if broker.proc.poll() is not None:
                r["ok"] = False
                r["error"] = "broker exited (status %s)" % broker.proc.returncode
            self.raw.append(r)
            if self.args.raw:
                print(json.dumps(r), flush=True)
            return r
        finally:
            broker.stop()
            time.sleep(0.3)        # sockets of the stopped broker go away


def median(rs, key):
    vals = [r[key] for r in rs if r.get("ok") and r.get(key) is not None]
    return statistics.median(vals) if vals else None


def summarize(scenario, broker, rs, metric, extra=None):
    s = {
        "scenario": scenario, "broker": broker, "metric": metric,
        "runs": len(rs), "ok_runs": sum(1 for r in rs if r.get("ok")),
        "median": median(rs, metric),
        "loadgen_cpu": median(rs, "loadgen_cpu"),
        "broker_cpu": median(rs, "broker_cpu"),
        "max_lost": max([r.get("lost", 0) for r in rs if r.get("ok")] or [None]) if rs else None,
        "errors": sorted({r.get("error") for r in rs if not r.get("ok")}),
        "command": rs[0]["command"] if rs else "",
    }
    if extra:
        s.update(extra)
    print(json.dumps(s), flush=True)
    return s


def fanin1_mosquitto_search(run, broker, secs, reps):
    """Highest offered rate with zero loss for QoS 1 fan-in, by bisection."""
    base = ["--mode", "fanin", "--pubs", "4", "--subs", "1", "--qos", "1", "--payload", "16"]
    top = run.gnload(broker, base, secs)
    if not top.get("ok"):
        return [top], None, top
    if top.get("lost") == 0:
        log("mosquitto QoS 1 fan-in has no loss at max rate")
        return [top] + [run.gnload(broker, base, secs) for _ in range(reps - 1)], 0, top
    lo, hi = 0.0, float(top["sent_per_s"])
    best = None
    for _ in range(7):
        mid = int((lo + hi) / 2)
        if mid < 100:
            break
        r = run.gnload(broker, base + ["--rate", str(mid)], secs)
        log("mosquitto QoS 1 fan-in at %d/s: lost %s" % (mid, r.get("lost")))
        if r.get("ok") and r.get("lost") == 0:
            lo, best = mid, mid
        else:
            hi = mid
        if hi - lo < 0.05 * hi:
            break
    if best is None:
        return [top], None, top
    # Confirm with the repetitions, stepping down 10 % when one loses messages.
    for _ in range(5):
        rs = [run.gnload(broker, base + ["--rate", str(best)], secs) for _ in range(reps)]
        if all(r.get("ok") and r.get("lost") == 0 for r in rs):
            return rs, best, top
        best = int(best * 0.9)
    return rs, best, top


def interleaved(run, brokers, base, secs, reps):
    """reps runs of the same gnload command per broker, alternating brokers."""
    rs = {b.name: [] for b in brokers}
    for _ in range(reps):
        for b in brokers:
            rs[b.name].append(run.gnload(b, base, secs))
    return rs


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--qos1-reps", type=int, default=5)
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--quick", action="store_true", help="1 repetition of 2 s each (smoke)")
    ap.add_argument("--only", default=",".join(SCENARIOS))
    ap.add_argument("--gnload")
    ap.add_argument("--gannetd")
    ap.add_argument("--mosquitto", default=shutil.which("mosquitto") or "/usr/sbin/mosquitto")
    ap.add_argument("--idle-conns", type=int, default=19000)
    ap.add_argument("--mosquitto-idle-conns", type=int, default=0,
                    help="connections for mosquitto's idle run (default: --idle-conns)")
    ap.add_argument("--storm-conns", type=int, default=32, help="storm attempts in flight")
    ap.add_argument("--storm-io", default="reuse", choices=["reuse", "uring", "epoll"],
                    help="gnload's storm loop (reuse: io_uring chains that keep each slot's socket)")
    ap.add_argument("--raw", action="store_true", help="also print every run's JSON line")
    ap.add_argument("--gannetd-conf", help="config file for gannetd (-c FILE; -p and -t still apply)")
    ap.add_argument("--nice", type=int, default=0,
                    help="run broker and gnload under nice -n N (e.g. -5 on a busy shared machine)")
    ap.add_argument("--rt", type=int, default=0, metavar="PRIO",
                    help="run broker and gnload as SCHED_FIFO PRIO (chrt -f; root): on a shared "
                         "machine, other jobs then cannot delay their wake-ups (latency tails)")
    args = ap.parse_args()
    if args.quick:
        args.reps, args.qos1_reps, args.seconds = 1, 1, 2.0
    only = [s for s in args.only.split(",") if s]
    for s in only:
        if s not in SCENARIOS:
            ap.error("unknown scenario %s" % s)

    args.gnload = args.gnload or newest("build*/bench/loadgen/gnload")
    if not args.gnload:
        sys.exit("compare: gnload not found; build it (ninja -C BUILD bench/loadgen/gnload)")
    args.gannetd = args.gannetd or newest("build*/tools/gannetd/gannetd")
    pin = (os.cpu_count() or 1) >= 2 and shutil.which("taskset") is not None
    if not pin:
        log("fewer than 2 cores or no taskset: broker and load are NOT pinned")

    work = tempfile.mkdtemp(prefix="gncompare-")
    brokers = []
    if args.gannetd:
        brokers.append(Broker("gannetd", args.gannetd, pin, work, args.nice, args.gannetd_conf, args.rt))
    else:
        log("gannetd not found (build*/tools/gannetd/gannetd): running the mosquitto side only")
    if os.access(args.mosquitto, os.X_OK):
        brokers.append(Broker("mosquitto", args.mosquitto, pin, work, args.nice, rt=args.rt))
    else:
        log("mosquitto not found at %s" % args.mosquitto)
    if not brokers:
        sys.exit("compare: no broker to measure")
    log("gnload %s; brokers %s; logs in %s" % (args.gnload, ", ".join(b.binary for b in brokers), work))

    run = Runner(args, pin)
    secs, reps = args.seconds, args.reps
    summary = {}          # (scenario, broker) -> summary dict
    peak_fanin = None     # mosquitto's QoS 0 fan-in delivered rate (median)
    mosq = next((b for b in brokers if b.name == "mosquitto"), None)
    order = sorted(brokers, key=lambda b: b.name != "mosquitto")   # mosquitto first: baselines

    for b in order:
        name = b.name
        if "ingest" in only:
            base = ["--mode", "ingest", "--pubs", "4", "--qos", "0", "--payload", "16"]
            rs = [run.gnload(b, base, secs) for _ in range(reps)]
            summary[("ingest", name)] = summarize("ingest", name, rs, "sent_per_s")
        if "fanin0" in only or "latency" in only:
            base = ["--mode", "fanin", "--pubs", "4", "--subs", "1", "--qos", "0", "--payload", "16"]
            rs = [run.gnload(b, base, secs) for _ in range(reps)]
            s = summarize("fanin0", name, rs, "received_per_s")
            summary[("fanin0", name)] = s
            if name == "mosquitto":
                peak_fanin = s["median"]
        if "fanin1" in only:
            if name == "mosquitto":
                rs, rate, top = fanin1_mosquitto_search(run, b, secs, args.qos1_reps)
                lost_frac = top["lost"] / top["expected"] if top.get("ok") and top.get("expected") else None
                summary[("fanin1", name)] = summarize(
                    "fanin1", name, rs, "received_per_s",
                    {"offered_rate": rate, "note": "highest zero-loss offered rate (bisection)",
                     "max_rate_lost_fraction": lost_frac,
                     "max_rate_received_per_s": top.get("received_per_s")})
            else:
                base = ["--mode", "fanin", "--pubs", "4", "--subs", "1", "--qos", "1", "--payload", "16"]
                rs = [run.gnload(b, base, secs) for _ in range(args.qos1_reps)]
                summary[("fanin1", name)] = summarize(
                    "fanin1", name, rs, "received_per_s", {"note": "max offered rate; must lose nothing"})
        if "idle" in only:
            n = args.idle_conns
            if name == "mosquitto" and args.mosquitto_idle_conns:
                n = args.mosquitto_idle_conns
            base = ["--mode", "idle", "--conns", str(n), "--settle", "1", "--setup-timeout", "120"]
            rs = [run.gnload(b, base, 1.0) for _ in range(reps)]
            summary[("idle", name)] = summarize("idle", name, rs, "bytes_per_conn", {"conns": n})

    # Latency and storm: the brokers' repetitions alternate (mosquitto,
    # gannetd, mosquitto, ...), so both see the same stretch of a shared
    # machine's noise; the same gnload command for both.
    if "latency" in only:
        if peak_fanin:
            rate = int(peak_fanin / 2)
            base = ["--mode", "fanin", "--pubs", "4", "--subs", "1", "--qos", "0",
                    "--payload", "16", "--rate", str(rate)]
            rs = interleaved(run, order, base, secs, reps)
            for b in order:
                summary[("latency", b.name)] = summarize("latency", b.name, rs[b.name], "lat_p99_us",
                                                         {"offered_rate": rate})
        else:
            log("latency: no mosquitto fan-in peak to halve; skipped")
    if "storm" in only:
        base = ["--mode", "storm", "--conns", str(args.storm_conns), "--storm-io", args.storm_io]
        rs = interleaved(run, order, base, secs, reps)
        for b in order:
            for r in rs[b.name]:
                if r.get("ok") and r.get("connects_per_s") and r.get("broker_cpu") is not None:
                    r["broker_us_per_conn"] = r["broker_cpu"] * 1e6 / r["connects_per_s"]
                    r["loadgen_us_per_conn"] = r["loadgen_cpu"] * 1e6 / r["connects_per_s"]
            summary[("storm", b.name)] = summarize("storm", b.name, rs[b.name], "connects_per_s")
            summary[("storm_cpu", b.name)] = summarize(
                "storm_cpu", b.name, rs[b.name], "broker_us_per_conn",
                {"loadgen_us_per_conn": median(rs[b.name], "loadgen_us_per_conn")})

    # Ratios and goals (issue 4).
    goals = {
        "ingest": ("QoS0 16 B ingest, 4 publishers (msg/s)", lambda ratio, g: ratio is not None and ratio >= 10, ">= 10x"),
        "fanin0": ("QoS0 fan-in to 1 wildcard sub (delivered msg/s)",
                   lambda ratio, g: ratio is not None and ratio >= 4 and g.get("max_lost") == 0, ">= 4x, zero loss"),
        "fanin1": ("QoS1 fan-in (delivered msg/s; mosquitto: best zero-loss rate)",
                   lambda ratio, g: ratio is not None and ratio >= 4 and g.get("max_lost") == 0, ">= 4x, zero loss"),
        "latency": ("p99 latency at half mosquitto's fan-in peak (us)",
                    lambda ratio, g: g.get("median") is not None and g["median"] <= 1000, "<= 1000 us"),
        "idle": ("RSS per idle connection (B)",
                 lambda ratio, g: g.get("median") is not None and g["median"] <= 512, "<= 512 B"),
        "storm": ("connections/s", lambda ratio, g: ratio is not None and ratio >= 3, ">= 3x"),
        "storm_cpu": ("broker CPU per connection in the storm (us; ratio mosquitto/gannetd)",
                      lambda ratio, g: ratio is not None and ratio >= 3, ">= 3x (comparable figure)"),
    }
    rows = []
    for sc in SCENARIOS + ["storm_cpu"]:
        if sc.split("_")[0] not in only:
            continue
        m = summary.get((sc, "mosquitto"))
        g = summary.get((sc, "gannetd"))
        ratio = None
        if m and g and m.get("median") and g.get("median"):
            ratio = m["median"] / g["median"] if sc == "storm_cpu" else g["median"] / m["median"]
        met = goals[sc][1](ratio, g) if g else None
        line = {"scenario": sc, "ratio_gannetd_over_mosquitto": ratio, "goal": goals[sc][2], "goal_met": met}
        print(json.dumps(line), flush=True)
        rows.append((sc, m, g, ratio, met))

    def fmt(v, key="median"):
        if not v or v.get(key) is None:
            return "n/a"
        x = v[key]
        return "%.0f" % x if abs(x) >= 100 else "%.2f" % x

    print()
    print("| scenario | mosquitto | gnload CPU | gannetd | gnload CPU | gannetd/mosquitto | goal | met |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | --- | --- |")
    for sc, m, g, ratio, met in rows:
        label = goals[sc][0]
        if m and m.get("max_lost"):
            label += " (mosquitto lost %d)" % m["max_lost"]
        print("| %s | %s | %s | %s | %s | %s | %s | %s |" % (
            label, fmt(m), fmt(m, "loadgen_cpu"), fmt(g), fmt(g, "loadgen_cpu"),
            "%.2f" % ratio if ratio is not None else "n/a", goals[sc][2],
            {True: "yes", False: "no", None: "n/a"}[met]))
    failed = [r for r in run.raw if not r.get("ok")]
    if failed:
        log("%d run(s) failed: %s; broker logs kept in %s" % (
            len(failed), "; ".join(sorted({str(r.get('error')) for r in failed})), work))
        return 1
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
