package ra

import (
	"net"

	"golang.org/x/sys/unix"
)

// bindToDevice makes the socket send and receive only on the named
// interface (SO_BINDTODEVICE).
func bindToDevice(c *net.IPConn, name string) error {
	raw, err := c.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	if err := raw.Control(func(fd uintptr) {
		serr = unix.SetsockoptString(int(fd), unix.SOL_SOCKET, unix.SO_BINDTODEVICE, name)
	}); err != nil {
		return err
	}
	return serr
}
