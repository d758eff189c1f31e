package polycall

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"google.golang.org/protobuf/proto"

	"github.com/polycall/polycall/sdks/go/polycallpb"
)

// Value is a value received from a node (a call's result), checked against the wire rules when
// it arrived. Read it with the typed accessors (AsInt, AsFloat, AsString, ...), decode it into a
// Go variable with Decode, or take its natural Go form with Interface.
//
// A Value is immutable and safe to use from many goroutines. The zero Value holds nothing
// (Kind is KindInvalid).
type Value struct {
	p *polycallpb.Value
}

// FromProto checks a wire value against the rules of WIRE.md (a kind is set, widths match their
// kind and hold the number, ndarrays have the right amount of data, no duplicate map keys or
// struct fields, nesting within MaxDepth) and wraps it. A value that breaks one is
// INVALID_ARGUMENT, with the path of the bad element.
func FromProto(v *polycallpb.Value) (Value, error) {
	if err := check(v, 0, rootPath("value")); err != nil {
		return Value{}, err
	}
	return Value{p: v}, nil
}

// DecodeBytes parses and checks the protobuf bytes of one polycall.v1.Value.
func DecodeBytes(b []byte) (Value, error) {
	var v polycallpb.Value
	if err := proto.Unmarshal(b, &v); err != nil {
		return Value{}, Errorf(InvalidArgument, "the bytes are not a polycall.v1.Value: %v", err)
	}
	return FromProto(&v)
}

// ValueOf encodes a Go value (see Encode) and wraps it, for building values to compare or send.
func ValueOf(x any) (Value, error) {
	p, err := Encode(x)
	if err != nil {
		return Value{}, err
	}
	return FromProto(p)
}

// Proto is the wire form of the value. Do not modify it.
func (v Value) Proto() *polycallpb.Value { return v.p }

// Kind is which canonical kind the value holds.
func (v Value) Kind() Kind {
	switch v.p.GetKind().(type) {
	case *polycallpb.Value_NullValue:
		return KindNull
	case *polycallpb.Value_BoolValue:
		return KindBool
	case *polycallpb.Value_IntValue:
		return KindInt
	case *polycallpb.Value_UintValue:
		return KindUint
	case *polycallpb.Value_FloatValue:
		return KindFloat
	case *polycallpb.Value_StringValue:
		return KindString
	case *polycallpb.Value_BytesValue:
		return KindBytes
	case *polycallpb.Value_ListValue:
		return KindList
	case *polycallpb.Value_MapValue:
		return KindMap
	case *polycallpb.Value_StructValue:
		return KindStruct
	case *polycallpb.Value_NdarrayValue:
		return KindNdArray
	case *polycallpb.Value_HandleValue:
		return KindHandle
	case *polycallpb.Value_FnValue:
		return KindFn
	}
	return KindInvalid
}

// Type is the canonical name of the value's type: "i8", "u64", "f32", "string", "list", ...
func (v Value) Type() string {
	switch v.Kind() {
	case KindInt:
		return widthOr(v.p.GetWidth(), I64).String()
	case KindUint:
		return widthOr(v.p.GetWidth(), U64).String()
	case KindFloat:
		return widthOr(v.p.GetWidth(), F64).String()
	}
	return v.Kind().String()
}

func widthOr(w polycallpb.Scalar, def DType) DType {
	if w == polycallpb.Scalar_SCALAR_UNSPECIFIED {
		return def
	}
	return DType(w)
}

// IsNull says whether the value is null.
func (v Value) IsNull() bool { return v.Kind() == KindNull }

func (v Value) wrong(want string) error {
	return Errorf(InvalidArgument, "the value is %s, not %s", v.Type(), want)
}

// AsBool is the value of a bool.
func (v Value) AsBool() (bool, error) {
	if b, ok := v.p.GetKind().(*polycallpb.Value_BoolValue); ok {
		return b.BoolValue, nil
	}
	return false, v.wrong("a bool")
}

// AsInt is the value of a signed integer of any width, or of an unsigned one that fits int64.
func (v Value) AsInt() (int64, error) {
	switch k := v.p.GetKind().(type) {
	case *polycallpb.Value_IntValue:
		return k.IntValue, nil
	case *polycallpb.Value_UintValue:
		if k.UintValue <= math.MaxInt64 {
			return int64(k.UintValue), nil
		}
		return 0, Errorf(OutOfRange, "%d does not fit int64", k.UintValue)
	}
	return 0, v.wrong("an integer")
}

