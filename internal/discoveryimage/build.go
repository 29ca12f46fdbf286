package discoveryimage

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"
	"golang.org/x/crypto/ssh"
)

// Files of the output directory.
const (
	KernelFile   = "vmlinuz"
	InitrdFile   = "initrd.gz"
	VersionFile  = "version"
	ManifestFile = "manifest.json"
)

// Options describe one discovery image build.
type Options struct {
	// Exactly one kernel source: a Debian kernel package file, or a directory
	// holding boot/vmlinuz-KVER and (usr/)lib/modules/KVER/ (dpkg -x output).
	KernelDeb string
	KernelDir string
	// Agent is the path of the drover-agent binary (static ELF for the
	// kernel's architecture); it becomes /init.
	Agent string
	// Out is the output directory; it is replaced atomically.
	Out string
	// Modules replaces DefaultModules when not empty; every module named here
	// must exist. AddModules extends the set and must exist too.
	Modules    []string
	AddModules []string
	// Busybox is an optional static busybox, installed as /bin/busybox with
	// /bin/sh pointing at it.
	Busybox string
	// BusyboxIfUsable leaves Busybox out with a note, instead of failing,
	// when it is not a static executable for the kernel's architecture.
	BusyboxIfUsable bool
	// AuthorizedKeys is authorized_keys content for the debug SSH server.
	AuthorizedKeys []byte
	// Password is a debug SSH password: a bcrypt hash is used as is, anything
	// else is hashed (which makes the image differ on every build).
	Password string
	// Version is the image version (git describe style).
	Version string
	// MTime is the time stamp of every initramfs entry (zero: the epoch).
	MTime time.Time
}

// FileSum is the size and SHA-256 of a file.
type FileSum struct {
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// KernelInfo describes the kernel of an image.
type KernelInfo struct {
	Version string `json:"version"`
	Package string `json:"package"` // .deb file name or source directory
	Arch    string `json:"arch"`
}

// Manifest is manifest.json of an image directory.
type Manifest struct {
	ImageVersion string     `json:"image_version"`
	Kernel       KernelInfo `json:"kernel"`
	Modules      []string   `json:"modules"` // load order
	Builtin      []string   `json:"builtin,omitempty"`
	Skipped      []Skip     `json:"skipped,omitempty"`
	Agent        FileSum    `json:"agent"`
	Busybox      *FileSum   `json:"busybox,omitempty"`
	SSHKeys      int        `json:"ssh_keys"`
	SSHPassword  bool       `json:"ssh_password"`
	Vmlinuz      FileSum    `json:"vmlinuz"`
	Initrd       FileSum    `json:"initrd"`
}

// Result is what Build made.
type Result struct {
	Dir      string // the output directory
	Kernel   string // Dir/vmlinuz
	Initrd   string // Dir/initrd.gz
	Manifest Manifest
	Notes    []string // things the admin should know (skipped modules, no shell)
}

// ErrBadOptions is wrapped by errors about the Options themselves.
var ErrBadOptions = errors.New("bad options")

// moduleRef is one loadable module found in the kernel source.
type moduleRef struct {
	path string
	deps []string
}

// kernelIndex is what the first pass over the kernel source learns.
type kernelIndex struct {
	vmlinuz map[string]string               // KVER → staged file
	modules map[string]map[string]moduleRef // KVER → name → module
	builtin map[string]map[string]bool      // KVER → built-in names
	machine elf.Machine
}

// Build makes a discovery image: it reads the kernel, resolves the modules,
// writes vmlinuz, initrd.gz, version and manifest.json into a new directory
// next to o.Out and renames it over o.Out. A failed build leaves o.Out as it
// was.
func Build(ctx context.Context, o Options) (Result, error) {
	var src kernelSource
	switch {
	case (o.KernelDeb == "") == (o.KernelDir == ""):
		return Result{}, fmt.Errorf("%w: give exactly one of a kernel package file or a kernel directory", ErrBadOptions)
	case o.KernelDeb != "":
		src = debSource{path: o.KernelDeb}
	default:
		src = dirSource{dir: o.KernelDir}
	}
	if o.Out == "" || o.Agent == "" || o.Version == "" {
		return Result{}, fmt.Errorf("%w: output directory, agent and version are required", ErrBadOptions)
	}
	if strings.ContainsAny(o.Version, "\n\r") {
		return Result{}, fmt.Errorf("%w: version %q has a line break", ErrBadOptions, o.Version)
	}
	if o.KernelDir != "" {
		st, err := os.Stat(o.KernelDir)
		if err != nil {
			return Result{}, fmt.Errorf("kernel directory: %w", err)
		}
		if !st.IsDir() {
			return Result{}, fmt.Errorf("%w: kernel directory %s is not a directory", ErrBadOptions, o.KernelDir)
		}
	}
	out, err := outputDir(o.Out)
	if err != nil {
		return Result{}, err
	}
	parent := filepath.Dir(out)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return Result{}, err
	}
	stage, err := os.MkdirTemp(parent, "."+filepath.Base(out)+".tmp-")
	if err != nil {
		return Result{}, err
	}
	ok := false
	defer func() {
		if !ok {
			os.RemoveAll(stage)
		}
	}()
	res, err := build(ctx, o, src, stage)
	if err != nil {
		return Result{}, err
	}
	if err := os.Chmod(stage, 0o755); err != nil {
		return Result{}, err
	}
	if err := replaceDir(stage, out); err != nil {
		return Result{}, err
	}
	ok = true
	res.Dir = out
	res.Kernel = filepath.Join(out, KernelFile)
	res.Initrd = filepath.Join(out, InitrdFile)
	return res, nil
}

