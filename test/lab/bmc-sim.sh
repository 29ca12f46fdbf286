#!/usr/bin/env bash
# bmc-sim.sh - simulated BMCs (IPMI 2.0 / RMCP+ lanplus) with OpenIPMI's
# ipmi_sim, for the IPMI driver's real-peer tests and benchmarks.
#
# usage:
#   bmc-sim.sh start NAME PORT [options]   one BMC on ADDR:PORT/udp; prints its PID
#       --addr IP          listen address: 127.0.0.1 (default) or 198.18.0.0/15
#       --user U --pass P  admin credentials (default admin / secret;
#                          letters, digits and ._- only, at most 16 / 20)
#       --dir DIR          state directory (default $DROVER_LAB_WORK/bmc/NAME)
#       --sol HOST:PORT    serial-over-LAN console: ipmi_sim connects to this
#                          TCP port (127.0.0.1 only) as the node's serial line
#       --netns NS         run ipmi_sim inside network namespace NS
#       --vm VM MAC        power drives lab VM VM (test/lab/vm.sh, MAC on its
#                          NIC) instead of a state file; needs root and the
#                          lab up (DROVER_LAB_* as for vm.sh)
#       --vm-opts "..."    extra vm.sh start options, e.g. "--mem 256 --serial S"
#   bmc-sim.sh stop NAME [--dir DIR]       stop it by its recorded PID (a VM
#                                          it powered on keeps running)
#   bmc-sim.sh status [--dir DIR]          BMCs under the work dir (or DIR)
#   bmc-sim.sh ipmi NAME [--dir DIR] ARGS  ipmitool -I lanplus -C 3 against it
#   bmc-sim.sh chassis DIR get|set ...     the chassis_control program ipmi_sim
#                                          runs (internal)
#
# Without --vm, power is "fake": DIR/power holds 1 or 0 and DIR/boot the last boot device
# (pxe, default = disk, cdrom, bios, none = no override); DIR/chassis.log
# records every get/set ipmi_sim made.  A (re)started BMC starts powered off
# with no boot override.
#
# With --vm the power is a lab VM's QEMU (DIR/vm.env names it): power on =
# vm.sh start (detached: setsid, output to files), off = vm.sh stop (by its
# recorded PID), status = that QEMU runs, cycle = off, then on about a second
# later (ipmi_sim), reset = off+on when on, soft = off.  The boot device last
# set is used at each power-on: pxe or none -> vm.sh --bootdev pxe (the VM's
# own order is network first); default (disk), cdrom, bios -> --bootdev disk
# (no NIC ROM: the diskless VM stops at "No bootable device").  It is not
# cleared by a power-on (ipmi_sim keeps no once/persistent bit).
#
# Templates: bmc-sim.lan.conf.in (man 5 ipmi_lan) and bmc-sim.emu
# (man 5 ipmi_sim_cmd) next to this script.
#
# Traps baked in (see ../shared/testbed/README.md section 2, next to the repo):
#  * the .emu file must mc_add AND mc_enable the BMC MC 0x20, with
#    "no-device-sdrs" as third mc_add field, or no UDP socket is ever opened;
#  * ipmi_sim always runs with -n (without it, it epolls stdin and aborts);
#  * power control needs chassis_control (startcmd alone: "Invalid data field");
#  * ipmi_sim 2.0.33 does not answer "Get Channel Cipher Suites": ipmitool
#    needs -C 3 or it probes for ~10 s;
#  * chassis_control runs synchronously through popen() and ipmi_sim reads its
#    stdout to EOF: with --vm the VM is fully detached (setsid, stdin
#    /dev/null, output to files, no inherited descriptors);
#  * ipmi_sim's 127.0.0.1 is that of its namespace: a drover server in the lab
#    namespace needs the BMC started with --netns $DROVER_LAB_NS.

