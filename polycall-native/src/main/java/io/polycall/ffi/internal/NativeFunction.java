package io.polycall.ffi.internal;

import io.polycall.CallContext;
import io.polycall.FunctionInfo;
import io.polycall.Signature;
import io.polycall.Status;
import io.polycall.Type;
import io.polycall.Value;
import io.polycall.ffi.NativeBridge;
import io.polycall.ffi.internal.Declaration.CParam;
import io.polycall.ffi.internal.Declaration.Check;
import io.polycall.ffi.internal.Declaration.Derive;
import io.polycall.ffi.internal.Declaration.Mode;
import io.polycall.spi.BoundFunction;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodType;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One bound native function: a declaration turned, once, into a linked downcall handle and one
 * {@link Slot} per C parameter; each call then only marshals, calls and unmarshals.
 *
 * <p>Memory for a call (strings, copies of buffers, out-params, structs, upcall stubs) comes from a
 * confined arena opened for that call and closed when it returns, whatever happens. A function
 * whose parameters are all plain numbers opens no arena at all.
 *
 * <p>Immutable after binding and thread-safe: each call has its own {@link Frame}.
 */
final class NativeFunction {
  private static final Linker LINKER = Linker.nativeLinker();
  private static final MethodType SPREAD = MethodType.methodType(Object.class, Object[].class);

  private final Declaration decl;
  private final RealNativeLibrary library;
  private final HandleTable handles;
  private final Slot[] slots;
  private final Result result;
  private final boolean needsArena;
  private final boolean structReturn;
  private final MethodHandle downcall; // plain C shape: (SegmentAllocator?, errno?, carriers...)
  private final MethodHandle spread; // (Object[]) -> Object
  private final MethodHandle message; // const char *(void), or null
  private final List<String> reportedNames;
  private final Signature signature;

  /** The state of one call, which slots and callbacks share. */
  static final class Frame {
    private final Arena arena;
    private final CallContext context;
    private final Object[] passed;
    private volatile Status failure;

    Frame(Arena arena, CallContext context, int slots) {
      this.arena = arena;
      this.context = context;
      this.passed = new Object[slots];
    }

    CallContext context() {
      return context;
    }

    boolean failed() {
      return failure != null;
    }

    /** Records the first failure of a callback; later ones are consequences of it. */
    synchronized void fail(Status s) {
      if (failure == null) {
        failure = s;
      }
    }
  }

  /** How one C parameter is passed, and what (if anything) it reports after the call. */
  private interface Slot {
    MemoryLayout layout();

    Object toC(Value[] args, Frame f);

    /**
     * The value reported in the result, or null; also where in-out copies are written back.
     *
     * @param passed what {@link #toC} returned for this call
     */
    default Value after(Value[] args, Frame f, Object passed) {
      return null;
    }

    default boolean needsArena() {
      return true;
    }
  }

