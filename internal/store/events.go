package store

import (
	"context"
	"sync"
)

// Subscribe returns a channel of committed changes, in revision order,
// starting with the next commit. It is closed when ctx is done or the store
// is closed. On PostgreSQL it also carries changes committed by other
// servers on the same database. The channel is fed from an unbounded queue,
// so a slow reader never holds up writers.
func (s *Store) Subscribe(ctx context.Context) <-chan Event {
	sub := &subscriber{wake: make(chan struct{}, 1), out: make(chan Event, 64)}
	s.subsMu.Lock()
	if s.closed() {
		s.subsMu.Unlock()
		close(sub.out)
		return sub.out
	}
	s.subs[sub] = struct{}{}
	s.wg.Add(1)
	s.subsMu.Unlock()
	go func() {
		defer s.wg.Done()
		defer close(sub.out)
		defer func() {
			s.subsMu.Lock()
			delete(s.subs, sub)
			s.subsMu.Unlock()
		}()
		sub.run(ctx, s.done)
	}()
	return sub.out
}

type subscriber struct {
	mu    sync.Mutex
	queue []Event
	wake  chan struct{}
	out   chan Event
}

func (sub *subscriber) run(ctx context.Context, done <-chan struct{}) {
	for {
		sub.mu.Lock()
		q := sub.queue
		sub.queue = nil
		sub.mu.Unlock()
		for _, e := range q {
			select {
			case sub.out <- e:
			case <-ctx.Done():
				return
			case <-done:
				return
			}
		}
		if len(q) > 0 {
			continue
		}
		select {
		case <-sub.wake:
		case <-ctx.Done():
			return
		case <-done:
			return
		}
	}
}

// publish queues events for every subscriber. Callers hold wmu, so events
// are queued in revision order.
func (s *Store) publish(events []Event) {
	if len(events) == 0 {
		return
	}
	s.subsMu.Lock()
	defer s.subsMu.Unlock()
	for sub := range s.subs {
		sub.mu.Lock()
		sub.queue = append(sub.queue, events...)
		sub.mu.Unlock()
		select {
		case sub.wake <- struct{}{}:
		default:
		}
	}
}