# The chassis_control program: called through popen() for every chassis
# command, synchronously, so it is kept tiny (no lib.sh; in fake mode no
# subshells either).
# With --vm (DIR/vm.env), power is the VM's QEMU: its stdout must never
# be this program's (ipmi_sim reads that pipe to EOF), so vm.sh runs with
# stdout on the log and no descriptor but 0-2 inherited from ipmi_sim.
if [ "${1:-}" = chassis ]; then
  dir="$2" op="$3"; shift 3
  exec 2>>"$dir/chassis.log"
  echo "$(date +%T.%3N) $op $*" >&2
  VM_NAME="" VM_MAC="" VM_OPTS=()
  # shellcheck disable=SC1091
  [ -s "$dir/vm.env" ] && . "$dir/vm.env"
  # vm_on: the VM's QEMU runs (pid file "PID STARTTIME", as lib.sh's pid_alive).
  vm_on() {
    local pid="" st="" line f
    [ -s "$DROVER_LAB_WORK/vms/$VM_NAME/qemu.pid" ] || return 1
    read -r pid st <"$DROVER_LAB_WORK/vms/$VM_NAME/qemu.pid" || true
    [[ "$pid" =~ ^[0-9]+$ ]] || return 1
    read -r line 2>/dev/null <"/proc/$pid/stat" || return 1
    read -r -a f <<<"${line##*) }"
    [ "${f[0]}" != Z ] && { [ -z "$st" ] || [ "${f[19]}" = "$st" ]; }
  }
  # vm_sh ARGS: vm.sh with stdin /dev/null, stdout on the log and every
  # descriptor above 2 (ipmi_sim's sockets, bash's own) closed.
  vm_sh() (
    for fd in /proc/self/fd/*; do
      fd="${fd##*/}"
      [ "$fd" -gt 2 ] 2>/dev/null && eval "exec $fd>&-"
    done
    exec "${0%/*}/vm.sh" "$@" </dev/null >&2
  )
  vm_power() {
    local bd=pxe boot=none
    if [ "$1" = 0 ]; then vm_sh stop "$VM_NAME"; return; fi
    [ -s "$dir/boot" ] && read -r boot <"$dir/boot"
    case "$boot" in pxe | none) bd=pxe ;; *) bd=disk ;; esac
    vm_sh start "$VM_NAME" "$VM_MAC" --bootdev "$bd" "${VM_OPTS[@]}"
  }
  case "$op" in
  get)
    for p in "$@"; do
      case "$p" in
      power)
        if [ -n "$VM_NAME" ]; then
          if vm_on; then echo power:1; else echo power:0; fi
        else
          v=0; [ -s "$dir/power" ] && read -r v <"$dir/power"; echo "power:$v"
        fi ;;
      boot) v=default; [ -s "$dir/boot" ] && read -r v <"$dir/boot"; echo "boot:$v" ;;
      *) echo "Invalid parameter: $p"; exit 1 ;;
      esac
    done ;;
  set)
    while [ $# -ge 2 ]; do
      case "$1" in
      power)
        case "$2" in 0 | 1) ;; *) echo "Invalid power value: $2"; exit 1 ;; esac
        if [ -n "$VM_NAME" ]; then vm_power "$2" || { echo "VM $VM_NAME: power $2 failed"; exit 1; }
        else echo "$2" >"$dir/power"; fi ;;
      reset)                            # fake power: stays as it is
        if [ -n "$VM_NAME" ] && vm_on; then
          { vm_power 0 && vm_power 1; } || { echo "VM $VM_NAME: reset failed"; exit 1; }
        fi ;;
      shutdown)                         # soft off acts at once
        if [ -n "$VM_NAME" ]; then vm_power 0 || { echo "VM $VM_NAME: soft off failed"; exit 1; }
        else echo 0 >"$dir/power"; fi ;;
      boot)
        case "$2" in none | pxe | default | cdrom | bios) echo "$2" >"$dir/boot" ;;
        *) echo "Invalid boot value: $2"; exit 1 ;; esac ;;
      identify) ;;
      *) echo "Invalid parameter: $1"; exit 1 ;;
      esac
      shift 2
    done ;;
  check) exit 1 ;;
  *) echo "Unknown operation: $op"; exit 1 ;;
  esac
  exit 0
fi

# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

SELF="$LAB_DIR/bmc-sim.sh"
BMC_ROOT="$DROVER_LAB_WORK/bmc"

safe_word() { [[ "$1" =~ ^[A-Za-z0-9._-]{1,$2}$ ]] || die "bad $3 '$1' (letters, digits, ._- only, at most $2)"; }

