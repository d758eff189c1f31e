package polycall

import (
	"bytes"
	"cmp"
	"encoding"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/polycall/polycall/sdks/go/internal/canonical"
	"github.com/polycall/polycall/sdks/go/polycallpb"
)

// MaxDepth is how deeply lists, maps and structs may nest in a value (WIRE.md, "Values"): a
// scalar has depth 0, [1] depth 1, [[1]] depth 2. Deeper values are INVALID_ARGUMENT.
const MaxDepth = 32

// StructNamer lets a Go struct type choose the struct name it travels under; without it a
// struct is named after its Go type ("Point").
type StructNamer interface {
	PolyCallStructName() string
}

// Encode converts a Go value into its wire form. Go types map onto the canonical types as
// follows:
//
//	nil, nil pointer, nil interface     null
//	bool                                bool
//	int8 int16 int32 int64, int         i8 i16 i32 i64, i64
//	uint8 uint16 uint32 uint64, uint    u8 u16 u32 u64, u64
//	float32 float64                     f32 f64
//	string (valid UTF-8)                string
//	[]byte                              bytes
//	other slices and arrays             list
//	Go maps                             map, keys sorted (deterministic bytes)
//	Map                                 map, entries in order
//	Go structs                          struct: exported fields in order, named by the
//	                                    `polycall:"name"` tag, else the `json` tag, else the field
//	                                    name; "-" skips a field, ",omitempty" drops zero values
//	Struct                              struct
//	NdArray, Handle, FnRef              ndarray, handle, fn
//	Value, *polycallpb.Value            sent as they are
//	encoding.TextMarshaler              string: its text (time.Time, net.IP), as encoding/json
//	pointers and interfaces             what they point to
//
// A []float64 is a list<f64>; functions that take ndarray<f64> accept it, but an NdArray (see
// Float64Array) travels as one block and is the fast way for large data. Funcs, channels and
// complex numbers have no canonical type and are INVALID_ARGUMENT, as is invalid UTF-8 in a
// string and nesting deeper than MaxDepth.
func Encode(x any) (*polycallpb.Value, error) {
	return encode(reflect.ValueOf(x), 0, rootPath("value"))
}

// EncodeBytes is the protobuf encoding of Encode(x), fields in number order: the bytes of the
// shared test vectors, the same in every language.
func EncodeBytes(x any) ([]byte, error) {
	v, err := Encode(x)
	if err != nil {
		return nil, err
	}
	return canonical.Marshal(v), nil
}

var (
	valueType   = reflect.TypeFor[Value]()
	pbValueType = reflect.TypeFor[*polycallpb.Value]()
	ndarrayType = reflect.TypeFor[NdArray]()
	handleType  = reflect.TypeFor[Handle]()
	fnRefType   = reflect.TypeFor[FnRef]()
	structType  = reflect.TypeFor[Struct]()
	mapType     = reflect.TypeFor[Map]()

	textMarshalerType   = reflect.TypeFor[encoding.TextMarshaler]()
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
)

func wide(v *polycallpb.Value, w polycallpb.Scalar) *polycallpb.Value {
	v.Width = w
	return v
}