// outputDir makes out absolute and follows a symbolic link at out, so the
// image replaces the link's target; an existing out must be a directory.
func outputDir(out string) (string, error) {
	abs, err := filepath.Abs(out)
	if err != nil {
		return "", err
	}
	st, err := os.Lstat(abs)
	if errors.Is(err, fs.ErrNotExist) {
		return abs, nil
	}
	if err != nil {
		return "", err
	}
	if st.Mode()&fs.ModeSymlink != 0 {
		if abs, err = filepath.EvalSymlinks(abs); err != nil {
			return "", fmt.Errorf("output directory: %w", err)
		}
		if st, err = os.Stat(abs); err != nil {
			return "", err
		}
	}
	if !st.IsDir() {
		return "", fmt.Errorf("%w: output %s exists and is not a directory", ErrBadOptions, abs)
	}
	return abs, nil
}

func build(ctx context.Context, o Options, src kernelSource, stage string) (Result, error) {
	var res Result
	m := &res.Manifest
	m.ImageVersion = o.Version

	content := initramfsContent{Version: o.Version}
	if !o.MTime.IsZero() && o.MTime.Unix() > 0 {
		content.MTime = uint64(o.MTime.Unix())
	}
	if len(o.AuthorizedKeys) > 0 {
		n, err := countKeys(o.AuthorizedKeys)
		if err != nil {
			return res, err
		}
		content.AuthorizedKeys, m.SSHKeys = o.AuthorizedKeys, n
	}
	if o.Password != "" {
		h, err := passwordHash(o.Password)
		if err != nil {
			return res, err
		}
		content.PasswordHash, m.SSHPassword = h, true
	}

	// Pass 1: stage vmlinuz, learn every module's dependencies.
	idx, err := indexKernel(ctx, src, stage)
	if err != nil {
		return res, err
	}
	kver, err := idx.pick()
	if err != nil {
		return res, fmt.Errorf("%s: %w", src.describe(), err)
	}
	if err := os.Rename(idx.vmlinuz[kver], filepath.Join(stage, KernelFile)); err != nil {
		return res, err
	}
	for k, p := range idx.vmlinuz {
		if k != kver {
			os.Remove(p)
		}
	}
	m.Kernel = KernelInfo{Version: kver, Package: src.describe(), Arch: archName(idx.machine)}

	// The agent and busybox must run on that kernel without a libc.
	agent, err := readStatic(o.Agent, "agent", idx.machine)
	if err != nil {
		return res, err
	}
	content.Agent, m.Agent = agent, sum(agent)
	if o.Busybox != "" {
		bb, err := readStatic(o.Busybox, "busybox", idx.machine)
		switch {
		case err != nil && o.BusyboxIfUsable:
			res.Notes = append(res.Notes, fmt.Sprintf("busybox left out: %v", err))
		case err != nil:
			return res, err
		default:
			s := sum(bb)
			content.Busybox, m.Busybox = bb, &s
		}
	}
	if (m.SSHKeys > 0 || m.SSHPassword) && content.Busybox == nil {
		res.Notes = append(res.Notes, "SSH debug access without busybox: the agent offers a limited session, no shell will be available")
	}

	// Resolve the module set.
	wanted := DefaultModules
	explicit := map[string]bool{}
	if len(o.Modules) > 0 {
		wanted = nil
		for _, n := range o.Modules {
			wanted = append(wanted, n)
			explicit[canonicalName(n)] = true
		}
	}
	wanted = slices.Clone(wanted)
	for _, n := range o.AddModules {
		wanted = append(wanted, n)
		explicit[canonicalName(n)] = true
	}
	deps := map[string][]string{}
	for n, r := range idx.modules[kver] {
		deps[n] = r.deps
	}
	rs, err := resolveOrder(wanted, explicit, deps, idx.builtin[kver], kver)
	if err != nil {
		return res, err
	}
	m.Modules, m.Builtin, m.Skipped = rs.Order, rs.Builtin, rs.Skipped
	if m.Modules == nil {
		m.Modules = []string{}
	}
	for _, s := range rs.Skipped {
		res.Notes = append(res.Notes, fmt.Sprintf("module %s skipped: %s", s.Module, s.Reason))
	}

	// Pass 2: read the chosen modules.
	content.Order = rs.Order
	content.Modules, err = readModules(ctx, src, idx.modules[kver], rs.Order)
	if err != nil {
		return res, err
	}

	// Write the directory.
	if m.Vmlinuz, err = sumFile(filepath.Join(stage, KernelFile)); err != nil {
		return res, err
	}
	if m.Initrd, err = writeFile(filepath.Join(stage, InitrdFile), content.write); err != nil {
		return res, err
	}
	if _, err := writeFile(filepath.Join(stage, VersionFile), func(w io.Writer) error {
		_, err := fmt.Fprintln(w, o.Version)
		return err
	}); err != nil {
		return res, err
	}
	mj, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return res, err
	}
	if _, err := writeFile(filepath.Join(stage, ManifestFile), func(w io.Writer) error {
		_, err := w.Write(append(mj, '\n'))
		return err
	}); err != nil {
		return res, err
	}
	return res, nil
}

