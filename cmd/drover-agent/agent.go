package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"time"

	"drover.dev/drover/internal/facts"
)

// Action is what drover tells a registered machine to do next.
type Action string

// Actions the server may answer with.
const (
	ActionWait     Action = "wait"     // sleep After seconds, then register again
	ActionReboot   Action = "reboot"   // reboot after After seconds
	ActionPowerOff Action = "poweroff" // power off after After seconds
	ActionShell    Action = "shell"    // run /bin/sh (debug)
)

// Answer is the server's JSON reply to a registration.
type Answer struct {
	Action Action `json:"action"`
	After  int    `json:"after"` // seconds
}

// Backoff limits for registration retries and the default wait.
const (
	minBackoff  = time.Second
	maxBackoff  = 30 * time.Second
	defaultWait = 30 * time.Second
	maxAnswer   = 64 << 10
	maxAfter    = 24 * 60 * 60
)

// Machine carries out the actions that leave the agent; the real one uses
// reboot(2) and exec, tests use a fake.
type Machine interface {
	Reboot() error
	PowerOff() error
	Shell() error
}

// Agent registers a machine's facts with drover and follows its answer.
type Agent struct {
	URL     string // registration URL, with ?token=
	Client  *http.Client
	Collect func(ctx context.Context) (*facts.Report, error)
	Machine Machine
	Log     *slog.Logger
	// Sleep waits d or until ctx is done (nil: a timer). Tests make it instant.
	Sleep func(ctx context.Context, d time.Duration) error
	// Jitter returns a random duration in [0, d) (nil: math/rand/v2).
	Jitter func(d time.Duration) time.Duration
	// State records progress for the debug SSH session (nil: none).
	State *agentState
}

// Run registers, follows the answer and repeats after a wait, until a
// reboot, power off or shell takes over or ctx is done.
func (a *Agent) Run(ctx context.Context) error {
	for {
		ans, err := a.Register(ctx)
		if err != nil {
			return err
		}
		done, err := a.Follow(ctx, ans)
		if done || err != nil {
			return err
		}
	}
}

// Register collects facts and POSTs them until the server accepts them
// with a 2xx status, backing off exponentially (1 s to 30 s, with jitter)
// between attempts. It returns the server's answer; an empty body means wait.
func (a *Agent) Register(ctx context.Context) (Answer, error) {
	r, err := a.Collect(ctx)
	if err != nil {
		return Answer{}, fmt.Errorf("collect facts: %w", err)
	}
	body, err := json.Marshal(r)
	if err != nil {
		return Answer{}, err
	}
	a.State.setReport(body)
	a.State.setPhase("registering")
	backoff := minBackoff
	for attempt := 1; ; attempt++ {
		ans, err := a.post(ctx, body)
		if err == nil {
			a.State.setResult(&ans, nil)
			a.Log.Info("registered", "attempt", attempt, "action", ans.Action, "after", ans.After)
			a.State.setPhase("registered: " + string(ans.Action))
			return ans, nil
		}
		a.State.setResult(nil, err)
		if ctx.Err() != nil {
			return Answer{}, ctx.Err()
		}
		d := backoff/2 + a.jitter(backoff/2+1)
		a.Log.Warn("register failed, retrying", "attempt", attempt, "err", err, "in", d)
		if err := a.sleep(ctx, d); err != nil {
			return Answer{}, err
		}
		backoff = min(2*backoff, maxBackoff)
	}
}

// errStatus is a non-2xx answer.
type errStatus struct {
	code int
	body string
}

func (e *errStatus) Error() string { return fmt.Sprintf("server answered %d: %s", e.code, e.body) }

func (a *Agent) post(ctx context.Context, body []byte) (Answer, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.URL, bytes.NewReader(body))
	if err != nil {
		return Answer{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := a.Client.Do(req)
	if err != nil {
		return Answer{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return Answer{}, err
	}
	if resp.StatusCode/100 != 2 {
		return Answer{}, &errStatus{resp.StatusCode, string(bytes.TrimSpace(b[:min(len(b), 200)]))}
	}
	return parseAnswer(b)
}

// ErrBadAnswer: the server's 2xx body is not an Answer.
var ErrBadAnswer = errors.New("bad answer")

func parseAnswer(b []byte) (Answer, error) {
	if len(bytes.TrimSpace(b)) == 0 {
		return Answer{Action: ActionWait}, nil
	}
	var ans Answer
	if err := json.Unmarshal(b, &ans); err != nil {
		return Answer{}, fmt.Errorf("%w: %w", ErrBadAnswer, err)
	}
	switch ans.Action {
	case "":
		ans.Action = ActionWait
	case ActionWait, ActionReboot, ActionPowerOff, ActionShell:
	default:
		return Answer{}, fmt.Errorf("%w: unknown action %q", ErrBadAnswer, ans.Action)
	}
	if ans.After < 0 || ans.After > maxAfter {
		return Answer{}, fmt.Errorf("%w: after %d out of range", ErrBadAnswer, ans.After)
	}
	return ans, nil
}

// Follow carries out ans. It reports done when the machine was handed over
// (reboot, power off, shell); after a wait the caller registers again. A
// failed reboot, power off or shell is logged and turns into a wait.
func (a *Agent) Follow(ctx context.Context, ans Answer) (done bool, err error) {
	after := time.Duration(ans.After) * time.Second
	if ans.Action == ActionWait && after == 0 {
		after = defaultWait
	}
	if err := a.sleep(ctx, after); err != nil {
		return false, err
	}
	var do func() error
	switch ans.Action {
	case ActionReboot:
		do = a.Machine.Reboot
	case ActionPowerOff:
		do = a.Machine.PowerOff
	case ActionShell:
		do = a.Machine.Shell
	default:
		return false, nil
	}
	a.Log.Info("carrying out", "action", ans.Action)
	a.State.setPhase("carrying out " + string(ans.Action))
	if err := do(); err != nil {
		a.Log.Error("action failed, waiting", "action", ans.Action, "err", err)
		return false, a.sleep(ctx, defaultWait)
	}
	return true, nil
}

func (a *Agent) sleep(ctx context.Context, d time.Duration) error {
	if a.Sleep != nil {
		return a.Sleep(ctx, d)
	}
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func (a *Agent) jitter(d time.Duration) time.Duration {
	if a.Jitter != nil {
		return a.Jitter(d)
	}
	return rand.N(d)
}
