// Package e2e holds drover's end-to-end network boot test (issue 3,
// acceptance 1): it builds the drover binary, brings up the project's own
// QEMU lab (test/lab: network namespace, bridge, taps, QEMU -accel tcg with
// Debian's iPXE option ROM, the Debian cloud kernel and the report-in
// initramfs) and has `drover serve` alone answer DHCP, TFTP and HTTP boot
// for real firmware. The package has no code of its own; see boot_test.go (network boot) and power_test.go (rpower through ipmi_sim powering a VM).
//
// It needs root, /dev/net/tun, QEMU (qemu-system-x86, ipxe-qemu), ipxe,
// busybox-static and apt access for the kernel; without them the test
// skips and says which prerequisite is missing (.ci/run installs them).
// DROVER_E2E_KEEP=1 keeps the work directory (logs, serial consoles) even
// when the test passes; it is always kept when the test fails.
package e2e
