// Package systemtest runs the Go client against the real Java node: TestMain starts
// `bin/polycall serve --grpc 127.0.0.1:0` from the repository root with testdata/node.yaml and
// stops it at the end. With POLYCALL_GRPC_TARGET=host:port it tests a node already running
// there (started with testdata/node.yaml) instead.
package systemtest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/polycall/polycall/sdks/go/polycall"
)

var (
	root     = filepath.Join("..", "..", "..")
	grpcAddr string
	client   *polycall.Client
)

func TestMain(m *testing.M) {
	os.Exit(runWithNode(m))
}

func runWithNode(m *testing.M) int {
	if addr := os.Getenv("POLYCALL_GRPC_TARGET"); addr != "" {
		// A node someone started (with testdata/node.yaml): test it instead of starting one.
		grpcAddr = addr
		return runWithClient(m, func() string { return "(a node started outside the test: see its own log)\n" })
	}
	jar := filepath.Join(root, "polycall-server", "target", "polycall.jar")
	if _, err := os.Stat(jar); err != nil {
		fmt.Fprintf(os.Stderr, "systemtest: %s is missing: build it with `make build` at the repository root "+
			"(the root `make test` builds it before the SDK suites)\n", jar)
		return 1
	}
	config, _ := filepath.Abs(filepath.Join("testdata", "node.yaml"))
	node, err := startNode(config)
	if err != nil {
		fmt.Fprintf(os.Stderr, "systemtest: %v\n", err)
		return 1
	}
	defer node.stop()
	grpcAddr = node.grpc
	return runWithClient(m, node.log)
}

func runWithClient(m *testing.M, log func() string) int {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var err error
	client, err = polycall.Dial(ctx, grpcAddr)
	if err != nil {
		fmt.Fprintf(os.Stderr, "systemtest: %v\n%s", err, log())
		return 1
	}
	defer client.Close()
	code := m.Run()
	if code != 0 {
		fmt.Fprintf(os.Stderr, "systemtest: the node's log:\n%s", log())
	}
	return code
}

type node struct {
	cmd    *exec.Cmd
	dir    string
	grpc   string
	mu     sync.Mutex
	stderr bytes.Buffer
	exited chan struct{}
}

func (n *node) Write(p []byte) (int, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.stderr.Write(p)
}

func (n *node) log() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.stderr.String()
}

