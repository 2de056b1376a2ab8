#!/usr/bin/python3
"""bench/consumer_compare.py — issue 8's consumer benchmark, side by side
with mosquitto in one run: the same gnload traffic (4 publishers, QoS 0,
16-byte payloads carrying publisher id, sequence and send time) delivered
  - by mosquitto to one wildcard MQTT subscriber (gnload --mode fanin), and
  - by libgannet to one and to two ring-buffer consumers (bench/consumer/
    gnconsume embedding the engine; gnload --mode ingest),
then publish-to-consumer-read latency with gnload --rate at half of the
one-consumer peak (and mosquitto's subscriber latency at half of its peak).
The broker side (mosquitto, or gnconsume's shard and consumer threads) is
pinned to core 0, gnload to core 1. Every repetition starts a fresh
process. Prints one JSON line per run (--raw), one per scenario (medians),
the ratios, and a Markdown table.

Latency is measured from the send time gnload writes into each payload
(CLOCK_MONOTONIC, read when that publisher's batch is written to its
socket; the reader uses the same clock on the same machine), not from an
intended schedule. The rate generator sends every --pace-us microseconds
what is due (default 50: at 1.5 M/s, ~19 messages per publisher per
send); --pace-us 0 gives gnload's plain --rate pacing (1 ms sleeps, so
bursts of rate/1000 messages that the broker then drains at its own
speed: those bursts, not the broker, set the old p50). gannet's latency is
split into wire (send -> the shard's receive timestamp) and engine (the
shard's receive -> the consumer's read). gnload's and the broker's CPU
(gnload --broker-pid) are reported.

--rt PRIO runs the broker side and gnload as SCHED_FIFO PRIO (chrt -f, as
bench/compare.py --rt): other jobs on the machine then cannot delay their
wake-ups. Every run records the other user processes it found in a
real-time class (rt_neighbours): those preempt every normal thread, so a
normal-priority run that overlaps them measures them.

--baseline-gnconsume PATH runs a second gnconsume build (e.g. main's) in
the latency phase, interleaved with this one, repetition by repetition,
so both see the same machine load. --gnconsume-args=ARGS passes options to
the measured gnconsume (e.g. --gnconsume-args="-S 50 -K 100 -L 100": spin,
shard and consumer slices, see bench/consumer/gnconsume.c;
--gnconsume-args=-I: inline consumers; write it with '=', as ARGS starts
with a dash).
The summary records the guest's cpuidle driver and haltpoll setting
(guest_halt_poll_ns): on a KVM guest they set the cost of every wake-up;
every run records the share of each CPU's time the hypervisor stole
(/proc/stat steal) while gnload ran.

Each latency repetition also measures the machine's bare loopback TCP
(Debian's sockperf, when installed: echo server on core 0, client on core
1, 10 000 messages/s): the latency floor under any broker on this machine.

--pace-spin makes gnload wait for each period on the clock (gnload's
--pace-spin) instead of sleeping: its core then never halts, so on a VM
the load generator's own late wake-ups (it stamps each message when it
writes it) leave the measurement.

Usage: bench/consumer_compare.py [--reps 3] [--seconds 5] [--nice N] [--raw]
                                 [--pace-us 50] [--pace-spin] [--rt PRIO] [--gnconsume-args ARGS]
                                 [--baseline-gnconsume PATH]
                                 [--gnload PATH] [--gnconsume PATH] [--mosquitto PATH]
"""

import argparse
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from compare import free_port, log, newest, wait_port  # noqa: E402  (the broker benchmark's helpers)


def prefix(args, core):
    cmd = ["taskset", "-c", str(core)]
    if args.rt:
        cmd = ["chrt", "-f", str(args.rt)] + cmd
    if args.nice:
        cmd = ["nice", "-n", str(args.nice)] + cmd
    return cmd


def rt_neighbours(exclude):
    """Other user processes in a real-time class (SCHED_FIFO / SCHED_RR) right
    now: they preempt every normal thread on their CPU, so a latency run that
    overlaps them measures them."""
    out = subprocess.run(["ps", "-eo", "cls=,pid=,ppid=,comm="], capture_output=True, text=True).stdout
    found, me = [], os.getpid()
    for line in out.splitlines():
        f = line.split(None, 3)     # our own broker (exclude) and gnload (our child) do not count
        if len(f) == 4 and f[0] in ("FF", "RR") and int(f[1]) not in exclude and int(f[2]) != me:
            if not (f[3].startswith(("migration", "watchdog", "idle_inject", "irq/", "cpuhp"))):
                found.append(f[3])
    return sorted(set(found))


