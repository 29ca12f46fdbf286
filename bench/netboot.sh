#!/usr/bin/env bash
# netboot.sh - issue 3 benchmarks (acceptance item 5), each side by side with
# its reference in the same run.  Prints figures and a summary of the targets.
#
#   bench/netboot.sh [dhcp|vm|nodeset|all]...      (default: all)
#
# dhcp     perfdhcp DORA/s against drover and against Kea (kea-dhcp4 2.2,
#          memfile persist=true, 2 threads) as ../shared/testbed/dhcp-bench.sh
#          sets it up: netns drvb-srv (veth vsrv 198.19.0.1/16, the server) and
#          drvb-cli (vcli 198.19.0.2/16, perfdhcp -4 -l vcli -r RATE -R CLIENTS
#          -p PERIOD -W 500000 all), pool 198.19.1.0-198.19.255.254, a fresh
#          server with empty leases for every run.
#          Target: drover's best DORA/s among its runs with < 1 % drops (both
#          exchanges, no address handed out twice) >= 1.2 x Kea's best DORA/s
#          at any rate.  perfdhcp's Rate divides by PERIOD + 0.5 s, so a
#          loss-free run shows ~95 % of the offered rate.
# vm       one QEMU VM (TCG, the iPXE option ROM of ipxe-qemu), power-on ->
#          report, with the project's lab (test/lab, namespace drover-bench):
#            dnsmasq  the testbed's chain: dnsmasq DHCP+TFTP (boot.ipxe) + a
#                     static HTTP server (bench/lib/refhttp.py); IPv6 off
#            radvd    the same plus radvd on br0 (AdvDefaultLifetime 0, no
#                     prefix), IPv6 on in the namespace
#            drover   drover serve alone (DHCP, TFTP, HTTP, RA), configured per
#                     the boot-services contract; IPv6 on in the namespace
#          Power-on = the time vm.sh start launches qemu (vms/NAME/started_ms);
#          report = arrival of the initramfs' POST (references: refhttp.py's
#          log; drover: the http-report event of `drover events NODE -o json`).
#          VM_RUNS times each (interleaved), median and min/max.
#          Targets: drover <= 0.3 x dnsmasq and <= 1.05 x radvd (medians).
# nodeset  10,000 nodes (bench/gen) imported with `mkdef -z` into a fresh server;
#          wall time of `drover nodeset cn[000001-010000] osimage=IMG` through
#          the CLI and API, NODESET_RUNS times (each from state `boot`), median.
#          Target: <= 2 s.
#
# Environment:
#   RATES="1000 3000 5000 7000 9000 11000 13000 15000"  CLIENTS=10000  PERIOD=10  (dhcp)
#   CLIENT_RCVBUF=4194304   perfdhcp's receive buffer for the DHCP part (see below; 0 = as is)
#   VM_RUNS=3  VM_TIMEOUT=240  VM_VARIANTS="dnsmasq radvd drover"  (vm)
#   NODESET_NODES=10000  NODESET_RUNS=3                         (nodeset)
#   DHCP_SERVERS="kea drover"    which DHCP servers to run
#   DROVER_BIN=path              use this binary instead of building ./cmd/drover
#   BENCH_WORK=dir               logs there (default: a mktemp dir, removed after a
#                                passing run unless KEEP=1, kept on failure)
#
# Needs root (namespaces, QEMU taps).  Installs what it lacks with apt-get.
# Addresses: 198.19.0.0/16 (dhcp) and 198.18.0.0/24 (vm), only inside the
# namespaces this script creates; processes are stopped by their recorded PID.
# Run it on a quiet machine: client, server and VMs share the cores.
# Duration with the defaults on a quiet machine: dhcp ~3.5 min (16 perfdhcp runs),
# vm ~2.5 min (9 boots), nodeset ~15 s; all ~5-6 min plus the drover build.

BENCH_DIR="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$BENCH_DIR/.." && pwd)"
LAB="$ROOT/test/lab"
export DROVER_LAB_NS="${DROVER_LAB_NS:-drover-bench}"
# lib.sh: log, die, need_pkgs, pid files ("PID STARTTIME"), in_ns, now_ms.
source "$LAB/lib.sh"
require_root

parts=("$@")
[ ${#parts[@]} -gt 0 ] || parts=(all)
for p in "${parts[@]}"; do
  case "$p" in
    dhcp|vm|nodeset) ;;
    all) parts=(dhcp vm nodeset) ;;
    -h|--help|help) sed -n '2,/^$/{s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
    *) echo "usage: $0 [dhcp|vm|nodeset|all]..." >&2; exit 2 ;;
  esac
