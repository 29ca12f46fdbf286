package tftpd

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Errors returned by Resolve. They are the refusal reasons reported in
// Event.Reason and, as text, in the TFTP error packet sent to the client.
var (
	// ErrInvalidPath is returned for names that are empty, contain a NUL
	// byte or name the root directory itself.
	ErrInvalidPath = errors.New("invalid path")
	// ErrOutsideRoot is returned when the requested name, or the file a
	// symbolic link on the way points to, lies outside the root.
	ErrOutsideRoot = errors.New("path outside root")
	// ErrNotFound is returned when the file does not exist.
	ErrNotFound = errors.New("file not found")
	// ErrNotRegular is returned for directories, devices, FIFOs and sockets.
	ErrNotRegular = errors.New("not a regular file")
)

// Resolve maps a file name requested by a TFTP client to a regular file
// below root and returns the file's absolute path with all symbolic links
// resolved.
//
// The rules, chosen to match tftp-hpa running with -s (secure mode), which is
// how Debian runs it:
//   - backslashes are path separators (some PXE ROMs send DOS-style names);
//   - leading separators are stripped, so "/undionly.kpxe" is the file
//     undionly.kpxe in root and "/etc/passwd" is root/etc/passwd, never the
//     system's /etc/passwd;
//   - a name containing NUL, or an empty name, is ErrInvalidPath;
//   - a name that climbs out of root with ".." is ErrOutsideRoot, even when
//     it would climb back in ("../ipxe/x");
//   - symbolic links are followed, and a result outside the real (symlink
//     resolved) root is ErrOutsideRoot; links that stay inside root work;
//   - a missing file is ErrNotFound, anything but a regular file is
//     ErrNotRegular.
//
// Resolve reads the file system (it resolves links and stats the result) but
// has no other side effects. The server opens the result through os.Root as
// well, so a link swapped in after Resolve still cannot escape.
func Resolve(root, requested string) (string, error) {
	if requested == "" || strings.IndexByte(requested, 0) >= 0 {
		return "", fmt.Errorf("%q: %w", requested, ErrInvalidPath)
	}
	name := strings.ReplaceAll(requested, `\`, "/")
	name = strings.TrimLeft(name, "/")
	if name == "" {
		return "", fmt.Errorf("%q: %w", requested, ErrInvalidPath)
	}
	for _, elem := range strings.Split(name, "/") {
		if elem == ".." {
			return "", fmt.Errorf("%q: %w", requested, ErrOutsideRoot)
		}
	}
	name = filepath.Clean(filepath.FromSlash(name))
	if name == "." {
		return "", fmt.Errorf("%q: %w", requested, ErrInvalidPath)
	}
	if !filepath.IsLocal(name) {
		return "", fmt.Errorf("%q: %w", requested, ErrOutsideRoot)
	}
	realRoot, err := realRoot(root)
	if err != nil {
		return "", err
	}
	resolved, err := filepath.EvalSymlinks(filepath.Join(realRoot, name))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("%q: %w", requested, ErrNotFound)
		}
		return "", fmt.Errorf("%q: %w", requested, err)
	}
	if !within(realRoot, resolved) {
		return "", fmt.Errorf("%q: %w", requested, ErrOutsideRoot)
	}
	fi, err := os.Stat(resolved)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("%q: %w", requested, ErrNotFound)
		}
		return "", fmt.Errorf("%q: %w", requested, err)
	}
	if !fi.Mode().IsRegular() {
		return "", fmt.Errorf("%q: %w", requested, ErrNotRegular)
	}
	return resolved, nil
}

// realRoot returns root as an absolute path with symbolic links resolved.
func realRoot(root string) (string, error) {
	abs, err := filepath.Abs(root)
	if err != nil {
		return "", fmt.Errorf("tftp root %q: %w", root, err)
	}
	r, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return "", fmt.Errorf("tftp root %q: %w", root, err)
	}
	return r, nil
}

// within reports whether path is strictly below root (both absolute, clean).
func within(root, path string) bool {
	rel, err := filepath.Rel(root, path)
	if err != nil {
		return false
	}
	return rel != "." && filepath.IsLocal(rel)
}
