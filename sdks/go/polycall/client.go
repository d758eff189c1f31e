// Package polycall is the Go client of PolyCall: it calls the functions of a PolyCall node
// (written in Java, C, Python, JavaScript, ...) over gRPC, by name, with Go values.
//
//	c, err := polycall.Dial(ctx, "127.0.0.1:50051")
//	if err != nil { ... }
//	defer c.Close()
//	sum, err := c.Call(ctx, "math.add", 1, 2)       // a Value: sum.AsInt() is 3
//	var mean float64
//	err = c.CallInto(ctx, &mean, "stats.mean", []float64{1, 2, 3, 4})
//	if polycall.CodeOf(err) == polycall.NotFound { ... }
//
// Go values map onto PolyCall's canonical types as Encode describes; results come back as a
// Value (typed accessors, Decode into Go variables, Interface for the natural Go form). A failed
// call is an *Error with the status code, message and cross-language stack. Deadlines and
// cancellation come from the context and reach the function on the node.
package polycall

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"

	"google.golang.org/grpc"
	"google.golang.org/grpc/connectivity"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"

	"github.com/polycall/polycall/sdks/go/polycallpb"
)

// Version is this SDK's version, sent in the user agent.
const Version = "0.1.0"

// Client calls the functions of one PolyCall node (or of whatever a gRPC connection balances
// over). It is safe for concurrent use by many goroutines, and its calls block until their
// result arrives or their context ends. Close it when done.
type Client struct {
	conn      grpc.ClientConnInterface
	owned     *grpc.ClientConn
	rpc       polycallpb.PolyCallClient
	o         *options
	callOpts  []grpc.CallOption
	closeOnce sync.Once
	closeErr  error
}

// Dial connects to the node at target and waits until the connection is up or ctx ends. A node
// that cannot be reached is UNAVAILABLE. The target is "host:port" or any gRPC target
// ("dns:///node.example:50051"), plaintext unless WithTLS or WithTLSFiles says otherwise; or,
// as the Python and Node SDKs take it, "grpc://host:port" (plaintext) or "grpcs://host[:port]"
// (TLS, port 443 by default, the system's CAs unless WithTLS or WithTLSFiles).
func Dial(ctx context.Context, target string, opts ...Option) (*Client, error) {
	o, err := buildOptions(opts)
	if err != nil {
		return nil, err
	}
	target, err = parseTarget(target, o)
	if err != nil {
		return nil, err
	}
	var creds credentials.TransportCredentials = insecure.NewCredentials()
	if o.tls != nil {
		creds = credentials.NewTLS(o.tls)
	} else if o.token != "" && !isLoopback(target) {
		return nil, Errorf(InvalidArgument, "refusing to send a bearer token in plaintext to %s: use WithTLS or WithTLSFiles", target)
	}
	dialOpts := append([]grpc.DialOption{
		grpc.WithTransportCredentials(creds),
		grpc.WithUserAgent("polycall-go/" + Version),
	}, o.dialOpts...)
	conn, err := grpc.NewClient(target, dialOpts...)
	if err != nil {
		return nil, Errorf(InvalidArgument, "cannot dial %q: %v", target, err)
	}
	conn.Connect()
	for {
		s := conn.GetState()
		if s == connectivity.Ready {
			break
		}
		if s == connectivity.Shutdown || (s == connectivity.TransientFailure && !o.waitReady) {
			conn.Close()
			return nil, Errorf(Unavailable, "cannot connect to the node at %s (is it running and serving gRPC there?)", target)
		}
		if !conn.WaitForStateChange(ctx, s) {
			conn.Close()
			code := DeadlineExceeded
			if errors.Is(ctx.Err(), context.Canceled) {
				code = Canceled
			}
			return nil, Errorf(code, "gave up connecting to the node at %s: %v", target, ctx.Err())
		}
	}
	c := newClient(conn, o)
	c.owned = conn
	return c, nil
}

