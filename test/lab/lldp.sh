#!/usr/bin/env bash
# lldp.sh - a real LLDP speaker (lldpd) for the lab: each VM's tap is a "switch port".
#
#   lldp.sh start [--sysname NAME] [--chassis-mac MAC] IFACE...
#                  run lldpd inside $DROVER_LAB_NS on exactly IFACE... (the VMs'
#                  taps, t-NAME; they may appear later, e.g. when vm.sh starts
#                  the VM); system name NAME (default drover-lab-sw); chassis ID
#                  MAC (default 02:18:00:00:00:01), the address of an extra
#                  veth "lldp-sw" made for it; port ID = interface name
#   lldp.sh stop   stop it by the recorded PID (and delete lldp-sw)
#   lldp.sh show   what lldpd sends on each interface, as `lldpcli -f json0
#                  show interfaces` (chassis id, port id, sysname per interface)
#
# lldpd runs in the foreground (-ddd: stderr only, no syslog, info level) with
# its own control socket, config file and log in $DROVER_LAB_WORK/lldpd/ (never
# /run/lldpd.socket or /etc/lldpd.conf, so a host lldpd is not touched), LLDP
# only (no -c/-e/-f/-s: CDP, EDP, FDP, SONMP stay off), no SNMP (no -x), no
# kernel release in the system description (-k), tx-interval 1 s (TTL 4 s).
# Pid file "PID STARTTIME" $DROVER_LAB_WORK/lldpd/lldpd.pid, so `lab.sh down`
# stops it too.  Idempotent: start on a running speaker restarts it (the
# interface list or name may have changed).
source "$(dirname "$0")/lib.sh"
require_root

usage() { sed -n '2,21p' "$0" >&2; exit 2; }
[ $# -ge 1 ] || usage
cmd="$1"; shift

dir="$DROVER_LAB_WORK/lldpd"
pidf="$dir/lldpd.pid"
sock="$dir/lldpd.socket"
conf="$dir/lldpd.conf"
logf="$dir/lldpd.log"
# The chassis ID comes from this veth: lldpd takes the chassis MAC only from
# an interface it handles (-C filters those), keeps the first one it finds,
# and falls back to the host's name (subtype local) while it handles none.
cid_if=lldp-sw cid_peer=lldp-swp

cli() { in_ns lldpcli -u "$sock" "$@"; }

case "$cmd" in
start)
  sysname=drover-lab-sw cmac=02:18:00:00:00:01 ifaces=()
  while [ $# -gt 0 ]; do
    case "$1" in
      --sysname) sysname="${2:?}"; shift 2 ;;
      --chassis-mac) cmac="${2:?}"; shift 2 ;;
      -*) die "unknown option '$1'" ;;
      *) ifaces+=("$1"); shift ;;
    esac
  done
  [ "${#ifaces[@]}" -ge 1 ] || usage
  [[ "$sysname" =~ ^[a-zA-Z0-9._-]{1,64}$ ]] || die "bad --sysname '$sysname' (use [a-zA-Z0-9._-])"
  [[ "$cmac" =~ ^([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}$ ]] || die "bad --chassis-mac '$cmac'"
  for i in "${ifaces[@]}"; do
    # Exact names only: no lldpd patterns (* ! ,), never lo or the chassis veth.
    [[ "$i" =~ ^[a-zA-Z0-9_.-]{1,15}$ ]] || die "bad interface name '$i'"
    case "$i" in lo | "$cid_if" | "$cid_peer") die "interface '$i' is reserved" ;; esac
  done
  # Debian's lldpd package enables and starts a host-wide lldpd (all physical
  # interfaces) where systemd runs: mask it before the first install, so the
  # host sends no LLDP; this script only ever runs its own lldpd.
  if ! command -v lldpd >/dev/null && [ -d /run/systemd/system ]; then
    log "masking lldpd.service before installing lldpd (no host-wide speaker)"
    systemctl mask lldpd.service >&2 || true
  fi
  need_pkgs lldpd
  ns_exists || die "lab is not up (run lab.sh up)"
  mkdir -p "$dir"
  chmod 0755 "$dir"
  # lldpd drops to user _lldpd, and so does the lldpcli it runs to read the
  # config: the socket and config must be reachable by that user (a 0700
  # parent, e.g. Go's t.TempDir(), makes the config step fail "Permission denied").
  if command -v setpriv >/dev/null && id _lldpd >/dev/null 2>&1 &&
     ! setpriv --reuid=_lldpd --regid=_lldpd --clear-groups test -x "$dir"; then
    die "$dir is not reachable by user _lldpd (lldpd's privilege drop): make its parents o+x"
  fi
  if pid_alive "$pidf"; then
    log "restarting lldpd (pid $(pidfile_pid "$pidf"))"
  fi
  stop_pidfile "$pidf" 5
  rm -f "$sock" "$sock.lock"
  # The chassis veth: a fixed, locally administered MAC, no addresses, no peer
  # listening (lldpd's frames on it go nowhere).
  ip -n "$DROVER_LAB_NS" link del "$cid_if" 2>/dev/null || true
  ip -n "$DROVER_LAB_NS" link add "$cid_if" address "$cmac" type veth peer name "$cid_peer"
  ip -n "$DROVER_LAB_NS" link set "$cid_if" addrgenmode none 2>/dev/null || true
  ip -n "$DROVER_LAB_NS" link set "$cid_peer" addrgenmode none 2>/dev/null || true
  ip -n "$DROVER_LAB_NS" link set "$cid_peer" up
  ip -n "$DROVER_LAB_NS" link set "$cid_if" up
  # Read by lldpcli at lldpd's start (-O replaces /etc/lldpd.conf and /etc/lldpd.d).
  cat > "$conf" <<EOF
configure system hostname $sysname
configure system description "drover lab switch (lldpd)"
configure lldp tx-interval 1
configure lldp portidsubtype ifname
EOF
  chmod 0644 "$conf"
  ilist="$(IFS=,; echo "$cid_if,${ifaces[*]}")"
  printf '\n===== start %s: -I %s =====\n' "$(date -Is)" "$ilist" >> "$logf"
  start_in_ns "$pidf" "$logf" lldpd -ddd -k -u "$sock" -O "$conf" -I "$ilist" -C "$cid_if"
  # Ready when the control socket answers and the config has been applied.
  # A speaker that did not take its configuration is stopped again.
  for ((n = 0; n < 100; n++)); do
    pid_alive "$pidf" || { tail -n 20 "$logf" >&2; rm -f "$pidf"; die "lldpd exited at once"; }
    if cli -f json0 show chassis 2>/dev/null | grep -qF "\"$sysname\""; then break; fi
    sleep 0.1
  done
  if [ "$n" -ge 100 ]; then
    tail -n 20 "$logf" >&2
    stop_pidfile "$pidf" 5
    die "lldpd did not take its configuration in 10 s (stopped it)"
  fi
  log "lldpd started: pid $(pidfile_pid "$pidf") sysname $sysname chassis $cmac interfaces ${ifaces[*]} (log $logf)"
  ;;
stop)
  [ $# -eq 0 ] || usage
  pid_alive "$pidf" && log "stopping lldpd (pid $(pidfile_pid "$pidf"))"
  stop_pidfile "$pidf" 5
  rm -f "$sock" "$sock.lock"
  if ns_exists; then ip -n "$DROVER_LAB_NS" link del "$cid_if" 2>/dev/null || true; fi
  ;;
show)
  [ $# -eq 0 ] || usage
  pid_alive "$pidf" || die "lldpd is not running (lldp.sh start)"
  cli -f json0 show interfaces
  ;;
*) usage ;;
esac
