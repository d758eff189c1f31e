package polycall_test

// The language-neutral vectors of spec/vectors (WIRE.md, "Test vectors"): every implementation
// decodes `hex` to `value`, encodes `value` to `hex` byte for byte, and refuses `invalid.json`
// with the status it names.

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"testing"
	"testing/iotest"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/polycall/polycall/sdks/go/polycall"
	"github.com/polycall/polycall/sdks/go/polycallpb"
	"github.com/polycall/polycall/sdks/go/wire"
)

var vectorDir = filepath.Join("..", "..", "..", "spec", "vectors")

func loadVectors[T any](t *testing.T, name string) []T {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(vectorDir, name))
	if err != nil {
		t.Fatalf("the shared vectors are part of this suite: %v", err)
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var out []T
	if err := d.Decode(&out); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if len(out) == 0 {
		t.Fatalf("%s holds no vectors", name)
	}
	return out
}

type valueVector struct {
	Name  string
	Value map[string]any
	Hex   string
}

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// goValue is the exact Go value of the neutral form, written out here rather than taken from
// the SDK so that the test does not trust the code it checks.
func goValue(t *testing.T, v map[string]any) any {
	t.Helper()
	if len(v) != 1 {
		t.Fatalf("a neutral value has one key: %v", v)
	}
	for kind, x := range v {
		switch kind {
		case "null":
			return nil
		case "bool":
			return x.(bool)
		case "string":
			return x.(string)
		case "i8":
			return int8(intOf(t, x))
		case "i16":
			return int16(intOf(t, x))
		case "i32":
			return int32(intOf(t, x))
		case "i64":
			return intOf(t, x)
		case "u8":
			return uint8(uintOf(t, x))
		case "u16":
			return uint16(uintOf(t, x))
		case "u32":
			return uint32(uintOf(t, x))
		case "u64":
			return uintOf(t, x)
		case "f32":
			return float32(floatOf(t, x))
		case "f64":
			return floatOf(t, x)
		case "bytes":
			return b64(t, x)
		case "list":
			out := []any{}
			for _, it := range x.([]any) {
				out = append(out, goValue(t, it.(map[string]any)))
			}
			return out
		case "map":
			out := polycall.Map{}
			for _, e := range x.([]any) {
				kv := e.([]any)
				out = append(out, polycall.MapEntry{Key: goValue(t, kv[0].(map[string]any)), Value: goValue(t, kv[1].(map[string]any))})
			}
			return out
		case "struct":
			s := x.(map[string]any)
			out := polycall.Struct{Name: s["name"].(string), Fields: []polycall.Field{}}
			for _, f := range s["fields"].([]any) {
				nv := f.([]any)
				out.Fields = append(out.Fields, polycall.Field{Name: nv[0].(string), Value: goValue(t, nv[1].(map[string]any))})
			}
			return out
		case "ndarray":
			a := x.(map[string]any)
			d, ok := polycall.ParseDType(a["dtype"].(string))
			if !ok {
				t.Fatalf("dtype %v", a["dtype"])
			}
			shape := []int{}
			for _, n := range a["shape"].([]any) {
				shape = append(shape, int(intOf(t, n)))
			}
			return polycall.NdArray{DType: d, Shape: shape, Data: b64(t, a["data"])}
		case "handle":
			h := x.(map[string]any)
			return polycall.Handle{Kind: h["kind"].(string), ID: uintOf(t, h["id"]), Generation: uint32(uintOf(t, h["generation"]))}
		case "fn":
			f := x.(map[string]any)
			return polycall.FnRef{Name: f["name"].(string), Signature: f["signature"].(string)}
		default:
			t.Fatalf("unknown neutral kind %q", kind)
		}
	}
	return nil
}

