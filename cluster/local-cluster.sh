#!/usr/bin/env bash
# Starts a local 3-node chat cluster on loopback, for trying failover by hand:
#   nodes  http://127.0.0.1:8081 8082 8083  (cluster ports 7201-7203, automanaged 7101-7103)
#   store  MONGO_URI if set, else the dev-only MongoDB-wire store (cmd/devstore) on 127.0.0.1:27017
# Each node is supervised: if it exits (kill -9 it, or SIGSTOP/SIGCONT it past the membership
# timeout, after which it exits by itself) it is restarted after a second. Ctrl-C stops everything.
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${DATA:-./data/cluster}
SECRET=${CHAT_JWT_SECRET:-local-cluster-secret-local-cluster-secret}
mkdir -p "$DATA"
pids=()
stopping=0
cleanup() {
  stopping=1
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT INT TERM

uri=${MONGO_URI:-}
if [ -z "$uri" ]; then
  ./bin/devstore --listen 127.0.0.1:27017 --data "$DATA/store" 2>"$DATA/store.log" &
  pids+=($!)
  uri=mongodb://127.0.0.1:27017/
  for _ in $(seq 1 100); do grep -q serving "$DATA/store.log" 2>/dev/null && break; sleep 0.1; done
  echo "dev store: $uri (log $DATA/store.log)"
fi

peers=127.0.0.1:7101,127.0.0.1:7102,127.0.0.1:7103
supervise() {
  local i=$1
  while [ "$stopping" = 0 ]; do
    ./bin/chatd --listen 127.0.0.1:808$i --mongo-uri "$uri" --jwt-secret "$SECRET" \
      --cluster-provider automanaged --cluster-port 720$i --automanaged-port 710$i --cluster-peers $peers \
      --data-dir "$DATA/n$i" 2>>"$DATA/n$i.log" &
    local child=$!
    echo "node $i: http://127.0.0.1:808$i pid $child (log $DATA/n$i.log)"
    trap 'kill $child 2>/dev/null; exit 0' TERM INT
    wait $child || true
    [ "$stopping" = 0 ] || break
    echo "node $i exited; restarting in 1s"
    sleep 1
  done
}
for i in 1 2 3; do supervise $i & pids+=($!); done
wait
