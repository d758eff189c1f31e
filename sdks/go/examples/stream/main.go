// Command stream keeps many calls in flight on one CallStream: goroutines share the stream, each
// waits for its own result, and a call whose context ends is cancelled alone.
//
//	bin/polycall serve --grpc 127.0.0.1:50051        # from the repository root
//	go run ./examples/stream -addr 127.0.0.1:50051   # from sdks/go
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"sync"
	"time"

	"github.com/polycall/polycall/sdks/go/polycall"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:50051", "the node's gRPC address (host:port)")
	n := flag.Int("n", 1000, "how many calls")
	flag.Parse()

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	client, err := polycall.Dial(ctx, *addr)
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()

	stream, err := client.Stream(ctx)
	if err != nil {
		log.Fatal(err)
	}
	start := time.Now()
	squares := make([]int64, *n)
	var wg sync.WaitGroup
	for i := range *n {
		wg.Go(func() {
			if err := stream.CallInto(ctx, &squares[i], "math.square", i); err != nil {
				log.Fatalf("math.square(%d): %v", i, err)
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	var sum int64
	for _, s := range squares {
		sum += s
	}
	fmt.Printf("%d calls of math.square on one stream in %v (%.0f calls/s); the squares add up to %d\n",
		*n, elapsed.Round(time.Millisecond), float64(*n)/elapsed.Seconds(), sum)

	// Closing waits for the calls in flight, then ends the stream.
	if err := stream.Close(); err != nil {
		log.Fatal(err)
	}
}