// NewClient makes a Client on a connection the caller made (and closes) with grpc.NewClient.
// Options that shape the connection (WithTLS, WithTLSFiles, WithDialOptions) belong to that
// connection and are INVALID_ARGUMENT here.
func NewClient(conn grpc.ClientConnInterface, opts ...Option) (*Client, error) {
	o, err := buildOptions(opts)
	if err != nil {
		return nil, err
	}
	if o.tls != nil || len(o.dialOpts) > 0 {
		return nil, Errorf(InvalidArgument, "TLS and dial options shape the connection: give them to grpc.NewClient, or use polycall.Dial")
	}
	return newClient(conn, o), nil
}

func newClient(conn grpc.ClientConnInterface, o *options) *Client {
	return &Client{
		conn: conn,
		rpc:  polycallpb.NewPolyCallClient(conn),
		o:    o,
		callOpts: []grpc.CallOption{
			grpc.MaxCallRecvMsgSize(o.maxMsgBytes),
			grpc.MaxCallSendMsgSize(o.maxMsgBytes),
			grpc.WaitForReady(o.waitReady),
		},
	}
}

// withTrailer is the client's call options and one that captures the trailer.
func (c *Client) withTrailer(md *metadata.MD) []grpc.CallOption {
	return append(slices.Clip(c.callOpts), grpc.Trailer(md))
}

// Conn is the gRPC connection, for the generated stubs in polycallpb or the per-function
// services a node also serves.
func (c *Client) Conn() grpc.ClientConnInterface { return c.conn }

// Close closes the connection if Dial made it (not one passed to NewClient). Calls in flight
// fail with CANCELLED or UNAVAILABLE. Close is idempotent.
func (c *Client) Close() error {
	c.closeOnce.Do(func() {
		if c.owned != nil {
			c.closeErr = c.owned.Close()
		}
	})
	return c.closeErr
}

// Call calls function ("name" or "name@version") with args (Go values, see Encode) and returns
// its result. The context's deadline is the call's deadline (WithTimeout gives one to contexts
// without); cancelling the context cancels the call on the node. A failed call returns an
// *Error.
func (c *Client) Call(ctx context.Context, function string, args ...any) (Value, error) {
	return c.Invoke(ctx, NewCall(function, args...))
}

// CallInto calls function and decodes its result into out (a pointer, see Value.Decode).
func (c *Client) CallInto(ctx context.Context, out any, function string, args ...any) error {
	v, err := c.Call(ctx, function, args...)
	if err != nil {
		return err
	}
	return v.Decode(out)
}

// Call is one call to make: the function, its arguments (Go values, see Encode) and metadata
// the function sees besides the gRPC metadata of the context.
type Call struct {
	Function string
	Args     []any
	Metadata map[string]string
}

// NewCall is the Call of function with args.
func NewCall(function string, args ...any) Call {
	return Call{Function: function, Args: args}
}

// Invoke makes one call described by a Call (for metadata of its own).
func (c *Client) Invoke(ctx context.Context, call Call) (Value, error) {
	req, err := call.proto()
	if err != nil {
		return Value{}, err
	}
	ctx, cancel := c.prepare(ctx)
	defer cancel()
	var trailer metadata.MD
	res, err := c.rpc.Call(ctx, req, c.withTrailer(&trailer)...)
	if err != nil {
		return Value{}, callError(ctx, err, trailer, call.Function)
	}
	return resultOf(res)
}

// Result is the outcome of one call of a Batch: a Value or an error (an *Error).
type Result struct {
	Value Value
	Err   error
}

// Batch makes many calls in one message; the results are in the order of calls, and one failed
// call fails only its own Result. The error is for the batch as a whole (an argument that
// cannot be encoded, the node unreachable, the deadline passed).
func (c *Client) Batch(ctx context.Context, calls ...Call) ([]Result, error) {
	req := &polycallpb.Batch{Calls: make([]*polycallpb.Call, len(calls))}
	for i, call := range calls {
		p, err := call.proto()
		if err != nil {
			return nil, err
		}
		req.Calls[i] = p
	}
	ctx, cancel := c.prepare(ctx)
	defer cancel()
	var trailer metadata.MD
	res, err := c.rpc.Batch(ctx, req, c.withTrailer(&trailer)...)
	if err != nil {
		return nil, callError(ctx, err, trailer, "the batch")
	}
	if len(res.GetResults()) != len(calls) {
		return nil, Errorf(Internal, "the node answered a batch of %d calls with %d results", len(calls), len(res.GetResults()))
	}
	out := make([]Result, len(calls))
	for i, r := range res.GetResults() {
		out[i].Value, out[i].Err = resultOf(r)
	}
	return out, nil
}