done

RATES="${RATES:-1000 3000 5000 7000 9000 11000 13000 15000}"
# perfdhcp takes the replies (it poses as a relay) on a UDP socket with the
# host's default receive buffer (net.core.rmem_default, 208 KiB here; not
# settable per namespace). Sharing 2 cores with the server, it overflows
# that buffer and counts its own overflow as server drops. The DHCP part
# raises the default to CLIENT_RCVBUF bytes for its duration (both servers
# alike; restored at exit) so the load generator is not the bottleneck;
# CLIENT_RCVBUF=0 keeps the host's setting. The cli-rcvbuf column counts
# the replies the client's socket dropped.
CLIENT_RCVBUF="${CLIENT_RCVBUF:-4194304}"
saved_rmem_default=""
CLIENTS="${CLIENTS:-10000}"
PERIOD="${PERIOD:-10}"
DHCP_SERVERS="${DHCP_SERVERS:-kea drover}"
VM_RUNS="${VM_RUNS:-3}"
VM_TIMEOUT="${VM_TIMEOUT:-240}"
VM_VARIANTS="${VM_VARIANTS:-dnsmasq radvd drover}"
NODESET_NODES="${NODESET_NODES:-10000}"
NODESET_RUNS="${NODESET_RUNS:-3}"

SRV=drvb-srv CLI=drvb-cli
own_work=0
if [ -n "${BENCH_WORK:-}" ]; then W="$BENCH_WORK"; mkdir -p "$W"
else W="$(mktemp -d /tmp/drover-netboot-bench.XXXXXX)"; own_work=1; fi
W="$(cd "$W" && pwd)"
mkdir -p "$W/pids"
summary=()   # "target|measured|PASS/FAIL"
failed=0
lab_up=0 dhcp_ns=0

# ---------------------------------------------------------------- helpers ---

# bg PIDNAME LOG CMD...: start CMD detached, record its PID in $W/pids/PIDNAME.pid.
bg() {
  local name="$1" logf="$2"; shift 2
  setsid "$@" </dev/null >>"$logf" 2>&1 &
  write_pidfile "$W/pids/$name.pid" $!
}
stop() { stop_pidfile "$W/pids/$1.pid" "${2:-5}"; }
alive() { pid_alive "$W/pids/$1.pid"; }

