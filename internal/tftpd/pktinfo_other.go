//go:build !linux

package tftpd

import "net"

// enablePacketInfo is a no-op outside Linux; the library enables packet
// info itself once it starts serving.
func enablePacketInfo(net.PacketConn) {}