func encode(rv reflect.Value, depth int, path *vpath) (*polycallpb.Value, error) {
	if !rv.IsValid() {
		return &polycallpb.Value{Kind: &polycallpb.Value_NullValue{}}, nil
	}
	switch rv.Type() {
	case valueType:
		v := rv.Interface().(Value)
		if v.p == nil {
			return nil, Errorf(InvalidArgument, "%s is the zero Value, which holds no value (use nil for null)", path)
		}
		return v.p, nil
	case pbValueType:
		if rv.IsNil() {
			return nil, Errorf(InvalidArgument, "%s is a nil *polycallpb.Value (use nil for null)", path)
		}
		return rv.Interface().(*polycallpb.Value), nil
	case ndarrayType:
		a := rv.Interface().(NdArray)
		if err := a.Validate(); err != nil {
			return nil, at(err, path)
		}
		shape := make([]uint64, len(a.Shape))
		for i, d := range a.Shape {
			shape[i] = uint64(d)
		}
		return &polycallpb.Value{Kind: &polycallpb.Value_NdarrayValue{NdarrayValue: &polycallpb.NdArray{
			Dtype: polycallpb.Scalar(a.DType), Shape: shape, Data: a.Data,
		}}}, nil
	case handleType:
		h := rv.Interface().(Handle)
		if err := checkUTF8(h.Kind, &vpath{parent: path, text: ".kind"}); err != nil {
			return nil, err
		}
		return &polycallpb.Value{Kind: &polycallpb.Value_HandleValue{HandleValue: &polycallpb.Handle{
			Kind: h.Kind, Id: h.ID, Generation: h.Generation,
		}}}, nil
	case fnRefType:
		f := rv.Interface().(FnRef)
		if err := checkUTF8(f.Name+f.Signature, path); err != nil {
			return nil, err
		}
		return &polycallpb.Value{Kind: &polycallpb.Value_FnValue{FnValue: &polycallpb.FnRef{
			Name: f.Name, Signature: f.Signature,
		}}}, nil
	case structType:
		s := rv.Interface().(Struct)
		fields := make([]namedValue, len(s.Fields))
		for i, f := range s.Fields {
			fields[i] = namedValue{f.Name, reflect.ValueOf(f.Value)}
		}
		return encodeStruct(s.Name, fields, depth, path)
	case mapType:
		m := rv.Interface().(Map)
		if depth+1 > MaxDepth {
			return nil, tooDeep(path)
		}
		out := &polycallpb.MapValue{Entries: make([]*polycallpb.MapEntry, len(m))}
		for i, e := range m {
			k, err := encode(reflect.ValueOf(e.Key), depth+1, &vpath{parent: path, text: ".key[" + strconv.Itoa(i) + "]"})
			if err != nil {
				return nil, err
			}
			v, err := encode(reflect.ValueOf(e.Value), depth+1, &vpath{parent: path, kind: pathKey, key: e.Key})
			if err != nil {
				return nil, err
			}
			out.Entries[i] = &polycallpb.MapEntry{Key: k, Value: v}
		}
		return &polycallpb.Value{Kind: &polycallpb.Value_MapValue{MapValue: out}}, nil
	}

	switch rv.Kind() {
	case reflect.Pointer, reflect.Interface:
		if rv.IsNil() {
			return &polycallpb.Value{Kind: &polycallpb.Value_NullValue{}}, nil
		}
		return encode(rv.Elem(), depth, path)
	case reflect.Struct, reflect.Slice, reflect.Array, reflect.Map, reflect.String, reflect.Int, reflect.Int64:
		// Types with a text form (time.Time, net.IP, big.Int) travel as it, as encoding/json does.
		if rv.Type().Implements(textMarshalerType) {
			text, err := rv.Interface().(encoding.TextMarshaler).MarshalText()
			if err != nil {
				return nil, Errorf(InvalidArgument, "%s: %s has no text form: %v", path, rv.Type(), err)
			}
			return encode(reflect.ValueOf(string(text)), depth, path)
		}
	}

	switch rv.Kind() {
	case reflect.Bool:
		return &polycallpb.Value{Kind: &polycallpb.Value_BoolValue{BoolValue: rv.Bool()}}, nil
	case reflect.Int, reflect.Int64:
		return &polycallpb.Value{Kind: &polycallpb.Value_IntValue{IntValue: rv.Int()}}, nil
	case reflect.Int8:
		return wide(&polycallpb.Value{Kind: &polycallpb.Value_IntValue{IntValue: rv.Int()}}, polycallpb.Scalar_I8), nil
	case reflect.Int16:
		return wide(&polycallpb.Value{Kind: &polycallpb.Value_IntValue{IntValue: rv.Int()}}, polycallpb.Scalar_I16), nil
	case reflect.Int32:
		return wide(&polycallpb.Value{Kind: &polycallpb.Value_IntValue{IntValue: rv.Int()}}, polycallpb.Scalar_I32), nil
	case reflect.Uint, reflect.Uint64:
		return &polycallpb.Value{Kind: &polycallpb.Value_UintValue{UintValue: rv.Uint()}}, nil
	case reflect.Uint8:
		return wide(&polycallpb.Value{Kind: &polycallpb.Value_UintValue{UintValue: rv.Uint()}}, polycallpb.Scalar_U8), nil
	case reflect.Uint16:
		return wide(&polycallpb.Value{Kind: &polycallpb.Value_UintValue{UintValue: rv.Uint()}}, polycallpb.Scalar_U16), nil
	case reflect.Uint32:
		return wide(&polycallpb.Value{Kind: &polycallpb.Value_UintValue{UintValue: rv.Uint()}}, polycallpb.Scalar_U32), nil
	case reflect.Float32:
		return wide(&polycallpb.Value{Kind: &polycallpb.Value_FloatValue{FloatValue: rv.Float()}}, polycallpb.Scalar_F32), nil
	case reflect.Float64:
		return &polycallpb.Value{Kind: &polycallpb.Value_FloatValue{FloatValue: rv.Float()}}, nil
	case reflect.String:
		if err := checkUTF8(rv.String(), path); err != nil {
			return nil, err
		}
		return &polycallpb.Value{Kind: &polycallpb.Value_StringValue{StringValue: rv.String()}}, nil
	case reflect.Slice, reflect.Array:
		if rv.Type().Elem().Kind() == reflect.Uint8 {
			b := make([]byte, rv.Len())
			reflect.Copy(reflect.ValueOf(b), rv)
			return &polycallpb.Value{Kind: &polycallpb.Value_BytesValue{BytesValue: b}}, nil
		}
		if rv.Kind() == reflect.Slice && rv.IsNil() {
			return &polycallpb.Value{Kind: &polycallpb.Value_ListValue{ListValue: &polycallpb.ListValue{}}}, nil
		}
		if depth+1 > MaxDepth {
			return nil, tooDeep(path)
		}
		if items, ok, err := encodeScalars(rv, path); ok {
			if err != nil {
				return nil, err
			}
			return &polycallpb.Value{Kind: &polycallpb.Value_ListValue{ListValue: &polycallpb.ListValue{Items: items}}}, nil
		}
		items := make([]*polycallpb.Value, rv.Len())
		for i := range items {
			item := vpath{parent: path, kind: pathIndex, index: i}
			v, err := encode(rv.Index(i), depth+1, &item)
			if err != nil {
				return nil, err
			}
			items[i] = v
		}
		return &polycallpb.Value{Kind: &polycallpb.Value_ListValue{ListValue: &polycallpb.ListValue{Items: items}}}, nil
	case reflect.Map:
		if depth+1 > MaxDepth {
			return nil, tooDeep(path)
		}
		keys := rv.MapKeys()
		slices.SortFunc(keys, compareKeys)
		out := &polycallpb.MapValue{Entries: make([]*polycallpb.MapEntry, len(keys))}
		for i, k := range keys {
			kv, err := encode(k, depth+1, &vpath{parent: path, text: fmt.Sprintf(".key[%v]", k)})
			if err != nil {
				return nil, err
			}
			vv, err := encode(rv.MapIndex(k), depth+1, &vpath{parent: path, kind: pathKey, key: k.Interface()})
			if err != nil {
				return nil, err
			}
			out.Entries[i] = &polycallpb.MapEntry{Key: kv, Value: vv}
		}
		return &polycallpb.Value{Kind: &polycallpb.Value_MapValue{MapValue: out}}, nil
	case reflect.Struct:
		name := rv.Type().Name()
		if n, ok := rv.Interface().(StructNamer); ok {
			name = n.PolyCallStructName()
		}
		var fields []namedValue
		for _, f := range fieldsOf(rv.Type()) {
			fv, ok := fieldByIndex(rv, f.index)
			if !ok || (f.omitEmpty && fv.IsZero()) {
				continue
			}
			fields = append(fields, namedValue{f.name, fv})
		}
		return encodeStruct(name, fields, depth, path)
	case reflect.Func:
		return nil, Errorf(InvalidArgument, "%s is a Go func, which cannot be passed: pass a polycall.FnRef naming a registered function", path)
	}
	return nil, Errorf(InvalidArgument, "%s is a Go %s, which has no PolyCall type", path, rv.Type())
}

