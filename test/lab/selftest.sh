#!/usr/bin/env bash
# selftest.sh - prove the lab works: exit 0 if a VM boots the Debian cloud
# kernel + our initramfs on the lab bridge and reports its MAC/UUID/serial.
#
# Steps: lab.sh up; fetch-kernel.sh; build-initramfs.sh; busybox udhcpd (bound
# to br0 only) and a tiny python3 HTTP report endpoint on $DROVER_LAB_IP:8080,
# both inside the netns; one VM booted directly (-kernel/-initrd/-append, no
# PXE); check the report (mac, uuid, serial, stage, token); stop everything by
# PID; lab.sh down.  Uses its own namespace (default drover-lab-selftest) so a
# lab someone else has up is left alone.  KEEP=1 keeps the work dir.
# Env: SELFTEST_TIMEOUT (s, default 180) for the report to arrive.
export DROVER_LAB_NS="${DROVER_LAB_NS:-drover-lab-selftest}"
source "$(dirname "$0")/lib.sh"
require_root
need_pkgs python3 busybox-static

LAB="$LAB_DIR"
st="$DROVER_LAB_WORK/selftest"
port=8080
vm=st1 mac=52:54:00:18:00:51 serial=DRV-SELFTEST-01 uuid=5e1f7e57-0000-4000-8000-525400180051
token=st$RANDOM$RANDOM
timeout_s="${SELFTEST_TIMEOUT:-180}"
ok=0

cleanup() {
  set +e
  "$LAB/vm.sh" stop "$vm" 2>/dev/null
  stop_pidfile "$DROVER_LAB_WORK/run/udhcpd.pid" 3
  stop_pidfile "$DROVER_LAB_WORK/run/report-http.pid" 3
  if [ "$ok" = 1 ] && [ "${KEEP:-0}" != 1 ]; then
    "$LAB/lab.sh" down --purge
  else
    "$LAB/lab.sh" down
    log "logs kept in $DROVER_LAB_WORK"
  fi
}
trap cleanup EXIT

"$LAB/lab.sh" up >/dev/null
mkdir -p "$st"
kdir="$("$LAB/fetch-kernel.sh")"
kernel="$(ls "$kdir"/boot/vmlinuz-* | head -n1)"
"$LAB/build-initramfs.sh" "$kdir" "$st/initrd.gz"

# --- DHCP: busybox udhcpd, bound to br0 in the lab netns only --------------
# (-a 100: its ARP probe of a free address otherwise delays every OFFER by 2 s)
: > "$st/udhcpd.leases"
cat > "$st/udhcpd.conf" <<CONF
start 198.18.0.100
end 198.18.0.200
interface $DROVER_LAB_BR
max_leases 101
lease_file $st/udhcpd.leases
pidfile $st/udhcpd.own-pidfile
option subnet 255.255.255.0
option lease 600
CONF
start_in_ns "$DROVER_LAB_WORK/run/udhcpd.pid" "$st/udhcpd.log" busybox udhcpd -f -a 100 "$st/udhcpd.conf"

# --- HTTP report endpoint ----------------------------------------------------
cat > "$st/report-server.py" <<'PY'
import http.server, json, sys, time, urllib.parse
bind, port, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n).decode("utf-8", "replace")
        u = urllib.parse.urlsplit(self.path)
        try:
            doc = json.loads(body)
        except ValueError:
            doc = None
        rec = {"t_ms": int(time.time() * 1000), "client": self.client_address[0],
               "path": u.path, "query": urllib.parse.parse_qs(u.query), "report": doc, "raw": body}
        with open(out, "a") as f:
            f.write(json.dumps(rec) + "\n")
        self.send_response(200); self.send_header("Content-Length", "3"); self.end_headers()
        self.wfile.write(b"ok\n")
    def log_message(self, fmt, *args):
        sys.stderr.write("%.3f %s %s\n" % (time.time(), self.client_address[0], fmt % args))
http.server.ThreadingHTTPServer((bind, port), H).serve_forever()
PY
: > "$st/reports.jsonl"
start_in_ns "$DROVER_LAB_WORK/run/report-http.pid" "$st/report-http.log" \
  python3 -u "$st/report-server.py" "$DROVER_LAB_IP" "$port" "$st/reports.jsonl"

listening() { in_ns ss -lnH "$@" 2>/dev/null | grep -q .; }
for ((i = 0; i < 50; i++)); do
  listening -u "sport = :67" && listening -t "sport = :$port" && break
  sleep 0.1
done
listening -u "sport = :67" || { cat "$st/udhcpd.log" >&2; die "udhcpd is not listening"; }
listening -t "sport = :$port" || { cat "$st/report-http.log" >&2; die "report server is not listening"; }
pid_alive "$DROVER_LAB_WORK/run/udhcpd.pid" || die "udhcpd died"

# --- the VM --------------------------------------------------------------------
t0="$(now_ms)"
"$LAB/vm.sh" start "$vm" "$mac" --serial "$serial" --uuid "$uuid" --mem 256 --bootdev disk -- \
  -kernel "$kernel" -initrd "$st/initrd.gz" \
  -append "console=ttyS0 quiet panic=-1 drover.report=http://$DROVER_LAB_IP:$port/report drover.token=$token"
for ((i = 0; i < timeout_s * 10; i++)); do
  [ -s "$st/reports.jsonl" ] && break
  "$LAB/vm.sh" status "$vm" >/dev/null || break
  sleep 0.1
done
t_report="$(now_ms)"
"$LAB/vm.sh" wait "$vm" 30 || true
t_off="$(now_ms)"
serial_log="$DROVER_LAB_WORK/vms/$vm/serial.log"
if [ ! -s "$st/reports.jsonl" ]; then
  tail -n 40 "$serial_log" >&2
  die "no report within ${timeout_s}s"
fi

# --- check the report -----------------------------------------------------------
python3 - "$st/reports.jsonl" "$mac" "$uuid" "$serial" "$token" <<'PY'
import json, sys
path, mac, uuid, serial, token = sys.argv[1:]
rec = json.loads(open(path).readline())
r = rec["report"] or {}
want = {"mac": mac, "uuid": uuid, "serial": serial, "stage": "booted"}
bad = [f"{k}={r.get(k)!r} want {v!r}" for k, v in want.items() if str(r.get(k, "")).lower() != v.lower()]
if rec["path"] != "/report": bad.append(f"path={rec['path']!r}")
if rec["query"].get("token") != [token]: bad.append(f"token={rec['query'].get('token')!r}")
ip = r.get("ip", "")
if not ip.startswith("198.18.0."): bad.append(f"ip={ip!r}")
print("report:", json.dumps(r))
if bad:
    print("MISMATCH:", "; ".join(bad)); sys.exit(1)
PY
grep -a 'drover-init:' "$serial_log" | sed 's/^/  guest: /' >&2 || true
log "timings: power-on -> report $(( t_report - t0 )) ms, power-on -> off $(( t_off - t0 )) ms (wall, TCG)"
ok=1
log "PASS"
