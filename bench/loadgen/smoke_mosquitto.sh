#!/bin/sh
# bench/loadgen/smoke_mosquitto.sh — smoke test of gnload (meson suite
# 'bench'): start Debian's mosquitto on a free 127.0.0.1 port, run a short
# QoS 1 fan-in at a low rate, and check the JSON line: received > 0, zero
# loss, zero duplicates, acks for everything sent, latency measured.
# Usage: smoke_mosquitto.sh GNLOAD MOSQUITTO
set -eu
GNLOAD=$1
MOSQUITTO=$2
PY=/usr/bin/python3

dir=$(mktemp -d)
mpid=
cleanup() {
    if [ -n "$mpid" ]; then kill "$mpid" 2>/dev/null || true; wait "$mpid" 2>/dev/null || true; fi
    rm -rf "$dir"
}
trap cleanup EXIT INT TERM

port=$($PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
printf 'listener %s 127.0.0.1\nallow_anonymous true\nuser root\n' "$port" > "$dir/m.conf"
"$MOSQUITTO" -c "$dir/m.conf" >"$dir/m.log" 2>&1 &
mpid=$!

# Wait (bounded) until the port accepts.
wait_port() {
    i=0
    until $PY -c "import socket,sys; s=socket.socket(); s.settimeout(0.2); sys.exit(s.connect_ex(('127.0.0.1',$port)))" 2>/dev/null; do
        i=$((i + 1))
        if [ $i -gt 50 ]; then echo "mosquitto did not start"; cat "$dir/m.log"; exit 1; fi
        sleep 0.1
    done
}
wait_port

check() {
    # $1: JSON line, $2: python condition on dict r
    echo "$1"
    $PY -c "import json,sys; r=json.loads(sys.argv[1]); sys.exit(0 if ($2) else 1)" "$1" || {
        echo "FAILED: $2"; exit 1; }
}

out=$(timeout 30 "$GNLOAD" --port "$port" --mode fanin --pubs 2 --subs 1 --qos 1 \
      --rate 2000 --seconds 2 --broker-pid "$mpid" --json)
check "$out" "r['ok'] and r['sent'] > 1000 and r['received'] > 0 and r['lost'] == 0 and r['duplicates'] == 0 and r['acked'] == r['sent'] and r['lat_count'] == r['received'] and r['broker_cpu'] is not None"

out=$(timeout 30 "$GNLOAD" --port "$port" --mode fanout --pubs 1 --subs 3 --qos 2 --protocol 5 \
      --rate 1000 --seconds 1 --json)
check "$out" "r['ok'] and r['expected'] == 3 * r['sent'] and r['sent'] > 500 and r['lost'] == 0 and r['acked'] == r['sent']"

out=$(timeout 30 "$GNLOAD" --port "$port" --mode idle --conns 200 --seconds 0.5 --settle 0.2 \
      --broker-pid "$mpid" --json)
check "$out" "r['ok'] and r['conns_ready'] == 200 and r['bytes_per_conn'] > 0"

out=$(timeout 30 "$GNLOAD" --port "$port" --mode storm --conns 4 --seconds 0.5 --json)
check "$out" "r['ok'] and r['connects'] > 10"

out=$(timeout 30 "$GNLOAD" --port "$port" --mode storm --conns 4 --seconds 0.5 --storm-io epoll --json)
check "$out" "r['ok'] and r['connects'] > 10"

out=$(timeout 30 "$GNLOAD" --port "$port" --mode storm --conns 4 --seconds 0.5 --storm-io reuse --json)
check "$out" "r['ok'] and r['connects'] > 10 and r['connect_failures'] == 0"

# Storm identities against a password file: right credentials connect,
# a wrong password is refused (every storm loop).
kill "$mpid"; wait "$mpid" 2>/dev/null || true; mpid=
MPASSWD=$(dirname "$MOSQUITTO")/../bin/mosquitto_passwd
[ -x "$MPASSWD" ] || MPASSWD=mosquitto_passwd
touch "$dir/passwd"
"$MPASSWD" -b "$dir/passwd" user1 secret1
"$MPASSWD" -b "$dir/passwd" user2 secret2
printf 'listener %s 127.0.0.1\nallow_anonymous false\npassword_file %s\nuser root\n' "$port" "$dir/passwd" > "$dir/m.conf"
"$MOSQUITTO" -c "$dir/m.conf" >"$dir/m.log" 2>&1 &
mpid=$!
wait_port
printf '# clientid user password\nsmoke-a-%%n user1 secret1\nsmoke-b-%%n user2 secret2\n' > "$dir/creds"
printf 'smoke-c-%%n user1 wrong\n' > "$dir/bad"
for io in uring reuse epoll; do
    out=$(timeout 30 "$GNLOAD" --port "$port" --mode storm --conns 4 --seconds 0.5 --storm-io $io \
          --credentials "$dir/creds" --json)
    check "$out" "r['ok'] and r['connects'] > 10 and r['connect_failures'] == 0"
    out=$(timeout 30 "$GNLOAD" --port "$port" --mode storm --conns 4 --seconds 0.5 --storm-io $io \
          --credentials "$dir/bad" --json) || true
    check "$out" "r['connects'] == 0 and r['connect_failures'] > 0"
done

# A broker that is not there must be reported as a failure.
kill "$mpid"; wait "$mpid" 2>/dev/null || true; mpid=
if timeout 30 "$GNLOAD" --port "$port" --mode ingest --seconds 0.5 --setup-timeout 2 --json; then
    echo "FAILED: gnload succeeded without a broker"; exit 1
fi
for io in uring reuse; do
    if timeout 30 "$GNLOAD" --port "$port" --mode storm --conns 4 --seconds 0.5 --storm-io $io --json; then
        echo "FAILED: a storm ($io) succeeded without a broker"; exit 1
    fi
done
echo "smoke ok"
