// Package canonical encodes protobuf messages with every field in field-number order, the byte
// layout of the Java and Python encoders and of spec/vectors.
//
// Go's own encoder writes a message's oneof after its other fields (a Value's `width`, field
// 14, before its kind, fields 1-13). Any order parses the same, so gRPC uses Go's encoder; only
// code that must produce the bytes of the shared vectors, byte for byte, uses this one.
package canonical

import (
	"cmp"
	"math"
	"slices"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// Marshal encodes m: fields in number order, proto3 defaults omitted, repeated scalars packed,
// map entries sorted by key with both key and value written, unknown fields last.
func Marshal(m proto.Message) []byte {
	return appendMessage(nil, m.ProtoReflect())
}

func appendMessage(b []byte, m protoreflect.Message) []byte {
	fields := m.Descriptor().Fields()
	ordered := make([]protoreflect.FieldDescriptor, fields.Len())
	for i := range ordered {
		ordered[i] = fields.Get(i)
	}
	slices.SortFunc(ordered, func(x, y protoreflect.FieldDescriptor) int { return cmp.Compare(x.Number(), y.Number()) })
	for _, fd := range ordered {
		if !m.Has(fd) {
			continue
		}
		v := m.Get(fd)
		switch {
		case fd.IsMap():
			b = appendMap(b, fd, v.Map())
		case fd.IsList():
			b = appendList(b, fd, v.List())
		default:
			b = appendField(b, fd, v)
		}
	}
	return append(b, m.GetUnknown()...)
}

func appendMap(b []byte, fd protoreflect.FieldDescriptor, mp protoreflect.Map) []byte {
	keys := make([]protoreflect.MapKey, 0, mp.Len())
	mp.Range(func(k protoreflect.MapKey, _ protoreflect.Value) bool {
		keys = append(keys, k)
		return true
	})
	slices.SortFunc(keys, compareKeys)
	kd, vd := fd.MapKey(), fd.MapValue()
	for _, k := range keys {
		var entry []byte
		entry = appendField(entry, kd, k.Value())
		entry = appendField(entry, vd, mp.Get(k))
		b = protowire.AppendTag(b, fd.Number(), protowire.BytesType)
		b = protowire.AppendBytes(b, entry)
	}
	return b
}

func compareKeys(x, y protoreflect.MapKey) int {
	switch a := x.Interface().(type) {
	case string:
		return cmp.Compare(a, y.String())
	case bool:
		if a == y.Bool() {
			return 0
		}
		if !a {
			return -1
		}
		return 1
	case int32, int64:
		return cmp.Compare(x.Int(), y.Int())
	default:
		return cmp.Compare(x.Uint(), y.Uint())
	}
}

func appendList(b []byte, fd protoreflect.FieldDescriptor, l protoreflect.List) []byte {
	if fd.IsPacked() {
		var packed []byte
		for i := range l.Len() {
			packed = appendScalar(packed, fd.Kind(), l.Get(i))
		}
		b = protowire.AppendTag(b, fd.Number(), protowire.BytesType)
		return protowire.AppendBytes(b, packed)
	}
	for i := range l.Len() {
		b = appendField(b, fd, l.Get(i))
	}
	return b
}

// appendField writes one tag and value.
func appendField(b []byte, fd protoreflect.FieldDescriptor, v protoreflect.Value) []byte {
	switch fd.Kind() {
	case protoreflect.MessageKind:
		b = protowire.AppendTag(b, fd.Number(), protowire.BytesType)
		return protowire.AppendBytes(b, appendMessage(nil, v.Message()))
	case protoreflect.GroupKind:
		b = protowire.AppendTag(b, fd.Number(), protowire.StartGroupType)
		b = appendMessage(b, v.Message())
		return protowire.AppendTag(b, fd.Number(), protowire.EndGroupType)
	case protoreflect.StringKind:
		b = protowire.AppendTag(b, fd.Number(), protowire.BytesType)
		return protowire.AppendString(b, v.String())
	case protoreflect.BytesKind:
		b = protowire.AppendTag(b, fd.Number(), protowire.BytesType)
		return protowire.AppendBytes(b, v.Bytes())
	}
	b = protowire.AppendTag(b, fd.Number(), wireType(fd.Kind()))
	return appendScalar(b, fd.Kind(), v)
}

func wireType(k protoreflect.Kind) protowire.Type {
	switch k {
	case protoreflect.Fixed32Kind, protoreflect.Sfixed32Kind, protoreflect.FloatKind:
		return protowire.Fixed32Type
	case protoreflect.Fixed64Kind, protoreflect.Sfixed64Kind, protoreflect.DoubleKind:
		return protowire.Fixed64Type
	}
	return protowire.VarintType
}

// appendScalar writes a numeric value without its tag.
func appendScalar(b []byte, k protoreflect.Kind, v protoreflect.Value) []byte {
	switch k {
	case protoreflect.BoolKind:
		return protowire.AppendVarint(b, protowire.EncodeBool(v.Bool()))
	case protoreflect.EnumKind:
		return protowire.AppendVarint(b, uint64(int64(v.Enum())))
	case protoreflect.Int32Kind, protoreflect.Int64Kind:
		return protowire.AppendVarint(b, uint64(v.Int()))
	case protoreflect.Sint32Kind, protoreflect.Sint64Kind:
		return protowire.AppendVarint(b, protowire.EncodeZigZag(v.Int()))
	case protoreflect.Uint32Kind, protoreflect.Uint64Kind:
		return protowire.AppendVarint(b, v.Uint())
	case protoreflect.Fixed32Kind:
		return protowire.AppendFixed32(b, uint32(v.Uint()))
	case protoreflect.Sfixed32Kind:
		return protowire.AppendFixed32(b, uint32(v.Int()))
	case protoreflect.FloatKind:
		return protowire.AppendFixed32(b, math.Float32bits(float32(v.Float())))
	case protoreflect.Fixed64Kind:
		return protowire.AppendFixed64(b, v.Uint())
	case protoreflect.Sfixed64Kind:
		return protowire.AppendFixed64(b, uint64(v.Int()))
	case protoreflect.DoubleKind:
		return protowire.AppendFixed64(b, math.Float64bits(v.Float()))
	}
	panic("canonical: unexpected kind " + k.String())
}
