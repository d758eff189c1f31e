package io.polycall.grpc.internal;

import com.google.protobuf.ByteString;
import com.google.protobuf.DescriptorProtos.DescriptorProto;
import com.google.protobuf.DescriptorProtos.FieldDescriptorProto;
import com.google.protobuf.DescriptorProtos.FileDescriptorProto;
import com.google.protobuf.DescriptorProtos.MessageOptions;
import com.google.protobuf.DescriptorProtos.OneofDescriptorProto;
import com.google.protobuf.Descriptors;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.DynamicMessage;
import com.google.protobuf.ListValue;
import com.google.protobuf.Message;
import com.google.protobuf.NullValue;
import com.google.protobuf.StructProto;
import io.polycall.Signature;
import io.polycall.Status;
import io.polycall.StatusException;
import io.polycall.Type;
import io.polycall.Value;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The request and response messages of a function's own gRPC method, synthesized from its
 * signature, and the conversion between those messages and {@link Value}s. WIRE.md, "gRPC", is the
 * user's view of the mapping; in short:
 *
 * <pre>
 *   bool, string, bytes      bool, string, bytes
 *   i8 i16 i32 / i64         int32 / int64
 *   u8 u16 u32 / u64         uint32 / uint64
 *   f32 / f64                float / double
 *   null                     google.protobuf.NullValue
 *   any                      google.protobuf.Value (JSON-shaped)
 *   list&lt;T&gt;                  repeated T      (T itself a list, map or optional: repeated XItem{value})
 *   map&lt;K,V&gt;                map&lt;K,V&gt;        (K not integral/bool/string, or V a list/map/optional:
 *                                            repeated XEntry{key, value})
 *   optional&lt;T&gt;              proto3 optional T, or T's message (absent = null)
 *   struct Name{...}         nested message Name, fields by name
 *   ndarray&lt;d&gt;[s]           polycall.fntypes.NdArray{dtype, shape, data}
 *   handle&lt;k&gt;                polycall.fntypes.Handle{kind, id, generation}
 *   fn(...) -> R             polycall.fntypes.Fn{name, signature}
 * </pre>
 *
 * Parameters are the request's fields in order (numbers 1..n, JSON names = parameter names); the
 * response has one field {@code result} (none for {@code -> null}). Helper messages are nested in
 * the request or response message that needs them.
 *
 * <p>Immutable and thread-safe once built.
 */
public final class FnSchema {
  private FnSchema() {}

  /** The file of the shared message types (ndarray, handle, fn). */
  public static final Descriptors.FileDescriptor TYPES = buildTypes();

  private static final Descriptor NDARRAY = TYPES.findMessageTypeByName("NdArray");
  private static final Descriptor HANDLE = TYPES.findMessageTypeByName("Handle");
  private static final Descriptor FN = TYPES.findMessageTypeByName("Fn");

  private static Descriptors.FileDescriptor buildTypes() {
    FileDescriptorProto.Builder f =
        FileDescriptorProto.newBuilder()
            .setName("polycall/fntypes.proto")
            .setPackage("polycall.fntypes")
            .setSyntax("proto3");
    f.addMessageType(
        DescriptorProto.newBuilder()
            .setName("NdArray")
            .addField(scalar("dtype", 1, FieldDescriptorProto.Type.TYPE_STRING))
            .addField(
                scalar("shape", 2, FieldDescriptorProto.Type.TYPE_UINT64)
                    .setLabel(FieldDescriptorProto.Label.LABEL_REPEATED))
            .addField(scalar("data", 3, FieldDescriptorProto.Type.TYPE_BYTES)));
    f.addMessageType(
        DescriptorProto.newBuilder()
            .setName("Handle")
            .addField(scalar("kind", 1, FieldDescriptorProto.Type.TYPE_STRING))
            .addField(scalar("id", 2, FieldDescriptorProto.Type.TYPE_UINT64))
            .addField(scalar("generation", 3, FieldDescriptorProto.Type.TYPE_UINT32)));
    f.addMessageType(
        DescriptorProto.newBuilder()
            .setName("Fn")
            .addField(scalar("name", 1, FieldDescriptorProto.Type.TYPE_STRING))
            .addField(scalar("signature", 2, FieldDescriptorProto.Type.TYPE_STRING)));
    try {
      return Descriptors.FileDescriptor.buildFrom(f.build(), new Descriptors.FileDescriptor[0]);
    } catch (Descriptors.DescriptorValidationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  private static FieldDescriptorProto.Builder scalar(
      String name, int number, FieldDescriptorProto.Type type) {
    return FieldDescriptorProto.newBuilder()
        .setName(name)
        .setJsonName(name)
        .setNumber(number)
        .setType(type)
        .setLabel(FieldDescriptorProto.Label.LABEL_OPTIONAL);
  }

  // ---- names ----------------------------------------------------------------------------------

  /** Whether {@code s} is a protobuf identifier (ASCII letters, digits, '_', no leading digit). */
  public static boolean isIdentifier(String s) {
    if (s.isEmpty() || !(Character.isLetter(s.charAt(0)) || s.charAt(0) == '_')) {
      return false;
    }
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c > 127 || !(Character.isLetterOrDigit(c) || c == '_')) {
        return false;
      }
    }
    return true;
  }

