package polycall

import (
	"encoding"
	"math"
	"reflect"
	"strings"
	"unsafe"

	"github.com/polycall/polycall/sdks/go/polycallpb"
)

// Decode stores the value in the Go variable dst points to, converting where nothing is lost:
//
//   - numbers into any Go number type that holds them exactly (an i64 of 300 into an int8 is
//     OUT_OF_RANGE; a float into an int is INVALID_ARGUMENT); integers into floats when exact
//   - a list into a slice or an array of the same length, element by element
//   - an ndarray into a slice (nested slices for more dimensions) of a number type, in one copy
//     when the element type is the dtype's; or into an NdArray
//   - a map into a Go map; a struct into a Go struct (fields matched by `polycall` or `json`
//     tag, else by name, ignoring case as encoding/json does; fields the Go struct lacks are
//     skipped) or into a map[string]T
//   - a string into a type with an UnmarshalText method (time.Time, net.IP)
//   - null into a nil pointer, slice, map or interface, or the zero value
//   - anything into an `any` (its Interface form), a Value, or a *polycallpb.Value
//
// Anything else is INVALID_ARGUMENT naming the path of the element that did not fit.
func (v Value) Decode(dst any) error {
	rv := reflect.ValueOf(dst)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return Errorf(InvalidArgument, "Decode needs a non-nil pointer, got %T", dst)
	}
	if v.p == nil {
		return Errorf(InvalidArgument, "Decode of the zero Value, which holds no value")
	}
	return decodeInto(v.p, rv.Elem(), rootPath("value"))
}

func decodeInto(p *polycallpb.Value, dst reflect.Value, path *vpath) error {
	v := Value{p: p}
	mismatch := func() error {
		return Errorf(InvalidArgument, "%s is %s, which does not fit a Go %s", path, v.Type(), dst.Type())
	}
	switch dst.Type() {
	case valueType:
		dst.Set(reflect.ValueOf(v))
		return nil
	case pbValueType:
		dst.Set(reflect.ValueOf(p))
		return nil
	case ndarrayType, handleType, fnRefType, structType, mapType:
		x := v.Interface()
		if reflect.TypeOf(x) != dst.Type() {
			return mismatch()
		}
		dst.Set(reflect.ValueOf(x))
		return nil
	}
	if dst.Kind() == reflect.Interface {
		if v.IsNull() {
			dst.SetZero()
			return nil
		}
		x := reflect.ValueOf(v.Interface())
		if !x.Type().AssignableTo(dst.Type()) {
			return mismatch()
		}
		dst.Set(x)
		return nil
	}
	if dst.Kind() == reflect.Pointer {
		if v.IsNull() {
			dst.SetZero()
			return nil
		}
		if dst.IsNil() {
			dst.Set(reflect.New(dst.Type().Elem()))
		}
		return decodeInto(p, dst.Elem(), path)
	}
	if v.IsNull() {
		dst.SetZero()
		return nil
	}
	if s, ok := p.GetKind().(*polycallpb.Value_StringValue); ok && dst.CanAddr() && dst.Addr().Type().Implements(textUnmarshalerType) {
		if err := dst.Addr().Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(s.StringValue)); err != nil {
			return Errorf(InvalidArgument, "%s: %q is not a %s: %v", path, s.StringValue, dst.Type(), err)
		}
		return nil
	}

	switch dst.Kind() {
	case reflect.Bool:
		b, err := v.AsBool()
		if err != nil {
			return mismatch()
		}
		dst.SetBool(b)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if k := v.Kind(); k != KindInt && k != KindUint {
			return mismatch()
		}
		i, err := v.AsInt()
		if err != nil || dst.OverflowInt(i) {
			return Errorf(OutOfRange, "%s is %s, which does not fit a Go %s", path, v, dst.Type())
		}
		dst.SetInt(i)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		if k := v.Kind(); k != KindInt && k != KindUint {
			return mismatch()
		}
		u, err := v.AsUint()
		if err != nil || dst.OverflowUint(u) {
			return Errorf(OutOfRange, "%s is %s, which does not fit a Go %s", path, v, dst.Type())
		}
		dst.SetUint(u)
	case reflect.Float32, reflect.Float64:
		f, err := v.AsFloat()
		if err != nil {
			if CodeOf(err) == OutOfRange {
				return at(err, path)
			}
			return mismatch()
		}
		if !math.IsInf(f, 0) && !math.IsNaN(f) && dst.OverflowFloat(f) {
			return Errorf(OutOfRange, "%s is %s, which does not fit a Go %s", path, v, dst.Type())
		}
		dst.SetFloat(f)
	case reflect.String:
		s, err := v.AsString()
		if err != nil {
			return mismatch()
		}
		dst.SetString(s)
	case reflect.Slice, reflect.Array:
		return decodeSequence(v, dst, path, mismatch)
	case reflect.Map:
		return decodeMap(v, dst, path, mismatch)
	case reflect.Struct:
		return decodeStruct(v, dst, path, mismatch)
	default:
		return mismatch()
	}
	return nil
}