class RtWatch:
    """Samples rt_neighbours every 0.25 s while a run goes on."""

    def __init__(self, exclude):
        self.exclude, self.seen, self.done = exclude, set(), threading.Event()
        self.th = threading.Thread(target=self.loop, daemon=True)
        self.th.start()

    def loop(self):
        while True:
            self.seen.update(rt_neighbours(self.exclude))
            if self.done.wait(0.25):
                return

    def stop(self):
        self.done.set()
        self.th.join()
        return sorted(self.seen)


def paced(args, rate):
    extra = ["--rate", str(rate)]
    if args.pace_us:
        extra += ["--pace-us", str(args.pace_us)] + (["--pace-spin"] if args.pace_spin else [])
    return extra


def loadavg():
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


def cpu_ticks():
    """Per-CPU /proc/stat counters: {cpu: (busy+idle total, steal)}."""
    out = {}
    with open("/proc/stat") as f:
        for line in f:
            if line.startswith("cpu") and line[3].isdigit():
                v = [int(x) for x in line.split()[1:]]
                out[line.split()[0]] = (sum(v[:8]), v[7])
    return out


def steal_share(before, after, cpu):
    """Fraction of cpu's time the hypervisor gave to others (steal) between
    two cpu_ticks() readings: a vCPU that is not running delays every
    wake-up and every packet on it."""
    key = "cpu%d" % cpu
    if key not in before or key not in after:
        return None
    total = after[key][0] - before[key][0]
    return round((after[key][1] - before[key][1]) / total, 3) if total > 0 else None


def gnload(args, port, extra, broker_pid=None):
    cmd = prefix(args, 1) + [args.gnload, "--port", str(port), "--pubs", "4", "--qos", "0",
                             "--seconds", str(args.seconds), "--json"] + extra
    if broker_pid:
        cmd += ["--broker-pid", str(broker_pid)]
    t0 = cpu_ticks()
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=args.seconds * 4 + 30)
    t1 = cpu_ticks()
    line = [l for l in out.stdout.splitlines() if l.startswith("{")]
    if not line:
        raise RuntimeError("gnload printed no result: %s" % out.stderr[-400:])
    r = json.loads(line[-1])
    r["command"] = " ".join(cmd[cmd.index(args.gnload):])
    r["steal_cpu0"], r["steal_cpu1"] = steal_share(t0, t1, 0), steal_share(t0, t1, 1)
    return r


def run_mosquitto(args, workdir, extra):
    port = free_port()
    conf = os.path.join(workdir, "mosquitto-%d.conf" % port)
    with open(conf, "w") as f:
        f.write("listener %d 127.0.0.1\nallow_anonymous true\n" % port)
        if os.geteuid() == 0:
            f.write("user root\n")
    logf = open(os.path.join(workdir, "mosquitto.log"), "ab")
    proc = subprocess.Popen(prefix(args, 0) + [args.mosquitto, "-c", conf], stdout=logf,
                            stderr=subprocess.STDOUT, start_new_session=True)
    try:
        if not wait_port(port, proc):
            raise RuntimeError("mosquitto did not start")
        la, watch = loadavg(), RtWatch({proc.pid})
        try:
            r = gnload(args, port, ["--mode", "fanin", "--subs", "1", "--filter", "gnload/+"] + extra,
                       proc.pid)
        finally:
            rtn = watch.stop()
        return {"scenario": "mosquitto", "delivered_per_s": r["received_per_s"],
                "sent_per_s": r["sent_per_s"], "lost": r.get("lost"),
                "lat_p50_us": r["lat_p50_us"], "lat_p99_us": r["lat_p99_us"],
                "loadgen_cpu": r.get("loadgen_cpu"), "broker_cpu": r.get("broker_cpu"),
                "loadavg": la, "rt_neighbours": rtn, "command": r["command"],
                "steal_cpu0": r["steal_cpu0"], "steal_cpu1": r["steal_cpu1"]}
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        logf.close()


