#!/usr/bin/python3
"""bench/platform_ingest.py — QoS 0 ingest through gannetd in plain mode
and in platform mode, side by side in the same run: what the platform
rules (client-id identity, allow-list check and topic rewrite on every
PUBLISH, the close record) cost on the hot path.

Each repetition starts a fresh gannetd (one shard, pinned to core 0) and
runs gnload (pinned to core 1) with --pubs publishers at QoS 0 for
--seconds. Three variants: "plain": gnload's own client ids publishing the
device's short topic iot-2/evt/e/fmt/bin (the same bytes on the wire as
the platform run, so the difference is the rules); "plain_canonical": the
canonical topic iot-2/type/bench/id/pN/evt/e/fmt/bin (what a plain broker's
client would name the same event); "platform": registered devices d:benchorg:bench:p%p authenticating with
use-token-auth, publishing their own event topic iot-2/evt/e/fmt/bin
(rewritten to benchorg/iot-2/type/bench/id/pN/evt/e/fmt/bin), in an org
whose rate_model is off; "platform_paced": the same in an org with Watson
read pacing (rate_model watson) at a limit too high to ever pause
(rate_device_in_msgs 4000000000, 4 KB units), so every PUBLISH pays the
pacing charge; "platform_throttled": an org with Ioto throttling
(rate_model ioto, throttle_limit 4000000000), every PUBLISH counted for
the 30 s measurement. The variants alternate within each repetition, so
machine noise hits all alike.

Output: one JSON line per repetition, then a summary JSON line with the
medians (messages/s, and messages per broker CPU-second, which a busy
machine disturbs less) and the platform/plain ratios. Usage:
  bench/platform_ingest.py [--reps 5] [--seconds 3] [--pubs 4] [--nice -5]
                           [--gannetd PATH] [--gnload PATH] [--gannetctl PATH]
"""

import argparse
import glob
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

# platform variants: org -> its rate settings (docs/PLATFORM.md "Rate limits and throttling")
ORGS = {
    "platform": ("bench1", ["rate_model", "off"]),
    "platform_paced": ("bench2", ["rate_model", "watson", "rate_device_in_msgs", "4000000000",
                                  "rate_device_in_bytes", "0"]),
    "platform_throttled": ("bench3", ["rate_model", "ioto", "throttle_limit", "4000000000"]),
}


