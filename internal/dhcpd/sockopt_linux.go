//go:build linux

package dhcpd

import (
	"net"
	"syscall"

	"golang.org/x/sys/unix"
)

// noLoopback turns off the local copy Linux makes of every broadcast the
// socket sends (IP_MULTICAST_LOOP also governs broadcast): nothing on the
// server listens for its own replies. Best effort.
func noLoopback(conn net.PacketConn) {
	sc, ok := conn.(syscall.Conn)
	if !ok {
		return
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return
	}
	_ = rc.Control(func(fd uintptr) {
		_ = unix.SetsockoptInt(int(fd), unix.IPPROTO_IP, unix.IP_MULTICAST_LOOP, 0)
	})
}