def run_gannet(args, workdir, consumers, extra, binary=None):
    port = free_port()
    binary = binary or args.gnconsume
    cmd = prefix(args, 0) + [binary, "-p", str(port), "-t", "1", "-n", str(consumers),
                             "-f", "gnload/+", "-c", "0", "-w"]
    if binary == args.gnconsume and args.gnconsume_args:
        cmd += args.gnconsume_args.split()
    errf = open(os.path.join(workdir, "gnconsume.log"), "ab")
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=errf, text=True,
                            start_new_session=True)
    try:
        if not wait_port(port, proc):
            raise RuntimeError("gnconsume did not start")
        la, watch = loadavg(), RtWatch({proc.pid})
        try:
            r = gnload(args, port, ["--mode", "ingest"] + extra, proc.pid)
        finally:
            rtn = watch.stop()
        time.sleep(0.5)
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=30)
        c = json.loads([l for l in out.splitlines() if l.startswith("{")][-1])
        c.update({"scenario": "gannet_%d_consumer%s" % (consumers, "s" if consumers > 1 else ""),
                  "sent_per_s": r["sent_per_s"], "sent": r["sent"], "loadavg": la,
                  "rt_neighbours": rtn, "steal_cpu0": r["steal_cpu0"], "steal_cpu1": r["steal_cpu1"],
                  "loadgen_cpu": r.get("loadgen_cpu"), "broker_cpu": r.get("broker_cpu"),
                  "command": " ".join(cmd[cmd.index(binary):]) + "  +  " + r["command"]})
        if c["events"] != r["sent"] * consumers:
            log("%s: %d events for %d sent x %d" % (c["scenario"], c["events"], r["sent"], consumers))
        return c
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        errf.close()


