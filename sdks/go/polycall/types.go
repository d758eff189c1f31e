package polycall

import (
	"encoding/binary"
	"fmt"
	"math"
	"reflect"
	"strings"
	"unsafe"

	"github.com/polycall/polycall/sdks/go/polycallpb"
)

// Kind is the kind of a Value: which of the canonical types it holds.
type Kind uint8

// The kinds of values. Int, Uint and Float each cover several widths (Value.Type names one).
const (
	KindInvalid Kind = iota
	KindNull
	KindBool
	KindInt
	KindUint
	KindFloat
	KindString
	KindBytes
	KindList
	KindMap
	KindStruct
	KindNdArray
	KindHandle
	KindFn
)

var kindNames = [...]string{
	"invalid", "null", "bool", "int", "uint", "float", "string", "bytes", "list", "map", "struct",
	"ndarray", "handle", "fn",
}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// DType is the element type of an NdArray (and the width of a number), named as in signatures.
type DType int32

// The element types, with the numbers of polycall.v1.Scalar.
const (
	Bool DType = DType(polycallpb.Scalar_BOOL)
	I8   DType = DType(polycallpb.Scalar_I8)
	I16  DType = DType(polycallpb.Scalar_I16)
	I32  DType = DType(polycallpb.Scalar_I32)
	I64  DType = DType(polycallpb.Scalar_I64)
	U8   DType = DType(polycallpb.Scalar_U8)
	U16  DType = DType(polycallpb.Scalar_U16)
	U32  DType = DType(polycallpb.Scalar_U32)
	U64  DType = DType(polycallpb.Scalar_U64)
	F32  DType = DType(polycallpb.Scalar_F32)
	F64  DType = DType(polycallpb.Scalar_F64)
)

var dtypeNames = map[DType]string{
	Bool: "bool", I8: "i8", I16: "i16", I32: "i32", I64: "i64", U8: "u8", U16: "u16", U32: "u32",
	U64: "u64", F32: "f32", F64: "f64",
}

// String is the type's name in signatures: "f64", "u8", "bool".
func (d DType) String() string {
	if n, ok := dtypeNames[d]; ok {
		return n
	}
	return fmt.Sprintf("dtype(%d)", int32(d))
}

// ParseDType reads a type name ("f64").
func ParseDType(name string) (DType, bool) {
	for d, n := range dtypeNames {
		if n == name {
			return d, true
		}
	}
	return 0, false
}

// ByteSize is the size of one element in an NdArray's data; 0 for an unknown dtype.
func (d DType) ByteSize() int {
	switch d {
	case Bool, I8, U8:
		return 1
	case I16, U16:
		return 2
	case I32, U32, F32:
		return 4
	case I64, U64, F64:
		return 8
	}
	return 0
}

// NdArray is a dense n-dimensional array: elements of one DType in C order, stored as
// little-endian bytes in Data (bool elements are one byte, 0 or 1). A zero-dimensional array
// (empty Shape) holds one element. It travels as one block, never element by element.
//
// Make one from a Go slice with NewNdArray (or Float64Array) and read the elements back with
// NdArrayData (or Float64s).
type NdArray struct {
	DType DType
	Shape []int
	Data  []byte
}

// Elem is the Go element types that map one to one onto an NdArray dtype.
type Elem interface {
	~bool | ~int8 | ~int16 | ~int32 | ~int64 | ~uint8 | ~uint16 | ~uint32 | ~uint64 | ~float32 | ~float64
}

// DTypeOf is the dtype of a Go element type.
func DTypeOf[T Elem]() DType {
	var zero T
	return dtypeOfKind(reflect.TypeOf(zero).Kind())
}

func dtypeOfKind(k reflect.Kind) DType {
	switch k {
	case reflect.Bool:
		return Bool
	case reflect.Int8:
		return I8
	case reflect.Int16:
		return I16
	case reflect.Int32:
		return I32
	case reflect.Int64:
		return I64
	case reflect.Uint8:
		return U8
	case reflect.Uint16:
		return U16
	case reflect.Uint32:
		return U32
	case reflect.Uint64:
		return U64
	case reflect.Float32:
		return F32
	case reflect.Float64:
		return F64
	}
	return 0
}

