package polycall_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/polycall/polycall/sdks/go/polycall"
)

func Example() {
	ctx := context.Background()
	client, err := polycall.Dial(ctx, "127.0.0.1:50051", polycall.WithTimeout(10*time.Second))
	if err != nil {
		log.Fatal(err) // UNAVAILABLE when no node serves there
	}
	defer client.Close()

	sum, err := client.Call(ctx, "math.add", 1, 2)
	if err != nil {
		log.Fatal(err)
	}
	n, _ := sum.AsInt()
	fmt.Println(n)

	var mean float64
	err = client.CallInto(ctx, &mean, "stats.mean", polycall.Float64Array([]float64{1, 2, 3, 4}))
	fmt.Println(mean, err)

	_, err = client.Call(ctx, "math.ad", 1, 2)
	var pe *polycall.Error
	if errors.As(err, &pe) && pe.Code == polycall.NotFound {
		fmt.Println(pe.Suggestions())
	}
}

func ExampleValue_Decode() {
	// A struct as a node returns it (here made locally with ValueOf).
	v, _ := polycall.ValueOf(polycall.Struct{Name: "Summary", Fields: []polycall.Field{
		{Name: "count", Value: int64(3)}, {Name: "mean", Value: 2.0},
	}})
	var s struct {
		Count int
		Mean  float64
	}
	err := v.Decode(&s)
	fmt.Println(v, s, err)
	// Output: Summary{count: 3, mean: 2} {3 2} <nil>
}

func ExampleNewNdArray() {
	a, _ := polycall.NewNdArray([]int32{1, 2, 3, 4, 5, 6}, 2, 3)
	v, _ := polycall.ValueOf(a)
	var rows [][]int32
	_ = v.Decode(&rows)
	fmt.Println(a, rows)
	// Output: ndarray<i32>[2, 3] [[1 2 3] [4 5 6]]
}

func ExampleCodeOf() {
	err := fmt.Errorf("loading: %w", polycall.Errorf(polycall.NotFound, "no function named math.ad; did you mean math.add?"))
	fmt.Println(polycall.CodeOf(err), polycall.CodeOf(nil))
	var pe *polycall.Error
	if errors.As(err, &pe) {
		fmt.Println(pe.Suggestions())
	}
	// Output:
	// NOT_FOUND OK
	// [math.add]
}
