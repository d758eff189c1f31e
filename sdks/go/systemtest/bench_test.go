package systemtest

// Benchmarks of the client against the real node, each beside its peer in the same run: the same
// call made with the raw generated stub (a pre-built request, no value mapping, no error
// mapping). Run with `make -C sdks/go bench`; not part of `make test`.

import (
	"context"
	"runtime"
	"testing"

	"github.com/polycall/polycall/sdks/go/polycall"
	"github.com/polycall/polycall/sdks/go/polycallpb"
)

// warmUp lets the node's JIT compile the call path before anything is measured, so that the
// first sub-benchmark does not pay for it.
func warmUp(b *testing.B) {
	for range 3000 {
		if _, err := client.Call(context.Background(), "math.add", 1, 2); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkUnaryMathAdd(b *testing.B) {
	ctx := context.Background()
	warmUp(b)
	b.Run("polycall-go", func(b *testing.B) {
		for b.Loop() {
			var n int64
			if err := client.CallInto(ctx, &n, "math.add", 1, 2); err != nil || n != 3 {
				b.Fatal(n, err)
			}
		}
	})
	b.Run("raw-grpc-go", func(b *testing.B) {
		raw := polycallpb.NewPolyCallClient(client.Conn())
		req := &polycallpb.Call{Function: "math.add", Args: []*polycallpb.Value{
			{Kind: &polycallpb.Value_IntValue{IntValue: 1}}, {Kind: &polycallpb.Value_IntValue{IntValue: 2}},
		}}
		for b.Loop() {
			r, err := raw.Call(ctx, req)
			if err != nil || r.GetValue().GetIntValue() != 3 {
				b.Fatal(r, err)
			}
		}
	})
}

// inFlight64 makes RunParallel keep 64 calls in flight.
func inFlight64(b *testing.B) {
	b.SetParallelism((64 + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
}

func BenchmarkUnaryMathAdd64InFlight(b *testing.B) {
	ctx := context.Background()
	warmUp(b)
	b.Run("polycall-go", func(b *testing.B) {
		inFlight64(b)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := client.Call(ctx, "math.add", 1, 2); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
	b.Run("polycall-go-stream", func(b *testing.B) {
		s, err := client.Stream(ctx)
		if err != nil {
			b.Fatal(err)
		}
		defer s.Close()
		inFlight64(b)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := s.Call(ctx, "math.add", 1, 2); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
	b.Run("raw-grpc-go", func(b *testing.B) {
		raw := polycallpb.NewPolyCallClient(client.Conn())
		req := &polycallpb.Call{Function: "math.add", Args: []*polycallpb.Value{
			{Kind: &polycallpb.Value_IntValue{IntValue: 1}}, {Kind: &polycallpb.Value_IntValue{IntValue: 2}},
		}}
		inFlight64(b)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := raw.Call(ctx, req); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}

// 256Ki float64s (2 MiB), as one ndarray block and as a list of f64 values.
func BenchmarkMeanOf256KiFloat64s(b *testing.B) {
	ctx := context.Background()
	xs := make([]float64, 1<<18)
	for i := range xs {
		xs[i] = float64(i)
	}
	b.Run("ndarray", func(b *testing.B) {
		for b.Loop() {
			if _, err := client.Call(ctx, "stats.mean", polycall.Float64Array(xs)); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("list", func(b *testing.B) {
		for b.Loop() {
			if _, err := client.Call(ctx, "stats.mean", xs); err != nil {
				b.Fatal(err)
			}
		}
	})
}
