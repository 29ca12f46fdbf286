package main

import (
	"context"
	"os"
	"os/signal"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// reaper collects PID 1's orphaned children (zombies). Code that starts a
// child and waits for it itself holds the reaper meanwhile, so the child's
// exit status is not taken from under it; the reaper catches up when
// nothing is held. A nil *reaper holds nothing (not PID 1).
type reaper struct{ mu sync.RWMutex }

// hold keeps the reaper off until the returned func is called.
func (r *reaper) hold() func() {
	if r == nil {
		return func() {}
	}
	r.mu.RLock()
	return r.mu.RUnlock
}

// run reaps on SIGCHLD and every few seconds until ctx is done.
func (r *reaper) run(ctx context.Context) {
	sig := make(chan os.Signal, 8)
	signal.Notify(sig, unix.SIGCHLD)
	defer signal.Stop(sig)
	t := time.NewTicker(5 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-sig:
		case <-t.C:
		}
		r.reap()
	}
}

// reap waits for every exited child, unless a child is being waited for.
func (r *reaper) reap() int {
	if !r.mu.TryLock() {
		return 0
	}
	defer r.mu.Unlock()
	n := 0
	for {
		var ws unix.WaitStatus
		pid, err := unix.Wait4(-1, &ws, unix.WNOHANG, nil)
		if pid <= 0 || err != nil {
			return n
		}
		n++
	}
}