  private NativeFunction(Declaration decl, RealNativeLibrary library, HandleTable handles) {
    this.decl = decl;
    this.library = library;
    this.handles = handles;
    String where = decl.text();
    Declaration.Options opts = decl.options();
    MemorySegment symbol = library.symbol(decl.symbol());

    Map<String, Integer> cIndex = new LinkedHashMap<>();
    Map<String, Integer> argIndex = new LinkedHashMap<>();
    List<Signature.Param> visible = new ArrayList<>();
    for (int i = 0; i < decl.params().size(); i++) {
      CParam p = decl.params().get(i);
      cIndex.put(p.name(), i);
      if (p.visible()) {
        argIndex.put(p.name(), visible.size());
        visible.add(new Signature.Param(p.name(), p.type()));
      }
    }
    slots = new Slot[decl.params().size()];
    boolean callbacks = false;
    for (int i = 0; i < slots.length; i++) {
      CParam p = decl.params().get(i);
      slots[i] = slot(p, i, cIndex, argIndex, where);
      callbacks |= slots[i] instanceof CallbackSlot;
    }
    if (opts.critical() && callbacks) {
      throw DeclarationParser.malformed(
          where, "a critical function cannot take callbacks (no upcalls are allowed during it)");
    }
    result = result(decl.result(), opts.check(), where);

    List<MemoryLayout> argLayouts = new ArrayList<>();
    for (Slot s : slots) {
      argLayouts.add(s.layout());
    }
    MemoryLayout[] al = argLayouts.toArray(new MemoryLayout[0]);
    FunctionDescriptor fd =
        result.layout == null
            ? FunctionDescriptor.ofVoid(al)
            : FunctionDescriptor.of(result.layout, al);
    List<Linker.Option> linkOptions = new ArrayList<>();
    if (opts.errno()) {
      linkOptions.add(Errno.CAPTURE);
    }
    if (opts.critical()) {
      // allowHeapAccess: bytes and heap ndarrays go to C without a copy (see BytesIn).
      linkOptions.add(Linker.Option.critical(true));
    }
    try {
      downcall = LINKER.downcallHandle(symbol, fd, linkOptions.toArray(new Linker.Option[0]));
    } catch (IllegalArgumentException e) {
      throw DeclarationParser.malformed(where, "the linker refused it: " + e.getMessage());
    }
    structReturn = result.layout instanceof java.lang.foreign.GroupLayout;
    spread = downcall.asSpreader(Object[].class, downcall.type().parameterCount()).asType(SPREAD);
    boolean arena = structReturn || opts.errno();
    for (Slot s : slots) {
      arena |= s.needsArena();
    }
    needsArena = arena;
    message =
        opts.message() == null
            ? null
            : LINKER.downcallHandle(
                library.symbol(opts.message()), FunctionDescriptor.of(ValueLayout.ADDRESS));

    if (opts.check() == Check.NULL && !(result instanceof Result r && r.pointer)) {
      throw DeclarationParser.malformed(where, "error=null needs a pointer result");
    }
    if ((opts.check() == Check.NONZERO || opts.check() == Check.NEGATIVE)
        && !(decl.result() instanceof Type.Scalar s && s.isInteger())) {
      throw DeclarationParser.malformed(
          where, "error=" + opts.check().name().toLowerCase() + " needs an integer result");
    }

    // What the caller gets back: the C result (unless it is only an error code), then the outs.
    List<String> names = new ArrayList<>();
    List<Type> types = new ArrayList<>();
    if (decl.result() != null && opts.check() != Check.NONZERO) {
      names.add("result");
      types.add(decl.result());
    }
    for (CParam p : decl.params()) {
      if (p.reported()) {
        if (names.contains(p.name())) {
          throw DeclarationParser.malformed(
              where, "out-param '" + p.name() + "' clashes with result");
        }
        names.add(p.name());
        types.add(
            p.isOutBuffer() && p.type() instanceof Type.NdArray nd
                ? Type.NdArray.of(nd.dtype())
                : p.type());
      }
    }
    reportedNames = List.copyOf(names);
    Type canonicalResult =
        switch (names.size()) {
          case 0 -> Type.Scalar.NULL;
          case 1 -> types.getFirst();
          default -> {
            List<Type.Struct.Field> fields = new ArrayList<>();
            for (int i = 0; i < names.size(); i++) {
              fields.add(new Type.Struct.Field(names.get(i), types.get(i)));
            }
            yield new Type.Struct("", fields);
          }
        };
    signature = new Signature(decl.name(), visible, canonicalResult);
  }

  static BoundFunction bind(Declaration decl, RealNativeLibrary library, HandleTable handles) {
    NativeFunction f = new NativeFunction(decl, library, handles);
    FunctionInfo info =
        new FunctionInfo(
            f.signature,
            1,
            NativeBridge.NAME,
            decl.options().tags(),
            "C " + decl.symbol() + " in " + library.loadedAs());
    return new BoundFunction(info, f::invoke, f.direct());
  }

