package tftpd

import (
	"net"
	"syscall"
)

// enablePacketInfo turns on IP_PKTINFO / IPV6_RECVPKTINFO on conn so that
// requests queued before the library enables it still carry the interface
// (the library clamps blksize to that interface's MTU, or to 512 without it).
// Failures are ignored: the library falls back on its own.
func enablePacketInfo(conn net.PacketConn) {
	uc, ok := conn.(*net.UDPConn)
	if !ok {
		return
	}
	rc, err := uc.SyscallConn()
	if err != nil {
		return
	}
	_ = rc.Control(func(fd uintptr) {
		_ = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_IP, syscall.IP_PKTINFO, 1)
		_ = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_IPV6, syscall.IPV6_RECVPKTINFO, 1)
	})
}
