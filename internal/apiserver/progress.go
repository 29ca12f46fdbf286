package apiserver

import (
	"encoding/json"
	"errors"
	"net/http"
	"sync"
	"time"

	"drover.dev/drover/internal/api"
)

// runProgress serves POST /v1/run/progress: /v1/run for long hardware
// commands, answering with newline-delimited JSON — api.RunEvent lines
// with Progress while nodes finish (at most ten a second), then one with
// Result.
func (s *Server) runProgress(w http.ResponseWriter, r *http.Request) {
	p, err := s.principal(r.Context(), r.Header.Get("Authorization"))
	var req api.RunRequest
	if err == nil {
		dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, s.maxBody()))
		if derr := dec.Decode(&req); derr != nil {
			var mbe *http.MaxBytesError
			if errors.As(derr, &mbe) {
				writeProblem(w, http.StatusRequestEntityTooLarge, derr.Error())
			} else {
				writeProblem(w, http.StatusBadRequest, "request body: "+derr.Error())
			}
			return
		}
		err = authorizeRun(p, req)
	}
	if err != nil {
		status := statusOf(err)
		if status == http.StatusUnauthorized {
			w.Header().Set("WWW-Authenticate", wwwAuthenticate(err))
		}
		writeProblem(w, status, err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	_ = rc.SetWriteDeadline(time.Time{})
	enc := json.NewEncoder(w)
	var mu sync.Mutex
	var last time.Time
	progress := func(done, total int) {
		mu.Lock()
		defer mu.Unlock()
		if done < total && time.Since(last) < 100*time.Millisecond {
			return
		}
		last = time.Now()
		_ = enc.Encode(api.RunEvent{Progress: &api.Progress{Done: done, Total: total}})
		_ = rc.Flush()
	}
	res := s.runCommand(r.Context(), p, req, progress)
	mu.Lock()
	defer mu.Unlock()
	_ = enc.Encode(api.RunEvent{Result: &res})
}
