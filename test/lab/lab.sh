#!/usr/bin/env bash
# lab.sh - bring the drover netboot lab up or down.
#
#   lab.sh up              netns $DROVER_LAB_NS (default drover-lab) with bridge
#                          $DROVER_LAB_BR (br0) = $DROVER_LAB_IP/24 (198.18.0.1),
#                          STP off, forward_delay 0, IPv6 off (on with
#                          DROVER_LAB_IPV6=1: link-local only, so a router
#                          advertisement on br0 can end iPXE's 16 s IPv6 wait);
#                          creates the work dir $DROVER_LAB_WORK and prints
#                          `export DROVER_LAB_...`.
#   lab.sh down [--purge]  stops every process recorded in a *.pid file under the
#                          work dir (VMs first), deletes the netns (and with it
#                          br0 and the taps); --purge also deletes the work dir.
#
# Idempotent both ways.  The namespace has no uplink and no default route.
source "$(dirname "$0")/lib.sh"
require_root

usage() { sed -n '2,15p' "$0" >&2; exit 2; }
[ $# -ge 1 ] || usage

case "$1" in
up)
  [ $# -eq 1 ] || usage
  need_pkgs iproute2
  mkdir -p "$DROVER_LAB_WORK"/{vms,run,logs}
  if ! ns_exists; then
    ip netns add "$DROVER_LAB_NS"
    log "created netns $DROVER_LAB_NS"
  fi
  ip -n "$DROVER_LAB_NS" link set lo up
  # IPv4 only by default; a test that wants an IPv6 RA enables it explicitly.
  in_ns sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 || true
  if ! ip -n "$DROVER_LAB_NS" link show "$DROVER_LAB_BR" >/dev/null 2>&1; then
    # STP off + forward_delay 0: a new tap forwards at once, so the
    # firmware's first DHCPDISCOVER is not swallowed by the learning state.
    ip -n "$DROVER_LAB_NS" link add "$DROVER_LAB_BR" type bridge stp_state 0 forward_delay 0
  else
    ip -n "$DROVER_LAB_NS" link set "$DROVER_LAB_BR" type bridge stp_state 0 forward_delay 0
  fi
  if ! ip -n "$DROVER_LAB_NS" -4 addr show dev "$DROVER_LAB_BR" | grep -qF "inet $DROVER_LAB_IP/24"; then
    ip -n "$DROVER_LAB_NS" addr add "$DROVER_LAB_IP/24" dev "$DROVER_LAB_BR"
  fi
  ip -n "$DROVER_LAB_NS" link set "$DROVER_LAB_BR" up
  if [ "${DROVER_LAB_IPV6:-0}" = 1 ]; then
    # After the bridge exists: its own setting is inherited from "default"
    # only at creation. Taps made later inherit default=0.
    in_ns sysctl -qw net.ipv6.conf.all.disable_ipv6=0 net.ipv6.conf.default.disable_ipv6=0 \
      "net.ipv6.conf.$DROVER_LAB_BR.disable_ipv6=0"
    log "IPv6 enabled in $DROVER_LAB_NS (link-local only)"
  fi
  log "lab up: netns=$DROVER_LAB_NS bridge=$DROVER_LAB_BR ip=$DROVER_LAB_IP/24 work=$DROVER_LAB_WORK"
  printf 'export DROVER_LAB_NS=%q DROVER_LAB_BR=%q DROVER_LAB_IP=%q DROVER_LAB_WORK=%q\n' \
    "$DROVER_LAB_NS" "$DROVER_LAB_BR" "$DROVER_LAB_IP" "$DROVER_LAB_WORK"
  ;;
down)
  purge=0
  case "${2:-}" in --purge) purge=1 ;; "") ;; *) usage ;; esac
  if [ -d "$DROVER_LAB_WORK" ]; then
    # VMs first, then servers.
    while IFS= read -r -d '' f; do
      pid_alive "$f" && log "stopping ${f#"$DROVER_LAB_WORK"/} (pid $(pidfile_pid "$f"))"
      stop_pidfile "$f" 5
    done < <(find "$DROVER_LAB_WORK" -name '*.pid' -path '*/vms/*' -print0
             find "$DROVER_LAB_WORK" -name '*.pid' ! -path '*/vms/*' -print0)
  fi
  if ns_exists; then
    # Nothing is killed by name or by namespace membership: a process we did
    # not record is only reported (it keeps the old namespace alive).
    for pid in $(ip netns pids "$DROVER_LAB_NS" 2>/dev/null); do
      log "WARNING: unrecorded process still in $DROVER_LAB_NS: $pid $(tr '\0' ' ' </proc/"$pid"/cmdline 2>/dev/null | cut -c1-100)"
    done
    ip netns del "$DROVER_LAB_NS"
    log "deleted netns $DROVER_LAB_NS"
  fi
  if [ "$purge" = 1 ] && [ -d "$DROVER_LAB_WORK" ]; then
    rm -rf "$DROVER_LAB_WORK"
    log "removed $DROVER_LAB_WORK"
  fi
  log "lab down"
  ;;
*) usage ;;
esac
