// Package container proves drover's container image and deployment files
// with real, rootful podman (issue 6, acceptance 1 and 4): `make image`
// (the offline path: host-built static binaries, the host's iPXE loaders,
// Containerfile.offline FROM scratch) builds the image into private podman
// storage; the tests then run it hardened (--read-only, --cap-drop=all
// --cap-add=NET_BIND_SERVICE,NET_RAW, no-new-privileges, uid 65532) in a
// network namespace of their own (198.18.60.0/30 on a veth, never podman's
// CNI network) and check /readyz from the host, the process's uid, groups
// and capabilities, the read-only root mount, that a new container on the
// same volume keeps the data, that an empty data directory with a restore/
// dump is restored on first start, and that `podman kube play
// deploy/kube/drover.yaml` brings the server up. The image size and the
// server's idle RSS are logged (bench/container.sh prints them too).
//
// Needs root, podman, runc, make, ip (iproute2), nsenter and the ipxe
// package; the tests skip, saying why, without root or podman. Everything
// they create (podman state in a temporary directory, the network
// namespace, containers, volumes, pods) is removed by name afterwards.
//
// Imports: the standard library and drover.dev/drover/internal/api only.
package container