func intOf(t *testing.T, x any) int64 {
	t.Helper()
	i, err := strconv.ParseInt(numText(x), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return i
}

func uintOf(t *testing.T, x any) uint64 {
	t.Helper()
	u, err := strconv.ParseUint(numText(x), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func floatOf(t *testing.T, x any) float64 {
	t.Helper()
	if x == "NaN" {
		return math.Float64frombits(0x7ff8000000000000) // the quiet NaN of Java and the vectors
	}
	f, err := strconv.ParseFloat(numText(x), 64) // also "NaN", "Infinity", "-Infinity"
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func numText(x any) string {
	switch n := x.(type) {
	case json.Number:
		return n.String()
	case string:
		return n
	}
	return ""
}

func b64(t *testing.T, x any) []byte {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(x.(string))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// same is deep equality that tells Go types (so widths) apart, holds NaN equal to NaN and
// tells 0.0 from -0.0.
func same(a, b any) bool {
	if reflect.TypeOf(a) != reflect.TypeOf(b) {
		return false
	}
	switch x := a.(type) {
	case float64:
		y := b.(float64)
		return math.Float64bits(x) == math.Float64bits(y) || (math.IsNaN(x) && math.IsNaN(y))
	case float32:
		y := b.(float32)
		return math.Float32bits(x) == math.Float32bits(y) || (x != x && y != y)
	case []byte:
		return bytes.Equal(x, b.([]byte))
	case []any:
		y := b.([]any)
		if len(x) != len(y) {
			return false
		}
		for i := range x {
			if !same(x[i], y[i]) {
				return false
			}
		}
		return true
	case polycall.Map:
		y := b.(polycall.Map)
		if len(x) != len(y) {
			return false
		}
		for i := range x {
			if !same(x[i].Key, y[i].Key) || !same(x[i].Value, y[i].Value) {
				return false
			}
		}
		return true
	case polycall.Struct:
		y := b.(polycall.Struct)
		if x.Name != y.Name || len(x.Fields) != len(y.Fields) {
			return false
		}
		for i := range x.Fields {
			if x.Fields[i].Name != y.Fields[i].Name || !same(x.Fields[i].Value, y.Fields[i].Value) {
				return false
			}
		}
		return true
	case polycall.NdArray:
		y := b.(polycall.NdArray)
		return x.DType == y.DType && reflect.DeepEqual(x.Shape, y.Shape) && bytes.Equal(x.Data, y.Data)
	}
	return reflect.DeepEqual(a, b)
}

func TestEveryValueVectorDecodesToItsValue(t *testing.T) {
	for _, v := range loadVectors[valueVector](t, "values.json") {
		t.Run(v.Name, func(t *testing.T) {
			got, err := polycall.DecodeBytes(unhex(t, v.Hex))
			if err != nil {
				t.Fatalf("refused: %v", err)
			}
			if want := goValue(t, v.Value); !same(got.Interface(), want) {
				t.Fatalf("decoded %#v, want %#v", got.Interface(), want)
			}
		})
	}
}

func TestEveryValueVectorEncodesToItsBytes(t *testing.T) {
	for _, v := range loadVectors[valueVector](t, "values.json") {
		t.Run(v.Name, func(t *testing.T) {
			b, err := polycall.EncodeBytes(goValue(t, v.Value))
			if err != nil {
				t.Fatalf("refused: %v", err)
			}
			if got := hex.EncodeToString(b); got != v.Hex {
				t.Fatalf("encoded %s, want %s", got, v.Hex)
			}
		})
	}
}

func TestDecodedValuesEncodeBackToTheSameBytes(t *testing.T) {
	for _, v := range loadVectors[valueVector](t, "values.json") {
		t.Run(v.Name, func(t *testing.T) {
			got, err := polycall.DecodeBytes(unhex(t, v.Hex))
			if err != nil {
				t.Fatal(err)
			}
			b, err := polycall.EncodeBytes(got.Interface())
			if err != nil {
				t.Fatal(err)
			}
			if hex.EncodeToString(b) != v.Hex {
				t.Fatalf("round trip gave %x, want %s", b, v.Hex)
			}
		})
	}
}

type frameVector struct {
	Name  string
	Frame json.RawMessage
	Hex   string
}

func TestEveryFrameVectorMatchesItsBytesBothWays(t *testing.T) {
	for _, v := range loadVectors[frameVector](t, "frames.json") {
		t.Run(v.Name, func(t *testing.T) {
			want := &polycallpb.Frame{}
			if err := protojson.Unmarshal(v.Frame, want); err != nil {
				t.Fatal(err)
			}
			b, err := wire.Append(nil, want)
			if err != nil {
				t.Fatal(err)
			}
			if got := hex.EncodeToString(b); got != v.Hex {
				t.Fatalf("encoded %s, want %s", got, v.Hex)
			}
			for _, r := range []io.Reader{bytes.NewReader(unhex(t, v.Hex)), iotest.OneByteReader(bytes.NewReader(unhex(t, v.Hex)))} {
				fr := wire.NewReader(r, 0)
				got, err := fr.Read()
				if err != nil {
					t.Fatal(err)
				}
				if !proto.Equal(got, want) {
					t.Fatalf("decoded %v, want %v", got, want)
				}
				if _, err := fr.Read(); err != io.EOF {
					t.Fatalf("after the frame: %v, want io.EOF", err)
				}
			}
		})
	}
}

func TestTheHelloVectorProofIsTheHMACThisSDKComputes(t *testing.T) {
	for _, v := range loadVectors[frameVector](t, "frames.json") {
		f := &polycallpb.Frame{}
		if err := protojson.Unmarshal(v.Frame, f); err != nil {
			t.Fatal(err)
		}
		if f.GetHello().GetProof() == nil {
			continue
		}
		secret, nonce := make([]byte, 32), make([]byte, 32)
		for i := range 32 {
			secret[i], nonce[i] = byte(i), byte(0xa0+i)
		}
		if got := wire.Proof(secret, nonce, f.GetHello().GetWorkerId()); !bytes.Equal(got, f.GetHello().GetProof()) {
			t.Fatalf("proof %x, want %x", got, f.GetHello().GetProof())
		}
		return
	}
	t.Fatal("no hello vector with a proof")
}

type invalidVector struct {
	Name, Hex, Kind, Status, Reason string
}

func TestEveryInvalidVectorIsRefusedWithItsStatus(t *testing.T) {
	for _, v := range loadVectors[invalidVector](t, "invalid.json") {
		t.Run(v.Name, func(t *testing.T) {
			want, ok := polycall.ParseCode(v.Status)
			if !ok {
				t.Fatalf("unknown status %q", v.Status)
			}
			data := unhex(t, v.Hex)
			switch v.Kind {
			case "value":
				_, err := polycall.DecodeBytes(data)
				if got := polycall.CodeOf(err); err == nil || got != want {
					t.Fatalf("got %v (%v), want %s: %s", got, err, want, v.Reason)
				}
			case "stream":
				for _, r := range []io.Reader{bytes.NewReader(data), iotest.OneByteReader(bytes.NewReader(data))} {
					err := readAll(wire.NewReader(r, 0))
					var pe *polycall.Error
					if err == nil || !asError(err, &pe) || pe.Code != want {
						t.Fatalf("got %v, want %s: %s", err, want, v.Reason)
					}
				}
			default:
				t.Fatalf("unknown kind %q", v.Kind)
			}
		})
	}
}

// readAll reads frames until the stream ends; nil means every frame was accepted.
func readAll(r *wire.Reader) error {
	for {
		if _, err := r.Read(); err != nil {
			if err == io.EOF {
				return nil
			}
			return err
		}
	}
}

func asError(err error, target **polycall.Error) bool {
	e, ok := err.(*polycall.Error)
	*target = e
	return ok
}
