package polycall_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net"
	"reflect"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/polycall/polycall/sdks/go/polycall"
	"github.com/polycall/polycall/sdks/go/polycallpb"
)

func roundTrip(t *testing.T, x any) polycall.Value {
	t.Helper()
	b, err := polycall.EncodeBytes(x)
	if err != nil {
		t.Fatalf("encode %#v: %v", x, err)
	}
	v, err := polycall.DecodeBytes(b)
	if err != nil {
		t.Fatalf("decode %#v: %v", x, err)
	}
	return v
}

func TestGoNumbersKeepTheirWidths(t *testing.T) {
	cases := []struct {
		x    any
		want string
	}{
		{int8(-5), "i8"}, {int16(1), "i16"}, {int32(1), "i32"}, {int64(1), "i64"}, {1, "i64"},
		{uint8(1), "u8"}, {uint16(1), "u16"}, {uint32(1), "u32"}, {uint64(1), "u64"}, {uint(1), "u64"},
		{float32(0.5), "f32"}, {0.5, "f64"}, {true, "bool"}, {"s", "string"}, {[]byte{1}, "bytes"},
		{nil, "null"}, {[]int{1}, "list"}, {map[string]int{"a": 1}, "map"}, {struct{ A int }{1}, "struct"},
		{polycall.Float64Array([]float64{1}), "ndarray"}, {polycall.Handle{Kind: "file", ID: 7}, "handle"},
		{polycall.FnRef{Name: "math.cos"}, "fn"},
	}
	for _, c := range cases {
		v := roundTrip(t, c.x)
		if v.Type() != c.want {
			t.Errorf("%#v travels as %s, want %s", c.x, v.Type(), c.want)
		}
		_, isInt := c.x.(int)
		_, isUint := c.x.(uint)
		if isInt || isUint { // int and uint come back as int64 and uint64
			continue
		}
		if c.want != "list" && c.want != "map" && c.want != "struct" && !reflect.DeepEqual(v.Interface(), c.x) {
			t.Errorf("%#v comes back as %#v", c.x, v.Interface())
		}
	}
}

type Point struct {
	X       float64 `polycall:"x"`
	Y       float64 `json:"y"`
	Label   string  `polycall:"label,omitempty"`
	Skipped int     `polycall:"-"`
	secret  int
}

type Named struct {
	A int `polycall:"a"`
}

func (Named) PolyCallStructName() string { return "geo.Named" }

type Inner struct {
	Z int `polycall:"z"`
}

type Outer struct {
	Inner
	W int `polycall:"w"`
}

func TestGoStructsTravelAsStructsNamedByTheirTagsInFieldOrder(t *testing.T) {
	v := roundTrip(t, Point{X: 1, Y: 2, Skipped: 9, secret: 3})
	if got := v.String(); got != "Point{x: 1, y: 2}" {
		t.Fatalf("got %s", got)
	}
	if got := roundTrip(t, &Point{X: 1, Label: "a"}).String(); got != `Point{x: 1, y: 0, label: "a"}` {
		t.Fatalf("got %s", got)
	}
	if got := roundTrip(t, Named{A: 1}).String(); got != "geo.Named{a: 1}" {
		t.Fatalf("got %s", got)
	}
	if got := roundTrip(t, Outer{Inner{1}, 2}).String(); got != "Outer{z: 1, w: 2}" {
		t.Fatalf("embedded structs are flattened: got %s", got)
	}
}

func TestStructsDecodeIntoGoStructsIgnoringCaseAndUnknownFields(t *testing.T) {
	v := roundTrip(t, polycall.Struct{Name: "Summary", Fields: []polycall.Field{
		{"count", int64(3)}, {"MIN", 1.0}, {"extra", "ignored"}, {"label", "s"},
	}})
	var s struct {
		Count int
		Min   float64
		Label *string
	}
	if err := v.Decode(&s); err != nil {
		t.Fatal(err)
	}
	if s.Count != 3 || s.Min != 1 || s.Label == nil || *s.Label != "s" {
		t.Fatalf("got %+v", s)
	}
	var m map[string]any
	if err := v.Decode(&m); err != nil || m["count"] != int64(3) {
		t.Fatalf("into a map: %v %v", m, err)
	}
	var o Outer
	if err := roundTrip(t, Outer{Inner{5}, 6}).Decode(&o); err != nil || o.Z != 5 || o.W != 6 {
		t.Fatalf("embedded: %+v %v", o, err)
	}
}

