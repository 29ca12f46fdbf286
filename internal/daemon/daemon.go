// Package daemon is drover's composition root: it opens the store, creates
// the first admin token, restores a dump on first start, wires the API server
// and runs every service in one errgroup until the context ends.
package daemon

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"golang.org/x/sync/errgroup"

	"drover.dev/drover/internal/apiserver"
	"drover.dev/drover/internal/bmc"
	"drover.dev/drover/internal/bmc/docker"
	"drover.dev/drover/internal/bmc/ipmi"
	"drover.dev/drover/internal/bmc/redfish"
	"drover.dev/drover/internal/consoles"
	"drover.dev/drover/internal/gitops"
	"drover.dev/drover/internal/inventory"
	"drover.dev/drover/internal/netboot"
	"drover.dev/drover/internal/nodediscover"
	"drover.dev/drover/internal/objfile"
	"drover.dev/drover/internal/power"
	"drover.dev/drover/internal/store"
	"drover.dev/drover/internal/xcatcmd"
)

// Config holds what must exist before the database does. Everything else
// (where to serve DHCP, TFTP, ...) is inventory data.
type Config struct {
	DataDir      string // database, admin token, restore/ (created 0700)
	Listen       string // API address, e.g. 127.0.0.1:8780
	DSN          string // "" = SQLite in DataDir; postgres://... for PostgreSQL
	Version      string
	MaxBodyBytes int64 // API request body limit; 0 = 64 MiB
	Log          *slog.Logger
	// AdminTokenPath, if set, names a file holding the admin API token's
	// secret (e.g. a mounted Kubernetes Secret): it is imported on every
	// start (a changed secret replaces the previous one) and no
	// admin.token file is written.
	AdminTokenPath string
	// GitOps, when Repo is set, makes the server follow a Git repository.
	GitOps GitOpsConfig

	// FirstStart, if set, is called once when the server created its first
	// admin token, with the API URL, the secret and the file holding it.
	FirstStart func(url, token, tokenFile string)
	// Listening, if set, is called with the API address once it accepts
	// connections (tests listen on port 0).
	Listening func(addr net.Addr)

	// Services are the boot services drover may run (serve --services);
	// where they run is inventory data (site dhcpinterfaces, networks).
	Services netboot.Services
	// TFTPRoot is the directory TFTP serves (iPXE loaders);
	// /usr/lib/ipxe when empty.
	TFTPRoot string
	// Interfaces, if set, replaces the host's interface list (tests).
	Interfaces func() ([]netboot.Iface, error)
	// BootReady, if set, is called after each boot service reconfiguration.
	BootReady func(netboot.Config)
	// SecretKeyFile holds the key that encrypts secret attributes
	// (bmcpassword, ...) at rest: 64 hex digits. Empty means
	// DATA/secret.key, created on first start. Servers sharing a
	// PostgreSQL database need the same key.
	SecretKeyFile string
	// BMCTimeout bounds one node's BMC operation (one retry included);
	// 20 s when 0. Each attempt gets half of it.
	BMCTimeout time.Duration
	// BMCConcurrency bounds the nodes a hardware command handles at
	// once; 256 when 0.
	BMCConcurrency int
	// RedfishCAFile, if set, is the PEM CA that Redfish BMC certificates
	// must chain to; empty accepts any certificate (BMCs ship self-signed).
	RedfishCAFile string
	// DebugListen, if set, serves Go's pprof profiles (/debug/pprof/) on
	// this address, without authentication: keep it on loopback.
	DebugListen string
}

// Validate checks the configuration and fills defaults.
func (c *Config) Validate() error {
	if c.DataDir == "" {
		return errors.New("no data directory: use --data DIR")
	}
	if c.Listen == "" {
		c.Listen = "127.0.0.1:8780"
	}
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		return fmt.Errorf("listen address %q: %w", c.Listen, err)
	}
	if c.DSN != "" && !strings.HasPrefix(c.DSN, "postgres://") && !strings.HasPrefix(c.DSN, "postgresql://") &&
		!strings.HasPrefix(c.DSN, "sqlite:") && !strings.HasPrefix(c.DSN, "file:") {
		return fmt.Errorf("database %q: want postgres://..., postgresql://..., sqlite:PATH or file:PATH", c.DSN)
	}
	if c.MaxBodyBytes == 0 {
		c.MaxBodyBytes = 64 << 20
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	return nil
}

// bmcDrivers registers the power drivers, by the node attribute mgt.
// Redfish BMCs verify against the CA in caFile when one is given;
// otherwise their (usually self-signed) certificates are accepted.
func bmcDrivers(caFile string, attempt time.Duration, log *slog.Logger) (*bmc.Registry, error) {
	r := &bmc.Registry{}
	r.Register("ipmi", ipmi.Driver{Timeout: attempt})
	r.Register("docker", docker.Driver{Timeout: attempt})
	rf := redfish.Driver{Timeout: attempt, Log: log.With("driver", "redfish")}
	if caFile == "" {
		rf.Insecure = true
	} else {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, fmt.Errorf("redfish CA: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("redfish CA %s: no PEM certificate in it", caFile)
		}
		rf.RootCAs = pool
	}
	r.Register("redfish", rf)
	return r, nil
}

