#!/usr/bin/env bash
# bmc.sh - issue 4 benchmark (acceptance item 5): the power state of N
# simulated BMCs read through drover, side by side with N parallel ipmitool
# processes, in one run.  Prints figures and a PASS/FAIL summary.
#
#   bash bench/bmc.sh                  # or N=50 RUNS=5 bash bench/bmc.sh
#
# What it does:
#   * builds drover (CGO_ENABLED=0, unless DROVER_BIN);
#   * starts N "fake power" BMCs (OpenIPMI ipmi_sim via a copy of
#     test/lab/bmc-sim.sh taken at the start, so edits to test/lab during the
#     run do not reach the running simulators; IPMI 2.0 lanplus, admin/secret)
#     on 127.0.0.1:BASE..BASE+N-1/udp, BASE chosen where N UDP ports are free
#     below the ephemeral range; times it (START_PAR started at once);
#   * runs `drover serve --services none`
#     on 127.0.0.1 (a free TCP port), defines group bmcs (mgt=ipmi,
#     bmcusername, bmcpassword) and nodes bmc001..bmcN (bmc=127.0.0.1:PORT)
#     with one `drover mkdef -z`;
#   * drover: `drover rpower bmc[001-N] stat` through the CLI and API, one
#     warm-up then RUNS timed runs (wall clock, median); every run must exit
#     0 with N lines `bmcNNN: on|off`;
#   * ipmitool: N parallel `ipmitool -I lanplus -C 3 ... chassis power status`
#     processes (xargs -P N), one warm-up then RUNS timed runs, median; every
#     process must exit 0 and print "Chassis Power is on|off";
#   * `drover rpower bmc[001-N] on` and `off`, once each, timed, checked on
#     every BMC's state file (DIR/power) and on SAMPLE BMCs with ipmitool;
#   * drover serve's peak RSS (VmHWM of /proc/PID/status) after the nodes were
#     defined and at the end.
# Target: drover's median `rpower stat` over N BMCs <= TARGET_S (1 s).
#
# Environment:
#   N=200  RUNS=3  TARGET_S=1  SAMPLE=5  START_PAR=16 (BMCs started at once)
#   BASE_PORT=port   first BMC port (default: the first free block from 20000)
#   DROVER_BIN=path  use this binary instead of building ./cmd/drover
#   BENCH_WORK=dir   work dir (default a mktemp dir, removed after a passing
#                    run unless KEEP=1, kept on failure)
#
# Everything listens on 127.0.0.1 only.  Processes are stopped by the PID
# recorded when they were started (pid files "PID STARTTIME", lib.sh).
# Installs openipmi and ipmitool with apt-get when missing (needs root then).
# About 40 s for N=200 on a quiet 2-core machine plus the build (the ipmitool
# runs take most of it); run it with nothing else busy: client, server and
# simulators share the cores.  Each simulated request runs bmc-sim.sh's
# chassis_control (a bash process, ~5 ms of CPU), so the simulators' own cost
# is part of both sides' figures.

BENCH_DIR="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$BENCH_DIR/.." && pwd)"
LAB="$ROOT/test/lab"
# shellcheck source=../test/lab/lib.sh
# lib.sh: set -euo pipefail, log, die, need_pkgs, now_ms, pid files.
source "$LAB/lib.sh"

case "${1:-}" in
  "") ;;
  -h|--help|help) sed -n '2,/^$/{s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
  *) echo "usage: $0   (settings via environment, see -h)" >&2; exit 2 ;;
esac

N="${N:-200}"
RUNS="${RUNS:-3}"
TARGET_S="${TARGET_S:-1}"
SAMPLE="${SAMPLE:-5}"
START_PAR="${START_PAR:-16}"
[[ "$N" =~ ^[0-9]+$ ]] && [ "$N" -ge 1 ] && [ "$N" -le 999 ] || die "N must be 1..999"
[[ "$RUNS" =~ ^[0-9]+$ ]] && [ "$RUNS" -ge 1 ] || die "RUNS must be >= 1"
[ "$SAMPLE" -le "$N" ] || SAMPLE="$N"

