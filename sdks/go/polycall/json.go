package polycall

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"math"
	"strconv"

	"github.com/polycall/polycall/sdks/go/polycallpb"
)

// MarshalJSON writes the value as the node's HTTP gateway does (docs/http.md), so that results
// print and log as JSON: numbers as numbers (NaN and the infinities as "NaN", "Infinity",
// "-Infinity"), bytes as base64, lists as arrays, maps with string keys and structs as objects
// (other maps as arrays of [key, value] pairs), an ndarray as {"dtype", "shape", "data"} with
// base64 data, a handle as {"handle", "id", "generation"} and a fn as its name.
func (v Value) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	if err := writeJSON(&b, v.p); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func writeJSON(b *bytes.Buffer, p *polycallpb.Value) error {
	str := func(s string) {
		q, _ := json.Marshal(s)
		b.Write(q)
	}
	switch k := p.GetKind().(type) {
	case nil:
		return Errorf(InvalidArgument, "the zero Value has no JSON form")
	case *polycallpb.Value_NullValue:
		b.WriteString("null")
	case *polycallpb.Value_BoolValue:
		b.WriteString(strconv.FormatBool(k.BoolValue))
	case *polycallpb.Value_IntValue:
		b.WriteString(strconv.FormatInt(k.IntValue, 10))
	case *polycallpb.Value_UintValue:
		b.WriteString(strconv.FormatUint(k.UintValue, 10))
	case *polycallpb.Value_FloatValue:
		x, bits := k.FloatValue, 64
		if p.GetWidth() == polycallpb.Scalar_F32 {
			bits = 32
		}
		switch {
		case math.IsNaN(x):
			b.WriteString(`"NaN"`)
		case math.IsInf(x, 1):
			b.WriteString(`"Infinity"`)
		case math.IsInf(x, -1):
			b.WriteString(`"-Infinity"`)
		default:
			b.WriteString(strconv.FormatFloat(x, 'g', -1, bits))
		}
	case *polycallpb.Value_StringValue:
		str(k.StringValue)
	case *polycallpb.Value_BytesValue:
		str(base64.StdEncoding.EncodeToString(k.BytesValue))
	case *polycallpb.Value_ListValue:
		b.WriteByte('[')
		for i, it := range k.ListValue.GetItems() {
			if i > 0 {
				b.WriteByte(',')
			}
			if err := writeJSON(b, it); err != nil {
				return err
			}
		}
		b.WriteByte(']')
	case *polycallpb.Value_MapValue:
		entries := k.MapValue.GetEntries()
		stringKeys := true
		for _, e := range entries {
			if _, ok := e.GetKey().GetKind().(*polycallpb.Value_StringValue); !ok {
				stringKeys = false
			}
		}
		if stringKeys {
			b.WriteByte('{')
		} else {
			b.WriteByte('[')
		}
		for i, e := range entries {
			if i > 0 {
				b.WriteByte(',')
			}
			if stringKeys {
				str(e.GetKey().GetStringValue())
				b.WriteByte(':')
			} else {
				b.WriteByte('[')
				if err := writeJSON(b, e.GetKey()); err != nil {
					return err
				}
				b.WriteByte(',')
			}
			if err := writeJSON(b, e.GetValue()); err != nil {
				return err
			}
			if !stringKeys {
				b.WriteByte(']')
			}
		}
		if stringKeys {
			b.WriteByte('}')
		} else {
			b.WriteByte(']')
		}
	case *polycallpb.Value_StructValue:
		b.WriteByte('{')
		for i, f := range k.StructValue.GetFields() {
			if i > 0 {
				b.WriteByte(',')
			}
			str(f.GetName())
			b.WriteByte(':')
			if err := writeJSON(b, f.GetValue()); err != nil {
				return err
			}
		}
		b.WriteByte('}')
	case *polycallpb.Value_NdarrayValue:
		a := k.NdarrayValue
		b.WriteString(`{"dtype":`)
		str(DType(a.GetDtype()).String())
		b.WriteString(`,"shape":[`)
		for i, d := range a.GetShape() {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(strconv.FormatUint(d, 10))
		}
		b.WriteString(`],"data":`)
		str(base64.StdEncoding.EncodeToString(a.GetData()))
		b.WriteByte('}')
	case *polycallpb.Value_HandleValue:
		h := k.HandleValue
		b.WriteString(`{"handle":`)
		str(h.GetKind())
		b.WriteString(`,"id":` + strconv.FormatUint(h.GetId(), 10) + `,"generation":` + strconv.FormatUint(uint64(h.GetGeneration()), 10) + `}`)
	case *polycallpb.Value_FnValue:
		str(k.FnValue.GetName())
	}
	return nil
}