func decodeSequence(v Value, dst reflect.Value, path *vpath, mismatch func() error) error {
	elem := dst.Type().Elem()
	switch k := v.p.GetKind().(type) {
	case *polycallpb.Value_BytesValue:
		if elem.Kind() != reflect.Uint8 {
			return mismatch()
		}
		if dst.Kind() == reflect.Array {
			if dst.Len() != len(k.BytesValue) {
				return Errorf(InvalidArgument, "%s has %d bytes, the Go %s holds %d", path, len(k.BytesValue), dst.Type(), dst.Len())
			}
		} else {
			dst.Set(reflect.MakeSlice(dst.Type(), len(k.BytesValue), len(k.BytesValue)))
		}
		reflect.Copy(dst, reflect.ValueOf(k.BytesValue))
		return nil
	case *polycallpb.Value_ListValue:
		items := k.ListValue.GetItems()
		if err := sized(dst, len(items), path); err != nil {
			return err
		}
		for i, it := range items {
			item := vpath{parent: path, kind: pathIndex, index: i}
			if err := decodeInto(it, dst.Index(i), &item); err != nil {
				return err
			}
		}
		return nil
	case *polycallpb.Value_NdarrayValue:
		a := ndarrayOf(k.NdarrayValue)
		if len(a.Shape) == 0 {
			return mismatch()
		}
		return decodeNd(a, a.Shape, 0, dst, path)
	}
	return mismatch()
}

// sized makes dst a slice of n elements, or checks that the array dst has n.
func sized(dst reflect.Value, n int, path *vpath) error {
	if dst.Kind() == reflect.Array {
		if dst.Len() != n {
			return Errorf(InvalidArgument, "%s has %d elements, the Go %s holds %d", path, n, dst.Type(), dst.Len())
		}
		return nil
	}
	dst.Set(reflect.MakeSlice(dst.Type(), n, n))
	return nil
}

// decodeNd stores the sub-array of a at element offset with shape dims in dst.
func decodeNd(a NdArray, dims []int, offset int, dst reflect.Value, path *vpath) error {
	size := a.DType.ByteSize()
	if len(dims) == 0 {
		p, err := Encode(elemValue(a.DType, a.Data[offset*size:]))
		if err != nil {
			return err
		}
		return decodeInto(p, dst, path)
	}
	if k := dst.Kind(); k != reflect.Slice && k != reflect.Array {
		return Errorf(InvalidArgument, "%s is a %d-dimensional ndarray, which does not fit a Go %s", path, len(dims), dst.Type())
	}
	if err := sized(dst, dims[0], path); err != nil {
		return err
	}
	stride := 1
	for _, d := range dims[1:] {
		stride *= d
	}
	// One copy when the Go elements are exactly the wire's (little-endian machines).
	if len(dims) == 1 && dst.Kind() == reflect.Slice && dims[0] > 0 && nativeLittleEndian &&
		dst.Type().Elem().Kind() != reflect.Bool && dtypeOfKind(dst.Type().Elem().Kind()) == a.DType {
		n := dims[0] * size
		copy(unsafe.Slice((*byte)(dst.Index(0).Addr().UnsafePointer()), n), a.Data[offset*size:offset*size+n])
		return nil
	}
	for i := range dims[0] {
		item := vpath{parent: path, kind: pathIndex, index: i}
		if err := decodeNd(a, dims[1:], offset+i*stride, dst.Index(i), &item); err != nil {
			return err
		}
	}
	return nil
}