// encodeScalars encodes a slice or array of bools, numbers or strings in a few allocations for
// the whole list instead of a few per element; ok is false for other element types.
func encodeScalars(rv reflect.Value, path *vpath) (items []*polycallpb.Value, ok bool, err error) {
	kind := rv.Type().Elem().Kind()
	switch kind {
	case reflect.Bool, reflect.String, reflect.Float32, reflect.Float64, reflect.Int8, reflect.Int16,
		reflect.Int32, reflect.Int, reflect.Int64, reflect.Uint16, reflect.Uint32, reflect.Uint, reflect.Uint64:
	default:
		return nil, false, nil
	}
	width := scalarWidth(kind)
	n := rv.Len()
	vals := make([]polycallpb.Value, n)
	items = make([]*polycallpb.Value, n)
	for i := range vals {
		items[i] = &vals[i]
	}
	switch kind {
	case reflect.Bool:
		ws := make([]polycallpb.Value_BoolValue, n)
		for i := range ws {
			ws[i].BoolValue = rv.Index(i).Bool()
			vals[i].Kind = &ws[i]
		}
		return items, true, nil
	case reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int, reflect.Int64:
		ws := make([]polycallpb.Value_IntValue, n)
		for i := range ws {
			ws[i].IntValue = rv.Index(i).Int()
			vals[i].Kind, vals[i].Width = &ws[i], width
		}
		return items, true, nil
	case reflect.Uint16, reflect.Uint32, reflect.Uint, reflect.Uint64: // []uint8 is bytes
		ws := make([]polycallpb.Value_UintValue, n)
		for i := range ws {
			ws[i].UintValue = rv.Index(i).Uint()
			vals[i].Kind, vals[i].Width = &ws[i], width
		}
		return items, true, nil
	case reflect.Float32, reflect.Float64:
		ws := make([]polycallpb.Value_FloatValue, n)
		for i := range ws {
			ws[i].FloatValue = rv.Index(i).Float()
			vals[i].Kind, vals[i].Width = &ws[i], width
		}
		return items, true, nil
	case reflect.String:
		ws := make([]polycallpb.Value_StringValue, n)
		for i := range ws {
			ws[i].StringValue = rv.Index(i).String()
			if !utf8.ValidString(ws[i].StringValue) {
				return nil, true, checkUTF8(ws[i].StringValue, &vpath{parent: path, kind: pathIndex, index: i})
			}
			vals[i].Kind = &ws[i]
		}
		return items, true, nil
	}
	return nil, false, nil
}