func TestGoMapsEncodeWithSortedKeysSoTheBytesAreDeterministic(t *testing.T) {
	m := map[string]int32{}
	for i := range 50 {
		m[fmt.Sprintf("k%02d", 49-i)] = int32(i)
	}
	first, _ := polycall.EncodeBytes(m)
	for range 20 {
		again, _ := polycall.EncodeBytes(m)
		if string(again) != string(first) {
			t.Fatal("two encodings of one map differ")
		}
	}
	entries, _ := roundTrip(t, map[int]string{3: "c", -1: "a", 2: "b"}).AsMap()
	if entries[0].Key.String() != "-1" || entries[2].Key.String() != "3" {
		t.Fatalf("int keys not in numeric order: %v", entries)
	}
}

func TestMapsKeepTheirEntryOrderAndDecodeIntoGoMaps(t *testing.T) {
	v := roundTrip(t, polycall.Map{{"z", 1}, {"a", 2}})
	if v.String() != `{"z": 1, "a": 2}` {
		t.Fatalf("got %s", v)
	}
	var m map[string]int16
	if err := v.Decode(&m); err != nil || m["z"] != 1 || m["a"] != 2 {
		t.Fatalf("got %v %v", m, err)
	}
	if x, ok := v.Interface().(polycall.Map).Get("a"); !ok || x != int64(2) {
		t.Fatalf("Get: %v %v", x, ok)
	}
}

func TestNdArraysRoundTripForEveryElementType(t *testing.T) {
	check := func(name string, a polycall.NdArray, err error, back func(polycall.NdArray) (any, error), want any) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		got, err := roundTrip(t, a).AsNdArray()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		x, err := back(got)
		if err != nil || !reflect.DeepEqual(x, want) {
			t.Fatalf("%s: got %v %v, want %v", name, x, err, want)
		}
	}
	b := []bool{true, false}
	a, err := polycall.NewNdArray(b)
	check("bool", a, err, func(a polycall.NdArray) (any, error) { return polycall.NdArrayData[bool](a) }, b)
	i8 := []int8{-128, 127}
	a, err = polycall.NewNdArray(i8)
	check("i8", a, err, func(a polycall.NdArray) (any, error) { return polycall.NdArrayData[int8](a) }, i8)
	i16 := []int16{-32768, 1}
	a, err = polycall.NewNdArray(i16)
	check("i16", a, err, func(a polycall.NdArray) (any, error) { return polycall.NdArrayData[int16](a) }, i16)
	i32 := []int32{1, 2, 3, 4}
	a, err = polycall.NewNdArray(i32, 2, 2)
	check("i32", a, err, func(a polycall.NdArray) (any, error) { return polycall.NdArrayData[int32](a) }, i32)
	i64 := []int64{math.MinInt64}
	a, err = polycall.NewNdArray(i64)
	check("i64", a, err, func(a polycall.NdArray) (any, error) { return polycall.NdArrayData[int64](a) }, i64)
	u8 := []uint8{0, 255}
	a, err = polycall.NewNdArray(u8)
	check("u8", a, err, func(a polycall.NdArray) (any, error) { return polycall.NdArrayData[uint8](a) }, u8)
	u16 := []uint16{65535}
	a, err = polycall.NewNdArray(u16)
	check("u16", a, err, func(a polycall.NdArray) (any, error) { return polycall.NdArrayData[uint16](a) }, u16)
	u32 := []uint32{1 << 31}
	a, err = polycall.NewNdArray(u32)
	check("u32", a, err, func(a polycall.NdArray) (any, error) { return polycall.NdArrayData[uint32](a) }, u32)
	u64 := []uint64{math.MaxUint64}
	a, err = polycall.NewNdArray(u64)
	check("u64", a, err, func(a polycall.NdArray) (any, error) { return polycall.NdArrayData[uint64](a) }, u64)
	f32 := []float32{0.5, -1}
	a, err = polycall.NewNdArray(f32)
	check("f32", a, err, func(a polycall.NdArray) (any, error) { return polycall.NdArrayData[float32](a) }, f32)
	f64 := []float64{1, 2, 3, 4, 5, 6}
	check("f64", polycall.Float64Array(f64, 2, 3), nil, func(a polycall.NdArray) (any, error) { return a.Float64s() }, f64)
}

func TestNdArraysDecodeIntoSlicesOfTheirShape(t *testing.T) {
	v := roundTrip(t, polycall.Float64Array([]float64{1, 2, 3, 4, 5, 6}, 2, 3))
	var m [][]float64
	if err := v.Decode(&m); err != nil || !reflect.DeepEqual(m, [][]float64{{1, 2, 3}, {4, 5, 6}}) {
		t.Fatalf("got %v %v", m, err)
	}
	a, _ := polycall.NewNdArray([]int32{1, 2, 3})
	var xs []int64 // widening, element by element
	if err := roundTrip(t, a).Decode(&xs); err != nil || !reflect.DeepEqual(xs, []int64{1, 2, 3}) {
		t.Fatalf("got %v %v", xs, err)
	}
	var arr [3]float64
	if err := roundTrip(t, a).Decode(&arr); err != nil || arr != [3]float64{1, 2, 3} {
		t.Fatalf("got %v %v", arr, err)
	}
}

