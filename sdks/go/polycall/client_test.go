package polycall_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"net"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/polycall/polycall/sdks/go/polycall"
	"github.com/polycall/polycall/sdks/go/polycallpb"
)

func dial(t *testing.T, addr string, opts ...polycall.Option) *polycall.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := polycall.Dial(ctx, addr, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func wantCode(t *testing.T, err error, want polycall.Code) *polycall.Error {
	t.Helper()
	var pe *polycall.Error
	if !errors.As(err, &pe) {
		t.Fatalf("got %v (%T), want a *polycall.Error with %s", err, err, want)
	}
	if pe.Code != want {
		t.Fatalf("got %v, want %s", err, want)
	}
	return pe
}

func TestCallReturnsTheResultAsAValue(t *testing.T) {
	c := dial(t, startFake(t, nil).addr)
	v, err := c.Call(context.Background(), "math.add", 1, 2)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := v.AsInt(); err != nil || n != 3 || v.Type() != "i64" {
		t.Fatalf("got %v (%s), %v", v, v.Type(), err)
	}
}

func TestCallIntoDecodesTheResultIntoAGoVariable(t *testing.T) {
	c := dial(t, startFake(t, nil).addr)
	type point struct {
		X, Y float64
	}
	var p point
	if err := c.CallInto(context.Background(), &p, "echo", polycall.Struct{Name: "Point", Fields: []polycall.Field{{"x", 1.5}, {"y", -2.0}}}); err != nil {
		t.Fatal(err)
	}
	if p != (point{1.5, -2}) {
		t.Fatalf("got %+v", p)
	}
	var xs []float64
	if err := c.CallInto(context.Background(), &xs, "echo", polycall.Float64Array([]float64{1, 2, 3})); err != nil {
		t.Fatal(err)
	}
	if len(xs) != 3 || xs[2] != 3 {
		t.Fatalf("got %v", xs)
	}
}

func TestAFailedCallIsAnErrorWithTheCodeMessageAndCrossLanguageStackFromTheTrailer(t *testing.T) {
	c := dial(t, startFake(t, nil).addr)
	_, err := c.Call(context.Background(), "py.fail")
	pe := wantCode(t, err, polycall.InvalidArgument)
	if pe.Message != "ValueError: empty" || len(pe.Frames) != 2 || pe.Frames[0] != (polycall.StackFrame{Language: "python", Function: "mean", File: "stats.py", Line: 12}) {
		t.Fatalf("got %#v", pe)
	}
	if got := pe.StackTrace(); got != "INVALID_ARGUMENT: ValueError: empty\n    at [python] mean (stats.py:12)\n    at [polycall] py.fail (python)" {
		t.Fatalf("stack trace:\n%s", got)
	}
	if status.Code(err) != 3 {
		t.Fatalf("grpc status.Code = %v", status.Code(err))
	}
}

func TestAnUnknownFunctionIsNotFound(t *testing.T) {
	c := dial(t, startFake(t, nil).addr)
	_, err := c.Call(context.Background(), "math.nope")
	wantCode(t, err, polycall.NotFound)
	if polycall.CodeOf(err) != polycall.NotFound {
		t.Fatal(polycall.CodeOf(err))
	}
}

func TestAStatusInsideASuccessfulResultIsAnError(t *testing.T) {
	c := dial(t, startFake(t, nil).addr)
	_, err := c.Call(context.Background(), "status.in.result")
	wantCode(t, err, polycall.NotFound)
}

func TestAResultThatBreaksTheWireRulesIsRefused(t *testing.T) {
	c := dial(t, startFake(t, nil).addr)
	_, err := c.Call(context.Background(), "bad.result")
	wantCode(t, err, polycall.InvalidArgument)
}

func TestAnArgumentWithNoPolyCallTypeIsRefusedBeforeSendingWithItsPath(t *testing.T) {
	c := dial(t, startFake(t, nil).addr)
	_, err := c.Call(context.Background(), "echo", 1, []any{2, func() {}})
	pe := wantCode(t, err, polycall.InvalidArgument)
	if want := "echo: args[1][1] is a Go func, which cannot be passed: pass a polycall.FnRef naming a registered function"; pe.Message != want {
		t.Fatalf("message %q", pe.Message)
	}
}

func TestTheContextDeadlineIsTheCallsDeadline(t *testing.T) {
	f := startFake(t, nil)
	c := dial(t, f.addr)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := c.Call(ctx, "slow")
	wantCode(t, err, polycall.DeadlineExceeded)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatal("errors.Is(err, context.DeadlineExceeded) is false")
	}
	if got := <-f.cancelled; got != "slow" {
		t.Fatal(got)
	}
}

