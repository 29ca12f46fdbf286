package main

import (
	"errors"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// host is the real Machine: reboot(2) after sync(2), and exec of /bin/sh.
type host struct{}

func (host) Reboot() error {
	unix.Sync()
	return unix.Reboot(unix.LINUX_REBOOT_CMD_RESTART)
}

func (host) PowerOff() error {
	unix.Sync()
	return unix.Reboot(unix.LINUX_REBOOT_CMD_POWER_OFF)
}

// errNoShell: the image has no /bin/sh.
var errNoShell = errors.New("no /bin/sh in this image")

func (host) Shell() error {
	const sh = "/bin/sh"
	if _, err := os.Stat(sh); err != nil {
		return errNoShell
	}
	return syscall.Exec(sh, []string{"sh", "-i"}, os.Environ())
}
