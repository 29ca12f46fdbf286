package apiserver

import (
	"context"
	"net"
	"time"

	"drover.dev/drover/internal/api"
	"drover.dev/drover/internal/store"
)

// BootEvents reads nodes' boot timelines (*store.Store).
type BootEvents interface {
	NodeBootEvents(ctx context.Context, node string, since time.Time, limit int) ([]store.BootEvent, error)
	MACBootEvents(ctx context.Context, mac string, since time.Time, limit int) ([]store.BootEvent, error)
}

// DefaultEventLimit is how many events an events request returns at most
// when it sets no limit.
const DefaultEventLimit = 10000

type eventsInput struct {
	Node  string    `path:"node" doc:"Node name, or a MAC address (the timeline of that MAC, known node or not)."`
	Since time.Time `query:"since" doc:"Only events at or after this time (RFC 3339)."`
	Limit int       `query:"limit" minimum:"0" maximum:"100000" doc:"At most this many events, oldest first; 0 means 10000."`
}

type eventsOutput struct {
	Body api.BootEventList
}

func (s *Server) events(ctx context.Context, in *eventsInput) (*eventsOutput, error) {
	if s.BootEvents == nil {
		return &eventsOutput{Body: api.BootEventList{Items: []api.BootEvent{}}}, nil
	}
	limit := in.Limit
	if limit == 0 {
		limit = DefaultEventLimit
	}
	query := s.BootEvents.NodeBootEvents
	if _, err := net.ParseMAC(in.Node); err == nil {
		query = s.BootEvents.MACBootEvents
	}
	evs, err := query(ctx, in.Node, in.Since, limit)
	if err != nil {
		return nil, err
	}
	out := &eventsOutput{Body: api.BootEventList{Items: make([]api.BootEvent, len(evs))}}
	for i, e := range evs {
		out.Body.Items[i] = api.BootEvent{Time: e.Time, Node: e.Node, MAC: e.MAC, Kind: e.Kind,
			Detail: e.Detail, Reason: e.Reason, Remote: e.Remote}
	}
	return out, nil
}