cleanup() {
  local rc=$?
  set +e
  [ "$lab_up" = 1 ] && "$LAB/vm.sh" stop bn1 >/dev/null 2>&1
  for f in "$W"/pids/*.pid; do [ -e "$f" ] && stop_pidfile "$f" 3; done
  if [ "$dhcp_ns" = 1 ]; then ip netns del "$SRV" 2>/dev/null; ip netns del "$CLI" 2>/dev/null; fi
  [ -n "$saved_rmem_default" ] && sysctl -qw net.core.rmem_default="$saved_rmem_default"
  [ "$lab_up" = 1 ] && "$LAB/lab.sh" down --purge >/dev/null 2>&1
  if [ "$own_work" = 1 ] && [ "$rc" = 0 ] && [ "$failed" = 0 ] && [ "${KEEP:-0}" != 1 ]; then
    rm -rf "$W"
  else
    log "logs kept in $W"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

drover_bin() {
  if [ -n "${DROVER_BIN:-}" ]; then echo "$DROVER_BIN"; return; fi
  if [ ! -x "$W/drover" ]; then
    log "building drover"
    (cd "$ROOT" && CGO_ENABLED=0 go build -o "$W/drover" ./cmd/drover) >&2
  fi
  echo "$W/drover"
}

# stats V...: "median min max" of the numbers given (two decimals).
stats() {
  [ $# -gt 0 ] || { echo "- - -"; return; }
  printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END {
    if (NR == 0) { print "- - -"; exit }
    m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
    printf "%.2f %.2f %.2f\n", m, v[1], v[NR] }'
}
verdict() { awk -v a="$1" -v op="$2" -v b="$3" 'BEGIN {
  if (a == "" || b == "" || a == "-" || b == "-") { print "FAIL"; exit }
  ok = (op == "<=") ? (a + 0 <= b + 0) : (a + 0 >= b + 0); print ok ? "PASS" : "FAIL" }'; }
add_summary() { summary+=("$1|$2|$3"); [ "$3" = PASS ] || failed=1; }

# drover_serve NS PIDNAME DATA PORT [ARGS...]: start `drover serve` inside NS
# (or on the host with NS=-), wait for /readyz; sets DRV (CLI runner prefix).
drover_serve() {
  local ns="$1" name="$2" data="$3" port="$4"; shift 4
  local bin pre=()
  bin="$(drover_bin)"
  [ "$ns" = - ] || pre=(ip netns exec "$ns")
  rm -rf "$data"; mkdir -p "$data"
  bg "$name" "$data.log" "${pre[@]}" "$bin" serve --data "$data" --listen "127.0.0.1:$port" \
    --no-client-config --log-level "${DROVER_LOG_LEVEL:-warn}" "$@"
  local i
  for ((i = 0; i < 300; i++)); do
    [ -s "$data/admin.token" ] && "${pre[@]}" curl -sf "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
    alive "$name" || { tail -n 20 "$data.log" >&2; die "drover serve exited"; }
    sleep 0.1
  done
  [ -s "$data/admin.token" ] || { tail -n 20 "$data.log" >&2; die "drover serve not ready"; }
  DRV=("${pre[@]}" env DROVER_URL="http://127.0.0.1:$port" DROVER_TOKEN="$(cat "$data/admin.token")"
       DROVER_CONFIG="$W/no-client-config" "$bin")
}
drv() { "${DRV[@]}" "$@"; }

udp_bound() { ip netns exec "$1" ss -Hlun "sport = :$2" 2>/dev/null | grep -q .; }
tcp_bound() { ip netns exec "$1" ss -Hltn "sport = :$2" 2>/dev/null | grep -q .; }
wait_udp() {  # wait_udp NS PORT SECONDS
  local i
  for ((i = 0; i < $3 * 10; i++)); do udp_bound "$1" "$2" && return 0; sleep 0.1; done
  return 1
}

# ------------------------------------------------------------------- dhcp ---

# perf_fields FILE: "DORA/s DO-drop% RA-drop% DO-avg RA-avg DO-max RA-max NONUNIQUE"
# (delays in ms; NONUNIQUE = addresses perfdhcp saw handed out twice).
perf_fields() {
  awk '
    /^Rate:/ { rate = $2 }
    /drops ratio:/ { d[++nd] = $3 }
    /avg delay:/ { a[++na] = $3 }
    /max delay:/ { x[++nx] = $3 }
    /non unique addresses:/ { nu += $4 }
    END {
      if (rate == "") rate = "ERR"
      printf "%s %s %s %s %s %s %s %d\n", rate, (nd >= 1 ? d[1] : "-"), (nd >= 2 ? d[2] : "-"),
        (na >= 1 ? a[1] : "-"), (na >= 2 ? a[2] : "-"), (nx >= 1 ? x[1] : "-"), (nx >= 2 ? x[2] : "-"), nu
    }' "$1"
}

# cli_rcvbuf_errors: UDP receive-buffer overflows in the client namespace so far.
cli_rcvbuf_errors() {
  ip netns exec "$CLI" awk '/^Udp:/ { n++; if (n == 1) for (i = 1; i <= NF; i++) c[$i] = i; else { print $c["RcvbufErrors"]; exit } }' /proc/net/snmp
}

dhcp_setup() {
  need_pkgs kea-admin kea-dhcp4-server iproute2 curl
  for n in "$SRV" "$CLI"; do
    [ -e "/run/netns/$n" ] && die "netns $n exists already (another run of this script?)"
  done
  dhcp_ns=1
  ip netns add "$SRV"
  ip netns add "$CLI"
  ip -n "$SRV" link add vsrv type veth peer name vcli netns "$CLI"
  ip -n "$SRV" addr add 198.19.0.1/16 dev vsrv
  ip -n "$CLI" addr add 198.19.0.2/16 dev vcli
  for n in "$SRV" "$CLI"; do
    ip -n "$n" link set lo up
    ip netns exec "$n" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
  done
  ip -n "$SRV" link set vsrv up
  ip -n "$CLI" link set vcli up
}

dhcp_start() {  # dhcp_start kea|drover RUNDIR
  local v="$1" run="$2"
  rm -rf "$run"; mkdir -p "$run"
  case "$v" in
    kea)
      cat > "$run/kea.json" <<EOF
{ "Dhcp4": {
    "interfaces-config": { "interfaces": [ "vsrv" ], "dhcp-socket-type": "raw" },
    "lease-database": { "type": "memfile", "persist": true, "name": "$run/leases.csv", "lfc-interval": 0 },
    "valid-lifetime": 3600, "renew-timer": 900, "rebind-timer": 1800,
    "authoritative": true,
    "multi-threading": { "enable-multi-threading": true, "thread-pool-size": 2, "packet-queue-size": 64 },
    "subnet4": [ { "id": 1, "subnet": "198.19.0.0/16",
                   "pools": [ { "pool": "198.19.1.0 - 198.19.255.254" } ] } ],
    "loggers": [ { "name": "kea-dhcp4",
                   "output_options": [ { "output": "$run/kea.log" } ], "severity": "WARN" } ]
} }
EOF
      # kea -t inside the namespace: vsrv exists only there.
      KEA_PIDFILE_DIR="$run" KEA_LOCKFILE_DIR="$run" ip netns exec "$SRV" kea-dhcp4 -t "$run/kea.json" >"$run/kea-t.out" 2>&1 \
        || { cat "$run/kea-t.out" >&2; die "kea-dhcp4 -t rejected the config"; }
      # KEA_*_DIR: kea's pid and lock files go to the run dir, not /run/kea.
      bg dhcpsrv "$run/server.out" env KEA_PIDFILE_DIR="$run" KEA_LOCKFILE_DIR="$run" \
        ip netns exec "$SRV" kea-dhcp4 -c "$run/kea.json"
      ;;
    drover)
      drover_serve "$SRV" dhcpsrv "$run/data" 8780
      drv chdef -t site dhcpinterfaces=vsrv master=198.19.0.1 >>"$run/cli.log" 2>&1 \
        || { cat "$run/cli.log" >&2; die "drover chdef site failed"; }
      drv mkdef -t network -o bench net=198.19.0.0 mask=255.255.0.0 mgtifname=vsrv \
        dynamicrange=198.19.1.0-198.19.255.254 ra=0 >>"$run/cli.log" 2>&1 \
        || { cat "$run/cli.log" >&2; die "drover mkdef network failed"; }
      ;;
  esac
  wait_udp "$SRV" 67 15 || { tail -n 20 "$run"/*.log "$run/server.out" 2>/dev/null >&2; die "$v: nothing bound to udp/67"; }
  alive dhcpsrv || { tail -n 20 "$run/server.out" >&2; die "$v died"; }
}

part_dhcp() {
  echo
  echo "== DHCP: perfdhcp DORA/s, drover vs Kea (memfile persist=true, MT 2 threads) =="
  echo "   perfdhcp -4 -l vcli -r RATE -R $CLIENTS -p $PERIOD -W 500000 all; $(nproc) cores shared by client and server"
  dhcp_setup
  echo "   kea-dhcp4 $(kea-dhcp4 -v 2>/dev/null); perfdhcp from kea-admin $(dpkg-query -W -f='${Version}' kea-admin)"
  if [ "${CLIENT_RCVBUF:-0}" -gt 0 ]; then
    saved_rmem_default="$(sysctl -n net.core.rmem_default)"
    sysctl -qw net.core.rmem_default="$CLIENT_RCVBUF"
    echo "   client receive buffer: net.core.rmem_default $saved_rmem_default -> $CLIENT_RCVBUF for this part (CLIENT_RCVBUF)"
  fi
  local res="$W/dhcp.txt" v r out f before after
  : > "$res"
  printf '%-7s %7s %9s %8s %8s %9s %9s %9s %9s %7s %10s\n' server offered "DORA/s" "DO-drop%" "RA-drop%" \
    "DO-avg-ms" "RA-avg-ms" "DO-max-ms" "RA-max-ms" "dup-IP" "cli-rcvbuf"
  for r in $RATES; do
    for v in $DHCP_SERVERS; do
      dhcp_start "$v" "$W/dhcp-$v-$r"
      out="$W/dhcp-$v-$r/perfdhcp.txt"
      before="$(cli_rcvbuf_errors)"
      timeout $((PERIOD + 30)) ip netns exec "$CLI" perfdhcp -4 -l vcli -r "$r" -R "$CLIENTS" -p "$PERIOD" -W 500000 all \
        >"$out" 2>&1 || true
      after="$(cli_rcvbuf_errors)"
      stop dhcpsrv 5
      f="$(perf_fields "$out")"
      echo "$v $r $f" >> "$res"
      # shellcheck disable=SC2086
      printf '%-7s %7s %9s %8s %8s %9s %9s %9s %9s %7s %10s\n' "$v" "$r" $f "$((after - before))"
    done
  done
  ip netns del "$SRV"; ip netns del "$CLI"; dhcp_ns=0
  if [ -n "$saved_rmem_default" ]; then
    sysctl -qw net.core.rmem_default="$saved_rmem_default"; saved_rmem_default=""
  fi
  # per-rate ratio, then the target: drover's best DORA/s among its runs
  # with < 1 % drops (DISCOVER-OFFER and REQUEST-ACK) vs Kea's best at any rate.
  echo
  awk '
    { rate[$1 " " $2] = $3; if (!seen[$2]++) order[++n] = $2 }
    END {
      printf "ratio drover/kea DORA/s:"
      for (i = 1; i <= n; i++) {
        r = order[i]; k = rate["kea " r]; d = rate["drover " r]
        if (k + 0 > 0 && d != "" && d != "ERR") printf "  %s/s: %.2f", r, d / k; else printf "  %s/s: -", r
      }
      print ""
    }' "$res"
  local kbest dbest
  kbest="$(awk '$1 == "kea" && $3 != "ERR" && $3 + 0 > b { b = $3 + 0 } END { printf "%.0f", b }' "$res")"
  dbest="$(awk '$1 == "drover" && $3 != "ERR" && $4 != "-" && $4 + 0 < 1 && $5 + 0 < 1 && $10 + 0 == 0 && $3 + 0 > b { b = $3 + 0 } END { printf "%.0f", b }' "$res")"
  echo "kea best DORA/s (any drops): $kbest; drover best DORA/s with < 1 % drops: $dbest"
  case " $DHCP_SERVERS " in *" kea "*) ;; *) return 0 ;; esac
  case " $DHCP_SERVERS " in *" drover "*) ;; *) return 0 ;; esac
  local need
  need="$(awk -v k="$kbest" 'BEGIN { printf "%.0f", 1.2 * k }')"
  add_summary "DHCP DORA/s: drover (<1 % drops) >= 1.2 x Kea ($need)" \
    "$dbest vs Kea $kbest ($(awk -v d="$dbest" -v k="$kbest" 'BEGIN { if (k > 0) printf "%.2f x", d / k; else print "-" }'))" \
    "$(verdict "$dbest" '>=' "$need")"
}

# --------------------------------------------------------------------- vm ---

VM=bn1 VM_MAC=52:54:00:18:00:61 VM_IP=198.18.0.61
IP="$DROVER_LAB_IP"

# ipv6_ns on|off: IPv6 in the lab namespace, br0 included (link-local only, as
# lab.sh does with DROVER_LAB_IPV6=1); taps made later inherit "default".
ipv6_ns() {
  local d=1; [ "$1" = on ] && d=0
  in_ns sysctl -qw net.ipv6.conf.all.disable_ipv6=$d net.ipv6.conf.default.disable_ipv6=$d \
    "net.ipv6.conf.$DROVER_LAB_BR.disable_ipv6=$d"
}

vm_setup() {
  need_pkgs qemu-system-x86 ipxe-qemu ipxe dnsmasq-base radvd python3 curl
  [ -e "/run/netns/$DROVER_LAB_NS" ] && die "netns $DROVER_LAB_NS exists already (another run of this script?)"
  lab_up=1
  "$LAB/lab.sh" up >/dev/null
  local kdir
  kdir="$("$LAB/fetch-kernel.sh")"
  KERNEL="$(ls "$kdir"/boot/vmlinuz-* | head -n1)"
  INITRD="$W/vm/initrd.gz"
  mkdir -p "$W/vm"
  "$LAB/build-initramfs.sh" "$kdir" "$INITRD" 2>>"$W/vm/build.log"
  KCMD="console=ttyS0 quiet loglevel=3"
}

# vm_servers VARIANT RUNDIR: start the servers of one variant; sets REPORTS
# (reference report log) for the references.
vm_servers() {
  local v="$1" run="$2"
  rm -rf "$run"; mkdir -p "$run"
  case "$v" in
    dnsmasq|radvd)
      if [ "$v" = radvd ]; then ipv6_ns on; else ipv6_ns off; fi
      mkdir -p "$run/tftp" "$run/www"
      ln -s "$KERNEL" "$run/www/vmlinuz"
      ln -s "$INITRD" "$run/www/initrd.gz"
      cat > "$run/tftp/boot.ipxe" <<EOF
#!ipxe
echo bench: \${net0/mac} got \${net0/ip} from \${net0/dhcp-server}, fetching kernel over HTTP
kernel http://$IP:8080/vmlinuz $KCMD drover.report=http://$IP:8080/report
initrd http://$IP:8080/initrd.gz
boot
EOF
      REPORTS="$run/reports.jsonl"; : > "$REPORTS"
      # As ../shared/testbed/ref-servers.sh runs it: iPXE tagged by user class,
      # boot.ipxe over TFTP, option 175.176 (no ProxyDHCP wait), --no-ping.
      bg dnsmasq "$run/dnsmasq.stderr" ip netns exec "$DROVER_LAB_NS" dnsmasq --keep-in-foreground \
        --conf-file=/dev/null --port=0 --pid-file= --user=root --group=root \
        --interface="$DROVER_LAB_BR" --bind-interfaces \
        --dhcp-range=198.18.0.100,198.18.0.250,255.255.255.0,1h \
        --dhcp-authoritative --dhcp-leasefile="$run/dnsmasq.leases" \
        --dhcp-option=option:router \
        --dhcp-userclass=set:ipxe,iPXE --dhcp-boot=tag:ipxe,boot.ipxe \
        --dhcp-option=tag:ipxe,encap:175,176,1b --no-ping \
        --enable-tftp --tftp-root="$run/tftp" \
        --log-dhcp --log-facility="$run/dnsmasq.log"
      bg refhttp "$run/http.log" ip netns exec "$DROVER_LAB_NS" python3 "$BENCH_DIR/lib/refhttp.py" \
        --bind "$IP" --port 8080 --root "$run/www" --reports "$REPORTS"
      if [ "$v" = radvd ]; then
        cat > "$run/radvd.conf" <<EOF
interface $DROVER_LAB_BR {
    AdvSendAdvert on;
    AdvDefaultLifetime 0;
    MinRtrAdvInterval 3;
    MaxRtrAdvInterval 10;
};
EOF
        bg radvd "$run/radvd.log" ip netns exec "$DROVER_LAB_NS" radvd -n -C "$run/radvd.conf" \
          -p "$run/radvd.own-pid" -m stderr -d 1
      fi
      local i
      for ((i = 0; i < 100; i++)); do
        udp_bound "$DROVER_LAB_NS" 67 && udp_bound "$DROVER_LAB_NS" 69 && tcp_bound "$DROVER_LAB_NS" 8080 && break
        sleep 0.1
      done
      udp_bound "$DROVER_LAB_NS" 67 && tcp_bound "$DROVER_LAB_NS" 8080 \
        || { tail "$run"/*.log "$run"/*.stderr >&2; die "$v: reference servers did not come up"; }
      if [ "$v" = radvd ]; then
        sleep 0.5; alive radvd || { cat "$run/radvd.log" >&2; die "radvd died"; }
      fi
      ;;
    drover)
      ipv6_ns on
      drover_serve "$DROVER_LAB_NS" drover "$run/data" 8780
      {
        drv chdef -t site dhcpinterfaces="$DROVER_LAB_BR" master="$IP"
        drv mkdef -t network -o lab net=198.18.0.0 mask=255.255.255.0 mgtifname="$DROVER_LAB_BR" \
          dynamicrange=198.18.0.100-198.18.0.200
        drv mkdef -t boottarget -o bench kernel="$KERNEL" initrd="$INITRD" kcmdline="$KCMD"
        drv mkdef -t osimage -o benchimg provmethod=boottarget boottarget=bench
        drv mkdef -t node "$VM" groups=all mac="$VM_MAC" ip="$VM_IP"
        drv nodeset "$VM" osimage=benchimg
      } >>"$run/cli.log" 2>&1 || { cat "$run/cli.log" >&2; die "drover configuration failed"; }
      local i
      for ((i = 0; i < 150; i++)); do
        udp_bound "$DROVER_LAB_NS" 67 && udp_bound "$DROVER_LAB_NS" 69 && tcp_bound "$DROVER_LAB_NS" 80 && break
        sleep 0.1
      done
      udp_bound "$DROVER_LAB_NS" 67 && udp_bound "$DROVER_LAB_NS" 69 && tcp_bound "$DROVER_LAB_NS" 80 || {
        in_ns ss -Hlntu >&2; tail -n 30 "$run/data.log" >&2; die "drover: DHCP/TFTP/HTTP not bound on the lab"; }
      ;;
  esac
}

vm_stop_servers() { stop radvd 3; stop refhttp 3; stop dnsmasq 3; stop drover 5; }

# vm_run VARIANT RUNDIR: one boot; sets VM_RESULT to the seconds from power-on
# to report, or FAIL.
vm_run() {
  local v="$1" run="$2" t0 trep=""
  VM_RESULT=FAIL
  vm_servers "$v" "$run"
  rm -rf "${DROVER_LAB_WORK:?}/vms/$VM"
  "$LAB/vm.sh" start "$VM" "$VM_MAC" >>"$run/vm.log" 2>&1 || { cat "$run/vm.log" >&2; die "vm.sh start failed"; }
  t0="$(cat "$DROVER_LAB_WORK/vms/$VM/started_ms")"
  # The initramfs reports, then powers off: wait for qemu to exit, then read
  # the report's arrival time (no polling load on the CPU during the boot).
  "$LAB/vm.sh" wait "$VM" "$VM_TIMEOUT" >>"$run/vm.log" 2>&1 || log "$v: VM still on after ${VM_TIMEOUT}s"
  "$LAB/vm.sh" stop "$VM" >>"$run/vm.log" 2>&1 || true
  cp "$DROVER_LAB_WORK/vms/$VM/serial.log" "$run/serial.log" 2>/dev/null || true
  case "$v" in
    dnsmasq|radvd)
      trep="$(python3 - "$REPORTS" "$VM_MAC" <<'PY' || true
import json, sys
for l in open(sys.argv[1]):
    r = json.loads(l); b = r.get("body")
    if isinstance(b, dict) and b.get("stage") == "booted" and b.get("mac", "").lower() == sys.argv[2]:
        print(r["t_ms"]); break
PY
)"
      ;;
    drover)
      drv events "$VM" -o json >"$run/events.json" 2>"$run/events.err" || true
      python3 - "$run/events.json" "$t0" >"$run/timeline.txt" 2>>"$run/events.err" <<'PY' || true
import json, re, sys
from datetime import datetime
def ms(s):
    s = re.sub(r"(\.\d{6})\d+", r"\1", s.replace("Z", "+00:00"))
    return int(datetime.fromisoformat(s).timestamp() * 1000)
evs = json.load(open(sys.argv[1])) or []
t0 = int(sys.argv[2])
rep = None
for e in evs:
    t = ms(e["time"])
    print("  %+8.2f s  %-14s %s %s" % ((t - t0) / 1000, e.get("kind", ""), e.get("detail", ""),
          ("REFUSED: " + e["reason"]) if e.get("reason") else ""))
    if e.get("kind") == "http-report" and not e.get("reason") and rep is None:
        rep = t
if rep is not None:
    print("report_ms=%d" % rep)
PY
      trep="$(sed -n 's/^report_ms=//p' "$run/timeline.txt")"
      ;;
  esac
  vm_stop_servers
  if [ -z "$trep" ]; then
    log "$v: no report; serial log tail:"; tail -n 15 "$run/serial.log" >&2 || true
    if [ "$v" = drover ]; then cat "$run/timeline.txt" "$run/events.err" >&2 2>/dev/null || true; fi
    return 0
  fi
  VM_RESULT="$(awk -v a="$t0" -v b="$trep" 'BEGIN { printf "%.2f", (b - a) / 1000 }')"
}

part_vm() {
  echo
  echo "== VM cycle power-on -> report: one VM, QEMU TCG, iPXE ROM ($VM_RUNS runs each) =="
  vm_setup
  echo "   $(dnsmasq --version | head -n1 | cut -d' ' -f1-3); radvd $(dpkg-query -W -f='${Version}' radvd);" \
    "qemu $(dpkg-query -W -f='${Version}' qemu-system-x86); ipxe-qemu $(dpkg-query -W -f='${Version}' ipxe-qemu)"
  echo "   kernel $(basename "$KERNEL"), initramfs $(du -h "$INITRD" | cut -f1), VM 512 MiB, virtio-net"
  declare -A times=()
  local i v s
  for ((i = 1; i <= VM_RUNS; i++)); do
    # rotate the order so a slow stretch of the machine does not hit one variant
    local vs n j
    read -r -a vs <<<"$VM_VARIANTS"
    n=${#vs[@]}
    for ((j = 0; j < n; j++)); do
      v="${vs[$(((i - 1 + j) % n))]}"
      vm_run "$v" "$W/vm/$v-$i"; s="$VM_RESULT"
      printf '  run %d %-8s %s s\n' "$i" "$v" "$s"
      times[$v]="${times[$v]:-} $s"
    done
  done
  echo
  printf '%-9s %8s %8s %8s  %s\n' variant median min max "runs (s)"
  declare -A med=()
  for v in $VM_VARIANTS; do
    local ok=() bad=0 x st
    for x in ${times[$v]}; do if [ "$x" = FAIL ]; then bad=$((bad + 1)); else ok+=("$x"); fi; done
    st="$(stats "${ok[@]}")"
    # shellcheck disable=SC2086
    printf '%-9s %8s %8s %8s  %s\n' "$v" $st "${times[$v]# }"
    if [ "$bad" -gt 0 ] || [ ${#ok[@]} -eq 0 ]; then med[$v]=-; else med[$v]="${st%% *}"; fi
  done
  local d="${med[drover]:-}" dn="${med[dnsmasq]:-}" rd="${med[radvd]:-}" lim
  if [ -s "$W/vm/drover-$VM_RUNS/timeline.txt" ]; then
    echo; echo "drover boot timeline (last run, s after power-on):"
    grep -v '^report_ms=' "$W/vm/drover-$VM_RUNS/timeline.txt"
  fi
  if [ -n "$dn" ] && [ -n "$d" ]; then
    lim="$(awk -v b="$dn" 'BEGIN { if (b == "-") print "-"; else printf "%.2f", 0.3 * b }')"
    add_summary "VM power-on->report: drover <= 0.3 x dnsmasq chain ($lim s)" "$d s vs $dn s" "$(verdict "$d" '<=' "$lim")"
  fi
  if [ -n "$rd" ] && [ -n "$d" ]; then
    lim="$(awk -v b="$rd" 'BEGIN { if (b == "-") print "-"; else printf "%.2f", 1.05 * b }')"
    add_summary "VM power-on->report: drover <= 1.05 x dnsmasq+radvd ($lim s)" "$d s vs $rd s" "$(verdict "$d" '<=' "$lim")"
  fi
}

# ---------------------------------------------------------------- nodeset ---

part_nodeset() {
  echo
  echo "== nodeset of $NODESET_NODES nodes through the CLI and API (fresh server, SQLite) =="
  local d="$W/nodeset" n last range i t0 t1 ts=() port
  mkdir -p "$d"
  n="$NODESET_NODES"
  last="$(printf '%06d' "$n")"
  range="cn[000001-$last]"
  (cd "$ROOT" && go run ./bench/gen -nodes "$n" -groups $(((n + 99) / 100))) >"$d/inv.stanza"
  port=$((20000 + RANDOM % 20000))
  drover_serve - nodeset "$d/data" "$port"
  {
    drv mkdef -t boottarget -o bench kernel=/boot/vmlinuz initrd=/boot/initrd.gz kcmdline=console=ttyS0
    drv mkdef -t osimage -o benchimg provmethod=boottarget boottarget=bench
  } >>"$d/cli.log" 2>&1 || { cat "$d/cli.log" >&2; die "mkdef boottarget/osimage failed"; }
  t0="$(date +%s.%N)"
  drv mkdef -z <"$d/inv.stanza" >>"$d/cli.log" 2>&1 || { tail -n 5 "$d/cli.log" >&2; die "mkdef -z failed"; }
  t1="$(date +%s.%N)"
  echo "import (mkdef -z): $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }') s"
  for ((i = 1; i <= NODESET_RUNS; i++)); do
    drv nodeset "$range" boot >"$d/reset-$i.out" 2>&1 || { tail -n 5 "$d/reset-$i.out" >&2; die "nodeset boot failed"; }
    t0="$(date +%s.%N)"
    drv nodeset "$range" osimage=benchimg >"$d/nodeset-$i.out" 2>&1 || { tail -n 5 "$d/nodeset-$i.out" >&2; die "nodeset failed"; }
    t1="$(date +%s.%N)"
    ts+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')")
    printf '  run %d: nodeset %s osimage=benchimg  %s s  (%s lines of output)\n' "$i" "$range" "${ts[-1]}" "$(wc -l <"$d/nodeset-$i.out")"
  done
  # check the state really changed on every node
  local set
  set="$(drv lsdef -t node "$range" -i currstate 2>/dev/null | grep -c 'currstate=.*benchimg' || true)"
  echo "  nodes whose currstate names benchimg afterwards: $set of $n"
  stop nodeset 5
  local st med
  st="$(stats "${ts[@]}")"; med="${st%% *}"
  echo "  median / min / max: $st s"
  local res; res="$(verdict "$med" '<=' 2)"
  [ "$set" = "$n" ] || res=FAIL
  add_summary "nodeset of $n nodes <= 2 s (median of $NODESET_RUNS)" "$med s" "$res"
}

# ------------------------------------------------------------------- main ---

log "work dir $W; load average: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) cores"
bin="$(drover_bin)"   # build first, so no build runs during a measurement
rev="$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"
git -C "$ROOT" diff --quiet HEAD 2>/dev/null || rev="$rev+uncommitted changes"
echo "drover: $bin ($("$bin" version 2>/dev/null | head -n1); tree $rev)"
for p in "${parts[@]}"; do "part_$p"; done

echo
echo "== summary =="
printf '%-62s %-28s %s\n' target measured result
for s in "${summary[@]}"; do
  IFS='|' read -r a b c <<<"$s"
  printf '%-62s %-28s %s\n' "$a" "$b" "$c"
done
exit "$failed"
