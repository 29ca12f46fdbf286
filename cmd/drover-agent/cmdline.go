package main

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// Kernel command line keys the agent reads.
const (
	keyDiscover = "drover.discover" // registration URL (preferred)
	keyReport   = "drover.report"   // the boot report URL, used when drover.discover is absent
	keyToken    = "drover.token"    // token added as ?token= when the URL has none
	keyLLDP     = "drover.lldp"     // LLDP listening time, e.g. 30s (default 0: skip)
)

// bootArgs are the agent's settings from the kernel command line.
type bootArgs struct {
	URL      string
	Token    string
	LLDPWait time.Duration
}

// ErrNoURL: neither a flag nor the kernel command line gives a URL.
var ErrNoURL = errors.New("no registration url (drover.discover= or drover.report= on the kernel command line, or --url)")

// parseCmdline reads the drover.* keys from a kernel command line. Later
// occurrences win, as the kernel's own parameter handling does.
func parseCmdline(cmdline string) (bootArgs, error) {
	var b bootArgs
	var discover, report string
	for _, f := range strings.Fields(cmdline) {
		k, v, ok := strings.Cut(f, "=")
		if !ok {
			continue
		}
		v = strings.Trim(v, `"`)
		switch k {
		case keyDiscover:
			discover = v
		case keyReport:
			report = v
		case keyToken:
			b.Token = v
		case keyLLDP:
			d, err := time.ParseDuration(v)
			if err != nil {
				return b, fmt.Errorf("%s=%q: %w", keyLLDP, v, err)
			}
			b.LLDPWait = d
		}
	}
	b.URL = discover
	if b.URL == "" {
		b.URL = report
	}
	return b, nil
}

// registrationURL validates raw and adds token as the token query
// parameter unless the URL already carries one (the boot URLs do).
func registrationURL(raw, token string) (string, error) {
	if raw == "" {
		return "", ErrNoURL
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("registration url: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return "", fmt.Errorf("registration url %q: want http(s)://host/...", raw)
	}
	q := u.Query()
	if token != "" && q.Get("token") == "" {
		q.Set("token", token)
		u.RawQuery = q.Encode()
	}
	return u.String(), nil
}
