package store

import (
	"testing"
	"time"
)

func TestTmpReopen(t *testing.T) {
	dir := t.TempDir()
	s, _ := Open(t.Context(), Config{DataDir: dir})
	t0 := time.Now()
	s.Apply(t.Context(), benchInventory(100000, 1000))
	t.Logf("apply %v", time.Since(t0))
	t0 = time.Now()
	s.Close()
	t.Logf("close %v", time.Since(t0))
	for range 3 {
		t0 = time.Now()
		db, _ := openSQLite(t.Context(), dir+"/drover.db", s.log)
		t.Logf("openSQLite %v", time.Since(t0))
		t0 = time.Now()
		_, objs, err := db.load(t.Context())
		t.Logf("load %v %d %v", time.Since(t0), len(objs), err)
		t0 = time.Now()
		m := newMemory()
		m.load(1, objs)
		t.Logf("memory %v", time.Since(t0))
		db.close()
	}
}
