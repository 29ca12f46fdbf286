package api

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// ConsoleUpgrade is the Upgrade protocol of GET /v1/console/{node}.
const ConsoleUpgrade = "drover-console"

// Console attaches to a node's console: the returned stream carries the
// console's bytes both ways until it is closed.
func (c *Client) Console(ctx context.Context, node string) (io.ReadWriteCloser, error) {
	u, err := url.Parse(c.base + "/v1/console/" + url.PathEscape(node))
	if err != nil {
		return nil, err
	}
	host := u.Host
	if u.Port() == "" {
		if u.Scheme == "https" {
			host = net.JoinHostPort(u.Hostname(), "443")
		} else {
			host = net.JoinHostPort(u.Hostname(), "80")
		}
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", host)
	if err != nil {
		return nil, err
	}
	if u.Scheme == "https" {
		tc := tls.Client(conn, &tls.Config{ServerName: u.Hostname()})
		if err := tc.HandshakeContext(ctx); err != nil {
			conn.Close()
			return nil, err
		}
		conn = tc
	}
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	req := fmt.Sprintf("GET %s HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\nConnection: Upgrade\r\nUpgrade: %s\r\n\r\n",
		u.RequestURI(), u.Host, c.token, ConsoleUpgrade)
	if _, err := io.WriteString(conn, req); err != nil {
		conn.Close()
		return nil, err
	}
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		conn.Close()
		return nil, err
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		defer conn.Close()
		return nil, decodeError(resp)
	}
	if !strings.EqualFold(resp.Header.Get("Upgrade"), ConsoleUpgrade) {
		conn.Close()
		return nil, fmt.Errorf("console of %s: the server upgraded to %q", node, resp.Header.Get("Upgrade"))
	}
	return &consoleConn{Reader: br, Conn: conn}, nil
}

type consoleConn struct {
	*bufio.Reader
	net.Conn
}

func (c *consoleConn) Read(p []byte) (int, error) { return c.Reader.Read(p) }

// ConsoleLog copies a node's console log to w; with follow it keeps
// copying what is appended until ctx ends.
func (c *Client) ConsoleLog(ctx context.Context, node string, follow bool, w io.Writer) error {
	u := c.base + "/v1/console/" + url.PathEscape(node) + "/log"
	if follow {
		u += "?follow=true"
	}
	resp, err := c.send(ctx, http.MethodGet, u, nil, false)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return decodeError(resp)
	}
	_, err = io.Copy(w, resp.Body)
	if ctx.Err() != nil {
		return nil
	}
	return err
}

// RunProgress is Run for long hardware commands: progress (nodes done of
// total) is reported as it comes.
func (c *Client) RunProgress(ctx context.Context, req RunRequest, progress func(done, total int)) (RunResponse, error) {
	body, err := json.Marshal(req)
	if err != nil {
		return RunResponse{}, err
	}
	resp, err := c.send(ctx, http.MethodPost, c.base+"/v1/run/progress", bytes.NewReader(body), true)
	if err != nil {
		return RunResponse{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return RunResponse{}, decodeError(resp)
	}
	dec := json.NewDecoder(resp.Body)
	for {
		var ev RunEvent
		if err := dec.Decode(&ev); err != nil {
			return RunResponse{}, fmt.Errorf("run %s: %w", req.Command, err)
		}
		if ev.Progress != nil && progress != nil {
			progress(ev.Progress.Done, ev.Progress.Total)
		}
		if ev.Result != nil {
			return *ev.Result, nil
		}
	}
}