start_one() {
  local name="$1" port="$2"; shift 2
  local addr=127.0.0.1 user=admin pass=secret dir="" sol="" netns="" vm="" vm_mac="" vm_opts=()
  while [ $# -gt 0 ]; do
    case "$1" in
    --vm) [ $# -ge 3 ] || die "usage: --vm VM MAC"; vm="$2" vm_mac="$3"; shift 3 ;;
    --vm-opts) read -r -a vm_opts <<<"$2"; shift 2 ;;
    --addr) addr="$2"; shift 2 ;;
    --user) user="$2"; shift 2 ;;
    --pass) pass="$2"; shift 2 ;;
    --dir) dir="$2"; shift 2 ;;
    --sol) sol="$2"; shift 2 ;;
    --netns) netns="$2"; shift 2 ;;
    *) die "unknown option $1" ;;
    esac
  done
  safe_word "$name" 32 name
  safe_word "$user" 16 user
  safe_word "$pass" 20 password
  if ! [[ "$port" =~ ^[0-9]{1,5}$ ]] || [ "$port" -lt 1 ] || [ "$port" -gt 65535 ]; then die "bad port '$port'"; fi
  [ "$addr" = 127.0.0.1 ] || assert_lab_ip "$addr"
  if [ -n "$sol" ]; then
    [[ "$sol" =~ ^127\.0\.0\.1:[0-9]{1,5}$ ]] || die "--sol must be 127.0.0.1:PORT, not '$sol'"
  fi
  if [ -n "$vm" ]; then
    [[ "$vm" =~ ^[a-zA-Z0-9_-]{1,13}$ ]] || die "--vm: VM name must be 1-13 chars of [a-zA-Z0-9_-], not '$vm'"
    [[ "$vm_mac" =~ ^([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}$ ]] || die "--vm: bad MAC '$vm_mac'"
    require_root
    ns_exists || die "--vm: lab namespace $DROVER_LAB_NS is not up (run lab.sh up)"
  elif [ "${#vm_opts[@]}" -gt 0 ]; then
    die "--vm-opts needs --vm"
  fi
  command -v ipmi_sim >/dev/null || need_pkgs openipmi
  dir="${dir:-$BMC_ROOT/$name}"
  mkdir -p "$dir/state"
  if pid_alive "$dir/ipmi_sim.pid"; then die "BMC $name already runs (pid $(pidfile_pid "$dir/ipmi_sim.pid"))"; fi
  rm -f "$dir/chassis.log"
  echo 0 >"$dir/power"
  echo none >"$dir/boot"
  printf '%s\n' "$port" >"$dir/port"
  printf '%s\n' "$addr" >"$dir/addr"
  printf '%s\n' "$user" >"$dir/user"
  printf '%s\n' "$pass" >"$dir/pass"
  printf '%s\n' "$netns" >"$dir/netns"
  rm -f "$dir/vm.env"
  if [ -n "$vm" ]; then
    # read by the chassis program (ipmi_sim's environment is not relied on)
    {
      printf 'VM_NAME=%q VM_MAC=%q\n' "$vm" "$vm_mac"
      printf 'VM_OPTS=(%s)\n' "$(printf '%q ' "${vm_opts[@]}")"
      printf 'export DROVER_LAB_NS=%q DROVER_LAB_BR=%q DROVER_LAB_IP=%q DROVER_LAB_WORK=%q DROVER_LAB_CACHE=%q\n' \
        "$DROVER_LAB_NS" "$DROVER_LAB_BR" "$DROVER_LAB_IP" "$DROVER_LAB_WORK" "$DROVER_LAB_CACHE"
    } >"$dir/vm.env.tmp"
    mv "$dir/vm.env.tmp" "$dir/vm.env"
  fi
  local guid solline=""
  guid="$(printf '%s' "$name" | md5sum | cut -c1-32)"
  # ipmi_sim's sol device: a TCP peer (the test's "serial line"); 115200 baud.
  [ -n "$sol" ] && solline="  sol \"tcp:$sol\" 115200"
  sed -e "s|@NAME@|$name|g" -e "s|@ADDR@|$addr|g" -e "s|@PORT@|$port|g" \
    -e "s|@USER@|$user|g" -e "s|@PASS@|$pass|g" -e "s|@GUID@|$guid|g" \
    -e "s|@CHASSIS@|$SELF chassis $dir|g" -e "s|@SOL@|$solline|g" \
    "$LAB_DIR/bmc-sim.lan.conf.in" >"$dir/lan.conf"
  cp "$LAB_DIR/bmc-sim.emu" "$dir/sim.emu"
  local pre=()
  [ -n "$netns" ] && pre=(ip netns exec "$netns")
  setsid "${pre[@]}" ipmi_sim -n -c "$dir/lan.conf" -f "$dir/sim.emu" -s "$dir/state" \
    </dev/null >>"$dir/ipmi_sim.log" 2>&1 &
  write_pidfile "$dir/ipmi_sim.pid" $!
  # wait for the UDP socket (ipmi_sim binds it after reading both files)
  local i
  for ((i = 0; i < 100; i++)); do
    pid_alive "$dir/ipmi_sim.pid" || die "BMC $name died: $(cat "$dir/ipmi_sim.log")"
    if "${pre[@]}" ss -Hlun "sport = :$port" | grep -q .; then
      log "BMC $name: ipmi_sim pid $(pidfile_pid "$dir/ipmi_sim.pid") on $addr:$port/udp ($dir)${vm:+, power = VM $vm ($vm_mac)}"
      pidfile_pid "$dir/ipmi_sim.pid"
      return 0
    fi
    sleep 0.1
  done
  stop_pidfile "$dir/ipmi_sim.pid" 2
  die "BMC $name: no UDP socket on $addr:$port after 10 s (see $dir/ipmi_sim.log)"
}