func decodeMap(v Value, dst reflect.Value, path *vpath, mismatch func() error) error {
	t := dst.Type()
	switch k := v.p.GetKind().(type) {
	case *polycallpb.Value_MapValue:
		m := reflect.MakeMapWithSize(t, len(k.MapValue.GetEntries()))
		for i, e := range k.MapValue.GetEntries() {
			key := reflect.New(t.Key()).Elem()
			if err := decodeInto(e.GetKey(), key, &vpath{parent: path, kind: pathIndex, index: i, text: ".key"}); err != nil {
				return err
			}
			if !key.Comparable() {
				return Errorf(InvalidArgument, "%s.key[%d] is not comparable, so it cannot be a Go map key: decode into polycall.Map", path, i)
			}
			val := reflect.New(t.Elem()).Elem()
			if err := decodeInto(e.GetValue(), val, &vpath{parent: path, kind: pathKey, key: Value{p: e.GetKey()}}); err != nil {
				return err
			}
			m.SetMapIndex(key, val)
		}
		dst.Set(m)
		return nil
	case *polycallpb.Value_StructValue:
		if t.Key().Kind() != reflect.String {
			return mismatch()
		}
		m := reflect.MakeMapWithSize(t, len(k.StructValue.GetFields()))
		for _, f := range k.StructValue.GetFields() {
			val := reflect.New(t.Elem()).Elem()
			if err := decodeInto(f.GetValue(), val, &vpath{parent: path, text: "." + f.GetName()}); err != nil {
				return err
			}
			m.SetMapIndex(reflect.ValueOf(f.GetName()).Convert(t.Key()), val)
		}
		dst.Set(m)
		return nil
	}
	return mismatch()
}

func decodeStruct(v Value, dst reflect.Value, path *vpath, mismatch func() error) error {
	fields := fieldsOf(dst.Type())
	set := func(name string, p *polycallpb.Value) error {
		f, ok := matchField(fields, name)
		if !ok {
			return nil
		}
		fv, err := settableField(dst, f.index)
		if err != nil {
			return err
		}
		return decodeInto(p, fv, &vpath{parent: path, text: "." + name})
	}
	switch k := v.p.GetKind().(type) {
	case *polycallpb.Value_StructValue:
		for _, f := range k.StructValue.GetFields() {
			if err := set(f.GetName(), f.GetValue()); err != nil {
				return err
			}
		}
		return nil
	case *polycallpb.Value_MapValue:
		for _, e := range k.MapValue.GetEntries() {
			name, ok := e.GetKey().GetKind().(*polycallpb.Value_StringValue)
			if !ok {
				return Errorf(InvalidArgument, "%s is a map with a %s key, which cannot name a field of a Go %s", path, Value{p: e.GetKey()}.Type(), dst.Type())
			}
			if err := set(name.StringValue, e.GetValue()); err != nil {
				return err
			}
		}
		return nil
	}
	return mismatch()
}

func matchField(fields []structField, name string) (structField, bool) {
	for _, f := range fields {
		if f.name == name {
			return f, true
		}
	}
	for _, f := range fields {
		if strings.EqualFold(f.name, name) {
			return f, true
		}
	}
	return structField{}, false
}

// settableField follows index, allocating nil embedded pointers on the way.
func settableField(v reflect.Value, index []int) (reflect.Value, error) {
	for i, x := range index {
		if i > 0 && v.Kind() == reflect.Pointer {
			if v.IsNil() {
				if !v.CanSet() {
					return reflect.Value{}, Errorf(InvalidArgument, "cannot set a field through the unexported embedded pointer %s", v.Type())
				}
				v.Set(reflect.New(v.Type().Elem()))
			}
			v = v.Elem()
		}
		v = v.Field(x)
	}
	return v, nil
}
