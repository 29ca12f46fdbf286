//go:build !linux

package discoveryimage

import (
	"errors"
	"os"
)

func replaceDir(stage, out string) error {
	if _, err := os.Lstat(out); errors.Is(err, os.ErrNotExist) {
		return os.Rename(stage, out)
	}
	return replaceDirTwoStep(stage, out)
}