// NewNdArray copies data into an array of the matching dtype. Without shape it is 1-D; with
// shape, the product of shape must be len(data).
func NewNdArray[T Elem](data []T, shape ...int) (NdArray, error) {
	d := DTypeOf[T]()
	if len(shape) == 0 {
		shape = []int{len(data)}
	}
	n, err := elementCount(shape)
	if err != nil {
		return NdArray{}, err
	}
	if n != len(data) {
		return NdArray{}, Errorf(InvalidArgument, "ndarray shape %v holds %d elements, but %d were given", shape, n, len(data))
	}
	size := d.ByteSize()
	out := make([]byte, len(data)*size)
	for i, x := range data {
		putElem(out[i*size:], d, any(x))
	}
	return NdArray{DType: d, Shape: append([]int(nil), shape...), Data: out}, nil
}

// Float64Array is a 1-D f64 array of xs (or of the given shape), for the most common case.
// It panics if shape does not match len(xs), like a slice index out of range would.
func Float64Array(xs []float64, shape ...int) NdArray {
	a, err := NewNdArray(xs, shape...)
	if err != nil {
		panic(err)
	}
	return a
}

// NdArrayData copies the elements of a out into a new []T, in C order. T must be the array's
// dtype exactly (float64 for f64); a different T is INVALID_ARGUMENT.
func NdArrayData[T Elem](a NdArray) ([]T, error) {
	if want := DTypeOf[T](); want != a.DType {
		return nil, Errorf(InvalidArgument, "the ndarray holds %s, not %s", a.DType, want)
	}
	if err := a.Validate(); err != nil {
		return nil, err
	}
	size := a.DType.ByteSize()
	out := make([]T, len(a.Data)/size)
	if len(out) > 0 && nativeLittleEndian {
		// Same layout as the wire on little-endian machines: one copy, no per-element work.
		copy(unsafe.Slice((*byte)(unsafe.Pointer(&out[0])), len(a.Data)), a.Data)
		return out, nil
	}
	rv := reflect.ValueOf(out)
	for i := range out {
		setElem(rv.Index(i), a.DType, a.Data[i*size:])
	}
	return out, nil
}

// Float64s is the elements of an f64 array.
func (a NdArray) Float64s() ([]float64, error) { return NdArrayData[float64](a) }

// Len is the number of elements (the product of the shape).
func (a NdArray) Len() int {
	n, _ := elementCount(a.Shape)
	return n
}

// Validate checks what the wire requires of an array: a known dtype, exactly
// product(shape) * size(dtype) bytes of data, bool elements 0 or 1.
func (a NdArray) Validate() error {
	size := a.DType.ByteSize()
	if size == 0 {
		return Errorf(InvalidArgument, "ndarray has unknown dtype %d", int32(a.DType))
	}
	n, err := elementCount(a.Shape)
	if err != nil {
		return err
	}
	if n > math.MaxInt/size || n*size != len(a.Data) {
		return Errorf(InvalidArgument, "ndarray %s%v needs %d bytes of data, has %d", a.DType, a.Shape, uint64(n)*uint64(size), len(a.Data))
	}
	if a.DType == Bool {
		for i, b := range a.Data {
			if b > 1 {
				return Errorf(InvalidArgument, "ndarray bool element %d is %d (bool elements are 0 or 1)", i, b)
			}
		}
	}
	return nil
}

func (a NdArray) String() string {
	dims := make([]string, len(a.Shape))
	for i, d := range a.Shape {
		dims[i] = fmt.Sprint(d)
	}
	return fmt.Sprintf("ndarray<%s>[%s]", a.DType, strings.Join(dims, ", "))
}

func elementCount(shape []int) (int, error) {
	n := 1
	for _, d := range shape {
		if d < 0 {
			return 0, Errorf(InvalidArgument, "ndarray shape %v has a negative dimension", shape)
		}
		if d != 0 && n > math.MaxInt/d {
			return 0, Errorf(InvalidArgument, "ndarray shape %v is too large", shape)
		}
		n *= d
	}
	return n, nil
}