  /** The downcall itself when the C shape is the Java shape: plain numbers in, a number out. */
  private MethodHandle direct() {
    Declaration.Options o = decl.options();
    if (o.errno()
        || o.check() != Check.NONE
        || structReturn
        || !(result.layout == null || result.scalar != null)) {
      return null;
    }
    for (Slot s : slots) {
      if (!(s instanceof ScalarIn)) {
        return null;
      }
    }
    return downcall;
  }

  Value invoke(Value[] args, CallContext context) throws Throwable {
    library.checkOpen();
    try {
      return call(args, context);
    } catch (IllegalStateException e) {
      // The library was unloaded between the check above and the downcall; FFM refused the
      // call (the symbol's arena is closed), so nothing ran.
      if (library.isUnloaded()) {
        throw library.closed();
      }
      throw e;
    } finally {
      library.afterCall();
    }
  }

  private Value call(Value[] args, CallContext context) throws Throwable {
    if (!needsArena) {
      Frame f = new Frame(null, context, slots.length);
      Object[] c = new Object[slots.length];
      for (int i = 0; i < c.length; i++) {
        c[i] = slots[i].toC(args, f);
      }
      System.arraycopy(c, 0, f.passed, 0, c.length);
      Object ret = (Object) spread.invokeExact(c);
      return finish(ret, args, f, 0);
    }
    try (Arena arena = Arena.ofConfined()) {
      Frame f = new Frame(arena, context, slots.length);
      int prefix = (structReturn ? 1 : 0) + (decl.options().errno() ? 1 : 0);
      Object[] c = new Object[prefix + slots.length];
      int k = 0;
      if (structReturn) {
        c[k++] = arena; // the by-value struct result lands here
      }
      MemorySegment captured = null;
      if (decl.options().errno()) {
        captured = arena.allocate(Errno.LAYOUT);
        c[k++] = captured;
      }
      for (int i = 0; i < slots.length; i++) {
        Object x = slots[i].toC(args, f);
        f.passed[i] = x;
        c[prefix + i] = x;
      }
      Object ret = (Object) spread.invokeExact(c);
      return finish(ret, args, f, captured == null ? 0 : Errno.read(captured));
    }
  }

  private Value finish(Object ret, Value[] args, Frame f, int errno) throws Throwable {
    Status failed = f.failure;
    if (failed != null) {
      throw failed.asException();
    }
    Check check = decl.options().check();
    boolean error =
        switch (check) {
          case NONE -> false;
          case NONZERO -> CTypes.asLong(ret) != 0;
          case NEGATIVE -> CTypes.asLong(ret) < 0;
          case NULL -> ((MemorySegment) ret).address() == 0;
        };
    if (error) {
      throw failure(ret, errno).asException();
    }
    Value[] reported = new Value[reportedNames.size()];
    int n = 0;
    if (decl.result() != null && check != Check.NONZERO) {
      reported[n++] = result.read(ret);
    }
    for (int i = 0; i < slots.length; i++) {
      Value v = slots[i].after(args, f, f.passed[i]);
      if (v != null) {
        reported[n++] = v;
      }
    }
    return switch (n) {
      case 0 -> Value.NULL;
      case 1 -> reported[0];
      default -> {
        Map<String, Value> fields = new LinkedHashMap<>();
        for (int i = 0; i < n; i++) {
          fields.put(reportedNames.get(i), reported[i]);
        }
        yield new Value.Struct("", fields);
      }
    };
  }

  private Status failure(Object ret, int errno) throws Throwable {
    Declaration.Options o = decl.options();
    String what = null;
    if (message != null) {
      MemorySegment m = (MemorySegment) message.invokeExact();
      what = m.address() == 0 ? null : m.reinterpret(Long.MAX_VALUE).getString(0);
    }
    if (what == null || what.isEmpty()) {
      what = o.check() == Check.NULL ? "returned NULL" : "returned " + CTypes.asLong(ret);
    }
    Status.Code code =
        o.status() != null ? o.status() : errno != 0 ? Errno.code(errno) : Status.Code.UNKNOWN;
    String desc = decl.name() + " (C " + decl.symbol() + ") failed: " + what;
    if (o.errno() && errno != 0) {
      desc += "; " + Errno.describe(errno);
    }
    return code.toStatus().withDescription(desc);
  }

