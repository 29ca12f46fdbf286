//go:build !linux

package ra

import (
	"errors"
	"net"
)

// bindToDevice is Linux-only; elsewhere Serve fails.
func bindToDevice(*net.IPConn, string) error {
	return errors.New("router advertisements are supported on Linux only")
}
