package store

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"syscall"
	"testing"
	"time"

	"drover.dev/drover/internal/inventory"
)

// benchInventory returns the benchmark scale's inventory: groups g000..g999
// (each with a regex ip, as sites define them) plus "all", and nodes
// cn000001.. spread over the groups, each with its own MAC, serial and
// UUID.
func benchInventory(nodes, groups int) []inventory.Change {
	changes := make([]inventory.Change, 0, nodes+groups+1)
	changes = append(changes, put(obj(inventory.Group, "all",
		"mgt", "ipmi", "netboot", "xnba", "arch", "x86_64", "os", "rhels9.4", "profile", "compute",
		"bmcusername", "ADMIN", "bmcpassword", "secret")))
	for g := range groups {
		changes = append(changes, put(obj(inventory.Group, fmt.Sprintf("g%03d", g),
			"ip", `|\D+(\d+)|10.($1/10000).($1/100%100).($1%100)|`,
			"bmc", `|\D+(\d+)|10.128.($1/256%256).($1%256)|`,
			"comments", fmt.Sprintf("rack %d", g))))
	}
	for i := 1; i <= nodes; i++ {
		changes = append(changes, put(obj(inventory.Node, fmt.Sprintf("cn%06d", i),
			"groups", fmt.Sprintf("g%03d,all", (i-1)*groups/nodes),
			"mac", benchMAC(i)+"!eth0",
			"serial", fmt.Sprintf("SN%08d", i),
			"uuid", fmt.Sprintf("4c4c4544-%04x-%04x-8050-%012x", i>>16, i&0xffff, i),
		)))
	}
	return changes
}

func benchMAC(i int) string {
	return fmt.Sprintf("02:00:00:%02x:%02x:%02x", byte(i>>16), byte(i>>8), byte(i))
}

// BenchmarkApply100kNodes is one Apply (one transaction) of 100,000 nodes in
// 1,000 groups on SQLite, into a new database. It also reports the CPU time
// of that Apply, how long reopening the store (loading and indexing
// everything) takes and the live heap the reopened store holds.
func BenchmarkApply100kNodes(b *testing.B) {
	benchApply(b, func() Config { return Config{DataDir: b.TempDir()} })
}

// BenchmarkApply100kNodesPostgres is the same on PostgreSQL (skipped
// unless DROVER_TEST_POSTGRES is set).
func BenchmarkApply100kNodesPostgres(b *testing.B) {
	benchApply(b, func() Config { return Config{DSN: pgSchemaDSN(b)} })
}

func benchApply(b *testing.B, newDB func() Config) {
	const nodes, groups = 100_000, 1_000
	changes := benchInventory(nodes, groups)
	var heapMB, openSec, applyCPU float64
	for b.Loop() {
		b.StopTimer()
		cfg := newDB()
		s, err := Open(b.Context(), cfg)
		if err != nil {
			b.Fatal(err)
		}
		cpu0 := cpuTime()
		b.StartTimer()
		if err := s.Apply(b.Context(), changes); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		applyCPU = (cpuTime() - cpu0).Seconds()
		if n, ok := s.NodeByIP("10.5.0.0"); !ok || n.Name != "cn050000" {
			b.Fatalf("NodeByIP(10.5.0.0) = %v, %v; want cn050000", n, ok)
		}
		s.Close()
		s = nil
		base := heapAlloc()
		start := time.Now()
		s, err = Open(b.Context(), cfg)
		if err != nil {
			b.Fatal(err)
		}
		openSec = time.Since(start).Seconds()
		heapMB = float64(heapAlloc()-base) / (1 << 20)
		if len(s.List(inventory.Node)) != nodes {
			b.Fatal("nodes lost on reopen")
		}
		s.Close()
		b.StartTimer()
	}
	b.ReportMetric(applyCPU, "apply-cpu-s")
	b.ReportMetric(heapMB, "heap-MB")
	b.ReportMetric(openSec, "reopen-s")
}

// BenchmarkNodeByMAC looks up random nodes by MAC among 100,000 and
// reports the latency percentiles of single lookups (each timed on its own,
// so the figures include about 20-40 ns of clock reading).
func BenchmarkNodeByMAC(b *testing.B) {
	const nodes, groups = 100_000, 1_000
	s, err := Open(b.Context(), Config{DataDir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	if err := s.Apply(b.Context(), benchInventory(nodes, groups)); err != nil {
		b.Fatal(err)
	}
	macs := make([]string, 4096)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range macs {
		macs[i] = benchMAC(1 + rng.IntN(nodes))
		if i%2 == 1 {
			macs[i] = toUpperDash(macs[i]) // as some firmware reports it
		}
	}
	lat := make([]time.Duration, 0, 1<<20)
	i := 0
	b.ResetTimer()
	for b.Loop() {
		mac := macs[i%len(macs)]
		i++
		start := time.Now()
		_, ok := s.NodeByMAC(mac)
		lat = append(lat, time.Since(start))
		if !ok {
			b.Fatalf("NodeByMAC(%s): not found", mac)
		}
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)*50/100].Nanoseconds()), "p50-ns")
	b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds()), "p99-ns")
}

// heapAlloc returns the live heap after a garbage collection.
func heapAlloc() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// cpuTime returns the process's user+system CPU time: on a busy machine
// it shows the work done where wall time shows the wait for a CPU.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func toUpperDash(mac string) string {
	b := []byte(mac)
	for i, c := range b {
		switch {
		case c == ':':
			b[i] = '-'
		case c >= 'a' && c <= 'f':
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}

// BenchmarkAddBootEvents measures recording boot events in batches of 512,
// as the network boot services do (4 per DHCP client, more per boot).
func BenchmarkAddBootEvents(b *testing.B) {
	s, err := Open(b.Context(), Config{DataDir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	batch := make([]BootEvent, 512)
	now := time.Now()
	b.ResetTimer()
	for i := 0; i < b.N; i += len(batch) {
		for j := range batch {
			n := i + j
			batch[j] = BootEvent{Time: now.Add(time.Duration(n) * time.Microsecond), MAC: fmt.Sprintf("52:54:00:%02x:%02x:%02x", byte(n>>16), byte(n>>8), byte(n)),
				Kind: "dhcp-offer", Detail: "ip=198.19.1.1 network=bench"}
		}
		if err := s.AddBootEvents(b.Context(), batch); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