  // ---- parameters ----

  private Slot slot(
      CParam p,
      int index,
      Map<String, Integer> cIndex,
      Map<String, Integer> argIndex,
      String where) {
    Type t = p.type();
    String what = "parameter " + p.name();
    if (p.derive() != null) {
      if (!(t instanceof Type.Scalar s && s.isInteger()) || p.mode() != Mode.IN || p.pointer()) {
        throw DeclarationParser.malformed(
            where, what + ": a derived length must be a plain integer");
      }
      Derive d = p.derive();
      int src = -1;
      if (d.kind() != Derive.Kind.CONST) {
        Integer a = argIndex.get(d.of());
        if (a == null) {
          throw DeclarationParser.malformed(
              where, what + ": " + d.of() + " is not a parameter the caller passes");
        }
        src = a;
      }
      return new Derived(d, src, s);
    }
    Integer arg = argIndex.get(p.name());
    if (t instanceof Type.Fn fn) {
      if (p.mode() != Mode.IN || p.pointer()) {
        throw DeclarationParser.malformed(where, what + ": a callback is passed in, by value");
      }
      return new CallbackSlot(arg, new Callback(p.name(), fn, p.callbackPointers(), where));
    }
    return switch (p.mode()) {
      case IN -> {
        if (p.pointer()) {
          yield new PointerTo(arg, t, Mode.IN, CTypes.memoryLayout(t, where));
        }
        yield switch (t) {
          case Type.Scalar s when s.isDtype() -> new ScalarIn(arg, s);
          case Type.Struct st -> new StructByValue(arg, CStruct.of(st, where));
          case Type.Scalar s when s == Type.Scalar.STRING -> new StringIn(arg);
          case Type.Scalar s when s == Type.Scalar.BYTES ->
              new BytesIn(arg, decl.options().critical());
          case Type.NdArray nd -> new ArrayIn(arg, false, decl.options().critical());
          case Type.Handle h -> new HandleIn(arg, h.kind(), false, handles);
          case Type.OptionalOf o when o.inner() == Type.Scalar.STRING -> new StringIn(arg);
          case Type.OptionalOf o when o.inner() == Type.Scalar.BYTES ->
              new BytesIn(arg, decl.options().critical());
          case Type.OptionalOf o when o.inner() instanceof Type.Handle h ->
              new HandleIn(arg, h.kind(), false, handles);
          default ->
              throw DeclarationParser.malformed(
                  where, what + " is " + t + ", which has no C form; see io.polycall.ffi");
        };
      }
      case RELEASE -> {
        if (!(t instanceof Type.Handle h)) {
          throw DeclarationParser.malformed(where, what + ": only a handle can be released");
        }
        yield new HandleIn(arg, h.kind(), true, handles);
      }
      case OUT -> {
        if (p.isOutBuffer()) {
          Integer sizeArg = p.sizeOf() == null ? null : argIndex.get(p.sizeOf());
          if (p.sizeOf() != null && sizeArg == null) {
            throw DeclarationParser.malformed(
                where, what + ": capacity " + p.sizeOf() + " is not a parameter the caller passes");
          }
          if (p.sizeOf() == null && p.sizeFixed() < 0) {
            throw DeclarationParser.malformed(
                where, what + ": an out buffer needs a capacity, as in out bytes[n] or bytes[64]");
          }
          int sizeC = p.sizeOf() == null ? -1 : cIndex.get(p.sizeOf());
          CParam sizeParam = sizeC < 0 ? null : decl.params().get(sizeC);
          Type.Scalar sizeType =
              sizeParam != null && sizeParam.mode() == Mode.INOUT
                  ? (Type.Scalar) sizeParam.type()
                  : null;
          Type.Scalar dtype = t instanceof Type.NdArray nd ? nd.dtype() : Type.Scalar.U8;
          yield new OutBuffer(
              dtype,
              t == Type.Scalar.BYTES,
              p.sizeFixed(),
              sizeArg == null ? -1 : sizeArg,
              sizeC,
              sizeType);
        }
        yield new PointerTo(-1, t, Mode.OUT, CTypes.memoryLayout(t, where));
      }
      case INOUT -> {
        if (t instanceof Type.NdArray) {
          yield new ArrayIn(arg, true, decl.options().critical());
        }
        yield new PointerTo(arg, t, Mode.INOUT, CTypes.memoryLayout(t, where));
      }
    };
  }