  /** {@code utf8_len} -> {@code Utf8Len}: UpperCamel of the parts between underscores. */
  public static String methodName(String simpleName) {
    StringBuilder sb = new StringBuilder();
    for (String part : simpleName.split("_")) {
      if (!part.isEmpty()) {
        sb.append(Character.toUpperCase(part.charAt(0))).append(part, 1, part.length());
      }
    }
    return sb.toString();
  }

  // ---- per-method messages --------------------------------------------------------------------

  /** How one function's method converts: the request's parameter fields and the result field. */
  public record MethodPlan(List<FieldPlan> params, FieldPlan result) {}

  /**
   * Adds the request and response messages of {@code sig} to {@code file} and returns how to
   * convert them.
   *
   * @param prefix the messages' name prefix, e.g. {@code math_Cos} for math_CosRequest
   */
  public static MethodPlan addMessages(
      FileDescriptorProto.Builder file, String prefix, Signature sig) {
    DescriptorProto.Builder req = DescriptorProto.newBuilder().setName(prefix + "Request");
    Owner reqOwner = new Owner(file.getPackage(), req);
    List<FieldPlan> params = new ArrayList<>();
    int n = 1;
    for (Signature.Param p : sig.params()) {
      params.add(reqOwner.field(req, p.name(), n++, p.type()));
    }
    DescriptorProto.Builder res = DescriptorProto.newBuilder().setName(prefix + "Response");
    FieldPlan result = null;
    if (sig.result() != Type.Scalar.NULL) {
      result = new Owner(file.getPackage(), res).field(res, "result", 1, sig.result());
    }
    file.addMessageType(req);
    file.addMessageType(res);
    return new MethodPlan(params, result);
  }

  /** Whether every name the signature brings into the messages is a protobuf identifier. */
  public static boolean isMappable(Signature sig) {
    for (Signature.Param p : sig.params()) {
      if (!isIdentifier(p.name()) || !namesOk(p.type())) {
        return false;
      }
    }
    return namesOk(sig.result());
  }

  private static boolean namesOk(Type t) {
    return switch (t) {
      case Type.ListOf l -> namesOk(l.element());
      case Type.MapOf m -> namesOk(m.key()) && namesOk(m.value());
      case Type.OptionalOf o -> namesOk(o.inner());
      case Type.Struct s ->
          s.fields().stream().allMatch(f -> isIdentifier(f.name()) && namesOk(f.type()));
      default -> true;
    };
  }

  /** The file dependencies a namespace's file needs, in the order {@link #dependencies} lists. */
  public static List<String> dependencyNames() {
    return List.of(TYPES.getName(), StructProto.getDescriptor().getName());
  }

  public static Descriptors.FileDescriptor[] dependencies() {
    return new Descriptors.FileDescriptor[] {TYPES, StructProto.getDescriptor()};
  }

  /** Collects the nested helper messages of one top-level message, with unique names. */
  private static final class Owner {
    private final String pkg;
    private final DescriptorProto.Builder top;
    private final Set<String> names = new HashSet<>();
    private final Map<Type.Struct, String> structs = new HashMap<>();

    Owner(String pkg, DescriptorProto.Builder top) {
      this.pkg = pkg;
      this.top = top;
    }

    private String fullName(String nested) {
      return "." + (pkg.isEmpty() ? "" : pkg + ".") + top.getName() + "." + nested;
    }

    private String unique(String base) {
      String n = base;
      for (int i = 2; !names.add(n); i++) {
        n = base + i;
      }
      return n;
    }

