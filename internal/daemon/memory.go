package daemon

import (
	"net/http"
	"runtime/debug"
	"sync/atomic"
)

// largeTransfer is the request or response size after which the server
// hands freed heap memory back to the operating system.
const largeTransfer = 4 << 20

// memoryReleaser wraps an HTTP handler. A bulk request (a 100,000-node
// mkdef -z, a full lsdef -z) makes tens of MB of short-lived garbage; Go keeps
// that heap mapped and returns it only slowly, so the server's RSS would stay
// at the request's peak. After a request that moved more than largeTransfer
// bytes, the releaser runs one garbage collection and returns the freed
// memory (debug.FreeOSMemory), at most one at a time, after the response.
type memoryReleaser struct {
	next    http.Handler
	running atomic.Bool
	release func() // debug.FreeOSMemory; replaced in tests
}

func newMemoryReleaser(next http.Handler) *memoryReleaser {
	return &memoryReleaser{next: next, release: debug.FreeOSMemory}
}

func (m *memoryReleaser) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	cw := &countingWriter{ResponseWriter: w}
	m.next.ServeHTTP(cw, r)
	if r.ContentLength < largeTransfer && cw.n < largeTransfer {
		return
	}
	if !m.running.CompareAndSwap(false, true) {
		return
	}
	// Released after the handler returned: the client already has its answer.
	go func() {
		defer m.running.Store(false)
		m.release()
	}()
}

// countingWriter counts the response bytes written.
type countingWriter struct {
	http.ResponseWriter
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.ResponseWriter.Write(p)
	c.n += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the real writer (Flush, deadlines).
func (c *countingWriter) Unwrap() http.ResponseWriter { return c.ResponseWriter }