// AsUint is the value of an unsigned integer of any width, or of a signed one that is not
// negative.
func (v Value) AsUint() (uint64, error) {
	switch k := v.p.GetKind().(type) {
	case *polycallpb.Value_UintValue:
		return k.UintValue, nil
	case *polycallpb.Value_IntValue:
		if k.IntValue >= 0 {
			return uint64(k.IntValue), nil
		}
		return 0, Errorf(OutOfRange, "%d does not fit an unsigned integer", k.IntValue)
	}
	return 0, v.wrong("an integer")
}

// AsFloat is the value of an f32 or f64, or of an integer that a float64 holds exactly.
func (v Value) AsFloat() (float64, error) {
	switch k := v.p.GetKind().(type) {
	case *polycallpb.Value_FloatValue:
		if v.p.GetWidth() == polycallpb.Scalar_F32 {
			return float64(float32(k.FloatValue)), nil
		}
		return k.FloatValue, nil
	case *polycallpb.Value_IntValue:
		if f := float64(k.IntValue); f >= -(1<<53) && f <= 1<<53 {
			return f, nil
		}
		return 0, Errorf(OutOfRange, "%d is not exact as a float64", k.IntValue)
	case *polycallpb.Value_UintValue:
		if k.UintValue <= 1<<53 {
			return float64(k.UintValue), nil
		}
		return 0, Errorf(OutOfRange, "%d is not exact as a float64", k.UintValue)
	}
	return 0, v.wrong("a number")
}

// AsString is the value of a string.
func (v Value) AsString() (string, error) {
	if s, ok := v.p.GetKind().(*polycallpb.Value_StringValue); ok {
		return s.StringValue, nil
	}
	return "", v.wrong("a string")
}

// AsBytes is the value of a bytes value (not a copy: do not modify it).
func (v Value) AsBytes() ([]byte, error) {
	if b, ok := v.p.GetKind().(*polycallpb.Value_BytesValue); ok {
		return b.BytesValue, nil
	}
	return nil, v.wrong("bytes")
}

// AsList is the items of a list.
func (v Value) AsList() ([]Value, error) {
	l, ok := v.p.GetKind().(*polycallpb.Value_ListValue)
	if !ok {
		return nil, v.wrong("a list")
	}
	out := make([]Value, len(l.ListValue.GetItems()))
	for i, it := range l.ListValue.GetItems() {
		out[i] = Value{p: it}
	}
	return out, nil
}

// Entry is one key and value of a map value.
type Entry struct {
	Key, Value Value
}

// AsMap is the entries of a map, in their order on the wire.
func (v Value) AsMap() ([]Entry, error) {
	m, ok := v.p.GetKind().(*polycallpb.Value_MapValue)
	if !ok {
		return nil, v.wrong("a map")
	}
	out := make([]Entry, len(m.MapValue.GetEntries()))
	for i, e := range m.MapValue.GetEntries() {
		out[i] = Entry{Value{p: e.GetKey()}, Value{p: e.GetValue()}}
	}
	return out, nil
}

// Field is the field called name of a struct value, or the entry with that string key of a map.
func (v Value) Field(name string) (Value, error) {
	switch k := v.p.GetKind().(type) {
	case *polycallpb.Value_StructValue:
		for _, f := range k.StructValue.GetFields() {
			if f.GetName() == name {
				return Value{p: f.GetValue()}, nil
			}
		}
		return Value{}, Errorf(NotFound, "struct %s has no field %q", k.StructValue.GetName(), name)
	case *polycallpb.Value_MapValue:
		for _, e := range k.MapValue.GetEntries() {
			if s, ok := e.GetKey().GetKind().(*polycallpb.Value_StringValue); ok && s.StringValue == name {
				return Value{p: e.GetValue()}, nil
			}
		}
		return Value{}, Errorf(NotFound, "the map has no key %q", name)
	}
	return Value{}, v.wrong("a struct")
}

// StructName is the name of a struct value ("" for other kinds and for unnamed structs).
func (v Value) StructName() string { return v.p.GetStructValue().GetName() }