    /** A field of {@code container} holding a value of type {@code t}. */
    FieldPlan field(DescriptorProto.Builder container, String name, int number, Type t) {
      FieldDescriptorProto.Builder fb =
          FieldDescriptorProto.newBuilder()
              .setName(name)
              .setJsonName(name)
              .setNumber(number)
              .setLabel(FieldDescriptorProto.Label.LABEL_OPTIONAL);
      FieldPlan plan;
      switch (t) {
        case Type.OptionalOf o -> {
          Elem e = elem(o.inner(), name);
          if (e != null) {
            e.describe(fb);
            if (!e.isMessage()) {
              fb.setProto3Optional(true).setOneofIndex(container.getOneofDeclCount());
              container.addOneofDecl(OneofDescriptorProto.newBuilder().setName("_" + name));
            }
            plan = new FieldPlan(name, Kind.PRESENCE, e, null, null);
          } else {
            String wrapName = unique(cap(name) + "Value");
            DescriptorProto.Builder w = DescriptorProto.newBuilder().setName(wrapName);
            FieldPlan inner = field(w, "value", 1, o.inner());
            top.addNestedType(w);
            fb.setType(FieldDescriptorProto.Type.TYPE_MESSAGE).setTypeName(fullName(wrapName));
            plan = new FieldPlan(name, Kind.WRAPPED_PRESENCE, null, null, inner);
          }
        }
        case Type.ListOf l -> {
          fb.setLabel(FieldDescriptorProto.Label.LABEL_REPEATED);
          Elem e = elem(l.element(), name);
          if (e != null) {
            e.describe(fb);
            plan = new FieldPlan(name, Kind.REPEATED, e, null, null);
          } else {
            String itemName = unique(cap(name) + "Item");
            DescriptorProto.Builder w = DescriptorProto.newBuilder().setName(itemName);
            FieldPlan inner = field(w, "value", 1, l.element());
            top.addNestedType(w);
            fb.setType(FieldDescriptorProto.Type.TYPE_MESSAGE).setTypeName(fullName(itemName));
            plan = new FieldPlan(name, Kind.WRAPPED_REPEATED, null, null, inner);
          }
        }
        case Type.MapOf m -> {
          fb.setLabel(FieldDescriptorProto.Label.LABEL_REPEATED);
          String entryName = unique(cap(name) + "Entry");
          DescriptorProto.Builder entry = DescriptorProto.newBuilder().setName(entryName);
          Elem k = isMapKey(m.key()) ? elem(m.key(), name + "_key") : null;
          Elem v = k == null ? null : elem(m.value(), name + "_value");
          if (k != null && v != null && !(m.value() instanceof Type.OptionalOf)) {
            FieldDescriptorProto.Builder kb =
                FieldDescriptorProto.newBuilder()
                    .setName("key")
                    .setJsonName("key")
                    .setNumber(1)
                    .setLabel(FieldDescriptorProto.Label.LABEL_OPTIONAL);
            k.describe(kb);
            FieldDescriptorProto.Builder vb =
                FieldDescriptorProto.newBuilder()
                    .setName("value")
                    .setJsonName("value")
                    .setNumber(2)
                    .setLabel(FieldDescriptorProto.Label.LABEL_OPTIONAL);
            v.describe(vb);
            entry
                .addField(kb)
                .addField(vb)
                .setOptions(MessageOptions.newBuilder().setMapEntry(true));
            plan = new FieldPlan(name, Kind.MAP, v, k, null);
          } else {
            FieldPlan key = field(entry, "key", 1, m.key());
            FieldPlan value = field(entry, "value", 2, m.value());
            plan = new FieldPlan(name, Kind.PAIRS, null, null, null, key, value);
          }
          top.addNestedType(entry);
          fb.setType(FieldDescriptorProto.Type.TYPE_MESSAGE).setTypeName(fullName(entryName));
        }
        default -> {
          Elem e = elem(t, name);
          e.describe(fb);
          plan = new FieldPlan(name, e.isMessage() ? Kind.MESSAGE : Kind.SINGULAR, e, null, null);
        }
      }
      container.addField(fb);
      return plan;
    }

    /** The element type of a field, or null if {@code t} needs a field of its own (list, ...). */
    Elem elem(Type t, String context) {
      return switch (t) {
        case Type.Scalar s when s == Type.Scalar.ANY -> new AnyElem();
        case Type.Scalar s -> new ScalarElem(s);
        case Type.NdArray a -> new NdArrayElem(a);
        case Type.Handle h -> new HandleElem();
        case Type.Fn f -> new FnElem(f);
        case Type.Struct s -> structElem(s, context);
        case Type.ListOf l -> null;
        case Type.MapOf m -> null;
        case Type.OptionalOf o -> null;
      };
    }

