package main

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"
	"golang.org/x/crypto/ssh"
)

// Kernel command line keys the agent reads.
const (
	keyDiscover = "drover.discover" // registration URL (preferred)
	keyReport   = "drover.report"   // the boot report URL, used when drover.discover is absent
	keyToken    = "drover.token"    // token added as ?token= when the URL has none
	keyLLDP     = "drover.lldp"     // LLDP listening time, e.g. 30s (default 0: skip)
	keySSHKey   = "drover.sshkey"   // base64 (standard or URL) of one authorized_keys line
	keySSHPw    = "drover.sshpw"    // bcrypt hash of the debug SSH password
)

// bootArgs are the agent's settings from the kernel command line.
type bootArgs struct {
	URL      string
	Token    string
	LLDPWait time.Duration
	SSHKey   string // one authorized_keys line, decoded and checked
	SSHPw    string // a bcrypt hash, checked
}

// ErrNoURL: neither a flag nor the kernel command line gives a URL.
var ErrNoURL = errors.New("no registration url (drover.discover= or drover.report= on the kernel command line, or --url)")

// parseCmdline reads the drover.* keys from a kernel command line. Later
// occurrences win, as the kernel's own parameter handling does. A bad
// value is reported in the error and left out; the other keys are still
// read, so PID 1 can go on with what is usable.
func parseCmdline(cmdline string) (bootArgs, error) {
	var b bootArgs
	var discover, report string
	var errs []error
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
			if err != nil || d < 0 {
				errs = append(errs, fmt.Errorf("%s=%q: want a duration such as 30s", keyLLDP, v))
				continue
			}
			b.LLDPWait = d
		case keySSHKey:
			line, err := decodeSSHKey(v)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", keySSHKey, err))
				continue
			}
			b.SSHKey = line
		case keySSHPw:
			if _, err := bcrypt.Cost([]byte(v)); err != nil {
				errs = append(errs, fmt.Errorf("%s: not a bcrypt hash: %w", keySSHPw, err))
				continue
			}
			b.SSHPw = v
		}
	}
	b.URL = discover
	if b.URL == "" {
		b.URL = report
	}
	return b, errors.Join(errs...)
}

// decodeSSHKey decodes drover.sshkey's value: standard or URL base64, with
// or without padding, of one authorized_keys line, which must parse.
func decodeSSHKey(v string) (string, error) {
	var raw []byte
	var err error
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if raw, err = enc.DecodeString(v); err == nil {
			break
		}
	}
	if err != nil {
		return "", fmt.Errorf("not base64: %w", err)
	}
	line := strings.TrimSpace(string(raw))
	if strings.ContainsAny(line, "\r\n") {
		return "", errors.New("more than one line")
	}
	if _, _, _, _, err := ssh.ParseAuthorizedKey([]byte(line)); err != nil {
		return "", fmt.Errorf("not an authorized_keys line: %w", err)
	}
	return line, nil
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
