package cli

import (
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"drover.dev/drover/internal/daemon"
)

func newServeCmd(env Env) *cobra.Command {
	cfg := daemon.Config{Version: version}
	var logFormat, logLevel string
	var noConfig bool
	var services string
	cmd := &cobra.Command{
		Use:   "serve --data DIR [--listen ADDR] [--db postgres://...]",
		Short: "Run the drover server",
		Long: `serve runs the drover server: the REST API (/v1, /healthz, /readyz, /metrics,
/v1/openapi.json) over the inventory in DIR (embedded SQLite) or in PostgreSQL.

On first start it creates an admin API token, writes it to DIR/admin.token
(mode 0600) and, unless --no-client-config, writes the CLI config file
(~/.config/drover/config) with the URL and token if none exists. There is no
default password. If the database is empty and DIR/restore/ holds a dump, the
dump is restored once.

Network boot (DHCP, TFTP, HTTP boot, DNS, IPv6 router advertisements) is
configured as inventory data, the xCAT way, and answers nothing until it is:

  drover chdef -t site dhcpinterfaces=br0 master=198.18.0.1
  drover mkdef -t network -o lab net=198.18.0.0 mask=255.255.255.0 \
      mgtifname=br0 dynamicrange=198.18.0.100-198.18.0.200

Changes take effect at once, without a restart. --services limits which of
the services may run at all. drover needs only the capabilities
CAP_NET_BIND_SERVICE and CAP_NET_RAW, not root.`,
		Example: `  drover serve --data ./drover-data
  drover serve --data /var/lib/drover --listen 0.0.0.0:8780 --db postgres://drover@db/drover`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var level slog.Level
			var err error
			if err = level.UnmarshalText([]byte(logLevel)); err != nil {
				return fmt.Errorf("--log-level: %w", err)
			}
			opts := &slog.HandlerOptions{Level: level}
			switch strings.ToLower(logFormat) {
			case "json":
				cfg.Log = slog.New(slog.NewJSONHandler(env.Stderr, opts))
			case "text":
				cfg.Log = slog.New(slog.NewTextHandler(env.Stderr, opts))
			default:
				return fmt.Errorf("--log-format %q: want json or text", logFormat)
			}
			if cfg.Services, err = daemon.ParseServices(services); err != nil {
				return fmt.Errorf("--services: %w", err)
			}
			cfg.FirstStart = func(url, token, tokenFile string) {
				fmt.Fprintf(env.Stderr, "drover: first start: the admin API token is in %s\n", tokenFile)
				if noConfig {
					return
				}
				path := ConfigPath(env.Getenv)
				wrote, err := WriteClientConfig(path, url, token)
				switch {
				case err != nil:
					fmt.Fprintf(env.Stderr, "drover: could not write the client config %s: %v\n", path, err)
				case wrote:
					fmt.Fprintf(env.Stderr, "drover: wrote the client config %s (url and admin token)\n", path)
				}
			}
			return daemon.Run(cmd.Context(), cfg)
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.DataDir, "data", "./drover-data", "data directory (database, tokens, restore/)")
	f.StringVar(&cfg.Listen, "listen", "127.0.0.1:8780", "API listen address")
	f.StringVar(&cfg.DSN, "db", "", "database: empty for SQLite in the data directory, or postgres://...")
	f.Int64Var(&cfg.MaxBodyBytes, "max-body", 64<<20, "largest API request body in bytes (larger get 413)")
	f.StringVar(&logFormat, "log-format", "text", "log format: text or json")
	f.StringVar(&logLevel, "log-level", "info", "log level: debug, info, warn, error")
	f.BoolVar(&noConfig, "no-client-config", false, "do not write the CLI config file on first start")
	f.StringVar(&cfg.AdminTokenPath, "admin-token-file", "", "`file` holding the admin API token's secret (32+ printable characters, e.g. a mounted Secret); imported on every start instead of creating admin.token")
	f.StringVar(&cfg.SecretKeyFile, "secret-key-file", "", "key that encrypts secret attributes at rest (64 hex digits); default DIR/secret.key, created on first start; servers sharing PostgreSQL need the same key")
	f.IntVar(&cfg.BMCConcurrency, "bmc-concurrency", 256, "nodes a hardware command (rpower, rsetboot, rinv, mkvm, ...) drives at once")
	f.DurationVar(&cfg.BMCTimeout, "bmc-timeout", 20*time.Second, "time one node's BMC operation may take (rpower, rsetboot, rinv), one retry included")
	f.StringVar(&cfg.RedfishCAFile, "redfish-ca", "", "PEM CA that Redfish BMC certificates must chain to (default: accept the self-signed certificates BMCs ship with)")
	f.StringVar(&cfg.DebugListen, "debug-listen", "", "serve Go pprof profiles on this address (no authentication: loopback only), e.g. 127.0.0.1:6060")
	f.StringVar(&services, "services", "all", "boot services drover may run where the inventory configures them: all, none, or a list of dhcp,tftp,http,dns,ra")
	f.StringVar(&cfg.TFTPRoot, "tftp-root", "/usr/lib/ipxe", "directory TFTP serves (iPXE loaders undionly.kpxe, snponly.efi); also the HTTP loader directory")
	g := &cfg.GitOps
	f.StringVar(&g.Repo, "gitops-repo", "", "follow this Git `URL` (https://, ssh://, git@host:path, file://): its manifests and stanza files are the cluster definition")
	f.StringVar(&g.Branch, "gitops-branch", "", "branch to follow (default: the remote HEAD)")
	f.StringVar(&g.Path, "gitops-path", "", "`directory` in the repository holding *.yaml/*.yml manifests and *.stanza files (default: the root)")
	f.DurationVar(&g.Interval, "gitops-interval", time.Minute, "how often to fetch; 0: at start and on POST /v1/gitops/sync (webhook) only")
	f.StringVar(&g.TokenFile, "gitops-token-file", "", "`file` holding an https access token")
	f.StringVar(&g.TokenUser, "gitops-token-user", "", "user name sent with the token (default x-access-token; GitLab OAuth: oauth2)")
	f.StringVar(&g.SSHKeyFile, "gitops-ssh-key", "", "`file` holding the ssh deploy key (OpenSSH private key)")
	f.StringVar(&g.KnownHosts, "gitops-known-hosts", "", "ssh known_hosts `file` for the Git server (required with ssh unless --gitops-insecure-host-key)")
	f.BoolVar(&g.InsecureHosts, "gitops-insecure-host-key", false, "accept any ssh host key (tests only)")
	f.StringVar(&g.CAFile, "gitops-ca", "", "PEM `file` with the CA the https Git server's certificate must chain to")
	f.StringSliceVar(&g.Kinds, "gitops-kinds", nil, "kinds GitOps owns and prunes (default node,group,osimage,network,boottarget)")
	return cmd
}