    private Elem structElem(Type.Struct s, String context) {
      String known = structs.get(s);
      if (known == null) {
        String base = !s.name().isEmpty() && isIdentifier(s.name()) ? s.name() : cap(context);
        known = unique(base);
        structs.put(s, known);
        DescriptorProto.Builder m = DescriptorProto.newBuilder().setName(known);
        List<FieldPlan> fields = new ArrayList<>();
        int n = 1;
        for (Type.Struct.Field f : s.fields()) {
          fields.add(field(m, f.name(), n++, f.type()));
        }
        top.addNestedType(m);
        structPlans.put(known, fields);
      }
      return new StructElem(s, fullName(known), structPlans.get(known));
    }

    private final Map<String, List<FieldPlan>> structPlans = new HashMap<>();
  }

  private static boolean isMapKey(Type t) {
    return t instanceof Type.Scalar s
        && (s.isInteger() || s == Type.Scalar.BOOL || s == Type.Scalar.STRING);
  }

  private static String cap(String s) {
    String m = methodName(s);
    return m.isEmpty() ? "X" : m;
  }

  // ---- conversion -----------------------------------------------------------------------------

  enum Kind {
    SINGULAR,
    MESSAGE,
    PRESENCE,
    REPEATED,
    MAP,
    PAIRS,
    WRAPPED_PRESENCE,
    WRAPPED_REPEATED
  }

  /**
   * One field and how its value converts. {@code elem} converts single elements; {@code inner} is
   * the {@code value} field of a wrapper message; {@code key}/{@code value} those of a pair entry.
   */
  public record FieldPlan(
      String name,
      Kind kind,
      Elem elem,
      Elem keyElem,
      FieldPlan inner,
      FieldPlan key,
      FieldPlan value) {
    FieldPlan(String name, Kind kind, Elem elem, Elem keyElem, FieldPlan inner) {
      this(name, kind, elem, keyElem, inner, null, null);
    }

    /** The field's value in {@code m}. {@code path} names it in error messages. */
    public Value get(Message m, String path) {
      FieldDescriptor fd = m.getDescriptorForType().findFieldByName(name);
      return switch (kind) {
        case SINGULAR, MESSAGE -> elem.decode(m.getField(fd), path);
        case PRESENCE -> m.hasField(fd) ? elem.decode(m.getField(fd), path) : Value.NULL;
        case WRAPPED_PRESENCE ->
            m.hasField(fd) ? inner.get((Message) m.getField(fd), path) : Value.NULL;
        case REPEATED -> {
          List<?> items = (List<?>) m.getField(fd);
          List<Value> out = new ArrayList<>(items.size());
          for (int i = 0; i < items.size(); i++) {
            out.add(elem.decode(items.get(i), path + "[" + i + "]"));
          }
          yield new Value.Seq(out);
        }
        case WRAPPED_REPEATED -> {
          List<?> items = (List<?>) m.getField(fd);
          List<Value> out = new ArrayList<>(items.size());
          for (int i = 0; i < items.size(); i++) {
            out.add(inner.get((Message) items.get(i), path + "[" + i + "]"));
          }
          yield new Value.Seq(out);
        }
        case MAP -> {
          Map<Value, Value> out = new LinkedHashMap<>();
          for (Object o : (List<?>) m.getField(fd)) {
            Message e = (Message) o;
            Descriptor d = e.getDescriptorForType();
            Value k = keyElem.decode(e.getField(d.findFieldByNumber(1)), path + ".key");
            out.put(k, elem.decode(e.getField(d.findFieldByNumber(2)), path + "[" + k + "]"));
          }
          yield new Value.Dict(out);
        }
        case PAIRS -> {
          Map<Value, Value> out = new LinkedHashMap<>();
          List<?> items = (List<?>) m.getField(fd);
          for (int i = 0; i < items.size(); i++) {
            Message e = (Message) items.get(i);
            Value k = key.get(e, path + "[" + i + "].key");
            if (out.put(k, value.get(e, path + "[" + i + "].value")) != null) {
              throw invalid(path + ": duplicate key " + k);
            }
          }
          yield new Value.Dict(out);
        }
      };
    }

    /** Sets the field to {@code v} (already of the declared type). */
    public void set(Message.Builder b, Value v) {
      FieldDescriptor fd = b.getDescriptorForType().findFieldByName(name);
      switch (kind) {
        case SINGULAR, MESSAGE -> b.setField(fd, elem.encode(v, fd));
        case PRESENCE -> {
          if (!(v instanceof Value.Null)) {
            b.setField(fd, elem.encode(v, fd));
          }
        }
        case WRAPPED_PRESENCE -> {
          if (!(v instanceof Value.Null)) {
            DynamicMessage.Builder w = DynamicMessage.newBuilder(fd.getMessageType());
            inner.set(w, v);
            b.setField(fd, w.build());
          }
        }
        case REPEATED -> {
          for (Value item : items(v)) {
            b.addRepeatedField(fd, elem.encode(item, fd));
          }
        }
        case WRAPPED_REPEATED -> {
          for (Value item : items(v)) {
            DynamicMessage.Builder w = DynamicMessage.newBuilder(fd.getMessageType());
            inner.set(w, item);
            b.addRepeatedField(fd, w.build());
          }
        }
        case MAP -> {
          Descriptor d = fd.getMessageType();
          FieldDescriptor kf = d.findFieldByNumber(1);
          FieldDescriptor vf = d.findFieldByNumber(2);
          for (Map.Entry<Value, Value> e : ((Value.Dict) v).entries().entrySet()) {
            b.addRepeatedField(
                fd,
                DynamicMessage.newBuilder(d)
                    .setField(kf, keyElem.encode(e.getKey(), kf))
                    .setField(vf, elem.encode(e.getValue(), vf))
                    .build());
          }
        }
        case PAIRS -> {
          for (Map.Entry<Value, Value> e : ((Value.Dict) v).entries().entrySet()) {
            DynamicMessage.Builder w = DynamicMessage.newBuilder(fd.getMessageType());
            key.set(w, e.getKey());
            value.set(w, e.getValue());
            b.addRepeatedField(fd, w.build());
          }
        }
      }
    }

    private static List<Value> items(Value v) {
      return switch (v) {
        case Value.Seq s -> s.items();
        default -> throw invalid("expected a list, got " + v.type());
      };
    }
  }

