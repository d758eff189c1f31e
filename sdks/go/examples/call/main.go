// Command call calls functions of a running PolyCall node over gRPC: a Java function, a Java
// function taking an ndarray, a batch, the function list, and the errors of an unknown function
// and of a deadline.
//
//	bin/polycall serve --grpc 127.0.0.1:50051      # in one terminal, from the repository root
//	go run ./examples/call -addr 127.0.0.1:50051   # in another, from sdks/go
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/polycall/polycall/sdks/go/polycall"
)

func main() {
	addr := flag.String("addr", envOr("POLYCALL_GRPC", "127.0.0.1:50051"), "the node's gRPC address (host:port)")
	token := flag.String("token", os.Getenv("POLYCALL_TOKEN"), "a bearer token, when the node requires one")
	flag.Parse()
	if err := run(*addr, *token); err != nil {
		log.Fatal(err)
	}
}

func run(addr, token string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	opts := []polycall.Option{polycall.WithTimeout(10 * time.Second)}
	if token != "" {
		opts = append(opts, polycall.WithBearerToken(token))
	}
	client, err := polycall.Dial(ctx, addr, opts...)
	if err != nil {
		return err
	}
	defer client.Close()

	// A Java function; the result is a polycall.Value with typed accessors.
	sum, err := client.Call(ctx, "math.add", 1, 2)
	if err != nil {
		return err
	}
	n, _ := sum.AsInt()
	fmt.Printf("math.add(1, 2) = %d (%s)\n", n, sum.Type())

	// An ndarray<f64> travels as one block of bytes; the result decodes into a Go variable.
	var mean float64
	if err := client.CallInto(ctx, &mean, "stats.mean", polycall.Float64Array([]float64{1, 2, 3, 4})); err != nil {
		return err
	}
	fmt.Printf("stats.mean([1 2 3 4]) = %g\n", mean)

	// A struct result decodes into a Go struct (fields matched by name, ignoring case).
	var summary struct {
		Count          int64
		Min, Max, Mean float64
	}
	if err := client.CallInto(ctx, &summary, "stats.summary", []float64{3, 1, 2}); err != nil {
		return err
	}
	fmt.Printf("stats.summary([3 1 2]) = %+v\n", summary)

	// Many calls in one message; one failure fails only its own result.
	results, err := client.Batch(ctx, polycall.NewCall("math.add", 40, 2), polycall.NewCall("math.divide", 1, 0))
	if err != nil {
		return err
	}
	for i, r := range results {
		if r.Err != nil {
			fmt.Printf("batch[%d] failed: %v\n", i, r.Err)
		} else {
			fmt.Printf("batch[%d] = %v\n", i, r.Value)
		}
	}

	// The errors are *polycall.Error with a code, a message and the cross-language stack.
	_, err = client.Call(ctx, "math.divide", 1, 0)
	var pe *polycall.Error
	if errors.As(err, &pe) {
		fmt.Printf("math.divide(1, 0) failed: %s\n", pe.StackTrace())
	}
	_, err = client.Call(ctx, "math.nope", 1)
	if errors.As(err, &pe) {
		fmt.Printf("math.nope: %s: %s\n", pe.Code, pe.Message)
	}
	short, cancelShort := context.WithTimeout(ctx, time.Nanosecond)
	defer cancelShort()
	_, err = client.Call(short, "math.add", 1, 2)
	fmt.Printf("a call past its deadline: %s\n", polycall.CodeOf(err))

	fns, err := client.ListFunctions(ctx, "math.*")
	if err != nil {
		return err
	}
	for _, f := range fns {
		fmt.Printf("  %-40s %s\n", f.Signature, f.Bridge)
	}
	return nil
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}
