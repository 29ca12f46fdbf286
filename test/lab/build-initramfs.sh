#!/usr/bin/env bash
# build-initramfs.sh - build the tiny "report in and power off" initramfs.
#
#   build-initramfs.sh KERNEL_DIR OUT.cpio.gz
#
# KERNEL_DIR is the output of fetch-kernel.sh (has lib/modules/<kver>/).
# Contents: busybox-static, the NIC driver modules (default virtio_net; set
# INITRD_MODULES to change) with their dependencies (resolved with
# `modinfo -F depends`, loaded deps first: the .deb has no modules.dep), and an
# /init that
#   1. loads the modules and brings up the first NIC;
#   2. gets an address with udhcpc (vendor class "drover-initramfs");
#   3. POSTs {"mac","uuid","serial","ip","uptime","stage":"booted"} as JSON to
#      the URL in the kernel argument drover.report=URL, with "?token=T"
#      ("&token=T" if the URL has a query already) when drover.token=T is given;
#      uuid/serial are SMBIOS type 1 (/sys/class/dmi/id/product_{uuid,serial});
#   4. powers off (echo o > /proc/sysrq-trigger; QEMU exits).
#      drover.after=shell gives a console shell instead, drover.after=reboot reboots.
# Progress lines "drover-init: [UPTIME] ..." go to the console (serial log).
source "$(dirname "$0")/lib.sh"
[ $# -eq 2 ] || { sed -n '2,20p' "$0" >&2; exit 2; }
kdir="$(cd "$1" && pwd)"; out="$2"
need_pkgs busybox-static cpio kmod gzip xz-utils zstd

kver="$(ls "$kdir/lib/modules" 2>/dev/null | head -n1 || true)"
mroot="$kdir/lib/modules/$kver"
if [ -z "$kver" ] || [ ! -d "$mroot" ]; then die "no lib/modules/<kver> in $kdir"; fi

stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage"/{bin,dev,proc,sys,tmp,etc,lib/modules}
cp /bin/busybox "$stage/bin/busybox"

declare -A seen=()
order=()
modfile() { find "$mroot" \( -name "$1.ko" -o -name "$1.ko.xz" -o -name "$1.ko.zst" -o -name "$1.ko.gz" \) | head -n1; }
resolve() {
  local m="${1//-/_}" f d
  [ -n "${seen[$m]:-}" ] && return 0
  seen[$m]=1
  f="$(modfile "$m")"
  if [ -z "$f" ]; then
    # module names use _ but file names may use -
    f="$(modfile "${m//_/-}")"
  fi
  if [ -z "$f" ]; then
    grep -qE "/(${m}|${m//_/-})\.ko" "$mroot/modules.builtin" 2>/dev/null && return 0
    die "module $m not found for $kver"
  fi
  for d in $(/sbin/modinfo -F depends "$f" | tr ',' ' '); do resolve "$d"; done
  case "$f" in
    *.xz) xz -dc "$f" > "$stage/lib/modules/$m.ko" ;;
    *.zst) zstd -qdc "$f" > "$stage/lib/modules/$m.ko" ;;
    *.gz) gzip -dc "$f" > "$stage/lib/modules/$m.ko" ;;
    *) cp "$f" "$stage/lib/modules/$m.ko" ;;
  esac
  order+=("$m")
}
# virtio_pci is the transport virtio_net needs at run time but does not list
# as a symbol dependency, so it is named explicitly.
for m in ${INITRD_MODULES:-virtio_pci virtio_net}; do resolve "$m"; done
printf '%s\n' "${order[@]}" > "$stage/lib/modules/load.order"
log "modules (load order): ${order[*]}"

cat > "$stage/etc/udhcpc.script" <<'SCRIPT'
#!/bin/sh
# udhcpc hook: set the address only (the lab has no router).
case "$1" in
  deconfig) ip -4 addr flush dev "$interface"; ip link set "$interface" up ;;
  bound|renew)
    ip -4 addr flush dev "$interface"
    ip addr add "$ip/${mask:-24}" dev "$interface"
    echo "$ip" > /tmp/dhcp.ip; echo "${serverid:-}" > /tmp/dhcp.server ;;