// AsStruct is a struct value with its fields in their natural Go form (see Interface).
func (v Value) AsStruct() (Struct, error) {
	if v.Kind() != KindStruct {
		return Struct{}, v.wrong("a struct")
	}
	return v.Interface().(Struct), nil
}

// AsNdArray is an ndarray value; its Data is not a copy: do not modify it.
func (v Value) AsNdArray() (NdArray, error) {
	a, ok := v.p.GetKind().(*polycallpb.Value_NdarrayValue)
	if !ok {
		return NdArray{}, v.wrong("an ndarray")
	}
	return ndarrayOf(a.NdarrayValue), nil
}

func ndarrayOf(a *polycallpb.NdArray) NdArray {
	shape := make([]int, len(a.GetShape()))
	for i, d := range a.GetShape() {
		shape[i] = int(d)
	}
	return NdArray{DType: DType(a.GetDtype()), Shape: shape, Data: a.GetData()}
}

// AsHandle is a handle value.
func (v Value) AsHandle() (Handle, error) {
	h, ok := v.p.GetKind().(*polycallpb.Value_HandleValue)
	if !ok {
		return Handle{}, v.wrong("a handle")
	}
	return Handle{Kind: h.HandleValue.GetKind(), ID: h.HandleValue.GetId(), Generation: h.HandleValue.GetGeneration()}, nil
}

// AsFn is a function reference.
func (v Value) AsFn() (FnRef, error) {
	f, ok := v.p.GetKind().(*polycallpb.Value_FnValue)
	if !ok {
		return FnRef{}, v.wrong("a fn")
	}
	return FnRef{Name: f.FnValue.GetName(), Signature: f.FnValue.GetSignature()}, nil
}

// Interface is the value in its natural Go form, with widths kept:
//
//	null -> nil, bool -> bool, i8..i64 -> int8..int64, u8..u64 -> uint8..uint64,
//	f32 -> float32, f64 -> float64, string -> string, bytes -> []byte, list -> []any,
//	map -> Map (ordered entries), struct -> Struct, ndarray -> NdArray, handle -> Handle,
//	fn -> FnRef
//
// Encode(v.Interface()) gives back the same value.
func (v Value) Interface() any {
	switch k := v.p.GetKind().(type) {
	case *polycallpb.Value_BoolValue:
		return k.BoolValue
	case *polycallpb.Value_IntValue:
		switch v.p.GetWidth() {
		case polycallpb.Scalar_I8:
			return int8(k.IntValue)
		case polycallpb.Scalar_I16:
			return int16(k.IntValue)
		case polycallpb.Scalar_I32:
			return int32(k.IntValue)
		}
		return k.IntValue
	case *polycallpb.Value_UintValue:
		switch v.p.GetWidth() {
		case polycallpb.Scalar_U8:
			return uint8(k.UintValue)
		case polycallpb.Scalar_U16:
			return uint16(k.UintValue)
		case polycallpb.Scalar_U32:
			return uint32(k.UintValue)
		}
		return k.UintValue
	case *polycallpb.Value_FloatValue:
		if v.p.GetWidth() == polycallpb.Scalar_F32 {
			return float32(k.FloatValue)
		}
		return k.FloatValue
	case *polycallpb.Value_StringValue:
		return k.StringValue
	case *polycallpb.Value_BytesValue:
		if k.BytesValue == nil {
			return []byte{}
		}
		return k.BytesValue
	case *polycallpb.Value_ListValue:
		out := make([]any, len(k.ListValue.GetItems()))
		for i, it := range k.ListValue.GetItems() {
			out[i] = Value{p: it}.Interface()
		}
		return out
	case *polycallpb.Value_MapValue:
		out := make(Map, len(k.MapValue.GetEntries()))
		for i, e := range k.MapValue.GetEntries() {
			out[i] = MapEntry{Value{p: e.GetKey()}.Interface(), Value{p: e.GetValue()}.Interface()}
		}
		return out
	case *polycallpb.Value_StructValue:
		s := Struct{Name: k.StructValue.GetName(), Fields: make([]Field, len(k.StructValue.GetFields()))}
		for i, f := range k.StructValue.GetFields() {
			s.Fields[i] = Field{f.GetName(), Value{p: f.GetValue()}.Interface()}
		}
		return s
	case *polycallpb.Value_NdarrayValue:
		return ndarrayOf(k.NdarrayValue)
	case *polycallpb.Value_HandleValue:
		h, _ := v.AsHandle()
		return h
	case *polycallpb.Value_FnValue:
		f, _ := v.AsFn()
		return f
	}
	return nil
}