func TestWithTimeoutGivesCallsWithoutADeadlineOne(t *testing.T) {
	c := dial(t, startFake(t, nil).addr, polycall.WithTimeout(50*time.Millisecond))
	_, err := c.Call(context.Background(), "slow")
	wantCode(t, err, polycall.DeadlineExceeded)
}

func TestCancellingTheContextCancelsTheCallOnTheNode(t *testing.T) {
	f := startFake(t, nil)
	c := dial(t, f.addr)
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := c.Call(ctx, "slow")
		errc <- err
	}()
	waitForCall(t, f)
	cancel()
	wantCode(t, <-errc, polycall.Canceled)
	if got := <-f.cancelled; got != "slow" {
		t.Fatal(got)
	}
}

// waitForCall waits until the fake has received a call (it records its metadata).
func waitForCall(t *testing.T, f *fakeNode) {
	t.Helper()
	for range 1000 {
		f.mu.Lock()
		seen := f.lastMD != nil
		f.mu.Unlock()
		if seen {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatal("the call never reached the fake node")
}

func TestTheBearerTokenAndMetadataReachTheNode(t *testing.T) {
	c := dial(t, startFake(t, nil).addr, polycall.WithBearerToken("s3cret"), polycall.WithMetadata("tenant", "blue"))
	ctx := metadata.AppendToOutgoingContext(context.Background(), "trace", "t-1")
	var got map[string]string
	if err := c.CallInto(ctx, &got, "meta"); err != nil {
		t.Fatal(err)
	}
	if got["authorization"] != "Bearer s3cret" || got["tenant"] != "blue" || got["trace"] != "t-1" {
		t.Fatalf("got %v", got)
	}
}

func TestCallMetadataTravelsInTheCallMessage(t *testing.T) {
	c := dial(t, startFake(t, nil).addr)
	v, err := c.Invoke(context.Background(), polycall.Call{Function: "meta", Metadata: map[string]string{"tenant": "green"}})
	if err != nil {
		t.Fatal(err)
	}
	if s, _ := v.Field("tenant"); s.String() != `"green"` {
		t.Fatalf("got %v", v)
	}
}

func TestABearerTokenIsNotSentInPlaintextBeyondLoopback(t *testing.T) {
	_, err := polycall.Dial(context.Background(), "node.example:50051", polycall.WithBearerToken("s3cret"))
	wantCode(t, err, polycall.InvalidArgument)
}

func TestDialingANodeThatIsNotThereIsUnavailable(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := lis.Addr().String()
	lis.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err = polycall.Dial(ctx, addr)
	wantCode(t, err, polycall.Unavailable)
}

func TestBatchAnswersInOrderAndOneFailureFailsOnlyItsOwnResult(t *testing.T) {
	c := dial(t, startFake(t, nil).addr)
	res, err := c.Batch(context.Background(),
		polycall.NewCall("math.add", 1, 2), polycall.NewCall("math.nope"), polycall.NewCall("echo", "x"))
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := res[0].Value.AsInt(); n != 3 || res[0].Err != nil {
		t.Fatalf("first: %v %v", res[0].Value, res[0].Err)
	}
	wantCode(t, res[1].Err, polycall.NotFound)
	if s, _ := res[2].Value.AsString(); s != "x" {
		t.Fatalf("third: %v", res[2])
	}
}

func TestListFunctionsAndDescribe(t *testing.T) {
	c := dial(t, startFake(t, nil).addr)
	fns, err := c.ListFunctions(context.Background(), "**")
	if err != nil {
		t.Fatal(err)
	}
	if len(fns) != 2 || fns[0].Name != "math.add" || fns[0].Version != 1 || fns[0].NodeID != "fake" ||
		fns[1].Name != "stats.mean" || fns[1].Version != 2 || fns[1].NodeID != "other" || fns[1].Bridge != "python" {
		t.Fatalf("got %+v", fns)
	}
	local, err := c.ListFunctions(context.Background(), "", polycall.LocalOnly())
	if err != nil || len(local) != 1 {
		t.Fatalf("local only: %+v %v", local, err)
	}
	f, err := c.Describe(context.Background(), "math.add")
	if err != nil || f.Signature != "math.add(a: i64, b: i64) -> i64" || f.Doc != "Adds." || len(f.Tags) != 2 {
		t.Fatalf("got %+v %v", f, err)
	}
	_, err = c.Describe(context.Background(), "math.nope")
	wantCode(t, err, polycall.NotFound)
}

func TestAStreamMultiplexesCallsFromManyGoroutines(t *testing.T) {
	c := dial(t, startFake(t, nil).addr)
	s, err := c.Stream(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 50)
	for i := range 50 {
		wg.Go(func() {
			var sum int64
			if err := s.CallInto(context.Background(), &sum, "math.add", i, 1000); err != nil {
				errs <- err
			} else if sum != int64(i+1000) {
				errs <- errors.New("wrong sum")
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	_, err = s.Call(context.Background(), "math.nope")
	wantCode(t, err, polycall.NotFound)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	_, err = s.Call(context.Background(), "math.add", 1, 2)
	wantCode(t, err, polycall.FailedPrecondition)
}

func TestCancellingOneStreamCallCancelsItOnTheNodeAndTheStreamGoesOn(t *testing.T) {
	f := startFake(t, nil)
	c := dial(t, f.addr)
	s, err := c.Stream(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err = s.Call(ctx, "slow")
	wantCode(t, err, polycall.DeadlineExceeded)
	if got := <-f.cancelled; got != "slow" {
		t.Fatal(got)
	}
	if v, err := s.Call(context.Background(), "math.add", 2, 2); err != nil || v.String() != "4" {
		t.Fatalf("after the cancel: %v %v", v, err)
	}
}

// ---- TLS ----------------------------------------------------------------------------------

type pki struct {
	pool           *x509.CertPool
	server, client tls.Certificate
}

// newPKI makes a CA and a server and a client certificate it signed, in memory.
func newPKI(t *testing.T) pki {
	t.Helper()
	key := func() *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	caKey := key()
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	leaf := func(serial int64, name string, usage x509.ExtKeyUsage) tls.Certificate {
		k := key()
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: name},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
			ExtKeyUsage: []x509.ExtKeyUsage{usage}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &k.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: k}
	}
	p := pki{pool: x509.NewCertPool()}
	p.pool.AddCert(ca)
	p.server = leaf(2, "node", x509.ExtKeyUsageServerAuth)
	p.client = leaf(3, "go-client", x509.ExtKeyUsageClientAuth)
	return p
}

func TestMutualTLSConnectsWithAClientCertificate(t *testing.T) {
	p := newPKI(t)
	f := startFake(t, &tls.Config{Certificates: []tls.Certificate{p.server}, ClientCAs: p.pool, ClientAuth: tls.RequireAndVerifyClientCert})
	c := dial(t, f.addr, polycall.WithTLS(&tls.Config{RootCAs: p.pool, Certificates: []tls.Certificate{p.client}}))
	if v, err := c.Call(context.Background(), "math.add", 20, 22); err != nil || v.String() != "42" {
		t.Fatalf("%v %v", v, err)
	}
}

func TestMutualTLSWithoutAClientCertificateCannotCall(t *testing.T) {
	p := newPKI(t)
	f := startFake(t, &tls.Config{Certificates: []tls.Certificate{p.server}, ClientCAs: p.pool, ClientAuth: tls.RequireAndVerifyClientCert})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := polycall.Dial(ctx, f.addr, polycall.WithTLS(&tls.Config{RootCAs: p.pool}))
	if err == nil {
		// TLS 1.3 finishes the client's side of the handshake before the server checks the
		// certificate: then the first call fails instead.
		defer c.Close()
		_, err = c.Call(ctx, "math.add", 1, 2)
	}
	wantCode(t, err, polycall.Unavailable)
}

func TestAPlaintextClientCannotCallATLSNode(t *testing.T) {
	p := newPKI(t)
	f := startFake(t, &tls.Config{Certificates: []tls.Certificate{p.server}})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := polycall.Dial(ctx, f.addr)
	wantCode(t, err, polycall.Unavailable)
}

func TestTLSFilesThatDoNotExistAreInvalidArgument(t *testing.T) {
	_, err := polycall.Dial(context.Background(), "127.0.0.1:1", polycall.WithTLSFiles("/nonexistent/ca.pem", "", ""))
	wantCode(t, err, polycall.InvalidArgument)
}

func TestGrpcURLsNameThePlaintextTarget(t *testing.T) {
	f := startFake(t, nil)
	c := dial(t, "grpc://"+f.addr)
	if v, err := c.Call(context.Background(), "math.add", 1, 1); err != nil || v.String() != "2" {
		t.Fatalf("%v %v", v, err)
	}
	for _, bad := range []string{"grpc://127.0.0.1", "grpc://127.0.0.1:1/path", "grpc://"} {
		if _, err := polycall.Dial(context.Background(), bad); polycall.CodeOf(err) != polycall.InvalidArgument {
			t.Errorf("%s: %v", bad, err)
		}
	}
}

func TestGrpcsURLsUseTLS(t *testing.T) {
	p := newPKI(t)
	f := startFake(t, &tls.Config{Certificates: []tls.Certificate{p.server}})
	c := dial(t, "grpcs://"+f.addr, polycall.WithTLS(&tls.Config{RootCAs: p.pool}))
	if v, err := c.Call(context.Background(), "math.add", 1, 1); err != nil || v.String() != "2" {
		t.Fatalf("%v %v", v, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// Without the test CA the node's certificate is not trusted: TLS is on.
	_, err := polycall.Dial(ctx, "grpcs://"+f.addr)
	wantCode(t, err, polycall.Unavailable)
}

func TestCheckHealthReportsWhetherTheNodeServes(t *testing.T) {
	f := startFake(t, nil)
	c := dial(t, f.addr)
	if err := c.CheckHealth(context.Background(), ""); err != nil {
		t.Fatal(err)
	}
	f.health.SetServingStatus("", healthpb.HealthCheckResponse_NOT_SERVING)
	wantCode(t, c.CheckHealth(context.Background(), ""), polycall.Unavailable)
	wantCode(t, c.CheckHealth(context.Background(), "no.such.service"), polycall.NotFound)
}

func TestNewClientWrapsAConnectionMadeElsewhere(t *testing.T) {
	f := startFake(t, nil)
	conn, err := grpc.NewClient(f.addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	c, err := polycall.NewClient(conn, polycall.WithTimeout(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if v, err := c.Call(context.Background(), "math.add", 2, 3); err != nil || v.String() != "5" {
		t.Fatalf("%v %v", v, err)
	}
	c.Close() // leaves the connection to its owner
	if v, err := c.Call(context.Background(), "math.add", 2, 3); err != nil || v.String() != "5" {
		t.Fatalf("after Close: %v %v", v, err)
	}
	_, err = polycall.NewClient(conn, polycall.WithTLS(&tls.Config{}))
	wantCode(t, err, polycall.InvalidArgument)
}

func TestWithWaitForReadyDialWaitsForANodeThatIsStillStarting(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := lis.Addr().String()
	lis.Close() // nothing listens there until the node below starts
	done := make(chan error, 1)
	var c *polycall.Client
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		var err error
		c, err = polycall.Dial(ctx, addr, polycall.WithWaitForReady())
		done <- err
	}()
	time.Sleep(300 * time.Millisecond) // let the first attempts fail
	lis, err = net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("the port was taken meanwhile: %v", err)
	}
	srv := grpc.NewServer()
	polycallpb.RegisterPolyCallServer(srv, &fakeNode{cancelled: make(chan string, 1)})
	go srv.Serve(lis)
	defer srv.Stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if v, err := c.Call(context.Background(), "math.add", 1, 2); err != nil || v.String() != "3" {
		t.Fatalf("%v %v", v, err)
	}
}