  /** A number or bool, by value. */
  private record ScalarIn(int arg, Type.Scalar type) implements Slot {
    @Override
    public MemoryLayout layout() {
      return CTypes.layout(type);
    }

    @Override
    public Object toC(Value[] args, Frame f) {
      return CTypes.toCarrier(args[arg], type);
    }

    @Override
    public boolean needsArena() {
      return false;
    }
  }

  /** A length or constant the bridge computes: {@code len: u64 = len(data)}. */
  private record Derived(Derive derive, int src, Type.Scalar type) implements Slot {
    @Override
    public MemoryLayout layout() {
      return CTypes.layout(type);
    }

    @Override
    public Object toC(Value[] args, Frame f) {
      Value v = src < 0 ? null : args[src];
      long x =
          switch (derive.kind()) {
            case CONST -> derive.constant();
            case LEN ->
                switch (v) {
                  case Value.NdArray a -> a.elementCount();
                  case Value.Bytes b -> b.value().length;
                  case Value.Str s -> utf8Length(s.value());
                  default -> 0;
                };
            case BYTESIZE ->
                switch (v) {
                  case Value.NdArray a -> a.data().byteSize();
                  case Value.Bytes b -> b.value().length;
                  case Value.Str s -> utf8Length(s.value());
                  default -> 0;
                };
            case ITEMSIZE -> v instanceof Value.NdArray a ? a.dtype().byteSize() : 1;
          };
      return CTypes.integerCarrier(x, type);
    }

    @Override
    public boolean needsArena() {
      return false;
    }
  }

  private static long utf8Length(String s) {
    return s.getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
  }

  /** A {@code const char *}: UTF-8 and NUL-terminated in the call's arena; NULL for null. */
  private record StringIn(int arg) implements Slot {
    @Override
    public MemoryLayout layout() {
      return ValueLayout.ADDRESS;
    }

    @Override
    public Object toC(Value[] args, Frame f) {
      return args[arg] instanceof Value.Str s
          ? f.arena.allocateFrom(s.value())
          : MemorySegment.NULL;
    }
  }

  /**
   * A {@code const uint8_t *}, usually paired with a derived length. Copied into the arena, except
   * for a critical function, which may read the Java array in place.
   *
   * <pre>
   *   bytes data (n)              C: (const uint8_t *data, size_t len)
   *   +----+----+-----+------+          data --&gt; +----+----+-----+------+
   *   | b0 | b1 | ... | bn-1 |                   | b0 | b1 | ... | bn-1 |   len = n
   *   +----+----+-----+------+                   +----+----+-----+------+
   * </pre>
   */
  private record BytesIn(int arg, boolean heapOk) implements Slot {
    @Override
    public MemoryLayout layout() {
      return ValueLayout.ADDRESS;
    }

    @Override
    public Object toC(Value[] args, Frame f) {
      if (!(args[arg] instanceof Value.Bytes b)) {
        return MemorySegment.NULL;
      }
      if (heapOk) {
        return MemorySegment.ofArray(b.value());
      }
      MemorySegment seg = f.arena.allocate(Math.max(1, b.value().length));
      MemorySegment.copy(b.value(), 0, seg, ValueLayout.JAVA_BYTE, 0, b.value().length);
      return seg;
    }
  }

  /**
   * An ndarray as a pointer to its first element (C order). Native memory is passed as is, so C
   * reads, and for {@code inout} writes, the caller's own array with no copy. A heap-backed array
   * is copied in (and, for {@code inout}, back) unless the function is critical.
   */
  private record ArrayIn(int arg, boolean inout, boolean heapOk) implements Slot {
    @Override
    public MemoryLayout layout() {
      return ValueLayout.ADDRESS;
    }

