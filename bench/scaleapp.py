#!/usr/bin/python3
"""bench/scaleapp.py — throughput of a scalable application (S-020): one
stream of device events shared by 1, 2 and 4 members, gannetd with 2
shards, side by side with Mosquitto's `$share/group/filter` with the same
member counts, in the same run.

Variants, each on a fresh broker per repetition (broker pinned to core 0,
gnload to core 1):
  gannet_app    gannetd -t 2 in platform mode: devices d:bench1:bench:pN
                publish iot-2/evt/e/fmt/bin; the members all connect as
                A:bench1:app (API key) and subscribe
                iot-2/type/+/id/+/evt/+/fmt/+ (the platform makes that one
                shared group); gnload --sub-client-id gives them the id
  gannet_share  gannetd -t 2 in plain mode, MQTT `$share/gnload/...`
  mosquitto     mosquitto (one thread), the same `$share/gnload/...`

Per run: messages/s delivered in total (unique), lost, duplicates, each
member's share and the largest deviation of a share from the mean (the
target is within ±5 %; a member that falls behind is passed over, so at
full rate the shares follow what each member keeps up with: --rate sets an
offered rate the members keep up with to see the split itself), and for gannet_app on which shards the members sit
(from gannetd's debug line). Output: one JSON line per run, a JSON summary
line per (variant, members) with medians, the gannet/mosquitto ratios, and
a table. Usage:
  bench/scaleapp.py [--reps 3] [--seconds 3] [--pubs 4] [--qos 1]
                    [--members 1,2,4] [--rate 0] [--nice -5] [--gannetd P] [--gnload P]
                    [--gannetctl P] [--mosquitto P]
"""

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import compare  # noqa: E402  (Broker, Runner, newest, log)
import auth_storm  # noqa: E402  (make_registry, TOKEN, ORG)

APP_TOKEN = "bench-app-token-1"
MEMBER_RE = re.compile(r"\[shard (\d+)\][^\n]*scalable application member")


class TwoShardBroker(compare.Broker):
    """gannetd with 2 shards forced (compare.Broker runs one)."""

    def command(self):
        if self.name == "mosquitto":
            return super().command()
        return [self.binary, "-p", str(self.port), "-t", "2", "-c", self.conf]


