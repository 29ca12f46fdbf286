package store

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

const leaseCrashChildEnv = "DROVER_STORE_LEASE_CRASH_CHILD"

// TestLeaseCrashDurability: leases are written on the synchronous=NORMAL
// connection (group commit, as the DHCP server does); a child writing
// batches is killed with SIGKILL at random moments, and every lease whose
// WriteLeases had returned must be there afterwards.
func TestLeaseCrashDurability(t *testing.T) {
	if dir := os.Getenv(leaseCrashChildEnv); dir != "" {
		leaseCrashChild(dir)
		return
	}
	if testing.Short() {
		t.Skip("-short: the crash test runs child processes")
	}
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))
	acked := -1
	for round := 1; round <= 8; round++ {
		delay := time.Duration(100+rng.IntN(700)) * time.Millisecond
		killChildAfter(t, "TestLeaseCrashDurability", leaseCrashChildEnv+"="+dir+","+strconv.Itoa(acked+1), delay,
			func(f []string) {
				if len(f) == 2 && f[0] == "acked" {
					acked, _ = strconv.Atoi(f[1])
				}
			})

		s, err := Open(t.Context(), Config{DataDir: dir})
		if err != nil {
			t.Fatalf("round %d: open after kill: %v", round, err)
		}
		ls, err := s.Leases(t.Context())
		s.Close()
		if err != nil {
			t.Fatal(err)
		}
		have := map[string]bool{}
		for _, l := range ls {
			have[l.MAC] = true
		}
		for i := 0; i <= acked; i++ {
			if !have[leaseCrashMAC(i)] {
				t.Fatalf("round %d: lease %d (%s) was acknowledged but is gone", round, i, leaseCrashMAC(i))
			}
		}
		t.Logf("round %d: %d leases acknowledged, all present", round, acked+1)
	}
}

func leaseCrashMAC(i int) string {
	return fmt.Sprintf("52:54:%02x:%02x:%02x:%02x", byte(i>>24), byte(i>>16), byte(i>>8), byte(i))
}

func leaseCrashChild(spec string) {
	dir, from, _ := strings.Cut(spec, ",")
	next, _ := strconv.Atoi(from)
	s, err := Open(context.Background(), Config{DataDir: dir})
	if err != nil {
		fmt.Fprintln(os.Stderr, "child open:", err)
		os.Exit(2)
	}
	now := time.Now()
	for {
		batch := make([]LeaseWrite, 10)
		for j := range batch {
			i := next + j
			batch[j] = LeaseWrite{Lease: Lease{MAC: leaseCrashMAC(i), IP: netip.AddrFrom4([4]byte{198, byte(18 + i>>16&1), byte(i >> 8), byte(i)}),
				Network: "lab", Expires: now.Add(time.Hour), Updated: now}}
		}
		if err := s.WriteLeases(context.Background(), batch); err != nil {
			fmt.Fprintln(os.Stderr, "child write:", err)
			os.Exit(3)
		}
		next += len(batch)
		fmt.Printf("acked %d\n", next-1)
		time.Sleep(2 * time.Millisecond) // about 5,000 leases a second: the addresses last all rounds
	}
}