    @Override
    public Object toC(Value[] args, Frame f) {
      MemorySegment data = ((Value.NdArray) args[arg]).data();
      if (data.isNative() || heapOk) {
        return data;
      }
      MemorySegment copy = f.arena.allocate(Math.max(1, data.byteSize()), 8);
      MemorySegment.copy(data, 0, copy, 0, data.byteSize());
      return copy;
    }

    @Override
    public Value after(Value[] args, Frame f, Object passed) {
      MemorySegment data = ((Value.NdArray) args[arg]).data();
      if (inout && passed != data) {
        MemorySegment.copy((MemorySegment) passed, 0, data, 0, data.byteSize());
      }
      return null;
    }
  }

  /** A struct passed by value: written to the arena and handed to the linker, which copies it. */
  private record StructByValue(int arg, CStruct struct) implements Slot {
    @Override
    public MemoryLayout layout() {
      return struct.layout();
    }

    @Override
    public Object toC(Value[] args, Frame f) {
      MemorySegment seg = f.arena.allocate(struct.layout());
      struct.write(seg, (Value.Struct) args[arg]);
      return seg;
    }
  }

  /**
   * A pointer to one number or struct in the arena: {@code *T} (in), {@code out T}, {@code inout
   * T}. Outs start zeroed; in-outs start as the caller's value; both come back in the result.
   */
  private record PointerTo(int arg, Type type, Mode mode, MemoryLayout pointee) implements Slot {
    @Override
    public MemoryLayout layout() {
      return ValueLayout.ADDRESS;
    }

    @Override
    public Object toC(Value[] args, Frame f) {
      MemorySegment seg = f.arena.allocate(pointee);
      if (mode != Mode.OUT) {
        CTypes.writeMemory(seg, 0, type, args[arg]);
      }
      return seg;
    }

    @Override
    public Value after(Value[] args, Frame f, Object passed) {
      return mode == Mode.IN ? null : CTypes.readMemory((MemorySegment) passed, 0, type);
    }
  }

  /**
   * A buffer C fills: {@code out bytes[cap]} or {@code out ndarray<T>[cap]}. The capacity is a
   * literal or another parameter's value; when that parameter is {@code inout} (zlib's {@code
   * destLen}), its value after the call is the length actually written, and the result is cut to
   * it.
   *
   * <pre>
   *   before:  dest --&gt; [ cap zeroed elements         ]     *destLen = cap
   *   after:   dest --&gt; [ written ......... | unused  ]     *destLen = written
   *   result:  bytes/ndarray of the first `written` elements
   * </pre>
   */
  private record OutBuffer(
      Type.Scalar dtype, boolean bytes, long fixed, int sizeArg, int sizeC, Type.Scalar sizeType)
      implements Slot {
    @Override
    public MemoryLayout layout() {
      return ValueLayout.ADDRESS;
    }

    @Override
    public Object toC(Value[] args, Frame f) {
      long cap = sizeArg < 0 ? fixed : ((Value.Int) args[sizeArg]).value();
      if (cap < 0 || cap > Integer.MAX_VALUE) {
        throw Status.INVALID_ARGUMENT
            .withDescription("out buffer capacity " + cap + " is out of range")
            .asException();
      }
      return f.arena
          .allocate(Math.max(1, cap * dtype.byteSize()), 8)
          .asSlice(0, cap * dtype.byteSize());
    }

    @Override
    public Value after(Value[] args, Frame f, Object passed) {
      MemorySegment seg = (MemorySegment) passed;
      long cap = seg.byteSize() / dtype.byteSize();
      long n = cap;
      if (sizeType != null) {
        Value written = CTypes.read((MemorySegment) f.passed[sizeC], 0, sizeType);
        n = Math.min(cap, Math.max(0, ((Value.Int) written).value()));
      }
      MemorySegment part = seg.asSlice(0, n * dtype.byteSize());
      if (bytes) {
        return new Value.Bytes(part.toArray(ValueLayout.JAVA_BYTE));
      }
      Value.NdArray out = Value.NdArray.allocate(dtype, n);
      MemorySegment.copy(part, 0, out.data(), 0, part.byteSize());
      return out;
    }
  }

