#!/usr/bin/env bash
# container.sh - issue 6 acceptance 4: drover's container image size and the
# server's idle RSS in the container. Prints figures, asserts nothing.
#
#   sudo bash bench/container.sh          # IDLE=10 (seconds after /readyz)
#
# What it does, all in private state removed afterwards:
#   * podman settings for this machine (runc, lowered ulimits, no default
#     network; /work/shared/testbed/podman-check.sh) and vfs storage in a
#     temporary directory, so no image or container of yours is touched;
#   * `make image` (the offline path: host-built static binaries, the host's
#     iPXE loaders, Containerfile.offline FROM scratch);
#   * image size: `podman image inspect --format {{.Size}}` and the byte
#     count of `podman save --format docker-archive` (uncompressed tar);
#   * runs the image hardened (--read-only, cap-drop all + NET_BIND_SERVICE,
#     NET_RAW, uid 65532) in a network namespace of its own (198.18.60.4/30
#     on a veth; test/container uses 198.18.60.0/30), waits for /readyz
#     from the host, idles IDLE seconds and prints VmRSS/VmHWM of the
#     container's main process.
# Targets: image <= 60 MB, idle RSS <= 50 MB. Needs root, podman, runc, make.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"
IDLE="${IDLE:-10}"
[ "$(id -u)" = 0 ] || { echo "run as root (rootful podman, ip netns)"; exit 1; }
for t in podman runc make ip curl go; do command -v "$t" >/dev/null || { echo "$t is missing"; exit 1; }; done

D="$(mktemp -d /tmp/drover-bench-container.XXXXXX)"
NS="drover-bc$$"
HOST_IF="dbc$$"
CT=drover-bench
cat >"$D/containers.conf" <<EOC
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]
netns = "none"
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
tmp_dir = "$D/tmp"
static_dir = "$D/libpod"
volume_path = "$D/volumes"
[network]
network_backend = "cni"
network_config_dir = "$D/cni"
EOC
cat >"$D/storage.conf" <<EOC
[storage]
driver = "vfs"
graphroot = "$D/storage"
runroot = "$D/run"
EOC
export CONTAINERS_CONF="$D/containers.conf" CONTAINERS_STORAGE_CONF="$D/storage.conf"
cleanup() {
  set +e
  podman rm -f --ignore "$CT" >/dev/null 2>&1
  podman volume rm -f "$CT" >/dev/null 2>&1
  ip netns del "$NS" 2>/dev/null
  rm -rf "$D"
}
trap cleanup EXIT

ip netns add "$NS"
ip link add "$HOST_IF" type veth peer name eth0 netns "$NS"
ip addr add 198.18.60.5/30 dev "$HOST_IF"
ip link set "$HOST_IF" up
ip -n "$NS" addr add 198.18.60.6/30 dev eth0
ip -n "$NS" link set eth0 up
ip -n "$NS" link set lo up

t0=$(date +%s)
make image DIST="$D/dist" VERSION=bench >"$D/make.log" 2>&1 || { tail -20 "$D/make.log"; exit 1; }
echo "make image: $(( $(date +%s) - t0 )) s"
size=$(podman image inspect --format '{{.Size}}' localhost/drover:dev)
tar=$(podman save --format docker-archive localhost/drover:dev | wc -c)
echo "image size (podman image inspect):      $size bytes ($(( size / 1000000 )) MB; target <= 60 MB)"
echo "uncompressed tar (podman save | wc -c): $tar bytes ($(( tar / 1000000 )) MB)"
echo "binaries: $(stat -c '%n %s' "$D"/dist/drover "$D"/dist/drover-agent | sed "s|$D/dist/||g" | paste -sd ' ')"

podman run -d --name "$CT" --network "ns:/run/netns/$NS" --read-only --read-only-tmpfs=false \
  --cap-drop=all --cap-add=NET_BIND_SERVICE,NET_RAW --security-opt no-new-privileges \
  --user 65532:65532 -v "$CT:/var/lib/drover" localhost/drover:dev >/dev/null
for _ in $(seq 150); do curl -sf -m 2 http://198.18.60.6:8780/readyz >/dev/null && break; sleep 0.2; done
curl -sf -m 2 http://198.18.60.6:8780/readyz >/dev/null || { podman logs "$CT"; exit 1; }
pid=$(podman inspect --format '{{.State.Pid}}' "$CT")
sleep "$IDLE"
echo "idle RSS ($IDLE s after /readyz): $(awk '/^VmRSS/{print $2, $3}' /proc/$pid/status) (peak $(awk '/^VmHWM/{print $2, $3}' /proc/$pid/status); target <= 50 MB)"
