package discoveryimage

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"
)

// kernelSource yields the files of an unpacked or packaged kernel. walk
// calls fn for every regular file under boot/ and (usr/)lib/modules/ with its
// path relative to the package root (slash separated, no leading "./" or
// "/"); r is valid only during the call. Symlinks and other types are skipped.
type kernelSource interface {
	walk(ctx context.Context, fn func(name string, size int64, r io.Reader) error) error
	describe() string
}

// relevant reports whether a package path can matter for the image.
func relevant(name string) bool {
	return strings.HasPrefix(name, "boot/vmlinuz-") ||
		strings.HasPrefix(name, "lib/modules/") || strings.HasPrefix(name, "usr/lib/modules/")
}

// debSource is a Debian binary package (.deb): an ar archive whose
// data.tar.{xz,zst,gz} member holds the files.
type debSource struct{ path string }

func (d debSource) describe() string { return filepath.Base(d.path) }

func (d debSource) walk(ctx context.Context, fn func(string, int64, io.Reader) error) error {
	f, err := os.Open(d.path)
	if err != nil {
		return err
	}
	defer f.Close()
	ar := newArReader(f)
	for {
		m, err := ar.Next()
		if errors.Is(err, io.EOF) {
			return fmt.Errorf("%s: no data.tar member", d.path)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", d.path, err)
		}
		if !strings.HasPrefix(m.Name, "data.tar") {
			continue
		}
		r, closeFn, err := decompressor(m.Name, ar)
		if err != nil {
			return fmt.Errorf("%s: %w", d.path, err)
		}
		err = walkTar(ctx, r, fn)
		closeFn()
		if err != nil {
			return fmt.Errorf("%s: %s: %w", d.path, m.Name, err)
		}
		return nil
	}
}

func walkTar(ctx context.Context, r io.Reader, fn func(string, int64, io.Reader) error) error {
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		name := strings.TrimPrefix(path.Clean("/"+h.Name), "/")
		if !relevant(name) {
			continue
		}
		if err := fn(name, h.Size, tr); err != nil {
			return err
		}
	}
}

// dirSource is an unpacked kernel package (dpkg -x): DIR/boot/vmlinuz-* and
// DIR/lib/modules/KVER/.
type dirSource struct{ dir string }

func (d dirSource) describe() string { return d.dir }

func (d dirSource) walk(ctx context.Context, fn func(string, int64, io.Reader) error) error {
	for _, top := range []string{"boot", "lib/modules", "usr/lib/modules"} {
		root := filepath.Join(d.dir, filepath.FromSlash(top))
		if _, err := os.Stat(root); errors.Is(err, fs.ErrNotExist) {
			continue
		}
		err := filepath.WalkDir(root, func(p string, e fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if err := ctx.Err(); err != nil {
				return err
			}
			if !e.Type().IsRegular() {
				return nil
			}
			rel, err := filepath.Rel(d.dir, p)
			if err != nil {
				return err
			}
			name := filepath.ToSlash(rel)
			if !relevant(name) {
				return nil
			}
			f, err := os.Open(p)
			if err != nil {
				return err
			}
			defer f.Close()
			st, err := f.Stat()
			if err != nil {
				return err
			}
			return fn(name, st.Size(), f)
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// decompressor wraps r according to the compression suffix of name (.xz,
// .zst, .gz; anything else is read as is).
func decompressor(name string, r io.Reader) (io.Reader, func(), error) {
	switch {
	case strings.HasSuffix(name, ".xz"):
		x, err := xz.NewReader(r)
		if err != nil {
			return nil, nil, fmt.Errorf("xz: %w", err)
		}
		return x, func() {}, nil
	case strings.HasSuffix(name, ".zst"):
		z, err := zstd.NewReader(r, zstd.WithDecoderConcurrency(1))
		if err != nil {
			return nil, nil, fmt.Errorf("zstd: %w", err)
		}
		return z, z.Close, nil
	case strings.HasSuffix(name, ".gz"):
		g, err := gzip.NewReader(r)
		if err != nil {
			return nil, nil, fmt.Errorf("gzip: %w", err)
		}
		return g, func() { g.Close() }, nil
	}
	return r, func() {}, nil
}

// maxModuleSize bounds one uncompressed module read into memory.
const maxModuleSize = 256 << 20

// readModule reads a possibly compressed module file completely.
func readModule(name string, r io.Reader) ([]byte, error) {
	d, closeFn, err := decompressor(name, r)
	if err != nil {
		return nil, err
	}
	defer closeFn()
	b, err := io.ReadAll(io.LimitReader(d, maxModuleSize+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxModuleSize {
		return nil, fmt.Errorf("module larger than %d bytes", maxModuleSize)
	}
	return b, nil
}
