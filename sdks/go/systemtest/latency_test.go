package systemtest

// p50/p99 and calls per second at 1 and 64 calls in flight, for the client and, in the same run,
// for its peer, the raw generated stub. `make -C sdks/go latency` runs it (a few seconds per
// line); `go test` skips it.

import (
	"context"
	"fmt"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/polycall/polycall/sdks/go/polycallpb"
)

func TestLatencyReport(t *testing.T) {
	if os.Getenv("POLYCALL_GO_LATENCY") == "" {
		t.Skip("set POLYCALL_GO_LATENCY=1 (make -C sdks/go latency)")
	}
	ctx := context.Background()
	raw := polycallpb.NewPolyCallClient(client.Conn())
	req := &polycallpb.Call{Function: "math.add", Args: []*polycallpb.Value{
		{Kind: &polycallpb.Value_IntValue{IntValue: 1}}, {Kind: &polycallpb.Value_IntValue{IntValue: 2}},
	}}
	stream, err := client.Stream(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer stream.Close()
	ways := []struct {
		name string
		call func() error
	}{
		{"raw grpc-go stub (peer)", func() error { _, err := raw.Call(ctx, req); return err }},
		{"polycall-go Call", func() error { _, err := client.Call(ctx, "math.add", 1, 2); return err }},
		{"polycall-go Stream", func() error { _, err := stream.Call(ctx, "math.add", 1, 2); return err }},
	}
	for range 3000 { // the node's JIT first
		if err := ways[0].call(); err != nil {
			t.Fatal(err)
		}
	}
	fmt.Printf("%-26s %9s %9s %9s %12s\n", "math.add(1, 2)", "in flight", "p50", "p99", "calls/s")
	for _, inFlight := range []int{1, 64} {
		for _, w := range ways {
			p50, p99, rate := measure(t, w.call, inFlight, 2*time.Second)
			fmt.Printf("%-26s %9d %9v %9v %12.0f\n", w.name, inFlight, p50, p99, rate)
		}
	}
}

// measure runs call from inFlight goroutines for d and returns the latency percentiles and the
// rate.
func measure(t *testing.T, call func() error, inFlight int, d time.Duration) (p50, p99 time.Duration, rate float64) {
	var (
		mu    sync.Mutex
		lat   []time.Duration
		wg    sync.WaitGroup
		start = time.Now()
	)
	for range inFlight {
		wg.Go(func() {
			var mine []time.Duration
			for time.Since(start) < d {
				t0 := time.Now()
				if err := call(); err != nil {
					t.Error(err)
					return
				}
				mine = append(mine, time.Since(t0))
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	slices.Sort(lat)
	if len(lat) == 0 {
		t.Fatal("no call completed")
	}
	pct := func(p float64) time.Duration { return lat[int(p*float64(len(lat)-1))].Round(time.Microsecond) }
	return pct(0.50), pct(0.99), float64(len(lat)) / elapsed.Seconds()
}