func TestNdArraysOfTheWrongShapeOrTypeAreRefused(t *testing.T) {
	if _, err := polycall.NewNdArray([]float64{1, 2, 3}, 2, 2); polycall.CodeOf(err) != polycall.InvalidArgument {
		t.Fatalf("shape mismatch: %v", err)
	}
	if _, err := polycall.NdArrayData[float32](polycall.Float64Array([]float64{1})); polycall.CodeOf(err) != polycall.InvalidArgument {
		t.Fatalf("wrong element type: %v", err)
	}
	bad := polycall.NdArray{DType: polycall.F64, Shape: []int{2}, Data: make([]byte, 15)}
	if _, err := polycall.Encode(bad); polycall.CodeOf(err) != polycall.InvalidArgument {
		t.Fatalf("short data: %v", err)
	}
}

func TestNumbersDecodeWhereNothingIsLost(t *testing.T) {
	var i8 int8
	err := roundTrip(t, 300).Decode(&i8)
	if polycall.CodeOf(err) != polycall.OutOfRange {
		t.Fatalf("300 into int8: %v", err)
	}
	var u uint
	if err := roundTrip(t, -1).Decode(&u); polycall.CodeOf(err) != polycall.OutOfRange {
		t.Fatalf("-1 into uint: %v", err)
	}
	var n int
	if err := roundTrip(t, 1.5).Decode(&n); polycall.CodeOf(err) != polycall.InvalidArgument {
		t.Fatalf("1.5 into int: %v", err)
	}
	var f float64
	if err := roundTrip(t, uint8(7)).Decode(&f); err != nil || f != 7 {
		t.Fatalf("u8 into float64: %v %v", f, err)
	}
	if _, err := roundTrip(t, int64(1)<<60).AsFloat(); polycall.CodeOf(err) != polycall.OutOfRange {
		t.Fatalf("2^60 as a float: %v", err)
	}
	var f32 float32
	if err := roundTrip(t, 1e300).Decode(&f32); polycall.CodeOf(err) != polycall.OutOfRange {
		t.Fatalf("1e300 into float32: %v", err)
	}
	if _, err := roundTrip(t, "x").AsInt(); polycall.CodeOf(err) != polycall.InvalidArgument {
		t.Fatalf("a string as an int: %v", err)
	}
}

func TestNullDecodesIntoNilOrTheZeroValue(t *testing.T) {
	v := roundTrip(t, nil)
	p := new(int)
	if err := v.Decode(&p); err != nil || p != nil {
		t.Fatalf("pointer: %v %v", p, err)
	}
	var a any = 5
	if err := v.Decode(&a); err != nil || a != nil {
		t.Fatalf("any: %v %v", a, err)
	}
	n := 7
	if err := v.Decode(&n); err != nil || n != 0 {
		t.Fatalf("int: %v %v", n, err)
	}
}

func TestDecodeNeedsAPointer(t *testing.T) {
	var n int
	if err := roundTrip(t, 1).Decode(n); polycall.CodeOf(err) != polycall.InvalidArgument {
		t.Fatal(err)
	}
}

func TestValuesThatHaveNoPolyCallTypeAreRefusedWithTheirPath(t *testing.T) {
	cases := map[string]any{
		"value[0] is a Go chan int":                    []any{make(chan int)},
		"value[0] is a Go complex128":                  []any{1 + 2i},
		"value is not valid UTF-8":                     "\xff",
		"value.key[\xff] is not valid UTF-8":           map[string]int{"\xff": 1},
		"nests lists, maps and structs deeper than 32": nest(33),
		"value.F is a Go func, which cannot be passed": struct{ F func() }{func() {}},
	}
	for want, x := range cases {
		_, err := polycall.Encode(x)
		if polycall.CodeOf(err) != polycall.InvalidArgument || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: got %v", want, err)
		}
	}
	if _, err := polycall.Encode(nest(32)); err != nil {
		t.Errorf("32 levels are within the limit: %v", err)
	}
}

func nest(depth int) any {
	var x any = 1
	for range depth {
		x = []any{x}
	}
	return x
}