// Function describes a function as a node sees it.
type Function struct {
	Name      string   // "stats.mean"
	Version   uint32   // 1 unless declared otherwise
	Signature string   // canonical: "stats.mean(xs: ndarray<f64>) -> f64"
	Tags      []string // "pure", "idempotent", ...
	Doc       string
	Bridge    string // "jvm", "native", "python", "node", "remote", ...
	NodeID    string // the node that runs it
}

func functionOf(e *polycallpb.FunctionEntry) Function {
	d := e.GetDecl()
	name, _, _ := strings.Cut(d.GetSignature(), "(")
	v := d.GetVersion()
	if v == 0 {
		v = 1
	}
	return Function{
		Name: strings.TrimSpace(name), Version: v, Signature: d.GetSignature(), Tags: d.GetTags(),
		Doc: d.GetDoc(), Bridge: e.GetBridge(), NodeID: e.GetNodeId(),
	}
}

// A ListOption narrows ListFunctions.
type ListOption func(*polycallpb.ListFunctionsRequest)

// LocalOnly lists only the functions the node hosts itself, not those it routes to others.
func LocalOnly() ListOption {
	return func(r *polycallpb.ListFunctionsRequest) { r.LocalOnly = true }
}

// ListFunctions lists the functions whose names match pattern, a glob where "*" matches within
// a dot-separated segment and "**" across them ("" or "**" for all, "math.*").
func (c *Client) ListFunctions(ctx context.Context, pattern string, opts ...ListOption) ([]Function, error) {
	req := &polycallpb.ListFunctionsRequest{Pattern: pattern}
	for _, opt := range opts {
		opt(req)
	}
	ctx, cancel := c.prepare(ctx)
	defer cancel()
	var trailer metadata.MD
	res, err := c.rpc.ListFunctions(ctx, req, c.withTrailer(&trailer)...)
	if err != nil {
		return nil, fromRPC(err, trailer)
	}
	out := make([]Function, len(res.GetFunctions()))
	for i, e := range res.GetFunctions() {
		out[i] = functionOf(e)
		if out[i].NodeID == "" {
			out[i].NodeID = res.GetNodeId()
		}
	}
	return out, nil
}

// Describe is the function called name ("name" or "name@version"); NOT_FOUND, with
// suggestions in the message, when there is none.
func (c *Client) Describe(ctx context.Context, name string) (Function, error) {
	ctx, cancel := c.prepare(ctx)
	defer cancel()
	var trailer metadata.MD
	res, err := c.rpc.DescribeFunction(ctx, &polycallpb.DescribeFunctionRequest{Name: name}, c.withTrailer(&trailer)...)
	if err != nil {
		return Function{}, fromRPC(err, trailer)
	}
	return functionOf(res), nil
}

// CheckHealth asks the node's standard gRPC health service whether it serves (service "" is
// the node as a whole): nil when it does, UNAVAILABLE naming its status when it does not, and
// the call's error when it cannot be asked.
func (c *Client) CheckHealth(ctx context.Context, service string) error {
	ctx, cancel := c.prepare(ctx)
	defer cancel()
	res, err := healthpb.NewHealthClient(c.conn).Check(ctx, &healthpb.HealthCheckRequest{Service: service}, c.callOpts...)
	if err != nil {
		return fromRPC(err, nil)
	}
	if res.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		return Errorf(Unavailable, "the node's health is %s", res.GetStatus())
	}
	return nil
}