// String renders the value for people (logs, errors), close to the CLI's JSON: 3, 2.5, "text",
// [1, 2], {"a": 1}, Point{x: 1, y: 2}, ndarray<f64>[3]. Widths show as suffixes: 5i8, 0.5f32.
func (v Value) String() string {
	var b strings.Builder
	v.format(&b)
	return b.String()
}

func (v Value) format(b *strings.Builder) {
	switch k := v.p.GetKind().(type) {
	case nil:
		b.WriteString("<invalid>")
	case *polycallpb.Value_NullValue:
		b.WriteString("null")
	case *polycallpb.Value_BoolValue:
		b.WriteString(strconv.FormatBool(k.BoolValue))
	case *polycallpb.Value_IntValue:
		b.WriteString(strconv.FormatInt(k.IntValue, 10))
		if w := v.p.GetWidth(); w != 0 && w != polycallpb.Scalar_I64 {
			b.WriteString(DType(w).String())
		}
	case *polycallpb.Value_UintValue:
		b.WriteString(strconv.FormatUint(k.UintValue, 10))
		if w := v.p.GetWidth(); w != 0 && w != polycallpb.Scalar_U64 {
			b.WriteString(DType(w).String())
		} else {
			b.WriteString("u64")
		}
	case *polycallpb.Value_FloatValue:
		if v.p.GetWidth() == polycallpb.Scalar_F32 {
			b.WriteString(strconv.FormatFloat(k.FloatValue, 'g', -1, 32) + "f32")
		} else {
			b.WriteString(strconv.FormatFloat(k.FloatValue, 'g', -1, 64))
		}
	case *polycallpb.Value_StringValue:
		b.WriteString(strconv.Quote(k.StringValue))
	case *polycallpb.Value_BytesValue:
		fmt.Fprintf(b, "bytes[%d]", len(k.BytesValue))
	case *polycallpb.Value_ListValue:
		b.WriteByte('[')
		for i, it := range k.ListValue.GetItems() {
			if i > 0 {
				b.WriteString(", ")
			}
			Value{p: it}.format(b)
		}
		b.WriteByte(']')
	case *polycallpb.Value_MapValue:
		b.WriteByte('{')
		for i, e := range k.MapValue.GetEntries() {
			if i > 0 {
				b.WriteString(", ")
			}
			Value{p: e.GetKey()}.format(b)
			b.WriteString(": ")
			Value{p: e.GetValue()}.format(b)
		}
		b.WriteByte('}')
	case *polycallpb.Value_StructValue:
		b.WriteString(k.StructValue.GetName())
		b.WriteByte('{')
		for i, f := range k.StructValue.GetFields() {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(f.GetName())
			b.WriteString(": ")
			Value{p: f.GetValue()}.format(b)
		}
		b.WriteByte('}')
	case *polycallpb.Value_NdarrayValue:
		b.WriteString(ndarrayOf(k.NdarrayValue).String())
	case *polycallpb.Value_HandleValue:
		fmt.Fprintf(b, "handle<%s>(%d#%d)", k.HandleValue.GetKind(), k.HandleValue.GetId(), k.HandleValue.GetGeneration())
	case *polycallpb.Value_FnValue:
		b.WriteString("fn " + k.FnValue.GetName())
	}
}

