package polycall

import (
	"context"
	"errors"
	"io"
	"sync"
	"time"

	"google.golang.org/grpc"

	"github.com/polycall/polycall/sdks/go/polycallpb"
)

// Stream carries many calls on one gRPC stream (the CallStream method), multiplexed by call id
// as on PolyCall's Unix socket: calls from many goroutines share it, results come back in
// completion order, and each goes to the goroutine waiting for it. Use it to keep many small
// calls in flight without a gRPC call each.
//
// A Stream is safe for concurrent use; Call blocks until its result arrives. Close it when done.
//
//	s, err := client.Stream(ctx)
//	...
//	defer s.Close()
//	v, err := s.Call(ctx, "math.add", 1, 2) // from any number of goroutines
type Stream struct {
	c      *Client
	stream grpc.BidiStreamingClient[polycallpb.StreamRequest, polycallpb.Result]
	cancel context.CancelFunc

	sendMu sync.Mutex // gRPC streams allow one sender at a time

	mu      sync.Mutex
	nextID  uint64
	pending map[uint64]chan *polycallpb.Result
	closed  bool
	err     error         // why the stream ended, set before done closes
	done    chan struct{} // closed when the receive loop ends
}

// Stream opens a CallStream to the node. ctx bounds the whole stream: cancelling it fails every
// call in flight; each call has its own deadline from the context passed to Stream.Call.
func (c *Client) Stream(ctx context.Context) (*Stream, error) {
	ctx, cancel := context.WithCancel(ctx)
	st, err := c.rpc.CallStream(c.withMetadata(ctx), c.callOpts...)
	if err != nil {
		cancel()
		return nil, fromRPC(err, nil)
	}
	s := &Stream{c: c, stream: st, cancel: cancel, pending: map[uint64]chan *polycallpb.Result{}, done: make(chan struct{})}
	go s.receive()
	return s, nil
}

// Call calls function with args on the stream and waits for its result. ctx's deadline travels
// with the call (or the client's WithTimeout when ctx has none); cancelling ctx sends a cancel
// for this call only.
func (s *Stream) Call(ctx context.Context, function string, args ...any) (Value, error) {
	return s.Invoke(ctx, NewCall(function, args...))
}

// CallInto calls function on the stream and decodes its result into out (see Value.Decode).
func (s *Stream) CallInto(ctx context.Context, out any, function string, args ...any) error {
	v, err := s.Call(ctx, function, args...)
	if err != nil {
		return err
	}
	return v.Decode(out)
}

// Invoke makes one call described by a Call on the stream.
func (s *Stream) Invoke(ctx context.Context, call Call) (Value, error) {
	req, err := call.proto()
	if err != nil {
		return Value{}, err
	}
	if s.c.o.timeout > 0 {
		if _, ok := ctx.Deadline(); !ok {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, s.c.o.timeout)
			defer cancel()
		}
	}
	if d, ok := ctx.Deadline(); ok {
		left := time.Until(d)
		if left <= 0 {
			return Value{}, Errorf(DeadlineExceeded, "the deadline of %s passed before it was sent", call.Function)
		}
		req.TimeoutNanos = uint64(left.Nanoseconds())
	}
	if err := ctx.Err(); err != nil {
		return Value{}, ctxError(err, call.Function)
	}

	ch := make(chan *polycallpb.Result, 1)
	s.mu.Lock()
	if s.closed || s.err != nil {
		err := s.err
		s.mu.Unlock()
		if err == nil {
			err = errStreamClosed
		}
		return Value{}, err
	}
	s.nextID++
	id := s.nextID
	req.CallId = id
	s.pending[id] = ch
	s.mu.Unlock()

	if err := s.send(&polycallpb.StreamRequest{Body: &polycallpb.StreamRequest_Call{Call: req}}); err != nil {
		// The stream broke; the receive loop reports why.
		<-s.done
		return Value{}, s.err
	}
	select {
	case r := <-ch:
		return resultOf(r)
	case <-ctx.Done():
		s.mu.Lock()
		delete(s.pending, id)
		s.mu.Unlock()
		// Best effort: the node stops the work; its late answer is ignored.
		_ = s.send(&polycallpb.StreamRequest{Body: &polycallpb.StreamRequest_Cancel{Cancel: &polycallpb.Cancel{CallId: id}}})
		return Value{}, ctxError(ctx.Err(), call.Function)
	case <-s.done:
		select {
		case r := <-ch: // answered just before the stream ended
			return resultOf(r)
		default:
			return Value{}, s.err
		}
	}
}

// Close half-closes the stream, waits until every call in flight is answered and the node ends
// the stream, and releases it. Calls after Close fail with FAILED_PRECONDITION. Close is
// idempotent; it returns the error that ended the stream, if it was not a clean end.
func (s *Stream) Close() error {
	s.mu.Lock()
	first := !s.closed
	s.closed = true
	s.mu.Unlock()
	if first {
		s.sendMu.Lock()
		_ = s.stream.CloseSend()
		s.sendMu.Unlock()
	}
	<-s.done
	s.cancel()
	if s.err == errStreamClosed {
		return nil
	}
	return s.err
}

func (s *Stream) send(r *polycallpb.StreamRequest) error {
	s.sendMu.Lock()
	defer s.sendMu.Unlock()
	return s.stream.Send(r)
}

// receive hands each result to the call waiting for it, until the stream ends.
func (s *Stream) receive() {
	for {
		r, err := s.stream.Recv()
		if err != nil {
			s.mu.Lock()
			switch orphans := len(s.pending); {
			case !errors.Is(err, io.EOF):
				s.err = fromRPC(err, s.stream.Trailer())
			case orphans > 0:
				s.err = Errorf(Unavailable, "the node ended the stream with %d calls unanswered", orphans)
			default:
				s.err = errStreamClosed
			}
			s.pending = nil
			s.mu.Unlock()
			close(s.done)
			return
		}
		s.mu.Lock()
		ch, ok := s.pending[r.GetCallId()]
		delete(s.pending, r.GetCallId())
		s.mu.Unlock()
		if ok { // results of cancelled calls are ignored
			ch <- r
		}
	}
}

var errStreamClosed = Errorf(FailedPrecondition, "the stream is closed: open another with Client.Stream")

func ctxError(err error, function string) error {
	if errors.Is(err, context.DeadlineExceeded) {
		return &Error{Code: DeadlineExceeded, Message: "the deadline of " + function + " passed", cause: err}
	}
	return &Error{Code: Canceled, Message: function + " was cancelled", cause: err}
}