  /** A pointer the caller holds as a handle; {@code release} drops it after a successful call. */
  private record HandleIn(int arg, String kind, boolean release, HandleTable handles)
      implements Slot {
    @Override
    public MemoryLayout layout() {
      return ValueLayout.ADDRESS;
    }

    @Override
    public Object toC(Value[] args, Frame f) {
      return args[arg] instanceof Value.Handle h
          ? MemorySegment.ofAddress(handles.address(h, kind))
          : MemorySegment.NULL;
    }

    @Override
    public Value after(Value[] args, Frame f, Object passed) {
      if (release && args[arg] instanceof Value.Handle h) {
        handles.release(h, kind);
      }
      return null;
    }

    @Override
    public boolean needsArena() {
      return false;
    }
  }

  /** A {@code fn} argument: an upcall stub calling the named function back. */
  private record CallbackSlot(int arg, Callback callback) implements Slot {
    @Override
    public MemoryLayout layout() {
      return ValueLayout.ADDRESS;
    }

    @Override
    public Object toC(Value[] args, Frame f) {
      return callback.stub((Value.Fn) args[arg], f, f.arena);
    }
  }

  // ---- result ----

  /** How the C return value becomes a value. */
  private record Result(MemoryLayout layout, Type.Scalar scalar, boolean pointer, Object kind) {
    Value read(Object ret) {
      return switch (kind) {
        case Type.Scalar s when s.isDtype() -> CTypes.fromCarrier(ret, s);
        case CStruct st -> st.read((MemorySegment) ret);
        case StringResult sr -> {
          MemorySegment p = (MemorySegment) ret;
          if (p.address() == 0) {
            if (sr.optional()) {
              yield Value.NULL;
            }
            throw Status.INTERNAL
                .withDescription("C returned NULL for a string; declare optional<string>")
                .asException();
          }
          yield Value.str(p.reinterpret(Long.MAX_VALUE).getString(0));
        }
        case HandleResult hr -> {
          long address = ((MemorySegment) ret).address();
          yield address == 0 && hr.optional() ? Value.NULL : hr.handles().put(hr.kind(), address);
        }
        default -> throw new IllegalStateException("result kind " + kind);
      };
    }
  }

  private Result result(Type t, Check check, String where) {
    if (t == null) {
      return new Result(null, null, false, null);
    }
    return switch (t) {
      case Type.Scalar s when s.isDtype() -> new Result(CTypes.layout(s), s, false, s);
      case Type.Struct st -> {
        CStruct cs = CStruct.of(st, where);
        yield new Result(cs.layout(), null, false, cs);
      }
      case Type.Scalar s when s == Type.Scalar.STRING -> new StringResult(false).result();
      case Type.OptionalOf o when o.inner() == Type.Scalar.STRING ->
          new StringResult(true).result();
      case Type.Handle h -> new HandleResult(h.kind(), false, handles).result();
      case Type.OptionalOf o when o.inner() instanceof Type.Handle h ->
          new HandleResult(h.kind(), true, handles).result();
      default ->
          throw DeclarationParser.malformed(
              where,
              "result "
                  + t
                  + " has no C form; return a number, bool, string, struct or handle<kind>");
    };
  }

  /** A returned {@code const char *}: copied into a Java string; the C memory is not freed. */
  private record StringResult(boolean optional) {
    Result result() {
      return new Result(ValueLayout.ADDRESS, null, true, this);
    }
  }

  /** A returned pointer: entered in the handle table; NULL is null when declared optional. */
  private record HandleResult(String kind, boolean optional, HandleTable handles) {
    Result result() {
      return new Result(ValueLayout.ADDRESS, null, true, this);
    }
  }
}
