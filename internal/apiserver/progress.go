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
	p, ok := s.authorizeHTTP(w, r, "run", api.RoleViewer)
	if !ok {
		return
	}
	var req api.RunRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, s.maxBody())).Decode(&req); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			writeProblem(w, http.StatusRequestEntityTooLarge, err.Error())
		} else {
			writeProblem(w, http.StatusBadRequest, "request body: "+err.Error())
		}
		return
	}
	if err := authorizeRun(p, req); err != nil {
		s.writeAuthError(w, err)
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