  static StatusException invalid(String message) {
    return Status.INVALID_ARGUMENT.withDescription(message).asException();
  }

  /** Converts one element between its protobuf form (as reflection returns it) and a Value. */
  sealed interface Elem {
    boolean isMessage();

    /** Sets the field's type (and type name for messages and enums). */
    void describe(FieldDescriptorProto.Builder fb);

    Value decode(Object proto, String path);

    /** The protobuf form of {@code v} for field {@code fd} (or its element). */
    Object encode(Value v, FieldDescriptor fd);
  }

  record ScalarElem(Type.Scalar type) implements Elem {
    @Override
    public boolean isMessage() {
      return false;
    }

    @Override
    public void describe(FieldDescriptorProto.Builder fb) {
      switch (type) {
        case NULL ->
            fb.setType(FieldDescriptorProto.Type.TYPE_ENUM)
                .setTypeName(".google.protobuf.NullValue");
        case BOOL -> fb.setType(FieldDescriptorProto.Type.TYPE_BOOL);
        case I8, I16, I32 -> fb.setType(FieldDescriptorProto.Type.TYPE_INT32);
        case I64 -> fb.setType(FieldDescriptorProto.Type.TYPE_INT64);
        case U8, U16, U32 -> fb.setType(FieldDescriptorProto.Type.TYPE_UINT32);
        case U64 -> fb.setType(FieldDescriptorProto.Type.TYPE_UINT64);
        case F32 -> fb.setType(FieldDescriptorProto.Type.TYPE_FLOAT);
        case F64 -> fb.setType(FieldDescriptorProto.Type.TYPE_DOUBLE);
        case STRING -> fb.setType(FieldDescriptorProto.Type.TYPE_STRING);
        case BYTES -> fb.setType(FieldDescriptorProto.Type.TYPE_BYTES);
        case ANY -> throw new IllegalStateException("any is an AnyElem");
      }
    }

    @Override
    public Value decode(Object o, String path) {
      return switch (type) {
        case NULL -> Value.NULL;
        case BOOL -> Value.bool((Boolean) o);
        case I8, I16, I32 -> Value.i64((Integer) o);
        case I64 -> Value.i64((Long) o);
        case U8, U16, U32 -> Value.u64(Integer.toUnsignedLong((Integer) o));
        case U64 -> Value.u64((Long) o);
        case F32 -> Value.f32((Float) o);
        case F64 -> Value.f64((Double) o);
        case STRING -> Value.str((String) o);
        case BYTES -> Value.bytes(((ByteString) o).toByteArray());
        case ANY -> throw new IllegalStateException("any is an AnyElem");
      };
    }

    @Override
    public Object encode(Value v, FieldDescriptor fd) {
      return switch (type) {
        case NULL -> fd.getEnumType().findValueByNumber(0);
        case BOOL -> ((Value.Bool) v).value();
        case I8, I16, I32, U8, U16, U32 -> (int) ((Value.Int) v).value();
        case I64, U64 -> ((Value.Int) v).value();
        case F32 -> (float) ((Value.Float) v).value();
        case F64 -> ((Value.Float) v).value();
        case STRING -> ((Value.Str) v).value();
        case BYTES -> ByteString.copyFrom(((Value.Bytes) v).value());
        case ANY -> throw new IllegalStateException("any is an AnyElem");
      };
    }
  }