// scalarWidth is the width a Go number kind travels with (0 for the defaults i64, u64, f64).
func scalarWidth(k reflect.Kind) polycallpb.Scalar {
	switch k {
	case reflect.Int8:
		return polycallpb.Scalar_I8
	case reflect.Int16:
		return polycallpb.Scalar_I16
	case reflect.Int32:
		return polycallpb.Scalar_I32
	case reflect.Uint8:
		return polycallpb.Scalar_U8
	case reflect.Uint16:
		return polycallpb.Scalar_U16
	case reflect.Uint32:
		return polycallpb.Scalar_U32
	case reflect.Float32:
		return polycallpb.Scalar_F32
	}
	return polycallpb.Scalar_SCALAR_UNSPECIFIED
}

type namedValue struct {
	name  string
	value reflect.Value
}

func encodeStruct(name string, fields []namedValue, depth int, path *vpath) (*polycallpb.Value, error) {
	if depth+1 > MaxDepth {
		return nil, tooDeep(path)
	}
	if err := checkUTF8(name, &vpath{parent: path, text: " (struct name)"}); err != nil {
		return nil, err
	}
	out := &polycallpb.StructValue{Name: name, Fields: make([]*polycallpb.StructField, len(fields))}
	seen := make(map[string]bool, len(fields))
	for i, f := range fields {
		if seen[f.name] {
			return nil, Errorf(InvalidArgument, "%s has two fields named %q", path, f.name)
		}
		seen[f.name] = true
		if err := checkUTF8(f.name, &vpath{parent: path, text: " (field name)"}); err != nil {
			return nil, err
		}
		v, err := encode(f.value, depth+1, &vpath{parent: path, text: "." + f.name})
		if err != nil {
			return nil, err
		}
		out.Fields[i] = &polycallpb.StructField{Name: f.name, Value: v}
	}
	return &polycallpb.Value{Kind: &polycallpb.Value_StructValue{StructValue: out}}, nil
}

func checkUTF8(s string, path *vpath) error {
	if !utf8.ValidString(s) {
		return Errorf(InvalidArgument, "%s is not valid UTF-8 (send binary data as []byte)", path)
	}
	return nil
}

