package store

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"drover.dev/drover/internal/inventory"
)

// crashChildEnv switches the test binary into the crash test's child: it
// holds the SQLite data directory to write to.
const crashChildEnv = "DROVER_STORE_CRASH_CHILD"

// TestCrashDurability is acceptance item 5: a child process applies
// objects in a loop and is killed with SIGKILL at a random moment, 20
// times; after each kill the database must open, pass its integrity check
// and hold every object whose Apply had returned. The child prints
// "begin FIRST LAST" before each Apply of nodes FIRST..LAST (one
// transaction) and "acked LAST" after it returns; the transaction in flight
// when the child died must be there entirely or not at all.
func TestCrashDurability(t *testing.T) {
	if dir := os.Getenv(crashChildEnv); dir != "" {
		crashChild(dir)
		return
	}
	if testing.Short() {
		t.Skip("-short: the crash test runs 20 child processes")
	}
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 5))
	const rounds = 20
	total := 0
	for round := 1; round <= rounds; round++ {
		prevTotal := total
		type progress struct {
			acked       int // highest acknowledged node, -1 for none
			first, last int // the batch begun last
			started     bool
		}
		p := progress{acked: -1, first: -1, last: -1}
		// Kill at a random moment: from before the store is open to well
		// into the apply loop.
		delay := time.Duration(50+rng.IntN(1200)) * time.Millisecond
		killChildAfter(t, "TestCrashDurability", crashChildEnv+"="+dir, delay, func(f []string) {
			switch {
			case len(f) == 2 && f[0] == "acked":
				p.acked, _ = strconv.Atoi(f[1])
			case len(f) == 3 && f[0] == "begin":
				p.first, _ = strconv.Atoi(f[1])
				p.last, _ = strconv.Atoi(f[2])
				p.started = true
			}
		})
		// Nodes verified present after the previous round count as
		// acknowledged; the child continued after them.
		roundAcked := p.acked
		p.acked = max(p.acked, total-1)

		s, err := Open(t.Context(), Config{DataDir: dir})
		if err != nil {
			t.Fatalf("round %d: open after SIGKILL: %v", round, err)
		}
		if err := s.CheckIntegrity(t.Context()); err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		nodes := s.List(inventory.Node)
		for i := 0; i <= p.acked; i++ {
			if _, ok := s.Get(inventory.Node, crashNodeName(i)); !ok {
				t.Fatalf("round %d: acknowledged node %s missing (acked up to %d, %d nodes present)",
					round, crashNodeName(i), p.acked, len(nodes))
			}
		}
		if p.started && p.last > p.acked {
			// The batch in flight: all or nothing.
			present := 0
			for i := p.first; i <= p.last; i++ {
				if _, ok := s.Get(inventory.Node, crashNodeName(i)); ok {
					present++
				}
			}
			if present != 0 && present != p.last-p.first+1 {
				t.Fatalf("round %d: %d of the %d nodes of the interrupted transaction are present",
					round, present, p.last-p.first+1)
			}
		}
		if got, most := len(nodes), max(p.acked, p.last)+1; got < p.acked+1 || got > most {
			t.Fatalf("round %d: %d nodes present; %d acknowledged, at most %d begun", round, got, p.acked+1, most)
		}
		total = len(nodes)
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		t.Logf("round %2d: killed after %4v: %4d node applies acknowledged this round, %5d nodes acknowledged in all, %5d present",
			round, delay, max(0, roundAcked-prevTotal+1), p.acked+1, total)
	}
}

// killChildAfter re-runs the test binary as the child of test (env set),
// passes each line it prints, split into fields, to line, and kills it with
// SIGKILL after delay; it returns once the child is gone and its output read.
func killChildAfter(t *testing.T, test, env string, delay time.Duration, line func(fields []string)) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^"+test+"$", "-test.count=1")
	cmd.Env = append(os.Environ(), env)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	read := make(chan struct{})
	go func() {
		defer close(read)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			line(strings.Fields(sc.Text()))
		}
	}()
	time.Sleep(delay)
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatalf("kill: %v", err)
	}
	<-read
	cmd.Wait()
}

func crashNodeName(i int) string { return fmt.Sprintf("crash%07d", i) }

// crashChild opens the store in dir and applies batches of nodes forever,
// continuing after the nodes already there.
func crashChild(dir string) {
	ctx := context.Background()
	s, err := Open(ctx, Config{DataDir: dir})
	if err != nil {
		fmt.Fprintln(os.Stderr, "crash child:", err)
		os.Exit(2)
	}
	next := len(s.List(inventory.Node))
	rng := rand.New(rand.NewPCG(uint64(os.Getpid()), 7))
	w := bufio.NewWriter(os.Stdout)
	deadline := time.Now().Add(2 * time.Minute) // the parent kills us long before
	for time.Now().Before(deadline) {
		n := 1 + rng.IntN(40)
		batch := make([]inventory.Change, 0, n+1)
		for i := next; i < next+n; i++ {
			batch = append(batch, inventory.Change{Op: inventory.Put, Object: inventory.Object{
				Type: inventory.Node, Name: crashNodeName(i),
				Attrs: map[string]string{
					"groups": "crash,all",
					"mac":    fmt.Sprintf("02:00:%02x:%02x:%02x:%02x", byte(i>>24), byte(i>>16), byte(i>>8), byte(i)),
				},
			}})
		}
		batch = append(batch, inventory.Change{Op: inventory.Put, Object: inventory.Object{
			Type: inventory.Group, Name: "crash", Attrs: map[string]string{"comments": strconv.Itoa(next)},
		}})
		fmt.Fprintf(w, "begin %d %d\n", next, next+n-1)
		w.Flush()
		if err := s.Apply(ctx, batch); err != nil {
			fmt.Fprintln(os.Stderr, "crash child: apply:", err)
			os.Exit(2)
		}
		next += n
		fmt.Fprintf(w, "acked %d\n", next-1)
		w.Flush()
	}
	s.Close()
	os.Exit(0)
}
