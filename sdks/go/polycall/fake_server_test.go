package polycall_test

// A fake node for the client's unit tests: the generic gRPC service over a real loopback
// socket, with a handful of scripted functions. The system test (../systemtest) runs the same
// client against the real Java node.

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/polycall/polycall/sdks/go/polycall"
	"github.com/polycall/polycall/sdks/go/polycallpb"
)

type fakeNode struct {
	polycallpb.UnimplementedPolyCallServer
	addr   string
	health *health.Server

	mu        sync.Mutex
	lastMD    metadata.MD
	cancelled chan string // function names whose calls saw their context end
}

// startFake serves a fake node on 127.0.0.1 until the test ends; tlsCfg makes it a TLS server.
func startFake(t *testing.T, tlsCfg *tls.Config) *fakeNode {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var opts []grpc.ServerOption
	if tlsCfg != nil {
		opts = append(opts, grpc.Creds(credentials.NewTLS(tlsCfg)))
	}
	srv := grpc.NewServer(opts...)
	f := &fakeNode{addr: lis.Addr().String(), cancelled: make(chan string, 16)}
	polycallpb.RegisterPolyCallServer(srv, f)
	f.health = health.NewServer()
	healthpb.RegisterHealthServer(srv, f.health)
	go srv.Serve(lis)
	t.Cleanup(srv.Stop)
	return f
}

func value(t *testing.T, x any) *polycallpb.Value {
	t.Helper()
	v, err := polycall.Encode(x)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// run is the fake's function table. It returns a value, or a PolyCall status.
func (f *fakeNode) run(ctx context.Context, c *polycallpb.Call) (*polycallpb.Value, *polycallpb.Status) {
	md, _ := metadata.FromIncomingContext(ctx)
	f.mu.Lock()
	f.lastMD = md
	f.mu.Unlock()
	arg := func(i int) polycall.Value {
		v, _ := polycall.FromProto(c.GetArgs()[i])
		return v
	}
	switch c.GetFunction() {
	case "math.add":
		a, err1 := arg(0).AsInt()
		b, err2 := arg(1).AsInt()
		if err := errors.Join(err1, err2); err != nil {
			return nil, &polycallpb.Status{Code: int32(codes.InvalidArgument), Message: "math.add(a: i64, b: i64): " + err.Error()}
		}
		v, _ := polycall.Encode(a + b)
		return v, nil
	case "echo":
		return c.GetArgs()[0], nil
	case "meta":
		get := func(k string) string {
			if v := md.Get(k); len(v) > 0 {
				return v[0]
			}
			return c.GetMetadata()[k]
		}
		v, _ := polycall.Encode(map[string]string{
			"authorization": get("authorization"), "tenant": get("tenant"), "trace": get("trace"),
		})
		return v, nil
	case "py.fail":
		return nil, &polycallpb.Status{Code: int32(codes.InvalidArgument), Message: "ValueError: empty", Frames: []*polycallpb.StackFrame{
			{Language: "python", Function: "mean", File: "stats.py", Line: 12},
			{Language: "polycall", Function: "py.fail", File: "python"},
		}}
	case "slow":
		<-ctx.Done()
		f.cancelled <- c.GetFunction()
		// As the real node: a deadline that passed is DEADLINE_EXCEEDED, a cancel CANCELLED.
		// The node's timer can fire before the client's, so the answer must not depend on it.
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return nil, &polycallpb.Status{Code: int32(codes.DeadlineExceeded), Message: "deadline passed"}
		}
		return nil, &polycallpb.Status{Code: int32(codes.Canceled), Message: "stopped"}
	case "bad.result":
		return &polycallpb.Value{Kind: &polycallpb.Value_IntValue{IntValue: 300}, Width: polycallpb.Scalar_I8}, nil
	}
	return nil, &polycallpb.Status{Code: int32(codes.NotFound), Message: "no function " + c.GetFunction()}
}