esac
exit 0
SCRIPT

cat > "$stage/init" <<'SCRIPT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev 2>/dev/null
up() { cut -d' ' -f1 /proc/uptime; }
say() { echo "drover-init: [$(up)] $*" > /dev/console; }
# json-safe: drop quotes, backslashes and control characters
clean() { tr -d '"\\\000-\037' ; }
REPORT="" TOKEN="" AFTER=poweroff
for a in $(cat /proc/cmdline); do
  case "$a" in
    drover.report=*) REPORT="${a#drover.report=}" ;;
    drover.token=*) TOKEN="${a#drover.token=}" ;;
    drover.after=*) AFTER="${a#drover.after=}" ;;
  esac
done
finish() {
  case "$AFTER" in
    shell) say "shell (exit = power off)"; setsid cttyhack sh; echo o > /proc/sysrq-trigger ;;
    reboot) say "rebooting"; echo b > /proc/sysrq-trigger ;;
    *) say "powering off"; sync; echo o > /proc/sysrq-trigger ;;
  esac
  sleep 30
}
say "INIT-STARTED"
while read -r m; do
  insmod "/lib/modules/$m.ko" 2>/dev/null || say "insmod $m failed"
done < /lib/modules/load.order
IF=""
for i in $(seq 100); do
  for d in /sys/class/net/*; do
    n="${d##*/}"; [ "$n" = lo ] && continue; IF="$n"; break 2
  done
  sleep 0.05
done
[ -n "$IF" ] || { say "NO-NIC"; finish; }
ip link set "$IF" up
MAC="$(clean < /sys/class/net/$IF/address)"
UUID="$(clean < /sys/class/dmi/id/product_uuid 2>/dev/null)"
SERIAL="$(clean < /sys/class/dmi/id/product_serial 2>/dev/null)"
say "nic $IF mac $MAC uuid $UUID serial $SERIAL - DHCP"
if ! udhcpc -i "$IF" -n -q -t 20 -T 1 -V drover-initramfs -s /etc/udhcpc.script >/dev/null 2>&1; then
  say "DHCP-FAILED"; finish
fi
IP="$(cat /tmp/dhcp.ip)"
say "DHCP-OK ip $IP server $(cat /tmp/dhcp.server)"
if [ -n "$REPORT" ]; then
  URL="$REPORT"
  if [ -n "$TOKEN" ]; then
    case "$URL" in *\?*) URL="$URL&token=$TOKEN" ;; *) URL="$URL?token=$TOKEN" ;; esac
  fi
  BODY="{\"mac\":\"$MAC\",\"uuid\":\"$UUID\",\"serial\":\"$SERIAL\",\"ip\":\"$IP\",\"uptime\":\"$(up)\",\"stage\":\"booted\"}"
  ok=0
  for i in 1 2 3 4 5; do
    # Debian's busybox-static 1.35 `wget -T` segfaults: use `timeout` instead.
    if timeout 10 wget -q -O /tmp/report.out --header 'Content-Type: application/json' --post-data "$BODY" "$URL"; then
      ok=1; break
    fi
    sleep 1
  done
  if [ "$ok" = 1 ]; then say "REPORT-OK $REPORT"; else say "REPORT-FAILED $REPORT"; fi
else
  say "no drover.report= on the kernel command line"
fi
finish
SCRIPT
chmod 755 "$stage/init" "$stage/etc/udhcpc.script"

mkdir -p "$(dirname "$out")"
(cd "$stage" && find . -print0 | LC_ALL=C sort -z | cpio --null -o -H newc --quiet -R 0:0) | gzip -9n > "$out.tmp"
mv "$out.tmp" "$out"
log "initramfs: $out ($(du -h "$out" | cut -f1), kernel $kver)"