  record StructElem(Type.Struct type, String typeName, List<FieldPlan> fields) implements Elem {
    @Override
    public boolean isMessage() {
      return true;
    }

    @Override
    public void describe(FieldDescriptorProto.Builder fb) {
      fb.setType(FieldDescriptorProto.Type.TYPE_MESSAGE).setTypeName(typeName);
    }

    @Override
    public Value decode(Object o, String path) {
      Message m = (Message) o;
      Map<String, Value> out = new LinkedHashMap<>();
      for (FieldPlan f : fields) {
        out.put(f.name(), f.get(m, path + "." + f.name()));
      }
      return new Value.Struct(type.name(), out);
    }

    @Override
    public Object encode(Value v, FieldDescriptor fd) {
      DynamicMessage.Builder b = DynamicMessage.newBuilder(fd.getMessageType());
      Value.Struct s = (Value.Struct) v;
      for (FieldPlan f : fields) {
        Value fv = s.fields().get(f.name());
        if (fv != null) {
          f.set(b, fv);
        }
      }
      return b.build();
    }
  }

  record NdArrayElem(Type.NdArray type) implements Elem {
    @Override
    public boolean isMessage() {
      return true;
    }

    @Override
    public void describe(FieldDescriptorProto.Builder fb) {
      fb.setType(FieldDescriptorProto.Type.TYPE_MESSAGE).setTypeName("." + NDARRAY.getFullName());
    }

    @Override
    public Value decode(Object o, String path) {
      Message m = (Message) o;
      Descriptor d = m.getDescriptorForType();
      String dtypeText = (String) m.getField(d.findFieldByName("dtype"));
      Type.Scalar dtype = dtypeText.isEmpty() ? type.dtype() : Type.Scalar.ofSpelling(dtypeText);
      if (dtype == null || !dtype.isDtype()) {
        throw invalid(
            path + ".dtype: '" + dtypeText + "' is not a dtype (bool, i8..u64, f32, f64)");
      }
      ByteString data = (ByteString) m.getField(d.findFieldByName("data"));
      List<?> shapeList = (List<?>) m.getField(d.findFieldByName("shape"));
      long[] shape;
      if (shapeList.isEmpty()) {
        // No shape: one dimension over the data, the friendly reading for hand-written JSON.
        shape = new long[] {data.size() / Math.max(1, dtype.byteSize())};
      } else {
        shape = new long[shapeList.size()];
        for (int i = 0; i < shape.length; i++) {
          shape[i] = (Long) shapeList.get(i);
        }
      }
      MemorySegment seg =
          Arena.ofAuto().allocate(Math.max(1, data.size()), 8).asSlice(0, data.size());
      MemorySegment.copy(
          MemorySegment.ofBuffer(data.asReadOnlyByteBuffer()), 0, seg, 0, data.size());
      try {
        return new Value.NdArray(dtype, shape, seg);
      } catch (IllegalArgumentException | ArithmeticException e) {
        throw invalid(path + ": " + e.getMessage());
      }
    }

    @Override
    public Object encode(Value v, FieldDescriptor fd) {
      Value.NdArray a = (Value.NdArray) v;
      DynamicMessage.Builder b = DynamicMessage.newBuilder(NDARRAY);
      b.setField(NDARRAY.findFieldByName("dtype"), a.dtype().toString());
      FieldDescriptor shape = NDARRAY.findFieldByName("shape");
      for (long dim : a.shape()) {
        b.addRepeatedField(shape, dim);
      }
      b.setField(
          NDARRAY.findFieldByName("data"),
          ByteString.copyFrom(a.data().toArray(ValueLayout.JAVA_BYTE)));
      return b.build();
    }
  }

  record HandleElem() implements Elem {
    @Override
    public boolean isMessage() {
      return true;
    }

    @Override
    public void describe(FieldDescriptorProto.Builder fb) {
      fb.setType(FieldDescriptorProto.Type.TYPE_MESSAGE).setTypeName("." + HANDLE.getFullName());
    }

    @Override
    public Value decode(Object o, String path) {
      Message m = (Message) o;
      Descriptor d = m.getDescriptorForType();
      return new Value.Handle(
          (String) m.getField(d.findFieldByName("kind")),
          (Long) m.getField(d.findFieldByName("id")),
          (Integer) m.getField(d.findFieldByName("generation")));
    }

