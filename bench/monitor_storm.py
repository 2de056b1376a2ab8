#!/usr/bin/python3
"""bench/monitor_storm.py — what the monitoring messages cost during a
connection storm (PLATFORM.md S-104 … S-109): gannetd in platform mode,
pinned to core 0, takes bench/auth_storm's storm (client on core 1: 32
CONNECTs in flight, each closed with RST after its CONNACK, identities
cycling through a pool of --devices registered devices, so after the first
pass the token checks are cached). Every connection then costs a Connect
(retained) and a Disconnect (91, retained) and two records in the shard's
connected-client file.

Variants, one fresh broker each, interleaved per repetition:
  baseline   --baseline gannetd: a build without monitoring messages
             (e.g. the platform branch this one started from)
  monitor    --gannetd: monitoring messages, nobody subscribed
  watched    --gannetd with an application subscribed to
             iot-2/type/+/id/+/mon (paho-mqtt, on core 1 with the storm)
             receiving every message

Measured per run: connects/s and the broker's CPU time per connect
(utime + stime from /proc, so other load on the machine disturbs it less
than the rate). Output: one JSON line per run, a summary line per variant
(medians), and the ratios to baseline. Usage:
  bench/monitor_storm.py [--devices 2000] [--seconds 5] [--reps 5]
                         [--conns 32] [--nice N] [--gannetd PATH]
                         [--baseline PATH] [--gannetctl PATH] [--storm PATH]
"""

import argparse
import glob
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import auth_storm  # noqa: E402  (make_registry, start, stop, storm)
import compare  # noqa: E402

APP_TOKEN = "bench-app-token-01"


def cpu_s(pid):
    """utime + stime of pid in seconds."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Watcher:
    """An application subscribed to every device's monitoring topic,
    counting what it receives (paho network thread)."""

    def __init__(self, port, key):
        import paho.mqtt.client as paho
        self.count = 0
        self.ready = threading.Event()
        self.c = paho.Client(client_id="a:%s:monwatch" % auth_storm.ORG)
        self.c.username_pw_set(key, APP_TOKEN)
        self.c.on_message = self._msg
        self.c.on_subscribe = lambda *a: self.ready.set()
        self.c.connect("127.0.0.1", port, 60)
        self.c.subscribe("iot-2/type/+/id/+/mon", 0)
        self.c.loop_start()
        if not self.ready.wait(10):
            raise RuntimeError("the watcher got no SUBACK")

    def _msg(self, c, ud, m):
        self.count += 1

    def close(self):
        self.c.disconnect()
        self.c.loop_stop()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--devices", type=int, default=2000)
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--conns", type=int, default=32)
    ap.add_argument("--nice", type=int, default=0)
    ap.add_argument("--gannetd", default=compare.newest("build*/tools/gannetd/gannetd"))
    ap.add_argument("--baseline", default=None)
    ap.add_argument("--gannetctl", default=compare.newest("build*/tools/gannetctl/gannetctl"))
    ap.add_argument("--storm", default=compare.newest("build*/bench/auth_storm"))
    args = ap.parse_args()
    for what in ("gannetd", "gannetctl", "storm"):
        if not getattr(args, what):
            sys.exit("monitor_storm.py: no %s binary (build it, or pass --%s)" % (what, what))
    work = tempfile.mkdtemp(prefix="gnmonstorm-")
    try:
        db = auth_storm.make_registry(work, args.gannetctl, args.devices)
        out = subprocess.run([args.gannetctl, "--db", db, "--json", "apikey", "create",
                              auth_storm.ORG, "--token", APP_TOKEN],
                             check=True, capture_output=True, text=True).stdout
        key = json.loads(out)["key"]
        variants = (["baseline"] if args.baseline else []) + ["monitor", "watched"]
        runs = {v: [] for v in variants}
        for rep in range(args.reps):
            for v in variants:
                for f in glob.glob(db + ".mon.*"):
                    os.unlink(f)
                port = compare.free_port()
                exe = args.baseline if v == "baseline" else args.gannetd
                cmd = [exe, "-p", str(port), "-t", "1", "-o", "log_level=warn",
                       "-o", "mode=platform", "-o", "platform_registry=" + db]
                p, logf = auth_storm.start(cmd, port, args.nice, work, v)
                w = None
                try:
                    if v == "watched":
                        w = Watcher(port, key)
                    c0 = cpu_s(p.pid)
                    r = auth_storm.storm(args, port, "platform", "d:%s:bench:p" % auth_storm.ORG)
                    c1 = cpu_s(p.pid)
                    time.sleep(0.3)
                    files = sum(os.path.getsize(f) for f in glob.glob(db + ".mon.*"))
                finally:
                    if w:
                        w.close()
                    auth_storm.stop(p, logf)
                r.update(variant=v, rep=rep, broker_cpu_s=round(c1 - c0, 3),
                         cpu_us_per_connect=round((c1 - c0) * 1e6 / max(1, r["connects"]), 2),
                         mon_file_bytes=files, watcher_msgs=w.count if w else None)
                print(json.dumps(r), flush=True)
                runs[v].append(r)
        med = {}
        for v, rs in runs.items():
            med[v] = {k: statistics.median(r[k] for r in rs)
                      for k in ("connects_per_s", "cpu_us_per_connect")}
            med[v]["refused"] = sum(r["refused"] for r in rs)
            med[v]["errors"] = sum(r["errors"] for r in rs)
            print(json.dumps({"summary": v, "devices": args.devices, "reps": args.reps, **med[v]}))
        if "baseline" in med:
            b = med["baseline"]
            for v in ("monitor", "watched"):
                print(json.dumps({"ratio": "%s/baseline" % v,
                                  **{k: round(med[v][k] / b[k], 3) if b[k] else None
                                     for k in ("connects_per_s", "cpu_us_per_connect")}}))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