own_work=0
if [ -n "${BENCH_WORK:-}" ]; then W="$BENCH_WORK"; mkdir -p "$W"
else W="$(mktemp -d /tmp/drover-bmc-bench.XXXXXX)"; own_work=1; fi
W="$(cd "$W" && pwd)"
mkdir -p "$W/pids" "$W/bmc" "$W/out" "$W/lab"
# A snapshot of the simulator scripts: bash reads a script while it runs it
# (and ipmi_sim runs bmc-sim.sh as its chassis_control program on every
# request), so an edit of test/lab during the run must not reach the BMCs.
cp -p "$LAB/bmc-sim.sh" "$LAB/lib.sh" "$LAB/bmc-sim.lan.conf.in" "$LAB/bmc-sim.emu" "$W/lab/"
SIM="$W/lab/bmc-sim.sh"
summary=()   # "what|measured|target|PASS/FAIL/-"
started=()   # BMC names whose start was attempted (stopped at exit)

# -------------------------------------------------------------- helpers ---

now_ns() { date +%s%N; }
ms_since() { echo $(( ($(now_ns) - $1) / 1000000 )); }
secs() { awk -v m="$1" 'BEGIN { printf "%.3f", m / 1000 }'; }
median() { sort -n | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else print int((a[NR / 2] + a[NR / 2 + 1]) / 2) }'; }
# fail MSG: record a failure (also from command substitutions' subshells).
fail() { log "FAIL: $*"; echo "$*" >>"$W/failures"; }
name_of() { printf 'bmc%03d' "$1"; }

stop_bmcs() {
  [ "${#started[@]}" -gt 0 ] || return 0
  printf '%s\n' "${started[@]}" |
    xargs -P 16 -I{} "$SIM" stop {} --dir "$W/bmc/{}" >/dev/null 2>&1 || true
  started=()
}

