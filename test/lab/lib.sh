# shellcheck shell=bash
# lib.sh - helpers shared by the drover lab scripts.  Source it, do not run it.
#
# Rules every script here follows:
#   * Lab addresses are only ever in 198.18.0.0/15 and only inside the network
#     namespace these scripts create ($DROVER_LAB_NS); no other interface on the
#     host is touched (every `ip` call uses `-n $DROVER_LAB_NS`).
#   * Processes are stopped only by the PID recorded when they were started.
#     Pid files hold "PID STARTTIME" (field 22 of /proc/PID/stat) so a recycled
#     PID is never mistaken for ours.
#   * Missing tools are installed with apt-get (need_pkgs), idempotently.
set -euo pipefail

LAB_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export LAB_DIR
DROVER_LAB_NS="${DROVER_LAB_NS:-drover-lab}"
DROVER_LAB_BR="${DROVER_LAB_BR:-br0}"
DROVER_LAB_IP="${DROVER_LAB_IP:-198.18.0.1}"
DROVER_LAB_WORK="${DROVER_LAB_WORK:-/var/tmp/drover-lab/$DROVER_LAB_NS}"
DROVER_LAB_CACHE="${DROVER_LAB_CACHE:-$HOME/.cache/drover-lab}"
export DROVER_LAB_NS DROVER_LAB_BR DROVER_LAB_IP DROVER_LAB_WORK DROVER_LAB_CACHE

log() { printf '[%s] %s\n' "$(date +%H:%M:%S.%3N)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
now_ms() { date +%s%3N; }
require_root() { [ "$(id -u)" = 0 ] || die "must run as root"; }

# is_lab_ip ADDR: true only for a well-formed IPv4 address in 198.18.0.0/15.
is_lab_ip() {
  local a="$1" o1 o2 o3 o4 rest
  [[ "$a" =~ ^([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})$ ]] || return 1
  o1="${BASH_REMATCH[1]}" o2="${BASH_REMATCH[2]}" o3="${BASH_REMATCH[3]}" o4="${BASH_REMATCH[4]}"
  for rest in "$o1" "$o2" "$o3" "$o4"; do [ "$((10#$rest))" -le 255 ] || return 1; done
  [ "$((10#$o1))" -eq 198 ] && { [ "$((10#$o2))" -eq 18 ] || [ "$((10#$o2))" -eq 19 ]; }
}
assert_lab_ip() { is_lab_ip "$1" || die "address '$1' is outside 198.18.0.0/15 - refusing"; }
assert_lab_ip "$DROVER_LAB_IP"
[[ "$DROVER_LAB_NS" =~ ^[a-zA-Z0-9_.-]{1,64}$ ]] || die "bad namespace name '$DROVER_LAB_NS'"
[[ "$DROVER_LAB_BR" =~ ^[a-zA-Z0-9_-]{1,15}$ ]] || die "bad bridge name '$DROVER_LAB_BR'"

# need_pkgs PKG...: install the Debian packages that are missing.
need_pkgs() {
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ "${#missing[@]}" -eq 0 ] && return 0
  log "apt-get install ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  if ! ls /var/lib/apt/lists/*_Packages* >/dev/null 2>&1; then apt-get update -qq >&2; fi
  if ! apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2; then
    apt-get update -qq >&2
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
  fi
}

ns_exists() { [ -e "/run/netns/$DROVER_LAB_NS" ] && ip netns list | awk '{print $1}' | grep -qxF "$DROVER_LAB_NS"; }
in_ns() { ip netns exec "$DROVER_LAB_NS" "$@"; }

proc_starttime() { awk '{print $22}' "/proc/$1/stat" 2>/dev/null; }
# write_pidfile FILE PID
write_pidfile() { echo "$2 $(proc_starttime "$2")" > "$1"; }
pidfile_pid() { awk '{print $1}' "$1" 2>/dev/null; }
# pid_alive FILE: the recorded process still runs (zombies count as dead).
pid_alive() {
  local f="$1" pid st
  [ -s "$f" ] || return 1
  read -r pid st < "$f" || true
  [[ "${pid:-}" =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  [ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" != Z ] || return 1
  [ -z "${st:-}" ] || [ "$(proc_starttime "$pid")" = "$st" ]
}
# stop_pidfile FILE [GRACE]: SIGTERM, SIGKILL after GRACE seconds, remove FILE.
stop_pidfile() {
  local f="$1" grace="${2:-5}" pid i
  if pid_alive "$f"; then
    pid="$(pidfile_pid "$f")"
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < grace * 10; i++)); do pid_alive "$f" || break; sleep 0.1; done
    if pid_alive "$f"; then kill -KILL "$pid" 2>/dev/null || true; sleep 0.2; fi
  fi
  rm -f "$f"
}

# start_in_ns PIDFILE LOGFILE CMD...: run CMD inside the lab namespace in the
# background and record its PID (ip netns exec execs CMD, so $! is CMD's pid).
start_in_ns() {
  local pidf="$1" logf="$2"; shift 2
  ip netns exec "$DROVER_LAB_NS" "$@" </dev/null >>"$logf" 2>&1 &
  write_pidfile "$pidf" $!
}

# Deterministic SMBIOS UUID derived from a MAC.
uuid_from_mac() { local m="${1//:/}"; printf '00000000-0000-4000-8000-%s\n' "${m,,}"; }