// indexKernel is the first pass: it stages every boot/vmlinuz-KVER into dir
// and reads every module's .modinfo (one module in memory at a time).
func indexKernel(ctx context.Context, src kernelSource, dir string) (*kernelIndex, error) {
	idx := &kernelIndex{
		vmlinuz: map[string]string{},
		modules: map[string]map[string]moduleRef{},
		builtin: map[string]map[string]bool{},
	}
	err := src.walk(ctx, func(name string, _ int64, r io.Reader) error {
		if kver, ok := strings.CutPrefix(name, "boot/vmlinuz-"); ok {
			if strings.Contains(kver, "/") || kver == "" {
				return nil
			}
			p := filepath.Join(dir, ".vmlinuz-"+kver)
			if _, err := writeFile(p, func(w io.Writer) error { _, err := io.Copy(w, r); return err }); err != nil {
				return err
			}
			idx.vmlinuz[kver] = p
			return nil
		}
		kver, rest, ok := splitModulePath(name)
		if !ok {
			return nil
		}
		if rest == "modules.builtin" {
			b, err := readBuiltin(r)
			if err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			idx.builtin[kver] = b
			return nil
		}
		fname, ok := moduleFileName(rest)
		if !ok {
			return nil
		}
		b, err := readModule(rest, r)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		mi, err := readModinfo(b)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		if idx.machine == elf.EM_NONE {
			idx.machine = mi.Machine
		}
		mn := mi.Name
		if mn == "" {
			mn = fname
		}
		if idx.modules[kver] == nil {
			idx.modules[kver] = map[string]moduleRef{}
		}
		if _, dup := idx.modules[kver][mn]; !dup {
			idx.modules[kver][mn] = moduleRef{path: name, deps: mi.Depends}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading kernel %s: %w", src.describe(), err)
	}
	return idx, nil
}

// pick chooses the kernel version: the one with both a vmlinuz and modules.
func (idx *kernelIndex) pick() (string, error) {
	var both []string
	for k := range idx.vmlinuz {
		if _, ok := idx.modules[k]; ok {
			both = append(both, k)
		}
	}
	slices.Sort(both)
	switch {
	case len(both) == 1:
		return both[0], nil
	case len(both) > 1:
		return "", fmt.Errorf("several kernels (%s): give a package or directory with one", strings.Join(both, ", "))
	case len(idx.vmlinuz) == 0:
		return "", errors.New("no boot/vmlinuz-* in the kernel source")
	}
	return "", fmt.Errorf("no lib/modules/KVER/ for kernel %s", strings.Join(slices.Sorted(maps.Keys(idx.vmlinuz)), ", "))
}

// splitModulePath splits (usr/)lib/modules/KVER/REST.
func splitModulePath(name string) (kver, rest string, ok bool) {
	name = strings.TrimPrefix(name, "usr/")
	name, ok = strings.CutPrefix(name, "lib/modules/")
	if !ok {
		return "", "", false
	}
	kver, rest, ok = strings.Cut(name, "/")
	return kver, rest, ok && kver != "" && rest != ""
}

// readBuiltin parses modules.builtin: one module path per line.
func readBuiltin(r io.Reader) (map[string]bool, error) {
	b := map[string]bool{}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		if n, ok := moduleFileName(strings.TrimSpace(sc.Text())); ok {
			b[n] = true
		}
	}
	return b, sc.Err()
}

// readModules is the second pass: it reads the modules named in order.
func readModules(ctx context.Context, src kernelSource, mods map[string]moduleRef, order []string) (map[string][]byte, error) {
	want := map[string]string{} // path → name
	for _, n := range order {
		want[mods[n].path] = n
	}
	got := map[string][]byte{}
	if len(want) == 0 {
		return got, nil
	}
	err := src.walk(ctx, func(name string, _ int64, r io.Reader) error {
		n, ok := want[name]
		if !ok {
			return nil
		}
		b, err := readModule(name, r)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		got[n] = b
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading kernel %s: %w", src.describe(), err)
	}
	for _, n := range order {
		if _, ok := got[n]; !ok {
			return nil, fmt.Errorf("module %s vanished from %s between passes", n, src.describe())
		}
	}
	return got, nil
}

// readStatic reads an executable that must run as a static binary on a
// kernel of the given architecture.
func readStatic(p, what string, machine elf.Machine) ([]byte, error) {
	b, err := os.ReadFile(p)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if err := checkStatic(b, machine); err != nil {
		return nil, fmt.Errorf("%s %s: %w", what, p, err)
	}
	return b, nil
}

// ErrNotStatic is returned for an executable that needs a dynamic loader.
var ErrNotStatic = errors.New("not a static executable (it has an ELF interpreter; build it with CGO_ENABLED=0)")

func checkStatic(b []byte, machine elf.Machine) error {
	f, err := elf.NewFile(bytes.NewReader(b))
	if err != nil {
		return fmt.Errorf("not an ELF executable: %w", err)
	}
	defer f.Close()
	if f.Type != elf.ET_EXEC && f.Type != elf.ET_DYN {
		return fmt.Errorf("ELF type %s is not an executable", f.Type)
	}
	if machine != elf.EM_NONE && f.Machine != machine {
		return fmt.Errorf("built for %s, but the kernel is %s", archName(f.Machine), archName(machine))
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return ErrNotStatic
		}
	}
	return nil
}

// archName names an ELF machine the way Go and Debian do.
func archName(m elf.Machine) string {
	switch m {
	case elf.EM_X86_64:
		return "amd64"
	case elf.EM_AARCH64:
		return "arm64"
	case elf.EM_386:
		return "386"
	case elf.EM_RISCV:
		return "riscv64"
	case elf.EM_PPC64:
		return "ppc64le"
	case elf.EM_S390:
		return "s390x"
	case elf.EM_NONE:
		return "unknown"
	}
	return strings.ToLower(strings.TrimPrefix(m.String(), "EM_"))
}

// countKeys validates authorized_keys content and counts its keys.
func countKeys(b []byte) (int, error) {
	n := 0
	rest := b
	for len(bytes.TrimSpace(rest)) > 0 {
		_, _, _, r, err := ssh.ParseAuthorizedKey(rest)
		if err != nil {
			return 0, fmt.Errorf("authorized keys: %w", err)
		}
		n++
		rest = r
	}
	if n == 0 {
		return 0, errors.New("authorized keys: no key found")
	}
	return n, nil
}

// passwordHash returns p if it is a bcrypt hash, else its bcrypt hash.
func passwordHash(p string) (string, error) {
	p = strings.TrimRight(p, "\r\n")
	if p == "" {
		return "", fmt.Errorf("%w: empty password", ErrBadOptions)
	}
	if strings.HasPrefix(p, "$2") {
		if _, err := bcrypt.Cost([]byte(p)); err == nil {
			return p, nil
		}
	}
	h, err := bcrypt.GenerateFromPassword([]byte(p), bcrypt.DefaultCost)
	if err != nil {
		return "", fmt.Errorf("hashing the password: %w", err)
	}
	return string(h), nil
}

func sum(b []byte) FileSum {
	h := sha256.Sum256(b)
	return FileSum{Size: int64(len(b)), SHA256: hex.EncodeToString(h[:])}
}

func sumFile(p string) (FileSum, error) {
	f, err := os.Open(p)
	if err != nil {
		return FileSum{}, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return FileSum{}, err
	}
	return FileSum{Size: n, SHA256: hex.EncodeToString(h.Sum(nil))}, nil
}

// writeFile creates p (0644), lets fill write it, syncs it and returns its
// size and hash.
func writeFile(p string, fill func(io.Writer) error) (FileSum, error) {
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return FileSum{}, err
	}
	h := sha256.New()
	cw := &countWriter{w: io.MultiWriter(f, h)}
	bw := bufio.NewWriterSize(cw, 1<<20)
	err = fill(bw)
	if err == nil {
		err = bw.Flush()
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return FileSum{}, fmt.Errorf("writing %s: %w", path.Base(filepath.ToSlash(p)), err)
	}
	return FileSum{Size: cw.n, SHA256: hex.EncodeToString(h.Sum(nil))}, nil
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