cleanup() {
  local rc=$?
  set +e
  [ -f "$W/pids/drover.pid" ] && stop_pidfile "$W/pids/drover.pid" 5
  stop_bmcs
  if [ "$own_work" = 1 ] && [ "$rc" = 0 ] && [ ! -s "$W/failures" ] && [ "${KEEP:-0}" != 1 ]; then
    rm -rf "$W"
  else
    log "work dir kept: $W"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# udp_ports_free FIRST LAST: no UDP socket bound to a port in FIRST..LAST.
udp_ports_free() {
  ! ss -Hlunap 2>/dev/null | awk -v a="$1" -v b="$2" '
    { n = split($4, p, ":"); port = p[n] + 0; if (port >= a && port <= b) { found = 1; exit } }
    END { exit !found }'
}
tcp_port_free() { ! ss -Hltn "sport = :$1" | grep -q .; }

vmhwm() { awk '/^VmHWM:/ { printf "%.1f MiB", $2 / 1024 }' "/proc/$(pidfile_pid "$W/pids/drover.pid")/status"; }
vmrss() { awk '/^VmRSS:/ { printf "%.1f MiB", $2 / 1024 }' "/proc/$(pidfile_pid "$W/pids/drover.pid")/status"; }

# ------------------------------------------------------------- packages ---

command -v ipmi_sim >/dev/null || need_pkgs openipmi
command -v ipmitool >/dev/null || need_pkgs ipmitool
command -v ss >/dev/null || need_pkgs iproute2
command -v curl >/dev/null || need_pkgs curl

# ---------------------------------------------------------------- ports ---

read -r eph_lo _ </proc/sys/net/ipv4/ip_local_port_range
if [ -n "${BASE_PORT:-}" ]; then
  base="$BASE_PORT"
  [ $((base + N - 1)) -lt 65536 ] || die "BASE_PORT + N exceeds 65535"
  udp_ports_free "$base" $((base + N - 1)) || die "UDP ports $base-$((base + N - 1)) are not all free"
else
  base=""
  for ((b = 20000; b + N + 1 < eph_lo; b += 1000)); do
    if udp_ports_free "$b" $((b + N - 1)) && tcp_port_free $((b + N)); then base=$b; break; fi
  done
  [ -n "$base" ] || die "no block of $N free UDP ports below $eph_lo"
fi
api_port=$((base + N))
tcp_port_free "$api_port" || die "TCP port $api_port is in use"
last="$(name_of "$N")"
range="bmc[001-${last#bmc}]"
log "work dir $W; BMCs on 127.0.0.1:$base-$((base + N - 1))/udp, drover API on 127.0.0.1:$api_port"

# --------------------------------------------------------------- build ---

if [ -n "${DROVER_BIN:-}" ]; then
  DROVER="$DROVER_BIN"
else
  DROVER="$W/drover"
  log "building drover"
  (cd "$ROOT" && CGO_ENABLED=0 go build -o "$DROVER" ./cmd/drover)
fi

# ----------------------------------------------------------------- BMCs ---

for ((i = 1; i <= N; i++)); do started+=("$(name_of "$i")"); done
t0=$(now_ns)
start_rc=0
for ((i = 1; i <= N; i++)); do printf '%s %s\n' "$(name_of "$i")" $((base + i - 1)); done |
  xargs -P "$START_PAR" -n 2 sh -c '"$0" start "$2" "$3" --dir "$1/bmc/$2" >"$1/bmc/$2.pid.out" 2>>"$1/bmc/start.log"' \
    "$SIM" "$W" || start_rc=$?
bmc_start_ms=$(ms_since "$t0")
up=0
for ((i = 1; i <= N; i++)); do
  pid_alive "$W/bmc/$(name_of "$i")/ipmi_sim.pid" && up=$((up + 1))
done
[ "$start_rc" = 0 ] && [ "$up" = "$N" ] || { tail -5 "$W/bmc/start.log" >&2; die "only $up of $N BMCs started"; }
bmc_rss=0
for ((i = 1; i <= N; i++)); do
  p="$(pidfile_pid "$W/bmc/$(name_of "$i")/ipmi_sim.pid")"
  bmc_rss=$((bmc_rss + $(awk '/^VmRSS:/ { print $2 }' "/proc/$p/status")))
done
log "$N BMCs up in $(secs "$bmc_start_ms") s (START_PAR=$START_PAR), RSS total $((bmc_rss / 1024)) MiB"

# --------------------------------------------------------------- drover ---

"$DROVER" serve --data "$W/data" --listen "127.0.0.1:$api_port" --no-client-config --services none \
  </dev/null >>"$W/server.log" 2>&1 &
write_pidfile "$W/pids/drover.pid" $!
ready=0
for ((i = 0; i < 300; i++)); do
  pid_alive "$W/pids/drover.pid" || { tail -20 "$W/server.log" >&2; die "drover serve exited"; }
  if [ -s "$W/data/admin.token" ] && curl -sf "http://127.0.0.1:$api_port/readyz" >/dev/null 2>&1; then ready=1; break; fi
  sleep 0.1
done
[ "$ready" = 1 ] || die "drover serve not ready after 30 s (see $W/server.log)"
DROVER_TOKEN="$(cat "$W/data/admin.token")"
export DROVER_URL="http://127.0.0.1:$api_port" DROVER_TOKEN DROVER_CONFIG=/nonexistent
hwm_idle="$(vmhwm)"

{
  printf 'bmcs:\n    objtype=group\n    mgt=ipmi\n    bmcusername=admin\n    bmcpassword=secret\n\n'
  for ((i = 1; i <= N; i++)); do
    printf '%s:\n    objtype=node\n    groups=bmcs,all\n    bmc=127.0.0.1:%d\n\n' "$(name_of "$i")" $((base + i - 1))
  done
} >"$W/nodes.stanza"
"$DROVER" mkdef -z <"$W/nodes.stanza" >"$W/out/mkdef.out" 2>&1 || { cat "$W/out/mkdef.out" >&2; die "mkdef -z failed"; }
n_def=$("$DROVER" nodels "$range" | wc -l)
[ "$n_def" = "$N" ] || die "nodels $range lists $n_def nodes, not $N"
hwm_defined="$(vmhwm)"
log "drover serve pid $(pidfile_pid "$W/pids/drover.pid"): $N nodes defined; VmHWM $hwm_defined, VmRSS $(vmrss)"

# ------------------------------------------------------------ the runs ---

# check_rpower OUTFILE RC WANT: N lines "bmcNNN: WANT" (WANT a regex), rc 0.
check_rpower() {
  local f="$1" rc="$2" want="$3" good
  good=$(grep -cE "^bmc[0-9]{3}: ($want)\$" "$f" || true)
  if [ "$rc" != 0 ] || [ "$good" != "$N" ] || [ "$(wc -l <"$f")" != "$N" ]; then
    log "rpower: exit $rc, $good of $N lines match '$want'; first other lines:"
    grep -vE "^bmc[0-9]{3}: ($want)\$" "$f" | head -5 >&2 || true
    return 1
  fi
}

# drover_run TAG ACTION WANT: time `drover rpower RANGE ACTION`; prints ms.
drover_run() {
  local tag="$1" action="$2" want="$3" t rc=0 ms
  t=$(now_ns)
  timeout 120 "$DROVER" rpower "$range" "$action" >"$W/out/$tag.out" 2>"$W/out/$tag.err" || rc=$?
  ms=$(ms_since "$t")
  if ! check_rpower "$W/out/$tag.out" "$rc" "$want"; then
    head -5 "$W/out/$tag.err" >&2
    fail "drover rpower $action ($tag)"
  fi
  echo "$ms"
}

# ipmitool_run TAG: N parallel ipmitool chassis power status; prints ms.
ipmitool_run() {
  local tag="$1" t rc=0 ms good
  mkdir -p "$W/out/$tag"
  t=$(now_ns)
  seq "$base" $((base + N - 1)) |
    timeout 300 xargs -P "$N" -I{} sh -c 'ipmitool -I lanplus -C 3 -H 127.0.0.1 -p "$1" -U admin -P secret chassis power status >"$2/$1" 2>&1' sh {} "$W/out/$tag" || rc=$?
  ms=$(ms_since "$t")
  good=$(cat "$W/out/$tag"/* | grep -cE '^Chassis Power is (on|off)$' || true)
  if [ "$rc" != 0 ] || [ "$good" != "$N" ]; then
    fail "ipmitool ($tag): xargs exit $rc, $good of $N said 'Chassis Power is on|off'"
    grep -LE '^Chassis Power is (on|off)$' "$W/out/$tag"/* | head -3 | xargs -r head -3 >&2 || true
  fi
  echo "$ms"
}

log "drover rpower $range stat: warm-up + $RUNS runs"
d_warm=$(drover_run stat-warm stat 'on|off')
d_ms=()
for ((r = 1; r <= RUNS; r++)); do d_ms+=("$(drover_run "stat-$r" stat 'on|off')"); done
log "drover stat: warm-up $d_warm ms, runs ${d_ms[*]} ms"

log "$N parallel ipmitool chassis power status: warm-up + $RUNS runs"
i_warm=$(ipmitool_run ipmi-warm)
i_ms=()
for ((r = 1; r <= RUNS; r++)); do i_ms+=("$(ipmitool_run "ipmi-$r")"); done
log "ipmitool: warm-up $i_warm ms, runs ${i_ms[*]} ms"

# state_count V: BMCs whose state file holds V.
state_count() {
  local c=0 i
  for ((i = 1; i <= N; i++)); do [ "$(cat "$W/bmc/$(name_of "$i")/power")" = "$1" ] && c=$((c + 1)); done
  echo "$c"
}
# sample_check WORD: SAMPLE BMCs spread over the range say "Chassis Power is WORD".
sample_check() {
  local ok=0 k i p
  for ((k = 0; k < SAMPLE; k++)); do
    i=$((1 + k * (N - 1) / (SAMPLE > 1 ? SAMPLE - 1 : 1)))
    p=$((base + i - 1))
    if ipmitool -I lanplus -C 3 -H 127.0.0.1 -p "$p" -U admin -P secret chassis power status 2>&1 | grep -qx "Chassis Power is $1"; then ok=$((ok + 1)); fi
  done
  echo "$ok"
}

log "drover rpower $range on / stat / off / stat"
on_ms=$(drover_run on on on)
on_files=$(state_count 1)
on_sample=$(sample_check on)
[ "$on_files" = "$N" ] && [ "$on_sample" = "$SAMPLE" ] || fail "after rpower on: $on_files/$N state files say 1, $on_sample/$SAMPLE ipmitool samples say on"
stat_on_ms=$(drover_run stat-on stat on)
off_ms=$(drover_run off off off)
off_files=$(state_count 0)
off_sample=$(sample_check off)
[ "$off_files" = "$N" ] && [ "$off_sample" = "$SAMPLE" ] || fail "after rpower off: $off_files/$N state files say 0, $off_sample/$SAMPLE ipmitool samples say off"
stat_off_ms=$(drover_run stat-off stat off)
hwm_end="$(vmhwm)"
rss_end="$(vmrss)"

# -------------------------------------------------------------- summary ---

d_med=$(printf '%s\n' "${d_ms[@]}" | median)
i_med=$(printf '%s\n' "${i_ms[@]}" | median)
target_ms=$(awk -v s="$TARGET_S" 'BEGIN { printf "%d", s * 1000 }')
stat_ok=PASS
[ "$d_med" -le "$target_ms" ] || stat_ok=FAIL
grep -qE '^drover rpower stat \((stat-warm|stat-[0-9]+)\)$' "$W/failures" 2>/dev/null && stat_ok=FAIL
speedup=$(awk -v a="$i_med" -v b="$d_med" 'BEGIN { if (b > 0) printf "%.1f", a / b; else print "-" }')

echo
echo "issue 4 item 5: power state of $N ipmi_sim BMCs (127.0.0.1, fake power), $(nproc) cores, $(date -u +%FT%TZ)"
printf '%-52s %s\n' "BMC start ($N ipmi_sim, $START_PAR at once)" "$(secs "$bmc_start_ms") s   (RSS total $((bmc_rss / 1024)) MiB)"
printf '%-52s %s\n' "drover rpower $range stat" "median $(secs "$d_med") s   (runs: $(for m in "${d_ms[@]}"; do printf '%s ' "$(secs "$m")"; done)s; warm-up $(secs "$d_warm") s)"
printf '%-52s %s\n' "$N x parallel ipmitool -I lanplus -C 3 power status" "median $(secs "$i_med") s   (runs: $(for m in "${i_ms[@]}"; do printf '%s ' "$(secs "$m")"; done)s; warm-up $(secs "$i_warm") s)"
printf '%-52s %s\n' "ipmitool / drover" "${speedup} x"
printf '%-52s %s\n' "drover rpower $range on" "$(secs "$on_ms") s   ($on_files/$N state files 1, ipmitool sample $on_sample/$SAMPLE on)"
printf '%-52s %s\n' "drover rpower $range stat (all on)" "$(secs "$stat_on_ms") s"
printf '%-52s %s\n' "drover rpower $range off" "$(secs "$off_ms") s   ($off_files/$N state files 0, ipmitool sample $off_sample/$SAMPLE off)"
printf '%-52s %s\n' "drover rpower $range stat (all off)" "$(secs "$stat_off_ms") s"
printf '%-52s %s\n' "drover serve VmHWM (peak RSS)" "$hwm_idle started, $hwm_defined with $N nodes, $hwm_end at the end (VmRSS $rss_end)"
echo
summary+=("drover rpower stat x $N, median|$(secs "$d_med") s|<= $TARGET_S s|$stat_ok")
ok=PASS; [ "$on_files" = "$N" ] && [ "$on_sample" = "$SAMPLE" ] && grep -qE '^bmc001: on$' "$W/out/on.out" || ok=FAIL
summary+=("drover rpower on x $N (state verified)|$(secs "$on_ms") s|all on|$ok")
ok=PASS; [ "$off_files" = "$N" ] && [ "$off_sample" = "$SAMPLE" ] && grep -qE '^bmc001: off$' "$W/out/off.out" || ok=FAIL
summary+=("drover rpower off x $N (state verified)|$(secs "$off_ms") s|all off|$ok")
ok=PASS; nfail=0; [ -s "$W/failures" ] && { ok=FAIL; nfail=$(wc -l <"$W/failures"); }
summary+=("every output and exit code checked|$nfail failed|none failed|$ok")
overall=PASS
printf '%-44s %-10s %-12s %s\n' "target" "measured" "wanted" "result"
for s in "${summary[@]}"; do
  IFS='|' read -r what meas want res <<<"$s"
  printf '%-44s %-10s %-12s %s\n' "$what" "$meas" "$want" "$res"
  [ "$res" = PASS ] || overall=FAIL
done
echo
[ "$overall" = PASS ]
