package discoveryimage

import (
	"fmt"
	"os"
)

// replaceDirTwoStep moves out aside, renames stage to out and removes the
// old image; out is briefly absent. Used where an atomic exchange is not
// available.
func replaceDirTwoStep(stage, out string) error {
	old := stage + ".old"
	if err := os.Rename(out, old); err != nil {
		return err
	}
	if err := os.Rename(stage, out); err != nil {
		if rerr := os.Rename(old, out); rerr != nil {
			return fmt.Errorf("%w (and restoring the previous image: %v)", err, rerr)
		}
		return err
	}
	return os.RemoveAll(old)
}