# bmc_dir NAME ARGS...: the state dir from --dir or the default; sets REST.
bmc_dir() {
  local name="$1"; shift
  DIR="$BMC_ROOT/$name" REST=()
  while [ $# -gt 0 ]; do
    case "$1" in
    --dir) DIR="$2"; shift 2 ;;
    *) REST+=("$1"); shift ;;
    esac
  done
}

case "${1:-}" in
start)
  [ $# -ge 3 ] || die "usage: $0 start NAME PORT [options]"
  name="$2" port="$3"; shift 3
  start_one "$name" "$port" "$@"
  ;;
stop)
  [ $# -ge 2 ] || die "usage: $0 stop NAME [--dir DIR]"
  bmc_dir "$2" "${@:3}"
  stop_pidfile "$DIR/ipmi_sim.pid" 3
  ;;
status)
  root="$BMC_ROOT"; [ "${2:-}" = --dir ] && root="$3"
  for d in "$root"/*/ "$root"/; do
    [ -f "$d/port" ] || continue
    if pid_alive "$d/ipmi_sim.pid"; then st="up pid $(pidfile_pid "$d/ipmi_sim.pid")"; else st=down; fi
    if [ -s "$d/vm.env" ]; then
      # shellcheck disable=SC1091
      pw="$(. "$d/vm.env"; if pid_alive "$DROVER_LAB_WORK/vms/$VM_NAME/qemu.pid"; then echo "1 vm=$VM_NAME"; else echo "0 vm=$VM_NAME"; fi)"
    else
      pw="$(cat "$d/power" 2>/dev/null)"
    fi
    echo "$(basename "$d") $(cat "$d/addr"):$(cat "$d/port") power=$pw boot=$(cat "$d/boot" 2>/dev/null || echo default) $st"
  done
  ;;
ipmi)
  [ $# -ge 2 ] || die "usage: $0 ipmi NAME [--dir DIR] ipmitool-args"
  bmc_dir "$2" "${@:3}"
  [ -f "$DIR/port" ] || die "no BMC in $DIR"
  pre=(); netns="$(cat "$DIR/netns")"; [ -n "$netns" ] && pre=(ip netns exec "$netns")
  exec "${pre[@]}" ipmitool -I lanplus -C 3 -H "$(cat "$DIR/addr")" -p "$(cat "$DIR/port")" \
    -U "$(cat "$DIR/user")" -P "$(cat "$DIR/pass")" "${REST[@]}"
  ;;
*) sed -n '2,53p' "$0" >&2; exit 2 ;;
esac
