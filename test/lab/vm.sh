#!/usr/bin/env bash
# vm.sh - QEMU "bare-metal" machines whose NIC is a tap on the lab bridge.
#
#   vm.sh start NAME MAC [--uuid U] [--serial S] [--mem MB] [--bootdev pxe|disk] [--reboot] [-- QEMU ARGS...]
#   vm.sh stop NAME              SIGTERM (pull the plug) by recorded PID
#   vm.sh wait NAME [TIMEOUT]    wait (default 300 s) until the VM powers itself off
#   vm.sh status NAME            prints on/off; exit 0 if on
#
# QEMU runs with -accel tcg -nographic inside the lab netns; the guest serial
# console goes to $DROVER_LAB_WORK/vms/NAME/serial.log.  The NIC is
# virtio-net-pci on tap "t-NAME", created and enslaved to the bridge *before*
# QEMU starts.  Its option ROM is Debian's iPXE (ipxe-qemu: efi-virtio.rom in
# /usr/lib/ipxe/qemu, a directory on QEMU's data path, see `qemu-system-x86_64 -L help`).
# SMBIOS type 1: serial (default NAME) and UUID (default 00000000-0000-4000-8000-<mac>).
# --bootdev pxe (default) boots the NIC ROM; disk gives the NIC no option ROM
# (SeaBIOS falls back to the NIC ROM even with -boot order=c), so a diskless VM
# stops at "No bootable device".  Extra QEMU args (e.g. -kernel/-initrd/-append)
# follow "--".  A guest reset makes QEMU exit (-no-reboot) unless --reboot:
# then the VM reboots (same QEMU, same boot order and NIC ROM, so a PXE VM
# PXE-boots again), as a real machine whose agent reboots it into its OS.
# Files in vms/NAME/: serial.log, qemu.log, qemu.pid, started_ms, stopped_ms.
source "$(dirname "$0")/lib.sh"
require_root

usage() { sed -n '2,21p' "$0" >&2; exit 2; }
[ $# -ge 2 ] || usage
cmd="$1" name="$2"; shift 2
[[ "$name" =~ ^[a-zA-Z0-9_-]{1,13}$ ]] || die "VM name must be 1-13 chars of [a-zA-Z0-9_-]"
vmdir="$DROVER_LAB_WORK/vms/$name"
tap="t-$name"
pidf="$vmdir/qemu.pid"

# find_rom FILE: the path QEMU will load FILE from (first hit on its data path).
find_rom() {
  local d
  while read -r d; do
    [ -e "$d/$1" ] && { readlink -f "$d/$1"; return 0; }
  done < <(qemu-system-x86_64 -L help 2>/dev/null)
  return 1
}

case "$cmd" in
start)
  [ $# -ge 1 ] || usage
  mac="$1"; shift
  [[ "$mac" =~ ^([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}$ ]] || die "bad MAC '$mac'"
  uuid="" serial="$name" mem=512 bootdev=pxe noreboot=(-no-reboot) onreset=""
  while [ $# -gt 0 ]; do
    case "$1" in
      --uuid) uuid="${2:?}"; shift 2 ;;
      --serial) serial="${2:?}"; shift 2 ;;
      --mem) mem="${2:?}"; shift 2 ;;
      --bootdev) bootdev="${2:?}"; shift 2 ;;
      --reboot) noreboot=() onreset=", reboot on reset"; shift ;;
      --) shift; break ;;
      *) die "unknown option '$1'" ;;
    esac
  done
  [ -n "$uuid" ] || uuid="$(uuid_from_mac "$mac")"
  [[ "$uuid" =~ ^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$ ]] || die "bad UUID '$uuid'"
  [[ "$serial" =~ ^[a-zA-Z0-9._-]{1,64}$ ]] || die "bad serial '$serial' (use [a-zA-Z0-9._-])"
  [[ "$mem" =~ ^[0-9]+$ ]] || die "bad --mem '$mem'"
  need_pkgs qemu-system-x86 ipxe-qemu
  romopt=""
  case "$bootdev" in
    pxe)
      bootarg="order=n"
      rom="$(find_rom efi-virtio.rom)" || die "efi-virtio.rom not on QEMU's data path (is ipxe-qemu installed?)"
      log "NIC option ROM: $rom" ;;
    disk) bootarg="order=c"; romopt=",romfile=" ;;
    *) die "bad --bootdev '$bootdev' (pxe|disk)" ;;
  esac
  ns_exists || die "lab is not up (run lab.sh up)"
  if pid_alive "$pidf"; then log "VM $name already running (pid $(pidfile_pid "$pidf"))"; exit 0; fi
  mkdir -p "$vmdir"
  if ! ip -n "$DROVER_LAB_NS" link show "$tap" >/dev/null 2>&1; then
    ip -n "$DROVER_LAB_NS" tuntap add dev "$tap" mode tap
  fi
  ip -n "$DROVER_LAB_NS" link set "$tap" master "$DROVER_LAB_BR" up

  qemu=(qemu-system-x86_64 -name "$name"
    -accel tcg -machine pc -smp 1 -m "$mem" -nographic
    -chardev "file,id=ser0,path=$vmdir/serial.log,append=on" -serial chardev:ser0
    -monitor none
    -netdev "tap,id=n0,ifname=$tap,script=no,downscript=no"
    -device "virtio-net-pci,netdev=n0,mac=$mac$romopt"
    -boot "$bootarg"
    -uuid "$uuid" -smbios "type=1,manufacturer=drover-lab,product=tcg-vm,serial=$serial"
    "${noreboot[@]}"
    "$@")
  rm -f "$vmdir/stopped_ms"
  echo "$mac" > "$vmdir/mac"
  printf '\n===== power on %s (bootdev=%s%s) =====\n' "$(date -Is)" "$bootdev" "$onreset" >> "$vmdir/serial.log"
  now_ms > "$vmdir/started_ms"
  # setsid: the VM must not die with (or hold the pipes of) its starter.  In a
  # non-interactive shell the background job is no group leader, so setsid
  # does not fork; ip netns exec execs qemu: $! is qemu's pid.
  setsid ip netns exec "$DROVER_LAB_NS" "${qemu[@]}" </dev/null >>"$vmdir/qemu.log" 2>&1 &
  write_pidfile "$pidf" $!
  sleep 0.3
  pid_alive "$pidf" || { tail -n 20 "$vmdir/qemu.log" >&2; die "qemu for $name exited at once"; }
  log "VM $name started: pid $(pidfile_pid "$pidf") mac $mac uuid $uuid serial $serial bootdev $bootdev tap $tap$onreset"
  ;;
stop)
  pid_alive "$pidf" && log "stopping VM $name (pid $(pidfile_pid "$pidf"))"
  stop_pidfile "$pidf" 5
  ip -n "$DROVER_LAB_NS" link del "$tap" 2>/dev/null || true
  ;;
status)
  if pid_alive "$pidf"; then echo on; else echo off; exit 1; fi
  ;;
wait)
  secs="${1:-300}"
  [[ "$secs" =~ ^[0-9]+$ ]] || die "bad TIMEOUT '$secs'"
  for ((i = 0; i < secs * 10; i++)); do
    if ! pid_alive "$pidf"; then
      [ -f "$vmdir/stopped_ms" ] || now_ms > "$vmdir/stopped_ms"
      rm -f "$pidf"; exit 0
    fi
    sleep 0.1
  done
  die "VM $name still running after ${secs}s"
  ;;
*) usage ;;
esac
