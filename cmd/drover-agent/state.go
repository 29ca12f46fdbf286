package main

import (
	"encoding/json"
	"fmt"
	"io"
	"sync"
	"time"
)

// agentState is what the agent is doing, for the debug SSH session of an
// image without a shell. The zero value is ready; a nil *agentState
// records nothing.
type agentState struct {
	mu      sync.Mutex
	phase   string
	since   time.Time
	network string
	answer  *Answer
	lastErr string
	report  []byte // the last report sent
}

func (s *agentState) setPhase(phase string) {
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.phase, s.since = phase, time.Now()
}

func (s *agentState) setNetwork(n string) {
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.network = n
}

func (s *agentState) setReport(b []byte) {
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.report = b
}

func (s *agentState) setResult(ans *Answer, err error) {
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if ans != nil {
		a := *ans
		s.answer = &a
	}
	s.lastErr = ""
	if err != nil {
		s.lastErr = err.Error()
	}
}

// write prints the state, then the last report sent (or report(), when
// none was sent yet) as indented JSON.
func (s *agentState) write(w io.Writer, report func() ([]byte, error)) error {
	s.mu.Lock()
	st := struct {
		Version string  `json:"version"`
		Phase   string  `json:"phase"`
		Since   string  `json:"since,omitempty"`
		Network string  `json:"network,omitempty"`
		Answer  *Answer `json:"lastAnswer,omitempty"`
		Error   string  `json:"lastError,omitempty"`
	}{version, s.phase, "", s.network, s.answer, s.lastErr}
	if !s.since.IsZero() {
		st.Since = s.since.UTC().Format(time.RFC3339)
	}
	rep := s.report
	s.mu.Unlock()
	if st.Phase == "" {
		st.Phase = "starting"
	}
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	if _, err := fmt.Fprintf(w, "state: %s\n", b); err != nil {
		return err
	}
	if rep == nil && report != nil {
		if rep, err = report(); err != nil {
			_, err = fmt.Fprintf(w, "facts: %v\n", err)
			return err
		}
	}
	var v any
	if err := json.Unmarshal(rep, &v); err != nil {
		return err
	}
	b, err = json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "facts: %s\n", b)
	return err
}
