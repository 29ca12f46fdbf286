package ipmi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/bougou/go-ipmi/pkg/client"
	"github.com/bougou/go-ipmi/pkg/command/transport"
	"github.com/bougou/go-ipmi/pkg/types"

	"drover.dev/drover/internal/bmc"
)

// Console implements bmc.Consoler with IPMI Serial-over-LAN (payload
// instance 1) on a session of its own, so power calls on c are not held up
// by the console and closing the console leaves c open. The stream ends
// when it is closed, ctx ends or the BMC deactivates the payload; Close
// deactivates the payload and closes that session.
func (c *Client) Console(ctx context.Context) (io.ReadWriteCloser, error) {
	octx, cancel := c.drv.bound(ctx)
	gc, _, err := c.drv.connect(octx, c.ep)
	if err != nil {
		cancel()
		return nil, err
	}
	_, err = gc.ActivatePayload(octx, &transport.ActivatePayloadRequest{
		PayloadType:     types.PayloadTypeSOL,
		PayloadInstance: 1,
	})
	cancel()
	if err != nil {
		_ = gc.Close(closedContext())
		return nil, fmt.Errorf("ipmi %s: activate serial-over-LAN: %w", c.ep, err)
	}
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	sctx, stop := context.WithCancel(ctx)
	s := &solConsole{drv: c.drv, ep: c.ep, gc: gc, in: inW, out: outR, inR: inR, stop: stop, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		err := gc.SOLStream(sctx, inR, outW, nil) // polls every 100 ms
		if err == nil || errors.Is(err, context.Canceled) {
			err = io.EOF
		}
		outW.CloseWithError(err)
	}()
	return s, nil
}

// solConsole is an active SOL payload seen as a byte stream.
type solConsole struct {
	drv  Driver
	ep   endpoint
	gc   *client.Client
	in   *io.PipeWriter // keystrokes towards the node
	inR  *io.PipeReader
	out  *io.PipeReader // the node's output
	stop context.CancelFunc
	done chan struct{}

	once sync.Once
	err  error
}

func (s *solConsole) Read(p []byte) (int, error)  { return s.out.Read(p) }
func (s *solConsole) Write(p []byte) (int, error) { return s.in.Write(p) }

// Close stops the stream, deactivates the payload and closes the session.
func (s *solConsole) Close() error {
	s.once.Do(func() {
		s.stop()
		_ = s.in.Close()
		_ = s.inR.Close()
		<-s.done
		_ = s.out.Close()
		ctx, cancel := context.WithTimeout(context.Background(), min(s.drv.timeout(), s.drv.retransmit()))
		defer cancel()
		_, derr := s.gc.DeactivatePayload(ctx, &transport.DeactivatePayloadRequest{
			PayloadType:     types.PayloadTypeSOL,
			PayloadInstance: 1,
		})
		cerr := s.gc.Close(ctx)
		if err := errors.Join(derr, cerr); err != nil {
			s.err = fmt.Errorf("ipmi %s: close console: %w", s.ep, err)
		}
	})
	return s.err
}

var _ bmc.Consoler = (*Client)(nil)
var _ bmc.Inventorier = (*Client)(nil)
var _ bmc.Client = (*Client)(nil)