func TestDuplicateStructFieldsAreRefused(t *testing.T) {
	_, err := polycall.Encode(polycall.Struct{Fields: []polycall.Field{{"a", 1}, {"a", 2}}})
	if polycall.CodeOf(err) != polycall.InvalidArgument {
		t.Fatal(err)
	}
}

func TestFromProtoChecksValuesBuiltInGo(t *testing.T) {
	_, err := polycall.FromProto(&polycallpb.Value{Kind: &polycallpb.Value_ListValue{ListValue: &polycallpb.ListValue{
		Items: []*polycallpb.Value{{Kind: &polycallpb.Value_IntValue{IntValue: 300}, Width: polycallpb.Scalar_I8}},
	}}})
	if polycall.CodeOf(err) != polycall.InvalidArgument || !strings.Contains(err.Error(), "value[0]: 300 is out of range for i8") {
		t.Fatal(err)
	}
}

func TestStringRendersValuesForPeople(t *testing.T) {
	v := roundTrip(t, []any{int8(5), float32(0.5), uint64(7), "a", []byte{1, 2}, nil, polycall.Handle{Kind: "file", ID: 7, Generation: 1}, polycall.FnRef{Name: "math.cos"}})
	if got := v.String(); got != `[5i8, 0.5f32, 7u64, "a", bytes[2], null, handle<file>(7#1), fn math.cos]` {
		t.Fatalf("got %s", got)
	}
}

// ---- errors -------------------------------------------------------------------------------

func TestCodeOfFindsTheCodeOfAnyError(t *testing.T) {
	pe := polycall.Errorf(polycall.NotFound, "no function x")
	cases := []struct {
		err  error
		want polycall.Code
	}{
		{nil, polycall.OK},
		{pe, polycall.NotFound},
		{fmt.Errorf("calling: %w", pe), polycall.NotFound},
		{status.Error(codes.PermissionDenied, "no"), polycall.PermissionDenied},
		{context.DeadlineExceeded, polycall.DeadlineExceeded},
		{fmt.Errorf("x: %w", context.Canceled), polycall.Canceled},
		{errors.New("other"), polycall.Unknown},
	}
	for _, c := range cases {
		if got := polycall.CodeOf(c.err); got != c.want {
			t.Errorf("CodeOf(%v) = %s, want %s", c.err, got, c.want)
		}
	}
}

func TestAnErrorIsFoundWithErrorsAsAndMatchesTheContextErrors(t *testing.T) {
	err := fmt.Errorf("wrapped: %w", polycall.Errorf(polycall.DeadlineExceeded, "too slow"))
	var pe *polycall.Error
	if !errors.As(err, &pe) || pe.Message != "too slow" || pe.Error() != "DEADLINE_EXCEEDED: too slow" {
		t.Fatalf("got %v", pe)
	}
	if !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		t.Fatal("errors.Is with the context errors")
	}
	if status.Code(pe) != codes.DeadlineExceeded {
		t.Fatal("grpc status.Code")
	}
}

func TestCodesHaveTheirCanonicalNamesAndGRPCNumbers(t *testing.T) {
	for c := polycall.OK; c <= polycall.Unauthenticated; c++ {
		parsed, ok := polycall.ParseCode(c.String())
		if !ok || parsed != c {
			t.Errorf("%d: %s", c, c)
		}
		if uint32(c) != uint32(codes.Code(c)) || strings.ReplaceAll(strings.ToUpper(codes.Code(c).String()), "CANCELED", "CANCELLED") != strings.ReplaceAll(c.String(), "_", "") {
			t.Errorf("%s does not match gRPC's %s", c, codes.Code(c))
		}
	}
}

func TestStatusesConvertBothWays(t *testing.T) {
	e := &polycall.Error{Code: polycall.Internal, Message: "boom", Frames: []polycall.StackFrame{{Language: "java", Function: "f", File: "F.java", Line: 3}}}
	back := polycall.ErrorFromStatus(e.Proto())
	if !reflect.DeepEqual(back, e) {
		t.Fatalf("got %#v", back)
	}
	if polycall.ErrorFromStatus(&polycallpb.Status{}) != nil {
		t.Fatal("OK is not an error")
	}
}

