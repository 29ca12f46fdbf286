package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// ErrLoadOrder: a line of /lib/modules/load.order is not a module name.
var ErrLoadOrder = errors.New("bad load.order line")

// parseLoadOrder reads a load.order file: one module name per line (as in
// NAME.ko; a trailing .ko is accepted), dependencies first. Blank lines
// and lines starting with # are skipped; a name seen twice is loaded once.
func parseLoadOrder(r io.Reader) ([]string, error) {
	var names []string
	seen := map[string]bool{}
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name := strings.TrimSuffix(line, ".ko")
		if name == "" || name == "." || name == ".." || strings.ContainsAny(name, "/ \t\x00") || len(name) > 255 {
			return nil, fmt.Errorf("%w %d: %q", ErrLoadOrder, n, line)
		}
		if !seen[name] {
			seen[name] = true
			names = append(names, name)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrLoadOrder, err)
	}
	return names, nil
}

// loadModules loads dir/NAME.ko for every name in dir/load.order with
// finit_module(2). A module already loaded (EEXIST) counts as loaded; any
// other failure is logged and the next module is tried. It returns how
// many modules are loaded; a missing load.order means none to load.
func loadModules(dir string, log *slog.Logger) (int, error) {
	f, err := os.Open(filepath.Join(dir, "load.order"))
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	names, err := parseLoadOrder(f)
	f.Close()
	if err != nil {
		return 0, err
	}
	loaded := 0
	for _, name := range names {
		if err := finitModule(filepath.Join(dir, name+".ko")); err != nil {
			log.Warn("module not loaded", "module", name, "err", err)
			continue
		}
		loaded++
	}
	return loaded, nil
}

func finitModule(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	err = unix.FinitModule(int(f.Fd()), "", 0)
	if err == nil || errors.Is(err, unix.EEXIST) {
		return nil
	}
	return fmt.Errorf("finit_module %s: %w", filepath.Base(path), err)
}