def newest(pattern):
    c = [p for p in glob.glob(pattern) if os.access(p, os.X_OK)]
    return max(c, key=os.path.getmtime) if c else None


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, proc, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("gannetd exited with %s" % proc.returncode)
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("gannetd not accepting on %d" % port)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--pubs", type=int, default=4)
    ap.add_argument("--payload", type=int, default=16)
    ap.add_argument("--nice", type=int, default=0)
    ap.add_argument("--gannetd")
    ap.add_argument("--gnload")
    ap.add_argument("--gannetctl")
    ap.add_argument("--baseline-gannetd",
                    help="another gannetd (e.g. main's) run as variant plain_baseline: what the "
                         "hooks cost plain mode")
    a = ap.parse_args()
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    a.gannetd = a.gannetd or newest(os.path.join(root, "build*/tools/gannetd/gannetd"))
    a.gnload = a.gnload or newest(os.path.join(root, "build*/bench/loadgen/gnload"))
    a.gannetctl = a.gannetctl or newest(os.path.join(root, "build*/tools/gannetctl/gannetctl"))
    if not (a.gannetd and a.gnload and a.gannetctl):
        sys.exit("platform_ingest: build gannetd, gnload and gannetctl first")
    pin = (os.cpu_count() or 1) >= 2 and shutil.which("taskset")
    nice = ["nice", "-n", str(a.nice)] if a.nice else []
    work = tempfile.mkdtemp(prefix="gannet-pbench-")
    db = os.path.join(work, "registry.db")
    ctl = [a.gannetctl, "--db", db]
    for org, settings in ORGS.values():
        subprocess.run(ctl + ["org", "create", "--id", org], check=True, capture_output=True)
        # gnload talks plain TCP; a new org is TLS-only (S-003).
        settings = ["tls_policy", "optional"] + settings
        for k, v in zip(settings[::2], settings[1::2]):
            subprocess.run(ctl + ["org", "set", org, k, v], check=True, capture_output=True)
        subprocess.run(ctl + ["type", "add", org, "bench"], check=True, capture_output=True)
        for i in range(a.pubs):
            subprocess.run(ctl + ["device", "add", org, "bench", "p%d" % i, "--token", "bench-token-1"],
                           check=True, capture_output=True)
    variants = ("plain", "plain_canonical") + tuple(ORGS) + \
        (("plain_baseline",) if a.baseline_gannetd else ())
    confs = {}
    for mode in variants:
        path = os.path.join(work, mode + ".conf")
        with open(path, "w") as f:
            if mode == "plain_baseline":
                f.write("log_level warn\n")     # a build that may not know the platform keys
            else:
                f.write("mode %s\nplatform_registry %s\nlog_level warn\n"
                        % ("platform" if mode in ORGS else "plain", db))
        confs[mode] = path
    results = {m: [] for m in variants}
    per_cpu = {m: [] for m in variants}
    for rep in range(a.reps):
        for mode in variants:
            port = free_port()
            cmd = nice + (["taskset", "-c", "0"] if pin else []) + \
                [a.baseline_gannetd if mode == "plain_baseline" else a.gannetd,
                 "-c", confs[mode], "-p", str(port), "-t", "1"]
            log = open(os.path.join(work, "%s-%d.log" % (mode, rep)), "w")
            proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
            try:
                wait_port(port, proc)
                load = nice + (["taskset", "-c", "1"] if pin else []) + \
                    [a.gnload, "--port", str(port), "--broker-pid", str(proc.pid), "--mode", "ingest",
                     "--pubs", str(a.pubs), "--qos", "0", "--payload", str(a.payload),
                     "--seconds", str(a.seconds), "--json"]
                if mode in ("plain", "plain_baseline"):
                    load += ["--topic", "iot-2/evt/e/fmt/bin"]
                if mode == "plain_canonical":
                    load += ["--topic", "iot-2/type/bench/id/p%p/evt/e/fmt/bin"]
                if mode in ORGS:
                    load += ["--client-id", "d:%s:bench:p%%p" % ORGS[mode][0], "--username", "use-token-auth",
                             "--password", "bench-token-1", "--topic", "iot-2/evt/e/fmt/bin"]
                out = subprocess.run(load, capture_output=True, text=True, timeout=a.seconds * 4 + 60)
                line = [l for l in out.stdout.splitlines() if l.startswith("{")]
                if not line:
                    raise RuntimeError("gnload: %s" % out.stderr.strip()[-300:])
                r = json.loads(line[-1])
                r.update({"bench": "platform_ingest", "broker_mode": mode, "rep": rep,
                          "command": " ".join(load[load.index(a.gnload):])})
                print(json.dumps(r), flush=True)
                results[mode].append(r.get("sent_per_s", 0.0))
                # broker_cpu: the broker's CPU time over the run's wall time;
                # messages per broker CPU-second is the rules' cost, robust
                # against a load generator or a neighbour taking the core
                cpu = r.get("broker_cpu") or 0.0
                per_cpu[mode].append(r.get("sent_per_s", 0.0) / cpu if cpu else 0.0)
            finally:
                proc.terminate()
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
                log.close()
    med = {m: statistics.median(v) for m, v in results.items()}
    cpu_med = {m: statistics.median(v) for m, v in per_cpu.items()}
    print(json.dumps({"bench": "platform_ingest", "summary": True, "reps": a.reps,
                      "seconds": a.seconds, "pubs": a.pubs, "payload": a.payload, "pinned": bool(pin),
                      "median_per_s": med,
                      "platform_over_plain": med["platform"] / med["plain"] if med["plain"] else None,
                      "platform_over_plain_canonical":
                          med["platform"] / med["plain_canonical"] if med["plain_canonical"] else None,
                      "median_msgs_per_broker_cpu_s": cpu_med,
                      "cpu_platform_over_plain":
                          cpu_med["platform"] / cpu_med["plain"] if cpu_med["plain"] else None,
                      "cpu_paced_over_platform":
                          cpu_med["platform_paced"] / cpu_med["platform"] if cpu_med["platform"] else None,
                      "cpu_throttled_over_platform":
                          cpu_med["platform_throttled"] / cpu_med["platform"] if cpu_med["platform"] else None,
                      "paced_over_platform":
                          med["platform_paced"] / med["platform"] if med["platform"] else None,
                      "throttled_over_platform":
                          med["platform_throttled"] / med["platform"] if med["platform"] else None,
                      "cpu_plain_over_baseline":
                          cpu_med["plain"] / cpu_med["plain_baseline"]
                          if cpu_med.get("plain_baseline") else None,
                      "runs": results, "runs_per_cpu_s": per_cpu}))
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