def run_loopback(args):
    """The machine's bare loopback TCP latency, no MQTT and no broker: Debian's
    sockperf (an echo server on core 0, under-load client on core 1, 10 000
    messages/s of 64 bytes, one-way = half the round trip). None when sockperf
    is not installed (apt-get install sockperf)."""
    if not shutil.which("sockperf"):
        return None
    port = free_port()
    srv = subprocess.Popen(prefix(args, 0) + ["sockperf", "server", "--tcp", "-i", "127.0.0.1",
                                              "-p", str(port)],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        if not wait_port(port, srv):
            raise RuntimeError("sockperf server did not start")
        la, t0 = loadavg(), cpu_ticks()
        out = subprocess.run(prefix(args, 1) + ["sockperf", "under-load", "--tcp", "-i", "127.0.0.1",
                                                "-p", str(port), "-t", str(max(1, int(args.seconds))),
                                                "--mps", "10000", "-m", "64"],
                             capture_output=True, text=True, timeout=args.seconds * 4 + 30)
        t1 = cpu_ticks()
    finally:
        srv.kill()
        srv.wait()
    text = re.sub(r"\x1b\[[0-9;]*m", "", out.stdout + out.stderr)
    got = {}
    for key, pat in (("p50", r"percentile 50\.000 =\s*([\d.]+)"),
                     ("p99", r"percentile 99\.000 =\s*([\d.]+)"),
                     ("max", r"<MAX> observation =\s*([\d.]+)")):
        m = re.search(pat, text)
        if not m:
            raise RuntimeError("sockperf printed no %s: %s" % (key, text[-300:]))
        got["lat_%s_us" % key] = float(m.group(1))
    return dict(scenario="loopback_sockperf", loadavg=la, rt_neighbours=[],
                steal_cpu0=steal_share(t0, t1, 0), steal_cpu1=steal_share(t0, t1, 1), **got)


def idle_tuning():
    """The guest's idle settings, which set how fast a halted vCPU wakes up
    (a KVM guest's cpuidle-haltpoll: with guest_halt_poll_ns 0 an idle vCPU
    halts at once and each wake-up costs a VM exit and re-entry)."""
    def read(path):
        try:
            with open(path) as f:
                return f.read().strip()
        except OSError:
            return None
    ns = read("/sys/module/haltpoll/parameters/guest_halt_poll_ns")
    return {"cpuidle_driver": read("/sys/devices/system/cpu/cpuidle/current_driver"),
            "guest_halt_poll_ns": int(ns) if ns is not None else None}


def med(rs, key):
    return statistics.median(r[key] for r in rs)


def med_or_none(rs, key):
    return med(rs, key) if rs else None


def worst_steal(r):
    """The larger steal share of the run's two CPUs (0 where unknown)."""
    return max(r["steal_cpu0"] or 0, r["steal_cpu1"] or 0)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=5)
    ap.add_argument("--nice", type=int, default=0)
    ap.add_argument("--raw", action="store_true")
    ap.add_argument("--pace-us", type=int, default=50)
    ap.add_argument("--pace-spin", action="store_true",
                    help="gnload waits for each --pace-us period on the clock instead of sleeping "
                         "(its core never halts: its own wake-ups leave the measurement)")
    ap.add_argument("--rt", type=int, default=0, metavar="PRIO",
                    help="run the broker side and gnload as SCHED_FIFO PRIO (chrt -f; root)")
    ap.add_argument("--gnconsume-args", default="")
    ap.add_argument("--baseline-gnconsume", default=None)
    ap.add_argument("--gnload", default=newest("build*/bench/loadgen/gnload"))
    ap.add_argument("--gnconsume", default=newest("build*/bench/consumer/gnconsume"))
    ap.add_argument("--mosquitto", default="/usr/sbin/mosquitto")
    args = ap.parse_args()
    if args.pace_spin and args.rt:
        sys.exit("consumer_compare: --pace-spin with --rt would starve gnload's timing thread")
    for name in ("gnload", "gnconsume", "mosquitto"):
        if not getattr(args, name) or not os.access(getattr(args, name), os.X_OK):
            sys.exit("consumer_compare: no %s binary (build first, or pass --%s)" % (name, name))
    workdir = tempfile.mkdtemp(prefix="gannet-consumer-bench-")
    results = {"mosquitto": [], "gannet_1_consumer": [], "gannet_2_consumers": []}

    def record(r):
        results.setdefault(r["scenario"], []).append(r)
        if args.raw:
            print(json.dumps(r), flush=True)

    for rep in range(args.reps):
        log("rep %d/%d: peak rates" % (rep + 1, args.reps))
        record(run_mosquitto(args, workdir, []))
        record(run_gannet(args, workdir, 1, []))
        record(run_gannet(args, workdir, 2, []))
    peak_g = med(results["gannet_1_consumer"], "events_per_s")
    peak_m = med(results["mosquitto"], "delivered_per_s")
    half_g, half_m = int(peak_g / 2), int(peak_m / 2)
    for rep in range(args.reps):
        log("rep %d/%d: latency at half of peak (%d/s gannet, %d/s mosquitto)"
            % (rep + 1, args.reps, half_g, half_m))
        r = run_gannet(args, workdir, 1, paced(args, half_g))
        r["scenario"] = "gannet_latency"
        record(r)
        if args.baseline_gnconsume:
            r = run_gannet(args, workdir, 1, paced(args, half_g), args.baseline_gnconsume)
            r["scenario"] = "gannet_latency_baseline"
            record(r)
        r = run_mosquitto(args, workdir, paced(args, half_m))
        r["scenario"] = "mosquitto_latency"
        record(r)
        r = run_loopback(args)
        if r:
            record(r)

    summary = {
        "mosquitto_delivered_per_s": peak_m,
        "gannet_1_consumer_events_per_s": peak_g,
        "gannet_2_consumers_events_per_s": med(results["gannet_2_consumers"], "events_per_s"),
        "ratio_1_consumer_vs_mosquitto": peak_g / peak_m if peak_m else None,
        "ratio_2_consumers_vs_mosquitto":
            med(results["gannet_2_consumers"], "events_per_s") / peak_m if peak_m else None,
        "gannet_latency_rate": half_g,
        "gannet_lat_p50_us": med(results["gannet_latency"], "lat_p50_us"),
        "gannet_lat_p99_us": med(results["gannet_latency"], "lat_p99_us"),
        "gannet_engine_p50_us": med(results["gannet_latency"], "engine_p50_us"),
        "gannet_engine_p99_us": med(results["gannet_latency"], "engine_p99_us"),
        "gannet_wire_p50_us": med(results["gannet_latency"], "wire_p50_us"),
        "gannet_wire_p99_us": med(results["gannet_latency"], "wire_p99_us"),
        "gannet_latency_sent_per_s": med(results["gannet_latency"], "sent_per_s"),
        "gannet_latency_loadgen_cpu": med(results["gannet_latency"], "loadgen_cpu"),
        "gannet_latency_broker_cpu": med(results["gannet_latency"], "broker_cpu"),
        "gannet_latency_wakeups_per_event":
            med([dict(w=r["wakeups"] / max(1, r["events"])) for r in results["gannet_latency"]], "w"),
        "mosquitto_latency_rate": half_m,
        "mosquitto_lat_p50_us": med(results["mosquitto_latency"], "lat_p50_us"),
        "mosquitto_lat_p99_us": med(results["mosquitto_latency"], "lat_p99_us"),
        "loopback_p50_us": med_or_none(results.get("loopback_sockperf"), "lat_p50_us"),
        "loopback_p99_us": med_or_none(results.get("loopback_sockperf"), "lat_p99_us"),
        "gannet_gaps": sum(r["gaps"] + r["reorders"] for k in ("gannet_1_consumer", "gannet_2_consumers",
                                                                "gannet_latency") for r in results[k]),
        "loadavg_min": min(r["loadavg"] for v in results.values() for r in v),
        "loadavg_max": max(r["loadavg"] for v in results.values() for r in v),
        "steal_max": max((worst_steal(r) for v in results.values() for r in v), default=None),
        "latency_steal_median": statistics.median(worst_steal(r) for r in results["gannet_latency"]),
        "runs_with_rt_neighbours": sum(1 for v in results.values() for r in v if r["rt_neighbours"]),
        "runs": sum(len(v) for v in results.values()),
        "reps": args.reps, "seconds": args.seconds, "pace_us": args.pace_us,
        "pace_spin": args.pace_spin, "nice": args.nice,
        "rt": args.rt,
        "gnconsume_args": args.gnconsume_args,
        **idle_tuning(),
    }
    if results.get("gannet_latency_baseline"):
        summary["baseline_lat_p50_us"] = med(results["gannet_latency_baseline"], "lat_p50_us")
        summary["baseline_lat_p99_us"] = med(results["gannet_latency_baseline"], "lat_p99_us")
    print(json.dumps(summary), flush=True)
    s = summary
    print("\n| metric | mosquitto (1 wildcard subscriber) | gannet consumers | ratio |")
    print("|---|---|---|---|")
    print("| events/s, 1 consumer | %.0f | %.0f | %.1f× |" % (peak_m, peak_g, s["ratio_1_consumer_vs_mosquitto"]))
    print("| events/s, 2 consumers (each gets all) | %.0f | %.0f per consumer | %.1f× |"
          % (peak_m, s["gannet_2_consumers_events_per_s"], s["ratio_2_consumers_vs_mosquitto"]))
    print("| p50 / p99 latency at half of own peak (µs) | %.0f / %.0f at %d/s | %.0f / %.0f at %d/s | — |"
          % (s["mosquitto_lat_p50_us"], s["mosquitto_lat_p99_us"], half_m,
             s["gannet_lat_p50_us"], s["gannet_lat_p99_us"], half_g))
    print("| of which send -> shard receive (wire), p50 / p99 (µs) | — | %.0f / %.0f | — |"
          % (s["gannet_wire_p50_us"], s["gannet_wire_p99_us"]))
    print("| of which shard receive -> consumer read, p50 / p99 (µs) | — | %.0f / %.0f | — |"
          % (s["gannet_engine_p50_us"], s["gannet_engine_p99_us"]))
    print("| latency runs: sent/s, gnload CPU, broker CPU, wake-ups per event | — | %.0f, %.2f, %.2f, %.3f | — |"
          % (s["gannet_latency_sent_per_s"], s["gannet_latency_loadgen_cpu"] or 0,
             s["gannet_latency_broker_cpu"] or 0, s["gannet_latency_wakeups_per_event"]))
    if s["loopback_p99_us"] is not None:
        print("| bare loopback TCP, no broker (sockperf, 10 000 msg/s, one-way), p50 / p99 (µs) | %.0f / %.0f | | |"
              % (s["loopback_p50_us"], s["loopback_p99_us"]))
    else:
        print("| bare loopback TCP (sockperf) | not measured: apt-get install sockperf | | |")
    if "baseline_lat_p50_us" in s:
        print("| baseline gnconsume, interleaved: p50 / p99 (µs) | — | %.0f / %.0f | — |"
              % (s["baseline_lat_p50_us"], s["baseline_lat_p99_us"]))
    print("| load average during the runs | %.2f – %.2f | | |" % (s["loadavg_min"], s["loadavg_max"]))
    print("| runs overlapping other real-time processes | %d of %d | | |"
          % (s["runs_with_rt_neighbours"], s["runs"]))
    print("| CPU time stolen by the hypervisor: gannet latency runs (median), any run (max) | %.1f %%, %.1f %% | | |"
          % (100 * s["latency_steal_median"], 100 * s["steal_max"]))
    print("| cpuidle driver, guest_halt_poll_ns | %s, %s | | |"
          % (s["cpuidle_driver"], s["guest_halt_poll_ns"]))


if __name__ == "__main__":
    main()