    @Override
    public Object encode(Value v, FieldDescriptor fd) {
      Value.Handle h = (Value.Handle) v;
      return DynamicMessage.newBuilder(HANDLE)
          .setField(HANDLE.findFieldByName("kind"), h.kind())
          .setField(HANDLE.findFieldByName("id"), h.id())
          .setField(HANDLE.findFieldByName("generation"), h.generation())
          .build();
    }
  }

  record FnElem(Type.Fn type) implements Elem {
    @Override
    public boolean isMessage() {
      return true;
    }

    @Override
    public void describe(FieldDescriptorProto.Builder fb) {
      fb.setType(FieldDescriptorProto.Type.TYPE_MESSAGE).setTypeName("." + FN.getFullName());
    }

    @Override
    public Value decode(Object o, String path) {
      Message m = (Message) o;
      Descriptor d = m.getDescriptorForType();
      String name = (String) m.getField(d.findFieldByName("name"));
      String sig = (String) m.getField(d.findFieldByName("signature"));
      if (name.isEmpty()) {
        throw invalid(path + ".name: an fn value names a registered function");
      }
      Type.Fn t = type;
      if (!sig.isEmpty()) {
        if (!(Type.parse(sig) instanceof Type.Fn f)) {
          throw invalid(path + ".signature: '" + sig + "' is not an fn type");
        }
        t = f;
      }
      return new Value.Fn(name, t);
    }

    @Override
    public Object encode(Value v, FieldDescriptor fd) {
      Value.Fn f = (Value.Fn) v;
      return DynamicMessage.newBuilder(FN)
          .setField(FN.findFieldByName("name"), f.name())
          .setField(
              FN.findFieldByName("signature"),
              f.signature() == null ? "" : f.signature().toString())
          .build();
    }
  }

  /** {@code any} as {@code google.protobuf.Value}: what JSON can say, said as JSON would. */
  record AnyElem() implements Elem {
    private static final double EXACT_INTS = 9007199254740992.0; // 2^53

    @Override
    public boolean isMessage() {
      return true;
    }

    @Override
    public void describe(FieldDescriptorProto.Builder fb) {
      fb.setType(FieldDescriptorProto.Type.TYPE_MESSAGE).setTypeName(".google.protobuf.Value");
    }

    @Override
    public Value decode(Object o, String path) {
      com.google.protobuf.Value v;
      try {
        v =
            o instanceof com.google.protobuf.Value pv
                ? pv
                : com.google.protobuf.Value.parseFrom(((Message) o).toByteString());
      } catch (com.google.protobuf.InvalidProtocolBufferException e) {
        throw invalid(path + ": " + e.getMessage());
      }
      return fromJson(v, path);
    }

    static Value fromJson(com.google.protobuf.Value v, String path) {
      return switch (v.getKindCase()) {
        case NULL_VALUE, KIND_NOT_SET -> Value.NULL;
        case BOOL_VALUE -> Value.bool(v.getBoolValue());
        case NUMBER_VALUE -> {
          double d = v.getNumberValue();
          // Whole numbers within 2^53 are integers, as a JSON reader would take them.
          yield d == Math.rint(d) && Math.abs(d) <= EXACT_INTS ? Value.i64((long) d) : Value.f64(d);
        }
        case STRING_VALUE -> Value.str(v.getStringValue());
        case LIST_VALUE -> {
          List<Value> out = new ArrayList<>();
          for (int i = 0; i < v.getListValue().getValuesCount(); i++) {
            out.add(fromJson(v.getListValue().getValues(i), path + "[" + i + "]"));
          }
          yield new Value.Seq(out);
        }
        case STRUCT_VALUE -> {
          Map<Value, Value> out = new LinkedHashMap<>();
          v.getStructValue()
              .getFieldsMap()
              .forEach((k, x) -> out.put(Value.str(k), fromJson(x, path + "." + k)));
          yield new Value.Dict(out);
        }
      };
    }

    @Override
    public Object encode(Value v, FieldDescriptor fd) {
      return toJson(v);
    }

