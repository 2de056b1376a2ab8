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

Usage: bench/consumer_compare.py [--reps 3] [--seconds 5] [--nice N] [--raw]
                                 [--gnload PATH] [--gnconsume PATH] [--mosquitto PATH]
"""

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from compare import free_port, log, newest, wait_port  # noqa: E402  (the broker benchmark's helpers)


def prefix(args, core):
    cmd = ["taskset", "-c", str(core)]
    if args.nice:
        cmd = ["nice", "-n", str(args.nice)] + cmd
    return cmd


def gnload(args, port, extra):
    cmd = prefix(args, 1) + [args.gnload, "--port", str(port), "--pubs", "4", "--qos", "0",
                             "--seconds", str(args.seconds), "--json"] + extra
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=args.seconds * 4 + 30)
    line = [l for l in out.stdout.splitlines() if l.startswith("{")]
    if not line:
        raise RuntimeError("gnload printed no result: %s" % out.stderr[-400:])
    r = json.loads(line[-1])
    r["command"] = " ".join(cmd[cmd.index(args.gnload):])
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
        r = gnload(args, port, ["--mode", "fanin", "--subs", "1", "--filter", "gnload/+"] + extra)
        return {"scenario": "mosquitto", "delivered_per_s": r["received_per_s"],
                "sent_per_s": r["sent_per_s"], "lost": r.get("lost"),
                "lat_p50_us": r["lat_p50_us"], "lat_p99_us": r["lat_p99_us"], "command": r["command"]}
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        logf.close()


def run_gannet(args, workdir, consumers, extra):
    port = free_port()
    cmd = prefix(args, 0) + [args.gnconsume, "-p", str(port), "-t", "1", "-n", str(consumers),
                             "-f", "gnload/+", "-c", "0", "-w"]
    errf = open(os.path.join(workdir, "gnconsume.log"), "ab")
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=errf, text=True,
                            start_new_session=True)
    try:
        if not wait_port(port, proc):
            raise RuntimeError("gnconsume did not start")
        r = gnload(args, port, ["--mode", "ingest"] + extra)
        time.sleep(0.5)
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=30)
        c = json.loads([l for l in out.splitlines() if l.startswith("{")][-1])
        c.update({"scenario": "gannet_%d_consumer%s" % (consumers, "s" if consumers > 1 else ""),
                  "sent_per_s": r["sent_per_s"], "sent": r["sent"],
                  "command": " ".join(cmd[cmd.index(args.gnconsume):]) + "  +  " + r["command"]})
        if c["events"] != r["sent"] * consumers:
            log("%s: %d events for %d sent x %d" % (c["scenario"], c["events"], r["sent"], consumers))
        return c
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        errf.close()


def med(rs, key):
    return statistics.median(r[key] for r in rs)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=5)
    ap.add_argument("--nice", type=int, default=0)
    ap.add_argument("--raw", action="store_true")
    ap.add_argument("--gnload", default=newest("build*/bench/loadgen/gnload"))
    ap.add_argument("--gnconsume", default=newest("build*/bench/consumer/gnconsume"))
    ap.add_argument("--mosquitto", default="/usr/sbin/mosquitto")
    args = ap.parse_args()
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
        r = run_gannet(args, workdir, 1, ["--rate", str(half_g)])
        r["scenario"] = "gannet_latency"
        record(r)
        r = run_mosquitto(args, workdir, ["--rate", str(half_m)])
        r["scenario"] = "mosquitto_latency"
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
        "mosquitto_latency_rate": half_m,
        "mosquitto_lat_p50_us": med(results["mosquitto_latency"], "lat_p50_us"),
        "mosquitto_lat_p99_us": med(results["mosquitto_latency"], "lat_p99_us"),
        "gannet_gaps": sum(r["gaps"] + r["reorders"] for k in ("gannet_1_consumer", "gannet_2_consumers",
                                                                "gannet_latency") for r in results[k]),
        "reps": args.reps, "seconds": args.seconds,
    }
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
    print("| of which shard receive -> consumer read, p50 / p99 (µs) | — | %.0f / %.0f | — |"
          % (s["gannet_engine_p50_us"], s["gannet_engine_p99_us"]))


if __name__ == "__main__":
    main()