func (f *fakeNode) Call(ctx context.Context, c *polycallpb.Call) (*polycallpb.Result, error) {
	v, st := f.run(ctx, c)
	if st != nil {
		if c.GetFunction() == "status.in.result" {
			return &polycallpb.Result{Outcome: &polycallpb.Result_Status{Status: st}}, nil
		}
		b, _ := proto.Marshal(st)
		grpc.SetTrailer(ctx, metadata.Pairs(polycall.StatusTrailer, string(b)))
		return nil, status.Error(codes.Code(st.GetCode()), st.GetMessage())
	}
	return &polycallpb.Result{Outcome: &polycallpb.Result_Value{Value: v}}, nil
}

func (f *fakeNode) Batch(ctx context.Context, b *polycallpb.Batch) (*polycallpb.BatchResult, error) {
	out := &polycallpb.BatchResult{BatchId: b.GetBatchId()}
	for _, c := range b.GetCalls() {
		v, st := f.run(ctx, c)
		if st != nil {
			out.Results = append(out.Results, &polycallpb.Result{Outcome: &polycallpb.Result_Status{Status: st}})
		} else {
			out.Results = append(out.Results, &polycallpb.Result{Outcome: &polycallpb.Result_Value{Value: v}})
		}
	}
	return out, nil
}

func (f *fakeNode) CallStream(s grpc.BidiStreamingServer[polycallpb.StreamRequest, polycallpb.Result]) error {
	var (
		sendMu  sync.Mutex
		wg      sync.WaitGroup
		mu      sync.Mutex
		cancels = map[uint64]context.CancelFunc{}
	)
	defer wg.Wait()
	for {
		req, err := s.Recv()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		switch b := req.GetBody().(type) {
		case *polycallpb.StreamRequest_Cancel:
			mu.Lock()
			if cancel := cancels[b.Cancel.GetCallId()]; cancel != nil {
				cancel()
			}
			mu.Unlock()
		case *polycallpb.StreamRequest_Call:
			ctx, cancel := context.WithCancel(s.Context())
			mu.Lock()
			cancels[b.Call.GetCallId()] = cancel
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer cancel()
				r := &polycallpb.Result{CallId: b.Call.GetCallId()}
				if v, st := f.run(ctx, b.Call); st != nil {
					r.Outcome = &polycallpb.Result_Status{Status: st}
				} else {
					r.Outcome = &polycallpb.Result_Value{Value: v}
				}
				sendMu.Lock()
				_ = s.Send(r)
				sendMu.Unlock()
			}()
		}
	}
}

var fakeFunctions = []*polycallpb.FunctionEntry{
	{Decl: &polycallpb.FunctionDecl{Signature: "math.add(a: i64, b: i64) -> i64", Tags: []string{"pure", "idempotent"}, Doc: "Adds."}, Bridge: "jvm"},
	{Decl: &polycallpb.FunctionDecl{Signature: "stats.mean(xs: ndarray<f64>) -> f64", Version: 2}, Bridge: "python", NodeId: "other"},
}

func (f *fakeNode) ListFunctions(ctx context.Context, r *polycallpb.ListFunctionsRequest) (*polycallpb.ListFunctionsResponse, error) {
	out := &polycallpb.ListFunctionsResponse{NodeId: "fake"}
	for _, e := range fakeFunctions {
		prefix := strings.TrimRight(r.GetPattern(), "*")
		if r.GetLocalOnly() && e.GetNodeId() != "" {
			continue
		}
		if strings.HasPrefix(e.GetDecl().GetSignature(), prefix) {
			out.Functions = append(out.Functions, e)
		}
	}
	return out, nil
}

func (f *fakeNode) DescribeFunction(ctx context.Context, r *polycallpb.DescribeFunctionRequest) (*polycallpb.FunctionEntry, error) {
	for _, e := range fakeFunctions {
		if strings.HasPrefix(e.GetDecl().GetSignature(), r.GetName()+"(") {
			return e, nil
		}
	}
	return nil, status.Errorf(codes.NotFound, "no function %s (did you mean math.add?)", r.GetName())
}