    static com.google.protobuf.Value toJson(Value v) {
      var b = com.google.protobuf.Value.newBuilder();
      switch (v) {
        case Value.Null n -> b.setNullValue(NullValue.NULL_VALUE);
        case Value.Bool x -> b.setBoolValue(x.value());
        case Value.Int x ->
            b.setNumberValue(
                x.isUnsigned64Above63Bits()
                    ? Double.parseDouble(Long.toUnsignedString(x.value()))
                    : (double) x.value());
        case Value.Float x -> {
          double d = x.value();
          // JSON has no NaN or infinities; protobuf's JSON mapping spells them as strings.
          if (Double.isNaN(d) || Double.isInfinite(d)) {
            b.setStringValue(Double.isNaN(d) ? "NaN" : d > 0 ? "Infinity" : "-Infinity");
          } else {
            b.setNumberValue(d);
          }
        }
        case Value.Str x -> b.setStringValue(x.value());
        case Value.Bytes x -> b.setStringValue(Base64.getEncoder().encodeToString(x.value()));
        case Value.Seq x -> {
          ListValue.Builder l = ListValue.newBuilder();
          x.items().forEach(i -> l.addValues(toJson(i)));
          b.setListValue(l);
        }
        case Value.Dict x -> {
          boolean stringKeys = x.entries().keySet().stream().allMatch(k -> k instanceof Value.Str);
          if (stringKeys) {
            var s = com.google.protobuf.Struct.newBuilder();
            x.entries().forEach((k, val) -> s.putFields(((Value.Str) k).value(), toJson(val)));
            b.setStructValue(s);
          } else {
            ListValue.Builder l = ListValue.newBuilder();
            x.entries()
                .forEach(
                    (k, val) ->
                        l.addValues(
                            com.google.protobuf.Value.newBuilder()
                                .setListValue(
                                    ListValue.newBuilder()
                                        .addValues(toJson(k))
                                        .addValues(toJson(val)))));
            b.setListValue(l);
          }
        }
        case Value.Struct x -> {
          var s = com.google.protobuf.Struct.newBuilder();
          x.fields().forEach((k, val) -> s.putFields(k, toJson(val)));
          b.setStructValue(s);
        }
        case Value.NdArray x -> b.setListValue(ndList(x, 0, 0).getListValue());
        case Value.Handle h -> {
          var s = com.google.protobuf.Struct.newBuilder();
          s.putFields(
              "kind", com.google.protobuf.Value.newBuilder().setStringValue(h.kind()).build());
          s.putFields("id", com.google.protobuf.Value.newBuilder().setNumberValue(h.id()).build());
          s.putFields(
              "generation",
              com.google.protobuf.Value.newBuilder().setNumberValue(h.generation()).build());
          b.setStructValue(s);
        }
        case Value.Fn f -> {
          var s = com.google.protobuf.Struct.newBuilder();
          s.putFields(
              "name", com.google.protobuf.Value.newBuilder().setStringValue(f.name()).build());
          b.setStructValue(s);
        }
      }
      return b.build();
    }

    /** The ndarray's elements as nested JSON lists, dimension by dimension. */
    private static com.google.protobuf.Value ndList(Value.NdArray a, int dim, long offset) {
      long[] shape = a.shape();
      if (dim == shape.length) {
        return toJson(element(a, offset));
      }
      long stride = 1;
      for (int i = dim + 1; i < shape.length; i++) {
        stride *= shape[i];
      }
      ListValue.Builder l = ListValue.newBuilder();
      for (long i = 0; i < shape[dim]; i++) {
        l.addValues(ndList(a, dim + 1, offset + i * stride));
      }
      return com.google.protobuf.Value.newBuilder().setListValue(l).build();
    }

    private static Value element(Value.NdArray a, long index) {
      MemorySegment d = a.data();
      long at = index * a.dtype().byteSize();
      return switch (a.dtype()) {
        case BOOL -> Value.bool(d.get(ValueLayout.JAVA_BYTE, at) != 0);
        case I8 -> Value.i64(d.get(ValueLayout.JAVA_BYTE, at));
        case I16 -> Value.i64(d.get(ValueLayout.JAVA_SHORT_UNALIGNED, at));
        case I32 -> Value.i64(d.get(ValueLayout.JAVA_INT_UNALIGNED, at));
        case I64 -> Value.i64(d.get(ValueLayout.JAVA_LONG_UNALIGNED, at));
        case U8 -> Value.i64(Byte.toUnsignedLong(d.get(ValueLayout.JAVA_BYTE, at)));
        case U16 -> Value.i64(Short.toUnsignedLong(d.get(ValueLayout.JAVA_SHORT_UNALIGNED, at)));
        case U32 -> Value.i64(Integer.toUnsignedLong(d.get(ValueLayout.JAVA_INT_UNALIGNED, at)));
        case U64 -> Value.u64(d.get(ValueLayout.JAVA_LONG_UNALIGNED, at));
        case F32 -> Value.f64(d.get(ValueLayout.JAVA_FLOAT_UNALIGNED, at));
        case F64 -> Value.f64(d.get(ValueLayout.JAVA_DOUBLE_UNALIGNED, at));
        default -> throw new IllegalStateException("not a dtype: " + a.dtype());
      };
    }
  }
}
