#!/usr/bin/python3
"""bench/auth_storm.py — connect + authenticate rate in one run: gannetd in
platform mode (devices d:bench1:bench:pN registered with gannetctl, tokens
as PBKDF2 hashes), gannetd in plain mode without authentication (what the
registry and the rules cost), and mosquitto with a password file of the
same users (mosquitto_passwd's hash). bench/auth_storm drives each fresh
broker (pinned to core 0; the client on core 1) with --conns CONNECTs in
flight, cycling through --devices identities: the first pass checks every
credential once (cold), later passes repeat (gannetd's verified-token cache
serves them; mosquitto hashes every time).

Output: one JSON line per run, then one summary line per broker with the
medians and the gannetd/mosquitto ratios. Needs a gannetd with platform
mode. Usage:
  bench/auth_storm.py [--devices 20000] [--seconds 5] [--reps 3] [--conns 32]
                      [--nice N] [--gannetd PATH] [--gannetctl PATH]
                      [--storm PATH] [--mosquitto PATH]
"""

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import compare  # noqa: E402  (free_port, wait_port, newest, log)

TOKEN = "bench-token-0001"
ORG = "bench1"


def start(cmd, port, nice, workdir, name):
    cmd = ["taskset", "-c", "0"] + cmd
    if nice:
        cmd = ["nice", "-n", str(nice)] + cmd
    logf = open(os.path.join(workdir, name + ".log"), "ab")
    p = subprocess.Popen(cmd, stdout=logf, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    if not compare.wait_port(port, p, timeout=30):
        p.kill()
        raise RuntimeError("%s did not start (see %s)" % (name, logf.name))
    time.sleep(0.3)
    return p, logf


def stop(p, logf):
    if p.poll() is None:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(timeout=5)
    logf.close()
    time.sleep(0.3)


def storm(args, port, style, prefix):
    cmd = ["taskset", "-c", "1", args.storm, "--port", str(port), "--devices", str(args.devices),
           "--token", TOKEN, "--style", style, "--prefix", prefix, "--conns", str(args.conns),
           "--seconds", str(args.seconds)]
    if args.nice:
        cmd = ["nice", "-n", str(args.nice)] + cmd
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=args.seconds + 60)
    return json.loads(out.stdout.strip().splitlines()[-1])


def make_registry(work, gannetctl, devices):
    """A registry in work/ with org bench1 (no connection-rate limit, no
    message rate limits: rate_model off, so scaleapp.py's publishers run at
    full speed) and devices d:bench1:bench:p0 .. p{devices-1}, token TOKEN;
    its path."""
    db = os.path.join(work, "registry.db")
    ctl = [gannetctl, "--db", db]
    subprocess.run(ctl + ["org", "create", "--id", ORG], check=True, capture_output=True)
    subprocess.run(ctl + ["org", "set", ORG, "new_conns_per_s", "0"], check=True, capture_output=True)
    subprocess.run(ctl + ["org", "set", ORG, "rate_model", "off"], check=True, capture_output=True)
    # the storm talks plain TCP; a new org is TLS-only (S-003).
    subprocess.run(ctl + ["org", "set", ORG, "tls_policy", "optional"], check=True, capture_output=True)
    subprocess.run(ctl + ["type", "add", ORG, "bench"], check=True, capture_output=True)
    csv = "".join("bench,p%d,%s\n" % (i, TOKEN) for i in range(devices))
    t0 = time.monotonic()
    subprocess.run(ctl + ["device", "import", ORG, "-"], input=csv, text=True, check=True,
                   capture_output=True)
    compare.log("registry: %d devices imported in %.1f s" % (devices, time.monotonic() - t0))
    return db


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--devices", type=int, default=20000)
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--conns", type=int, default=32)
    ap.add_argument("--nice", type=int, default=0)
    ap.add_argument("--gannetd", default=compare.newest("build*/tools/gannetd/gannetd"))
    ap.add_argument("--gannetctl", default=compare.newest("build*/tools/gannetctl/gannetctl"))
    ap.add_argument("--storm", default=compare.newest("build*/bench/auth_storm"))
    ap.add_argument("--mosquitto", default=shutil.which("mosquitto") or "/usr/sbin/mosquitto")
    args = ap.parse_args()
    for what in ("gannetd", "gannetctl", "storm"):
        if not getattr(args, what):
            sys.exit("auth_storm.py: no %s binary (build it, or pass --%s)" % (what, what))
    work = tempfile.mkdtemp(prefix="gnauthstorm-")
    try:
        db = make_registry(work, args.gannetctl, args.devices)
        pwfile = os.path.join(work, "passwd")
        with open(pwfile, "w") as f:
            f.write("".join("p%d:%s\n" % (i, TOKEN) for i in range(args.devices)))
        subprocess.run(["mosquitto_passwd", "-U", pwfile], check=True)
        runs = {"gannetd_platform": [], "gannetd_plain_noauth": [], "mosquitto_passwd": []}
        for rep in range(args.reps):
            for name in runs:
                port = compare.free_port()
                if name == "mosquitto_passwd":
                    conf = os.path.join(work, "mosquitto.conf")
                    with open(conf, "w") as f:
                        f.write("listener %d 127.0.0.1\nallow_anonymous false\npassword_file %s\n"
                                % (port, pwfile))
                        if os.geteuid() == 0:
                            f.write("user root\n")
                    cmd, style = [args.mosquitto, "-c", conf], "mosquitto"
                else:
                    cmd, style = [args.gannetd, "-p", str(port), "-t", "1", "-o", "log_level=warn"], "platform"
                    if name == "gannetd_platform":
                        cmd += ["-o", "mode=platform", "-o", "platform_registry=" + db]
                p, logf = start(cmd, port, args.nice, work, name)
                try:
                    r = storm(args, port, style, "d:%s:bench:p" % ORG)
                finally:
                    stop(p, logf)
                r.update(broker=name, rep=rep)
                print(json.dumps(r), flush=True)
                runs[name].append(r)
        med = {}
        for name, rs in runs.items():
            med[name] = {k: statistics.median(r[k] for r in rs)
                         for k in ("connects_per_s", "first_pass_per_s", "repeat_per_s")}
            med[name]["refused"] = sum(r["refused"] for r in rs)
            med[name]["errors"] = sum(r["errors"] for r in rs)
            print(json.dumps({"summary": name, "devices": args.devices, "reps": args.reps, **med[name]}))
        g, m = med["gannetd_platform"], med["mosquitto_passwd"]
        print(json.dumps({"ratio": "gannetd_platform/mosquitto_passwd",
                          **{k: round(g[k] / m[k], 2) if m[k] else None
                             for k in ("connects_per_s", "first_pass_per_s", "repeat_per_s")}}))
        pl = med["gannetd_plain_noauth"]
        print(json.dumps({"ratio": "gannetd_platform/gannetd_plain_noauth",
                          **{k: round(g[k] / pl[k], 2) if pl[k] else None
                             for k in ("connects_per_s", "first_pass_per_s", "repeat_per_s")}}))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