// check enforces WIRE.md's rules on a decoded value. depth counts the list, map and struct
// values above v.
func check(v *polycallpb.Value, depth int, path *vpath) error {
	if v == nil || v.GetKind() == nil {
		return Errorf(InvalidArgument, "%s has no kind set (empty, or a kind this version does not know)", path)
	}
	w := v.GetWidth()
	if _, known := polycallpb.Scalar_name[int32(w)]; !known {
		return Errorf(InvalidArgument, "%s has unknown width %d", path, int32(w))
	}
	widthErr := func(kind string) error {
		return Errorf(InvalidArgument, "%s is a %s value with width %s", path, kind, w)
	}
	switch k := v.GetKind().(type) {
	case *polycallpb.Value_IntValue:
		lo, hi := int64(math.MinInt64), int64(math.MaxInt64)
		switch w {
		case polycallpb.Scalar_SCALAR_UNSPECIFIED, polycallpb.Scalar_I64:
		case polycallpb.Scalar_I8:
			lo, hi = math.MinInt8, math.MaxInt8
		case polycallpb.Scalar_I16:
			lo, hi = math.MinInt16, math.MaxInt16
		case polycallpb.Scalar_I32:
			lo, hi = math.MinInt32, math.MaxInt32
		default:
			return widthErr("signed int")
		}
		if k.IntValue < lo || k.IntValue > hi {
			return Errorf(InvalidArgument, "%s: %d is out of range for %s", path, k.IntValue, DType(w))
		}
	case *polycallpb.Value_UintValue:
		hi := uint64(math.MaxUint64)
		switch w {
		case polycallpb.Scalar_SCALAR_UNSPECIFIED, polycallpb.Scalar_U64:
		case polycallpb.Scalar_U8:
			hi = math.MaxUint8
		case polycallpb.Scalar_U16:
			hi = math.MaxUint16
		case polycallpb.Scalar_U32:
			hi = math.MaxUint32
		default:
			return widthErr("unsigned int")
		}
		if k.UintValue > hi {
			return Errorf(InvalidArgument, "%s: %d is out of range for %s", path, k.UintValue, DType(w))
		}
	case *polycallpb.Value_FloatValue:
		switch w {
		case polycallpb.Scalar_SCALAR_UNSPECIFIED, polycallpb.Scalar_F64:
		case polycallpb.Scalar_F32:
			if !float32Fits(k.FloatValue) {
				return Errorf(InvalidArgument, "%s: %g is beyond the range of f32", path, k.FloatValue)
			}
		default:
			return widthErr("float")
		}
	default:
		if w != polycallpb.Scalar_SCALAR_UNSPECIFIED {
			return Errorf(InvalidArgument, "%s has width %s, but widths apply only to numbers", path, w)
		}
	}
	switch k := v.GetKind().(type) {
	case *polycallpb.Value_ListValue:
		if depth+1 > MaxDepth {
			return tooDeep(path)
		}
		for i, it := range k.ListValue.GetItems() {
			item := vpath{parent: path, kind: pathIndex, index: i}
			if err := check(it, depth+1, &item); err != nil {
				return err
			}
		}
	case *polycallpb.Value_MapValue:
		if depth+1 > MaxDepth {
			return tooDeep(path)
		}
		seen := make(map[string]bool, len(k.MapValue.GetEntries()))
		for i, e := range k.MapValue.GetEntries() {
			if e.GetKey() == nil || e.GetValue() == nil {
				return Errorf(InvalidArgument, "%s entry %d has no key or no value", path, i)
			}
			kp := vpath{parent: path, kind: pathIndex, index: i, text: ".key"}
			if err := check(e.GetKey(), depth+1, &kp); err != nil {
				return err
			}
			key := Value{p: e.GetKey()}
			vp := vpath{parent: path, kind: pathKey, key: key}
			if err := check(e.GetValue(), depth+1, &vp); err != nil {
				return err
			}
			// Keys compare as decoded values: same kind, width and value, which is what their
			// deterministic encoding says.
			b, _ := proto.MarshalOptions{Deterministic: true}.Marshal(e.GetKey())
			if seen[string(b)] {
				return Errorf(InvalidArgument, "%s has the key %s twice", path, key)
			}
			seen[string(b)] = true
		}
	case *polycallpb.Value_StructValue:
		if depth+1 > MaxDepth {
			return tooDeep(path)
		}
		seen := make(map[string]bool, len(k.StructValue.GetFields()))
		for _, f := range k.StructValue.GetFields() {
			if seen[f.GetName()] {
				return Errorf(InvalidArgument, "%s has two fields named %q", path, f.GetName())
			}
			seen[f.GetName()] = true
			if err := check(f.GetValue(), depth+1, &vpath{parent: path, text: "." + f.GetName()}); err != nil {
				return err
			}
		}
	case *polycallpb.Value_NdarrayValue:
		if err := ndarrayOf(k.NdarrayValue).Validate(); err != nil {
			return at(err, path)
		}
	}
	return nil
}
