package io.polycall.ffi.internal;

import io.polycall.Type;
import io.polycall.Value;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A {@link Type.Struct} laid out as a C compiler lays it out: fields in declaration order, each at
 * the next offset that is a multiple of its alignment, the whole padded to a multiple of the
 * largest alignment so that arrays of it stay aligned.
 *
 * <pre>
 *   struct Mixed{a: i8, b: i64, c: f32}     size 24, align 8
 *
 *   0    1               8                16       20       24
 *   +----+---------------+----------------+--------+--------+
 *   | a  |  padding (7)  |       b        |   c    | pad(4) |
 *   +----+---------------+----------------+--------+--------+
 *
 *   struct Point{x: f64, y: f64}            size 16, align 8
 *
 *   0        8        16
 *   +--------+--------+
 *   |   x    |   y    |
 *   +--------+--------+
 * </pre>
 *
 * Fields may be numbers, bools and nested structs. Immutable and thread-safe; layouts are cached
 * per struct type.
 */
record CStruct(Type.Struct type, StructLayout layout, long[] offsets) {
  private static final Map<Type.Struct, CStruct> CACHE = new ConcurrentHashMap<>();

  static CStruct of(Type.Struct type, String where) {
    CStruct cached = CACHE.get(type);
    if (cached != null) {
      return cached;
    }
    CStruct made = compute(type, where);
    CACHE.putIfAbsent(type, made);
    return made;
  }

  private static CStruct compute(Type.Struct type, String where) {
    List<MemoryLayout> elements = new ArrayList<>();
    long[] offsets = new long[type.fields().size()];
    long offset = 0;
    long maxAlign = 1;
    for (int i = 0; i < offsets.length; i++) {
      Type.Struct.Field f = type.fields().get(i);
      MemoryLayout fl =
          switch (f.type()) {
            case Type.Scalar s when s.isDtype() -> CTypes.layout(s);
            case Type.Struct nested -> of(nested, where).layout();
            default ->
                throw DeclarationParser.malformed(
                    where,
                    "field "
                        + f.name()
                        + " of "
                        + type
                        + " is "
                        + f.type()
                        + "; a C struct field must be a number, bool or struct");
          };
      long align = fl.byteAlignment();
      long pad = (align - offset % align) % align;
      if (pad > 0) {
        elements.add(MemoryLayout.paddingLayout(pad));
        offset += pad;
      }
      offsets[i] = offset;
      elements.add(fl.withName(f.name()));
      offset += fl.byteSize();
      maxAlign = Math.max(maxAlign, align);
    }
    long tail = (maxAlign - offset % maxAlign) % maxAlign;
    if (tail > 0) {
      elements.add(MemoryLayout.paddingLayout(tail));
    }
    StructLayout layout = MemoryLayout.structLayout(elements.toArray(new MemoryLayout[0]));
    if (!type.name().isEmpty()) {
      layout = layout.withName(type.name());
    }
    return new CStruct(type, layout, offsets);
  }

  void write(MemorySegment seg, Value.Struct v) {
    for (int i = 0; i < offsets.length; i++) {
      Type.Struct.Field f = type.fields().get(i);
      CTypes.writeMemory(seg, offsets[i], f.type(), v.field(f.name()));
    }
  }

  Value.Struct read(MemorySegment seg) {
    Map<String, Value> fields = new LinkedHashMap<>();
    for (int i = 0; i < offsets.length; i++) {
      Type.Struct.Field f = type.fields().get(i);
      fields.put(f.name(), CTypes.readMemory(seg, offsets[i], f.type()));
    }
    return new Value.Struct(type.name(), fields);
  }
}
