// Package objfile reads object definitions from files on disk: kubectl-style
// YAML manifests (*.yaml, *.yml) and xCAT stanza files (*.stanza), from a
// file, a directory tree, or standard input. apply, diff, delete, restore and
// restore-on-start all read definitions through it.
package objfile

import (
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"drover.dev/drover/internal/inventory"
	"drover.dev/drover/internal/manifest"
	"drover.dev/drover/internal/stanza"
)

// Format is a definition file format.
type Format int

// The formats.
const (
	Auto Format = iota // by file name; content sniffing for stdin
	YAML
	Stanza
)

// FormatOf returns the format a file name implies, or Auto when it implies none.
func FormatOf(name string) Format {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".yaml", ".yml":
		return YAML
	case ".stanza":
		return Stanza
	}
	return Auto
}

// Load reads every object from paths. A path is a file, a directory (every
// *.yaml, *.yml and *.stanza below it, in lexical order) or "-" for stdin.
// Each file is validated as a whole; an object defined twice is an error.
// Nothing is returned if any file has an error.
func Load(paths []string, stdin io.Reader, s *inventory.Schema) ([]inventory.Object, error) {
	var objs []inventory.Object
	seen := map[string]string{}
	add := func(src string, got []inventory.Object) error {
		for _, o := range got {
			key := string(o.Type) + "/" + o.Name
			if prev, dup := seen[key]; dup {
				return fmt.Errorf("%s: %s %q is also defined in %s", src, o.Type, o.Name, prev)
			}
			seen[key] = src
			objs = append(objs, o)
		}
		return nil
	}
	for _, p := range paths {
		if p == "-" {
			data, err := io.ReadAll(stdin)
			if err != nil {
				return nil, fmt.Errorf("reading standard input: %w", err)
			}
			got, err := Parse(data, "<stdin>", Auto, s)
			if err != nil {
				return nil, err
			}
			if err := add("<stdin>", got); err != nil {
				return nil, err
			}
			continue
		}
		files, err := expand(p)
		if err != nil {
			return nil, err
		}
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				return nil, err
			}
			got, err := Parse(data, f, FormatOf(f), s)
			if err != nil {
				return nil, err
			}
			if err := add(f, got); err != nil {
				return nil, err
			}
		}
	}
	return objs, nil
}

// expand lists the definition files a path names.
func expand(p string) ([]string, error) {
	st, err := os.Stat(p)
	if err != nil {
		return nil, err
	}
	if !st.IsDir() {
		return []string{p}, nil
	}
	var files []string
	err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path != p && strings.HasPrefix(d.Name(), ".") {
				return filepath.SkipDir
			}
			return nil
		}
		if FormatOf(path) != Auto {
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	if len(files) == 0 {
		return nil, fmt.Errorf("%s: no *.yaml, *.yml or *.stanza files found", p)
	}
	return files, nil
}

// Parse reads the objects of one file's contents. With Auto, content that
// has an "apiVersion:" line is YAML, anything else a stanza file.
func Parse(data []byte, source string, f Format, s *inventory.Schema) ([]inventory.Object, error) {
	if f == Auto {
		f = Stanza
		if bytes.Contains(data, []byte("apiVersion:")) {
			f = YAML
		}
	}
	if f == YAML {
		return manifest.Decode(bytes.NewReader(data), source, s)
	}
	return FromStanza(data, source, s)
}

// FromStanza reads a stanza file into validated objects.
func FromStanza(data []byte, source string, s *inventory.Schema) ([]inventory.Object, error) {
	stanzas, err := stanza.Parse(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", source, err)
	}
	objs := make([]inventory.Object, 0, len(stanzas))
	for _, st := range stanzas {
		if st.Type == "" {
			return nil, fmt.Errorf("%s:%d: No objtype value was specified for '%s'. Cannot create object definition.", source, st.Line, st.Name)
		}
		t, err := inventory.ParseType(st.Type)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", source, st.Line, err)
		}
		o := inventory.Object{Type: t, Name: st.Name, Attrs: map[string]string{}}
		for k, v := range st.Attrs {
			if k == inventory.KeyAttr(t) {
				continue
			}
			o.Set(k, v)
		}
		if err := inventory.Validate(s, &o); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", source, st.Line, err)
		}
		objs = append(objs, o)
	}
	return objs, nil
}

// DumpFiles returns the files of a dump directory that restore reads: the
// YAML files if there are any, else the stanza files.
func DumpFiles(dir string) ([]string, error) {
	var yamls, stanzas []string
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		p := filepath.Join(dir, e.Name())
		switch FormatOf(p) {
		case YAML:
			yamls = append(yamls, p)
		case Stanza:
			stanzas = append(stanzas, p)
		}
	}
	if len(yamls) > 0 {
		return yamls, nil
	}
	if len(stanzas) > 0 {
		return stanzas, nil
	}
	return nil, fmt.Errorf("%s: no dump found (no *.yaml or *.stanza files)", dir)
}