def member_shards(logpath, since):
    with open(logpath, errors="replace") as f:
        f.seek(since)
        return [int(m.group(1)) for m in MEMBER_RE.finditer(f.read())]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--pubs", type=int, default=4)
    ap.add_argument("--qos", type=int, default=1)
    ap.add_argument("--payload", type=int, default=16)
    ap.add_argument("--members", default="1,2,4")
    ap.add_argument("--rate", type=int, default=0,
                    help="offered messages/s over all publishers (0: as fast as they go)")
    ap.add_argument("--nice", type=int, default=0)
    ap.add_argument("--gannetd")
    ap.add_argument("--gnload")
    ap.add_argument("--gannetctl")
    ap.add_argument("--mosquitto", default=shutil.which("mosquitto") or "/usr/sbin/mosquitto")
    a = ap.parse_args()
    a.raw = False       # compare.Runner: this script prints the runs itself
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    a.gannetd = a.gannetd or compare.newest(os.path.join(root, "build*/tools/gannetd/gannetd"))
    a.gnload = a.gnload or compare.newest(os.path.join(root, "build*/bench/loadgen/gnload"))
    a.gannetctl = a.gannetctl or compare.newest(os.path.join(root, "build*/tools/gannetctl/gannetctl"))
    if not (a.gannetd and a.gnload and a.gannetctl):
        sys.exit("scaleapp: build gannetd, gnload and gannetctl first")
    members = [int(x) for x in a.members.split(",")]
    pin = (os.cpu_count() or 1) >= 2 and bool(shutil.which("taskset"))
    work = tempfile.mkdtemp(prefix="gannet-scaleapp-")
    db = auth_storm.make_registry(work, a.gannetctl, a.pubs)
    out = subprocess.run([a.gannetctl, "--db", db, "--json", "apikey", "create", auth_storm.ORG,
                          "--token", APP_TOKEN], check=True, capture_output=True, text=True)
    key = json.loads(out.stdout)["key"]
    confs = {}
    for v, text in (("gannet_app", "mode platform\nplatform_registry %s\nlog_level debug\n" % db),
                    ("gannet_share", "log_level info\n")):
        confs[v] = os.path.join(work, v + ".conf")
        with open(confs[v], "w") as f:
            f.write(text)
    brokers = {"gannet_app": TwoShardBroker("gannetd", a.gannetd, pin, work, a.nice, confs["gannet_app"]),
               "gannet_share": TwoShardBroker("gannetd", a.gannetd, pin, work, a.nice,
                                              confs["gannet_share"])}
    if os.access(a.mosquitto, os.X_OK):
        brokers["mosquitto"] = compare.Broker("mosquitto", a.mosquitto, pin, work, a.nice)
    else:
        compare.log("mosquitto not found at %s: gannetd only" % a.mosquitto)
    runner = compare.Runner(a, pin)
    common = ["--mode", "shared", "--pubs", str(a.pubs), "--qos", str(a.qos),
              "--payload", str(a.payload), "--rate", str(a.rate)]
    results = {}
    for rep in range(a.reps):
        for m in members:
            for v, b in brokers.items():     # variants alternate: noise hits all alike
                extra = common + ["--subs", str(m)]
                if v == "gannet_app":
                    extra += ["--client-id", "d:%s:bench:p%%p" % auth_storm.ORG,
                              "--username", "use-token-auth", "--password", auth_storm.TOKEN,
                              "--topic", "iot-2/evt/e/fmt/bin",
                              "--sub-client-id", "A:%s:app" % auth_storm.ORG,
                              "--sub-username", key, "--sub-password", APP_TOKEN,
                              "--filter", "iot-2/type/+/id/+/evt/+/fmt/+"]
                else:
                    extra += ["--topic", "iot-2/type/bench/id/%p/evt/e/fmt/bin"]
                logpath = os.path.join(work, "%s.log" % b.name)
                since = os.path.getsize(logpath) if os.path.exists(logpath) else 0
                r = runner.gnload(b, extra, a.seconds)
                r.update({"bench": "scaleapp", "variant": v, "members": m, "rep": rep})
                if v == "gannet_app":
                    r["member_shards"] = member_shards(logpath, since)
                print(json.dumps(r), flush=True)
                results.setdefault((v, m), []).append(r)
    rows = []
    for (v, m), rs in sorted(results.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        ok = [r for r in rs if r.get("ok", True) and "received_per_s" in r]
        med = lambda k: statistics.median([r.get(k) or 0 for r in ok]) if ok else None  # noqa: E731
        s = {"bench": "scaleapp", "summary": True, "variant": v, "members": m, "reps": len(rs),
             "ok_runs": len(ok), "seconds": a.seconds, "pubs": a.pubs, "qos": a.qos, "rate": a.rate,
             "pinned": pin, "median_delivered_per_s": med("received_per_s"),
             "median_lost": med("lost"), "median_duplicates": med("duplicates"),
             "median_share_dev": med("share_dev"), "max_share_dev":
                 max((r.get("share_dev") or 0) for r in ok) if ok else None,
             "median_broker_cpu": med("broker_cpu"), "command": rs[-1].get("command")}
        rows.append(s)
    by = {(s["variant"], s["members"]): s for s in rows}
    for s in rows:
        mq = by.get(("mosquitto", s["members"]))
        if s["variant"] != "mosquitto" and mq and mq["median_delivered_per_s"]:
            s["over_mosquitto"] = (s["median_delivered_per_s"] or 0) / mq["median_delivered_per_s"]
        one = by.get((s["variant"], 1))
        if one and one["median_delivered_per_s"]:
            s["over_one_member"] = (s["median_delivered_per_s"] or 0) / one["median_delivered_per_s"]
        print(json.dumps(s), flush=True)
    print("%-13s %7s %14s %10s %11s %11s %9s %9s" % ("variant", "members", "delivered/s",
                                                    "lost", "share dev", "max dev", "vs mosq",
                                                    "vs 1"))
    for s in rows:
        print("%-13s %7d %14.0f %10.0f %10.1f%% %10.1f%% %9s %9s" % (
            s["variant"], s["members"], s["median_delivered_per_s"] or 0, s["median_lost"] or 0,
            100 * (s["median_share_dev"] or 0), 100 * (s["max_share_dev"] or 0),
            "%.2f" % s["over_mosquitto"] if "over_mosquitto" in s else "-",
            "%.2f" % s["over_one_member"] if "over_one_member" in s else "-"))
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
