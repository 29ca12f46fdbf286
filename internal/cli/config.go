package cli

import (
	"bufio"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"drover.dev/drover/internal/api"
)

// DefaultURL is where the CLI looks for a server when nothing says otherwise.
const DefaultURL = "http://127.0.0.1:8780"

// ClientConfig is where the CLI finds the server: DROVER_URL and
// DROVER_TOKEN override the config file ($DROVER_CONFIG, else
// $XDG_CONFIG_HOME/drover/config, else ~/.config/drover/config), which
// `drover serve` writes on first start. The file holds "url: ..." and
// "token: ..." lines.
type ClientConfig struct {
	URL   string
	Token string
	Path  string // the config file read, if any
}

// ConfigPath returns the client config file path for an environment.
func ConfigPath(getenv func(string) string) string {
	if p := getenv("DROVER_CONFIG"); p != "" {
		return p
	}
	dir := getenv("XDG_CONFIG_HOME")
	if dir == "" {
		home := getenv("HOME")
		if home == "" {
			home, _ = os.UserHomeDir()
		}
		dir = filepath.Join(home, ".config")
	}
	return filepath.Join(dir, "drover", "config")
}

// LoadClientConfig resolves the client settings for an environment.
func LoadClientConfig(getenv func(string) string) (ClientConfig, error) {
	cfg := ClientConfig{URL: DefaultURL, Path: ConfigPath(getenv)}
	f, err := os.Open(cfg.Path)
	switch {
	case err == nil:
		defer f.Close()
		sc := bufio.NewScanner(f)
		for n := 1; sc.Scan(); n++ {
			line := strings.TrimSpace(sc.Text())
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			k, v, ok := strings.Cut(line, ":")
			if !ok {
				return cfg, fmt.Errorf("%s:%d: expected 'key: value'", cfg.Path, n)
			}
			v = strings.Trim(strings.TrimSpace(v), `"'`)
			switch strings.TrimSpace(k) {
			case "url":
				cfg.URL = v
			case "token":
				cfg.Token = v
			default:
				return cfg, fmt.Errorf("%s:%d: unknown setting %q (want url or token)", cfg.Path, n, k)
			}
		}
		if err := sc.Err(); err != nil {
			return cfg, err
		}
	case os.IsNotExist(err):
		cfg.Path = ""
	default:
		return cfg, err
	}
	if v := getenv("DROVER_URL"); v != "" {
		cfg.URL = v
	}
	if v := getenv("DROVER_TOKEN"); v != "" {
		cfg.Token = v
	}
	return cfg, nil
}

// WriteClientConfig writes a client config file (mode 0600) unless one exists.
func WriteClientConfig(path, url, token string) (bool, error) {
	if _, err := os.Stat(path); err == nil {
		return false, nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return false, err
	}
	data := fmt.Sprintf("# written by drover serve on first start\nurl: %s\ntoken: %s\n", url, token)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return false, err
	}
	if _, err := f.WriteString(data); err != nil {
		f.Close()
		return false, err
	}
	return true, f.Close()
}

// clientFactory builds the API client on first use, so commands that need
// no server (serve, install-links, --help) never read the config.
type clientFactory struct {
	env    Env
	client *api.Client
}

func (c *clientFactory) get() (*api.Client, error) {
	if c.client != nil {
		return c.client, nil
	}
	cfg, err := LoadClientConfig(c.env.Getenv)
	if err != nil {
		return nil, err
	}
	c.client = api.NewClient(cfg.URL, cfg.Token, &http.Client{Timeout: 10 * time.Minute})
	return c.client, nil
}