// ParseServices parses serve's --services value: all, none, or a
// comma-separated list of dhcp, tftp, http, dns, ra.
func ParseServices(s string) (netboot.Services, error) { return netboot.ParseServices(s) }

// SecretKeyFileName is the default key file in the data directory.
const SecretKeyFileName = "secret.key"

// secretKey reads the at-rest key, creating DATA/secret.key (mode 0600)
// when no file is named and none exists yet.
func secretKey(file, dataDir string, log *slog.Logger) ([]byte, error) {
	create := false
	if file == "" {
		file, create = filepath.Join(dataDir, SecretKeyFileName), true
	}
	b, err := os.ReadFile(file)
	if errors.Is(err, fs.ErrNotExist) && create {
		k := make([]byte, store.SecretKeySize)
		if _, err := rand.Read(k); err != nil {
			return nil, err
		}
		if err := os.WriteFile(file, []byte(hex.EncodeToString(k)+"\n"), 0o600); err != nil {
			return nil, fmt.Errorf("writing the secret key: %w", err)
		}
		log.Info("created the key that encrypts secret attributes at rest; back it up with the database", "file", file)
		return k, nil
	}
	if err != nil {
		return nil, fmt.Errorf("secret key: %w", err)
	}
	k, err := hex.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || len(k) != store.SecretKeySize {
		return nil, fmt.Errorf("secret key %s: want %d hex digits", file, 2*store.SecretKeySize)
	}
	return k, nil
}

// AdminFileTokenName names the token --admin-token-file imports.
const AdminFileTokenName = "admin (from file)"

// AdminTokenFile is the file, in the data directory, that holds the first
// admin token's secret (mode 0600).
const AdminTokenFile = "admin.token"

// Run runs the server until ctx is done.
func Run(ctx context.Context, cfg Config) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	log := cfg.Log
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return fmt.Errorf("data directory: %w", err)
	}
	dataDir, err := filepath.Abs(cfg.DataDir)
	if err != nil {
		return fmt.Errorf("data directory: %w", err)
	}
	key, err := secretKey(cfg.SecretKeyFile, cfg.DataDir, log)
	if err != nil {
		return err
	}
	st, err := store.Open(ctx, store.Config{DSN: cfg.DSN, DataDir: cfg.DataDir, Log: log.With("svc", "store"), SecretKey: key})
	if err != nil {
		return fmt.Errorf("opening store: %w", err)
	}
	defer st.Close()
	log.Info("store open", "backend", st.Backend(), "data", cfg.DataDir)

	if err := restoreOnStart(ctx, st, cfg.DataDir, log); err != nil {
		return err
	}

	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("API listener: %w", err)
	}
	url := "http://" + ln.Addr().String()
	if err := firstToken(ctx, st, cfg, url, log); err != nil {
		ln.Close()
		return err
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	schema := inventory.DefaultSchema()
	bmcTimeout := cfg.BMCTimeout
	if bmcTimeout <= 0 {
		bmcTimeout = power.DefaultTimeout
	}
	drivers, err := bmcDrivers(cfg.RedfishCAFile, bmcTimeout/2, log)
	if err != nil {
		ln.Close()
		return err
	}
	ops := &bmcOps{view: st.View, runner: &power.Runner{Drivers: drivers, Timeout: bmcTimeout, Concurrency: cfg.BMCConcurrency}, mgts: drivers.Names,
		apply: st.Apply, events: st.AddBootEvents, log: log.With("svc", "power")}
	hub := &consoles.Hub{Dir: filepath.Join(cfg.DataDir, "consoles"), Open: ops.Console, Log: log.With("svc", "consoles")}
	runner := &xcatcmd.Runner{Backend: st, Schema: schema, BMC: ops}
	disc := &nodediscover.Service{Store: st, Nodeset: nodesetWith(runner), Log: log.With("svc", "discovery")}
	runner.Discovery = disc
	var syncer *gitops.Syncer
	if cfg.GitOps.Repo != "" {
		if syncer, err = newSyncer(cfg.GitOps, cfg.DataDir, st); err != nil {
			ln.Close()
			return err
		}
		syncer.Log = log.With("svc", "gitops")
	}
	api := &apiserver.Server{
		Store:        st,
		Secrets:      st,
		Runner:       runner,
		Consoles:     consoleRouter{hub: hub, ops: ops},
		ConsoleLogs:  hub,
		Schema:       schema,
		Log:          log.With("svc", "api"),
		Registry:     reg,
		MaxBodyBytes: cfg.MaxBodyBytes,
		Version:      cfg.Version,
		BootEvents:   st,
	}
	if syncer != nil {
		api.GitOps = gitopsAPI{syncer}
	}
	boot := &netboot.Service{
		Store:      st,
		Services:   cfg.Services,
		DataDir:    dataDir,
		TFTPRoot:   cfg.TFTPRoot,
		Log:        log.With("svc", "netboot"),
		Interfaces: cfg.Interfaces,
		Ready:      cfg.BootReady,
		Discoverer: discoverer{disc},
	}
	srv := &http.Server{Handler: newMemoryReleaser(api.Handler()), ReadHeaderTimeout: 10 * time.Second}

	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		log.Info("API listening", "url", url)
		if cfg.Listening != nil {
			cfg.Listening(ln.Addr())
		}
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("API server: %w", err)
		}
		return nil
	})
	g.Go(func() error { return boot.Serve(gctx) })
	if syncer != nil {
		g.Go(func() error {
			if err := syncer.Serve(gctx); err != nil && gctx.Err() == nil {
				return fmt.Errorf("gitops: %w", err)
			}
			return nil
		})
	}
	g.Go(func() error { return hub.Serve(gctx) })
	g.Go(func() error { return watchConsoles(gctx, st, hub, drivers.Names) })
	if cfg.DebugListen != "" {
		dbg := &http.Server{Handler: debugHandler(), ReadHeaderTimeout: 10 * time.Second}
		dln, err := net.Listen("tcp", cfg.DebugListen)
		if err != nil {
			return fmt.Errorf("debug listener: %w", err)
		}
		log.Warn("pprof profiles served without authentication", "url", "http://"+dln.Addr().String()+"/debug/pprof/")
		g.Go(func() error {
			if err := dbg.Serve(dln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				return fmt.Errorf("debug server: %w", err)
			}
			return nil
		})
		g.Go(func() error { <-gctx.Done(); return dbg.Close() })
	}
	g.Go(func() error {
		<-gctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		return srv.Shutdown(sctx)
	})
	return g.Wait()
}