// prepare gives ctx the client's default timeout (when it has no deadline) and metadata.
func (c *Client) prepare(ctx context.Context) (context.Context, context.CancelFunc) {
	cancel := context.CancelFunc(func() {})
	if c.o.timeout > 0 {
		if _, ok := ctx.Deadline(); !ok {
			ctx, cancel = context.WithTimeout(ctx, c.o.timeout)
		}
	}
	return c.withMetadata(ctx), cancel
}

// withMetadata adds the client's token and metadata to the outgoing metadata of ctx.
func (c *Client) withMetadata(ctx context.Context) context.Context {
	var kv []string
	if c.o.token != "" {
		kv = append(kv, "authorization", "Bearer "+c.o.token)
	}
	for k, v := range c.o.metadata {
		kv = append(kv, k, v)
	}
	if len(kv) > 0 {
		ctx = metadata.AppendToOutgoingContext(ctx, kv...)
	}
	return ctx
}

func (call Call) proto() (*polycallpb.Call, error) {
	if call.Function == "" {
		return nil, Errorf(InvalidArgument, "a call needs a function name")
	}
	if err := checkUTF8(call.Function, rootPath("the function name")); err != nil {
		return nil, err
	}
	req := &polycallpb.Call{Function: call.Function, Args: make([]*polycallpb.Value, len(call.Args)), Metadata: call.Metadata}
	for i, a := range call.Args {
		v, err := encode(reflect.ValueOf(a), 0, rootPath(argPath(call.Function, i)))
		if err != nil {
			return nil, err
		}
		req.Args[i] = v
	}
	return req, nil
}

func argPath(function string, i int) string {
	return function + ": args[" + strconv.Itoa(i) + "]"
}

// resultOf is the Value or *Error a Result carries.
func resultOf(r *polycallpb.Result) (Value, error) {
	switch o := r.GetOutcome().(type) {
	case *polycallpb.Result_Value:
		v, err := FromProto(o.Value)
		if err != nil {
			return Value{}, at(err, rootPath("the node's result"))
		}
		return v, nil
	case *polycallpb.Result_Status:
		if e := ErrorFromStatus(o.Status); e != nil {
			return Value{}, e
		}
		return Value{}, Errorf(Internal, "the node answered with status OK and no value")
	}
	return Value{}, Errorf(Internal, "the node answered with neither a value nor a status")
}

// parseTarget turns grpc:// and grpcs:// URLs into gRPC targets; grpcs:// turns TLS on.
func parseTarget(target string, o *options) (string, error) {
	scheme, rest, ok := strings.Cut(target, "://")
	if !ok || (scheme != "grpc" && scheme != "grpcs") {
		return target, nil
	}
	rest = strings.TrimSuffix(rest, "/")
	if rest == "" || strings.ContainsAny(rest, "/?#") {
		return "", Errorf(InvalidArgument, "%q: a %s:// target is %s://host:port, with no path", target, scheme, scheme)
	}
	if _, _, err := net.SplitHostPort(rest); err != nil {
		if scheme == "grpc" {
			return "", Errorf(InvalidArgument, "%q: grpc:// needs a port (grpc://host:50051)", target)
		}
		rest = net.JoinHostPort(strings.Trim(rest, "[]"), "443")
	}
	if scheme == "grpcs" && o.tls == nil {
		o.tls = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	return rest, nil
}

// isLoopback says whether a gRPC target names this machine (loopback addresses, localhost,
// Unix sockets), where plaintext does not leave the host.
func isLoopback(target string) bool {
	if strings.HasPrefix(target, "unix:") || strings.HasPrefix(target, "unix-abstract:") {
		return true
	}
	if i := strings.Index(target, ":///"); i >= 0 {
		target = target[i+4:]
	}
	host, _, err := net.SplitHostPort(target)
	if err != nil {
		host = target
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}

// callError is the error of a failed RPC. Once the caller's context is done, its deadline or
// cancellation is the outcome whatever the node answered meanwhile (a node that saw the same
// deadline may have answered CANCELLED first), as gRPC reports it.
func callError(ctx context.Context, err error, trailer metadata.MD, what string) error {
	if cerr := ctx.Err(); cerr != nil {
		return ctxError(cerr, what)
	}
	return fromRPC(err, trailer)
}