// startNode starts a node with the config (an absolute path) and waits for its ready file, which
// names its gRPC address.
func startNode(config string) (*node, error) {
	dir, err := os.MkdirTemp("", "polycall-go-systemtest")
	if err != nil {
		return nil, err
	}
	ready := filepath.Join(dir, "ready.json")
	top, _ := filepath.Abs(root)
	n := &node{dir: dir, exited: make(chan struct{})}
	n.cmd = exec.Command(filepath.Join(top, "bin", "polycall"), "--config", config,
		"serve", "--grpc", "127.0.0.1:0", "--ready-file", ready)
	n.cmd.Dir = top
	n.cmd.Stdout = n
	n.cmd.Stderr = n
	// Its own process group, so that stop takes its children too; and SIGTERM when this test
	// process dies without running stop (Ctrl-C), so that no node outlives the test.
	n.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	if err := n.cmd.Start(); err != nil {
		return nil, fmt.Errorf("cannot start bin/polycall: %v", err)
	}
	go func() {
		n.cmd.Wait()
		close(n.exited)
	}()
	deadline := time.After(90 * time.Second)
	for {
		if b, err := os.ReadFile(ready); err == nil {
			var r struct{ GRPC string }
			if json.Unmarshal(b, &r) == nil && r.GRPC != "" {
				n.grpc = strings.TrimPrefix(r.GRPC, "grpc://")
				return n, nil
			}
		}
		select {
		case <-n.exited:
			return nil, fmt.Errorf("the node exited before it was ready (%v):\n%s", n.cmd.ProcessState, n.log())
		case <-deadline:
			n.stop()
			return nil, fmt.Errorf("the node wrote no gRPC address to its ready file within 90s:\n%s", n.log())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// stop sends SIGTERM (the node drains and exits), then SIGKILL if it has not exited in 30s.
func (n *node) stop() {
	_ = syscall.Kill(-n.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-n.exited:
	case <-time.After(30 * time.Second):
		_ = syscall.Kill(-n.cmd.Process.Pid, syscall.SIGKILL)
		<-n.exited
	}
	os.RemoveAll(n.dir)
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

func wantCode(t *testing.T, err error, want polycall.Code) *polycall.Error {
	t.Helper()
	var pe *polycall.Error
	if !errors.As(err, &pe) || pe.Code != want {
		t.Fatalf("got %v, want %s", err, want)
	}
	return pe
}

// stillServes checks that the node answers after a failure.
func stillServes(t *testing.T) {
	t.Helper()
	var n int64
	if err := client.CallInto(ctx(t), &n, "math.add", 40, 2); err != nil || n != 42 {
		t.Fatalf("the node no longer serves: %v %v", n, err)
	}
}

func TestTheNodeIsHealthy(t *testing.T) {
	if err := client.CheckHealth(ctx(t), ""); err != nil {
		t.Fatal(err)
	}
}

func TestMathAddOnTheJavaNode(t *testing.T) {
	v, err := client.Call(ctx(t), "math.add", 1, 2)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := v.AsInt(); err != nil || n != 3 || v.Type() != "i64" {
		t.Fatalf("got %v (%s) %v", v, v.Type(), err)
	}
}

func TestStatsMeanOfAFloat64NdArray(t *testing.T) {
	var mean float64
	if err := client.CallInto(ctx(t), &mean, "stats.mean", polycall.Float64Array([]float64{1, 2, 3, 4})); err != nil {
		t.Fatal(err)
	}
	if mean != 2.5 {
		t.Fatalf("got %v", mean)
	}
}

func TestAGoSliceIsAcceptedWhereAnNdArrayIsDeclared(t *testing.T) {
	var mean float64
	if err := client.CallInto(ctx(t), &mean, "stats.mean", []float64{2, 4}); err != nil {
		t.Fatal(err)
	}
	if mean != 3 {
		t.Fatalf("got %v", mean)
	}
}

func TestAnNdArrayResultDecodesIntoAGoSlice(t *testing.T) {
	var xs []float64
	if err := client.CallInto(ctx(t), &xs, "stats.scale", polycall.Float64Array([]float64{1, -2, 3}), 2.0); err != nil {
		t.Fatal(err)
	}
	if len(xs) != 3 || xs[0] != 2 || xs[1] != -4 || xs[2] != 6 {
		t.Fatalf("got %v", xs)
	}
}

func TestAStructResultDecodesIntoAGoStruct(t *testing.T) {
	var s struct {
		Count          int64
		Min, Max, Mean float64
	}
	v, err := client.Call(ctx(t), "stats.summary", polycall.Float64Array([]float64{3, 1, 2}))
	if err != nil {
		t.Fatal(err)
	}
	if err := v.Decode(&s); err != nil {
		t.Fatal(err)
	}
	if v.StructName() != "Summary" || s.Count != 3 || s.Min != 1 || s.Max != 3 || s.Mean != 2 {
		t.Fatalf("got %s %+v", v, s)
	}
}

func TestAnUnknownFunctionIsNotFoundAndTheNodeKeepsServing(t *testing.T) {
	_, err := client.Call(ctx(t), "math.nope", 1)
	pe := wantCode(t, err, polycall.NotFound)
	if !strings.Contains(pe.Message, "math.nope") {
		t.Fatalf("the message does not name the function: %q", pe.Message)
	}
	stillServes(t)
}

func TestANearMissNamesTheFunctionsItMayHaveMeant(t *testing.T) {
	_, err := client.Call(ctx(t), "math.ad", 1, 2)
	pe := wantCode(t, err, polycall.NotFound)
	if s := pe.Suggestions(); len(s) == 0 || s[0] != "math.add" {
		t.Fatalf("suggestions %q from %q", s, pe.Message)
	}
}

func TestAnArgumentOfTheWrongTypeIsInvalidArgumentAndTheNodeKeepsServing(t *testing.T) {
	_, err := client.Call(ctx(t), "math.add", "one", 2)
	wantCode(t, err, polycall.InvalidArgument)
	stillServes(t)
}

func TestANumberOutsideTheDeclaredWidthIsInvalidArgument(t *testing.T) {
	_, err := client.Call(ctx(t), "math.compare", int64(math.MaxInt32)+1, 0)
	wantCode(t, err, polycall.InvalidArgument)
	stillServes(t)
}

func TestAMessageOverTheNodesLimitIsResourceExhaustedAndTheNodeKeepsServing(t *testing.T) {
	big := polycall.Float64Array(make([]float64, 1<<20)) // 8 MiB, over the node's default 4 MiB
	_, err := client.Call(ctx(t), "stats.mean", big)
	wantCode(t, err, polycall.ResourceExhausted)
	stillServes(t)
}

func TestACallPastItsDeadlineIsDeadlineExceededAndTheNodeKeepsServing(t *testing.T) {
	c, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	_, err := client.Call(c, "posix.sleep", uint32(2))
	wantCode(t, err, polycall.DeadlineExceeded)
	stillServes(t)
}

func TestAFailingJavaFunctionReturnsItsStatusWithTheStack(t *testing.T) {
	_, err := client.Call(ctx(t), "math.divide", 1, 0)
	var pe *polycall.Error
	if !errors.As(err, &pe) || pe.Code == polycall.OK {
		t.Fatalf("got %v", err)
	}
	if !strings.Contains(pe.Message, "division by zero") {
		t.Fatalf("message %q", pe.Message)
	}
	if len(pe.Frames) == 0 {
		t.Fatalf("no cross-language frames in %#v (the polycall-status-bin trailer)", pe)
	}
	stillServes(t)
}

func TestBatchAgainstTheNode(t *testing.T) {
	res, err := client.Batch(ctx(t), polycall.NewCall("math.add", 1, 2), polycall.NewCall("math.nope"), polycall.NewCall("math.mul", 1.5, 2.0))
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 3 {
		t.Fatalf("got %d results", len(res))
	}
	if n, _ := res[0].Value.AsInt(); n != 3 {
		t.Fatalf("first: %v %v", res[0].Value, res[0].Err)
	}
	wantCode(t, res[1].Err, polycall.NotFound)
	if f, _ := res[2].Value.AsFloat(); f != 3 {
		t.Fatalf("third: %v %v", res[2].Value, res[2].Err)
	}
}

func TestAStreamCarriesConcurrentCallsToTheNode(t *testing.T) {
	s, err := client.Stream(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for i := range 20 {
		wg.Go(func() {
			var n int64
			if err := s.CallInto(ctx(t), &n, "math.add", i, 1); err != nil {
				errs <- err
			} else if n != int64(i+1) {
				errs <- fmt.Errorf("math.add(%d, 1) = %d", i, n)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	short, cancel := context.WithTimeout(ctx(t), 300*time.Millisecond)
	defer cancel()
	_, err = s.Call(short, "posix.sleep", uint32(2))
	wantCode(t, err, polycall.DeadlineExceeded)
	if v, err := s.Call(ctx(t), "math.add", 2, 2); err != nil || v.String() != "4" {
		t.Fatalf("the stream after a deadline: %v %v", v, err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestListFunctionsAndDescribeOnTheNode(t *testing.T) {
	fns, err := client.ListFunctions(ctx(t), "stats.*")
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]polycall.Function{}
	for _, f := range fns {
		names[f.Name] = f
	}
	if mean, ok := names["stats.mean"]; !ok || mean.Bridge != "jvm" || !strings.Contains(mean.Signature, "ndarray<f64>") {
		t.Fatalf("got %+v", fns)
	}
	if _, ok := names["math.add"]; ok {
		t.Fatal("the glob stats.* matched math.add")
	}
	f, err := client.Describe(ctx(t), "math.add")
	if err != nil {
		t.Fatal(err)
	}
	if f.Name != "math.add" || f.Version != 1 || f.Doc == "" {
		t.Fatalf("got %+v", f)
	}
	_, err = client.Describe(ctx(t), "math.nope")
	wantCode(t, err, polycall.NotFound)
}

func TestTheExamplesRunAgainstTheNode(t *testing.T) {
	if testing.Short() {
		t.Skip("compiles the examples")
	}
	examples := map[string][]string{
		"./examples/call": {"math.add(1, 2) = 3 (i64)", "stats.mean([1 2 3 4]) = 2.5", "at [java] ",
			"math.nope: NOT_FOUND", "a call past its deadline: DEADLINE_EXCEEDED"},
		"./examples/stream": {"100 calls of math.square on one stream", "add up to 328350"},
	}
	for pkg, wants := range examples {
		t.Run(pkg, func(t *testing.T) {
			cmd := exec.Command("go", "run", pkg, "-addr", grpcAddr)
			if pkg == "./examples/stream" {
				cmd.Args = append(cmd.Args, "-n", "100")
			}
			cmd.Dir = ".."
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			for _, want := range wants {
				if !strings.Contains(string(out), want) {
					t.Errorf("the output lacks %q:\n%s", want, out)
				}
			}
		})
	}
}