// firstToken creates the admin token on first start and writes it to the
// data directory; there is no default password.
func firstToken(ctx context.Context, st *store.Store, cfg Config, url string, log *slog.Logger) error {
	if cfg.AdminTokenPath != "" {
		b, err := os.ReadFile(cfg.AdminTokenPath)
		if err != nil {
			return fmt.Errorf("admin token file: %w", err)
		}
		tok, err := st.ImportToken(ctx, AdminFileTokenName, "admin", strings.TrimSpace(string(b)))
		if err != nil {
			return fmt.Errorf("admin token file %s: %w", cfg.AdminTokenPath, err)
		}
		log.Info("admin API token from file", "file", cfg.AdminTokenPath, "id", tok.ID)
		return nil
	}
	toks, err := st.ListTokens(ctx)
	if err != nil {
		return fmt.Errorf("listing tokens: %w", err)
	}
	if len(toks) > 0 {
		return nil
	}
	secret, _, err := st.CreateToken(ctx, "admin", "admin")
	if err != nil {
		return fmt.Errorf("creating the admin token: %w", err)
	}
	path := filepath.Join(cfg.DataDir, AdminTokenFile)
	if err := os.WriteFile(path, []byte(secret+"\n"), 0o600); err != nil {
		return fmt.Errorf("writing the admin token: %w", err)
	}
	log.Info("first start: created the admin API token", "file", path)
	if cfg.FirstStart != nil {
		cfg.FirstStart(url, secret, path)
	}
	return nil
}

// RestoreDir is the folder in the data directory that a server with an empty
// database restores from, once.
const RestoreDir = "restore"

const metaRestored = "restored_from"

func restoreOnStart(ctx context.Context, st *store.Store, dataDir string, log *slog.Logger) error {
	dir := filepath.Join(dataDir, RestoreDir)
	if _, err := os.Stat(dir); err != nil {
		return nil
	}
	if done, ok, err := st.Meta(ctx, metaRestored); err != nil {
		return err
	} else if ok {
		log.Debug("restore already done", "record", done)
		return nil
	}
	if !st.Empty() {
		log.Warn("restore/ folder ignored: the database is not empty", "dir", dir)
		return nil
	}
	files, err := objfile.DumpFiles(dir)
	if err != nil {
		return fmt.Errorf("restore on start: %w", err)
	}
	objs, err := objfile.Load(files, nil, inventory.DefaultSchema())
	if err != nil {
		return fmt.Errorf("restore on start: %w", err)
	}
	changes := make([]inventory.Change, len(objs))
	for i, o := range objs {
		changes[i] = inventory.Change{Op: inventory.Create, Object: o}
	}
	if err := st.Apply(ctx, changes); err != nil {
		return fmt.Errorf("restore on start: %w", err)
	}
	record := fmt.Sprintf("%s at %s (%d objects)", dir, time.Now().UTC().Format(time.RFC3339), len(objs))
	if err := st.SetMeta(ctx, metaRestored, record); err != nil {
		return err
	}
	log.Info("restored the inventory from a dump", "dir", dir, "objects", len(objs))
	return nil
}