func TestSlicesOfScalarsKeepTheWidthsOfTheirElements(t *testing.T) {
	cases := map[string]any{
		"[true, false]":                   []bool{true, false},
		"[1i8, -2i8]":                     []int8{1, -2},
		"[1i16]":                          []int16{1},
		"[1i32]":                          [1]int32{1},
		"[1, -9223372036854775808]":       []int64{1, math.MinInt64},
		"[7]":                             []int{7},
		"[1u16]":                          []uint16{1},
		"[1u32]":                          []uint32{1},
		"[1u64, 18446744073709551615u64]": []uint64{1, math.MaxUint64},
		"[0.5f32]":                        []float32{0.5},
		"[0.5, NaN]":                      []float64{0.5, math.NaN()},
		`["a", "é"]`:                      []string{"a", "é"},
	}
	for want, x := range cases {
		if got := roundTrip(t, x).String(); got != want {
			t.Errorf("%#v travels as %s, want %s", x, got, want)
		}
	}
	_, err := polycall.Encode([]string{"ok", "\xff"})
	if polycall.CodeOf(err) != polycall.InvalidArgument || !strings.Contains(err.Error(), "value[1] is not valid UTF-8") {
		t.Fatal(err)
	}
}

func TestSuggestionsAreReadFromTheMessage(t *testing.T) {
	e := polycall.Errorf(polycall.NotFound, "no function named math.ad; did you mean math.add, math.abs?")
	if got := e.Suggestions(); !reflect.DeepEqual(got, []string{"math.add", "math.abs"}) {
		t.Fatalf("got %q", got)
	}
	if got := polycall.Errorf(polycall.NotFound, "no such row").Suggestions(); got != nil {
		t.Fatalf("got %q", got)
	}
}

func TestTypesWithATextFormTravelAsStrings(t *testing.T) {
	when := time.Date(2026, 11, 22, 1, 2, 3, 0, time.UTC)
	type event struct {
		At time.Time `polycall:"at"`
		IP net.IP    `polycall:"ip"`
	}
	v := roundTrip(t, event{At: when, IP: net.IPv4(10, 0, 0, 1)})
	if got := v.String(); got != `event{at: "2026-11-22T01:02:03Z", ip: "10.0.0.1"}` {
		t.Fatalf("got %s", got)
	}
	var back event
	if err := v.Decode(&back); err != nil || !back.At.Equal(when) || !back.IP.Equal(net.IPv4(10, 0, 0, 1)) {
		t.Fatalf("got %+v %v", back, err)
	}
	var bad time.Time
	if err := roundTrip(t, "yesterday").Decode(&bad); polycall.CodeOf(err) != polycall.InvalidArgument {
		t.Fatal(err)
	}
}

func TestValuesMarshalToTheGatewaysJSON(t *testing.T) {
	cases := []struct {
		x    any
		want string
	}{
		{nil, `null`},
		{[]any{true, int8(-5), uint64(math.MaxUint64), float32(0.5), 1.25, math.Inf(-1), "é\"", []byte{0, 255}}, `[true,-5,18446744073709551615,0.5,1.25,"-Infinity","é\"","AP8="]`},
		{polycall.Map{{"b", 1}, {"a", nil}}, `{"b":1,"a":null}`},
		{map[int]string{2: "x", 1: "y"}, `[[1,"y"],[2,"x"]]`},
		{polycall.Struct{Name: "P", Fields: []polycall.Field{{"x", 1.5}, {"y", []int{}}}}, `{"x":1.5,"y":[]}`},
		{polycall.Float64Array([]float64{1}, 1, 1), `{"dtype":"f64","shape":[1,1],"data":"AAAAAAAA8D8="}`},
		{polycall.Handle{Kind: "file", ID: 7, Generation: 2}, `{"handle":"file","id":7,"generation":2}`},
		{polycall.FnRef{Name: "math.cos", Signature: "fn(f64) -> f64"}, `"math.cos"`},
	}
	for _, c := range cases {
		b, err := json.Marshal(roundTrip(t, c.x))
		if err != nil || string(b) != c.want {
			t.Errorf("%#v: got %s %v, want %s", c.x, b, err, c.want)
		}
	}
	if _, err := json.Marshal(polycall.Value{}); err == nil {
		t.Error("the zero Value marshalled")
	}
}

type hidden struct {
	A    int
	When time.Time
	L    []Point
}

type Exposed struct {
	hidden
	B int
}

func TestExportedFieldsOfAnUnexportedEmbeddedStructTravelAsEncodingJSONDoes(t *testing.T) {
	in := Exposed{hidden{1, time.Unix(0, 0).UTC(), []Point{{X: 2}}}, 3}
	v := roundTrip(t, in)
	if got := v.String(); got != `Exposed{A: 1, When: "1970-01-01T00:00:00Z", L: [Point{x: 2, y: 0}], B: 3}` {
		t.Fatalf("got %s", got)
	}
	var back Exposed
	if err := v.Decode(&back); err != nil || !reflect.DeepEqual(back, in) {
		t.Fatalf("got %+v %v", back, err)
	}
}