func tooDeep(path *vpath) error {
	return Errorf(InvalidArgument, "%s nests lists, maps and structs deeper than %d levels", path, MaxDepth)
}

// at prefixes the message of a value error with where the value is.
func at(err error, path fmt.Stringer) error {
	if e, ok := err.(*Error); ok {
		return &Error{Code: e.Code, Message: path.String() + ": " + e.Message}
	}
	return err
}

// compareKeys orders Go map keys so that encoding a map gives the same bytes every time.
func compareKeys(a, b reflect.Value) int {
	for a.Kind() == reflect.Interface || a.Kind() == reflect.Pointer {
		if a.IsNil() {
			break
		}
		a = a.Elem()
	}
	for b.Kind() == reflect.Interface || b.Kind() == reflect.Pointer {
		if b.IsNil() {
			break
		}
		b = b.Elem()
	}
	if a.Kind() == b.Kind() {
		switch {
		case a.Kind() == reflect.String:
			return strings.Compare(a.String(), b.String())
		case a.CanInt():
			return cmp.Compare(a.Int(), b.Int())
		case a.CanUint():
			return cmp.Compare(a.Uint(), b.Uint())
		case a.CanFloat():
			return cmp.Compare(a.Float(), b.Float())
		case a.Kind() == reflect.Bool:
			return cmp.Compare(boolInt(a.Bool()), boolInt(b.Bool()))
		}
	}
	// Keys of mixed or composite types: order by their encoded bytes.
	ea, _ := EncodeBytes(safeInterface(a))
	eb, _ := EncodeBytes(safeInterface(b))
	return bytes.Compare(ea, eb)
}

func safeInterface(v reflect.Value) any {
	if !v.IsValid() || !v.CanInterface() {
		return nil
	}
	return v.Interface()
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// structField is one encodable field of a Go struct type.
type structField struct {
	name      string
	index     []int
	omitEmpty bool
}

var fieldCache sync.Map // reflect.Type -> []structField

// fieldsOf lists the exported fields of t that travel, embedded structs flattened as
// encoding/json does.
func fieldsOf(t reflect.Type) []structField {
	if f, ok := fieldCache.Load(t); ok {
		return f.([]structField)
	}
	var out []structField
	var walk func(t reflect.Type, index []int)
	walk = func(t reflect.Type, index []int) {
		for i := range t.NumField() {
			sf := t.Field(i)
			idx := append(slices.Clone(index), i)
			name, opts, tagged := tagOf(sf)
			if name == "-" && opts == "" {
				continue
			}
			if sf.Anonymous && !tagged {
				ft := sf.Type
				if ft.Kind() == reflect.Pointer {
					ft = ft.Elem()
				}
				if ft.Kind() == reflect.Struct {
					walk(ft, idx)
					continue
				}
			}
			if !sf.IsExported() {
				continue
			}
			if name == "" {
				name = sf.Name
			}
			out = append(out, structField{name: name, index: idx, omitEmpty: strings.Contains(","+opts+",", ",omitempty,")})
		}
	}
	walk(t, nil)
	fieldCache.Store(t, out)
	return out
}

func tagOf(sf reflect.StructField) (name, opts string, tagged bool) {
	tag, ok := sf.Tag.Lookup("polycall")
	if !ok {
		tag, ok = sf.Tag.Lookup("json")
	}
	if !ok {
		return "", "", false
	}
	name, opts, _ = strings.Cut(tag, ",")
	return name, opts, name != ""
}

// fieldByIndex follows index through embedded pointers; ok is false past a nil one.
func fieldByIndex(v reflect.Value, index []int) (reflect.Value, bool) {
	for i, x := range index {
		if i > 0 && v.Kind() == reflect.Pointer {
			if v.IsNil() {
				return reflect.Value{}, false
			}
			v = v.Elem()
		}
		v = v.Field(x)
	}
	return v, true
}

// float32Fits says whether x survives rounding to f32: NaN and the infinities do, finite values
// beyond f32's range do not (WIRE.md, "Widths").
func float32Fits(x float64) bool {
	return math.IsNaN(x) || math.IsInf(x, 0) || !math.IsInf(float64(float32(x)), 0)
}
