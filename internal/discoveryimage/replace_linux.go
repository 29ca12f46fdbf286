package discoveryimage

import (
	"errors"
	"os"

	"golang.org/x/sys/unix"
)

// replaceDir puts the directory stage at out: when out exists, the two are
// exchanged atomically (renameat2 RENAME_EXCHANGE) and the old one removed,
// so readers always see a complete image.
func replaceDir(stage, out string) error {
	if _, err := os.Lstat(out); errors.Is(err, os.ErrNotExist) {
		return os.Rename(stage, out)
	}
	err := unix.Renameat2(unix.AT_FDCWD, stage, unix.AT_FDCWD, out, unix.RENAME_EXCHANGE)
	if errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOSYS) {
		return replaceDirTwoStep(stage, out)
	}
	if err != nil {
		return &os.LinkError{Op: "exchange", Old: stage, New: out, Err: err}
	}
	return os.RemoveAll(stage) // now the old image
}
