#!/usr/bin/env bash
# Inventory benchmarks at scale (issue 2, acceptance item 6): a real drover
# server on SQLite with NODES nodes in GROUPS groups (NNODES, NGROUPS; default 100,000 / 1,000).
# Prints figures; asserts nothing about time.
#
#   bash bench/inventory.sh            # or NNODES=10000 NGROUPS=100 bash bench/inventory.sh
set -euo pipefail
cd "$(dirname "$0")/.."
N=${NNODES:-100000}
G=${NGROUPS:-1000}
work=$(mktemp -d /tmp/drover-bench.XXXXXX)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

export CGO_ENABLED=0
go build -o "$work/drover" ./cmd/drover
go run ./bench/gen -nodes "$N" -groups "$G" >"$work/inv.stanza"
echo "inventory: $N nodes in $G groups, $(wc -c <"$work/inv.stanza") bytes of stanza"

port=$((20000 + RANDOM % 20000))
"$work/drover" serve --data "$work/data" --listen "127.0.0.1:$port" --no-client-config --log-level warn 2>"$work/server.log" &
pid=$!
for _ in $(seq 1 200); do
	[ -s "$work/data/admin.token" ] && curl -sf "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
	sleep 0.1
done
export DROVER_URL="http://127.0.0.1:$port" DROVER_TOKEN="$(cat "$work/data/admin.token")" DROVER_CONFIG="$work/none"

now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
rss() { awk '/VmRSS/ { printf "%.0f MB", $2 / 1024 }' "/proc/$pid/status"; }

echo "server RSS empty:              $(rss)"
t0=$(now)
"$work/drover" mkdef -z <"$work/inv.stanza" >"$work/mkdef.out" 2>"$work/mkdef.err" || { tail -5 "$work/mkdef.err"; exit 1; }
t1=$(now)
echo "stanza import (mkdef -z):      $(secs "$t0" "$t1") s   ($(tail -1 "$work/mkdef.out"))"
sleep 1 # the server returns a bulk request's garbage to the OS right after it
echo "server RSS loaded:             $(rss)"

t0=$(now)
DROVER_SHOW_SECRETS=1 "$work/drover" lsdef -z >"$work/export.stanza"
t1=$(now)
echo "full export (lsdef -z):        $(secs "$t0" "$t1") s   ($(grep -c 'objtype=node' "$work/export.stanza") nodes, $(wc -c <"$work/export.stanza") bytes)"

t0=$(now)
n=$("$work/drover" nodels "cn[000001-$(printf '%06d' "$N")]" | wc -l)
t1=$(now)
echo "nodels cn[000001-$(printf '%06d' "$N")]:    $(secs "$t0" "$t1") s   ($n nodes, CLI+API+printing)"
sleep 1
echo "server RSS after export:       $(rss)"

kill "$pid"; wait "$pid" 2>/dev/null || true; pid=
t0=$(now)
"$work/drover" serve --data "$work/data" --listen "127.0.0.1:$port" --no-client-config --log-level warn 2>>"$work/server.log" &
pid=$!
until curl -sf "http://127.0.0.1:$port/readyz" >/dev/null 2>&1; do sleep 0.05; done
t1=$(now)
echo "restart to ready (load+index): $(secs "$t0" "$t1") s"
echo "server RSS after restart:      $(rss)"
kill "$pid"; wait "$pid" 2>/dev/null || true; pid=

echo
echo "in-process benchmarks (go test -bench):"
go test -run '^$' -bench 'BenchmarkExpand100k' -benchtime 10x ./internal/noderange/ | grep -E '^Benchmark' || true
go test -run '^$' -bench 'BenchmarkNodeByMAC' ./internal/store/ | grep -E '^Benchmark' || true
go test -run '^$' -bench 'BenchmarkApply100kNodes' -benchtime 1x ./internal/store/ | grep -E '^Benchmark' || true
