package daemon

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestMemoryReleaser(t *testing.T) {
	for _, tc := range []struct {
		name     string
		reqBody  int
		respBody int
		want     bool
	}{
		{"small", 100, 100, false},
		{"large request", largeTransfer, 10, true},
		{"large response", 10, largeTransfer, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			released := make(chan struct{}, 1)
			m := newMemoryReleaser(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				io.Copy(io.Discard, r.Body)
				io.WriteString(w, strings.Repeat("x", tc.respBody))
			}))
			m.release = func() { released <- struct{}{} }
			srv := httptest.NewServer(m)
			defer srv.Close()
			resp, err := http.Post(srv.URL, "text/plain", strings.NewReader(strings.Repeat("y", tc.reqBody)))
			if err != nil {
				t.Fatal(err)
			}
			n, _ := io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if n != int64(tc.respBody) {
				t.Fatalf("response %d bytes, want %d", n, tc.respBody)
			}
			select {
			case <-released:
				if !tc.want {
					t.Error("released memory after a small request")
				}
			case <-time.After(2 * time.Second):
				if tc.want {
					t.Error("did not release memory after a large transfer")
				}
			}
		})
	}
}