var nativeLittleEndian = binary.NativeEndian.Uint16([]byte{1, 0}) == 1

// putElem writes x (a Go value of dtype d's kind) little-endian at b.
func putElem(b []byte, d DType, x any) {
	rv := reflect.ValueOf(x)
	switch d {
	case Bool:
		if rv.Bool() {
			b[0] = 1
		} else {
			b[0] = 0
		}
	case I8, U8:
		b[0] = byte(rawBits(rv))
	case I16, U16:
		binary.LittleEndian.PutUint16(b, uint16(rawBits(rv)))
	case I32, U32:
		binary.LittleEndian.PutUint32(b, uint32(rawBits(rv)))
	case I64, U64:
		binary.LittleEndian.PutUint64(b, rawBits(rv))
	case F32:
		binary.LittleEndian.PutUint32(b, math.Float32bits(float32(rv.Float())))
	case F64:
		binary.LittleEndian.PutUint64(b, math.Float64bits(rv.Float()))
	}
}

func rawBits(rv reflect.Value) uint64 {
	if rv.CanInt() {
		return uint64(rv.Int())
	}
	return rv.Uint()
}

// elemValue reads one element of dtype d at b as a Go value of the natural type.
func elemValue(d DType, b []byte) any {
	switch d {
	case Bool:
		return b[0] == 1
	case I8:
		return int8(b[0])
	case U8:
		return b[0]
	case I16:
		return int16(binary.LittleEndian.Uint16(b))
	case U16:
		return binary.LittleEndian.Uint16(b)
	case I32:
		return int32(binary.LittleEndian.Uint32(b))
	case U32:
		return binary.LittleEndian.Uint32(b)
	case I64:
		return int64(binary.LittleEndian.Uint64(b))
	case U64:
		return binary.LittleEndian.Uint64(b)
	case F32:
		return math.Float32frombits(binary.LittleEndian.Uint32(b))
	case F64:
		return math.Float64frombits(binary.LittleEndian.Uint64(b))
	}
	return nil
}

func setElem(dst reflect.Value, d DType, b []byte) {
	dst.Set(reflect.ValueOf(elemValue(d, b)).Convert(dst.Type()))
}

// Handle is an opaque reference to a resource held by one bridge (a file, a model, a session):
// pass it back to the functions that take it.
type Handle struct {
	Kind       string
	ID         uint64
	Generation uint32
}

// FnRef names a registered function; passed as an argument it lets the callee call it back,
// wherever it lives.
type FnRef struct {
	Name      string
	Signature string // canonical fn type, "fn(i64) -> i64"; may be empty
}

// Struct is a struct value without a Go type of its own: a name (may be empty) and named fields
// in declaration order. Values are Go values as Value.Interface gives them. Go structs encode
// as structs too (see Encode); decode into one with Value.Decode.
type Struct struct {
	Name   string
	Fields []Field
}

// Field is one named field of a Struct.
type Field struct {
	Name  string
	Value any
}

// Get is the value of the field called name.
func (s Struct) Get(name string) (any, bool) {
	for _, f := range s.Fields {
		if f.Name == name {
			return f.Value, true
		}
	}
	return nil, false
}

// Map is a map value as an ordered list of entries: it keeps the order on the wire and allows
// keys that Go maps cannot hold (lists, ndarrays). Go maps encode as maps too, with their keys
// sorted so that the bytes are deterministic.
type Map []MapEntry

// MapEntry is one key and value of a Map.
type MapEntry struct {
	Key   any
	Value any
}

// Get is the value of the first entry whose key equals key (reflect.DeepEqual: same Go type and
// value, so int64(1) is not int32(1)).
func (m Map) Get(key any) (any, bool) {
	for _, e := range m {
		if reflect.DeepEqual(e.Key, key) {
			return e.Value, true
		}
	}
	return nil, false
}
