package io.polycall.wire;

import com.fasterxml.jackson.core.util.DefaultIndenter;
import com.fasterxml.jackson.core.util.DefaultPrettyPrinter;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.ByteString;
import com.google.protobuf.util.JsonFormat;
import io.polycall.Status;
import io.polycall.Type;
import io.polycall.Value;
import io.polycall.wire.proto.Announce;
import io.polycall.wire.proto.Batch;
import io.polycall.wire.proto.BatchResult;
import io.polycall.wire.proto.Call;
import io.polycall.wire.proto.Cancel;
import io.polycall.wire.proto.Challenge;
import io.polycall.wire.proto.Frame;
import io.polycall.wire.proto.FunctionDecl;
import io.polycall.wire.proto.GoAway;
import io.polycall.wire.proto.Hello;
import io.polycall.wire.proto.ListValue;
import io.polycall.wire.proto.MapEntry;
import io.polycall.wire.proto.MapValue;
import io.polycall.wire.proto.NdArray;
import io.polycall.wire.proto.Ping;
import io.polycall.wire.proto.Pong;
import io.polycall.wire.proto.Result;
import io.polycall.wire.proto.Role;
import io.polycall.wire.proto.Scalar;
import io.polycall.wire.proto.StructField;
import io.polycall.wire.proto.StructValue;
import io.polycall.wire.proto.Welcome;
import io.polycall.wire.proto.Withdraw;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Writes {@code spec/vectors/values.json}, {@code frames.json} and {@code invalid.json}: the shared
 * test vectors that the Java, Python, Node and Go implementations all load.
 *
 * <p>Run with {@code make vectors} (from the repository root), then commit the JSON. The files are
 * deterministic: running it twice gives the same bytes. {@link VectorsTest} checks that the
 * committed files still match what this class makes.
 */
public final class VectorGenerator {
  private static final HexFormat HEX = HexFormat.of();
  private static final ObjectMapper JSON = new ObjectMapper();

  /** The secret behind the Hello vector's proof: bytes 0x00..0x1f. */
  static final byte[] HELLO_SECRET = sequence(32, 0);

  /** The Challenge vector's nonce: bytes 0xa0..0xbf. */
  static final byte[] CHALLENGE_NONCE = sequence(32, 0xa0);

  static final String HELLO_WORKER_ID = "python-1";

  private VectorGenerator() {}

  public static void main(String[] args) throws IOException {
    Path dir = Path.of(args.length > 0 ? args[0] : "spec/vectors");
    Files.createDirectories(dir);
    write(dir.resolve("values.json"), values());
    write(dir.resolve("frames.json"), frames());
    write(dir.resolve("invalid.json"), invalid());
    System.out.println("wrote " + dir.toAbsolutePath() + "/{values,frames,invalid}.json");
  }

  static String render(JsonNode node) throws IOException {
    DefaultPrettyPrinter pp = new DefaultPrettyPrinter();
    pp.indentArraysWith(DefaultIndenter.SYSTEM_LINEFEED_INSTANCE);
    return JSON.writer(pp).writeValueAsString(node).replace("\r\n", "\n") + "\n";
  }

  private static void write(Path file, JsonNode node) throws IOException {
    Files.writeString(file, render(node), StandardCharsets.UTF_8);
  }

  // ---- values.json ----------------------------------------------------------------------------

  /** The named values, in file order. */
  static Map<String, Value> namedValues() {
    Map<String, Value> v = new LinkedHashMap<>();
    v.put("null", Value.NULL);
    v.put("bool true", Value.TRUE);
    v.put("bool false", Value.FALSE);
    v.put("i8 -5", Value.i8((byte) -5));
    v.put("i8 min", Value.i8(Byte.MIN_VALUE));
    v.put("i8 max", Value.i8(Byte.MAX_VALUE));
    v.put("i16 min", Value.i16(Short.MIN_VALUE));
    v.put("i16 max", Value.i16(Short.MAX_VALUE));
    v.put("i32 zero", Value.i32(0));
    v.put("i32 min", Value.i32(Integer.MIN_VALUE));
    v.put("i32 max", Value.i32(Integer.MAX_VALUE));
    v.put("i64 zero", Value.i64(0));
    v.put("i64 -1", Value.i64(-1));
    v.put("i64 min", Value.i64(Long.MIN_VALUE));
    v.put("i64 max", Value.i64(Long.MAX_VALUE));
    v.put("u8 200", Value.u8(200));
    v.put("u8 max", Value.u8(255));
    v.put("u16 max", Value.u16(65535));
    v.put("u32 max", Value.u32(0xFFFF_FFFFL));
    v.put("u64 zero", Value.u64(0));
    v.put("u64 2^63", Value.u64(Long.MIN_VALUE));
    v.put("u64 max", Value.u64(-1L));
    v.put("f32 0.5", Value.f32(0.5f));
    v.put("f32 -1.25", Value.f32(-1.25f));
    v.put("f32 max", Value.f32(Float.MAX_VALUE));
    v.put("f32 NaN", Value.f32(Float.NaN));
    v.put("f32 Infinity", Value.f32(Float.POSITIVE_INFINITY));
    v.put("f64 1.5", Value.f64(1.5));
    v.put("f64 0.1", Value.f64(0.1));
    v.put("f64 zero", Value.f64(0.0));
    v.put("f64 negative zero", Value.f64(-0.0));
    v.put("f64 smallest subnormal", Value.f64(Double.MIN_VALUE));
    v.put("f64 max", Value.f64(Double.MAX_VALUE));
    v.put("f64 NaN", Value.f64(Double.NaN));
    v.put("f64 Infinity", Value.f64(Double.POSITIVE_INFINITY));
    v.put("f64 -Infinity", Value.f64(Double.NEGATIVE_INFINITY));
    v.put("string empty", Value.str(""));
    v.put("string ascii", Value.str("hello"));
    v.put(
        "string non-ASCII UTF-8",
        Value.str("h\u00e9llo w\u00f6rld \u2713 \u65e5\u672c \uD83C\uDF89"));
    v.put("bytes empty", Value.bytes(new byte[0]));
    v.put("bytes 00 01 7f 80 ff", Value.bytes(new byte[] {0, 1, 0x7f, (byte) 0x80, (byte) 0xff}));
    v.put("list empty", Value.list());
    v.put("list of i64", Value.list(Value.i64(1), Value.i64(2), Value.i64(3)));
    v.put(
        "list mixed",
        Value.list(Value.i32(1), Value.str("two"), Value.f64(3.0), Value.NULL, Value.TRUE));
    v.put(
        "list nested",
        Value.list(Value.list(Value.i64(1)), Value.list(Value.i64(2), Value.list(Value.i64(3)))));
    v.put("map empty", new Value.Dict(Map.of()));
    v.put("map string to i32", dict(Value.str("a"), Value.i32(1)));
    v.put("map i64 to string", dict(Value.i64(-7), Value.str("minus seven")));
    Map<Value, Value> two = new LinkedHashMap<>();
    two.put(Value.str("z"), Value.i64(26));
    two.put(Value.str("a"), Value.i64(1));
    v.put("map two entries in order z, a", new Value.Dict(two));
    v.put(
        "map nested",
        dict(Value.str("outer"), dict(Value.str("inner"), Value.list(Value.f64(1.5)))));
    v.put("struct Point", point(1.5, -2.0));
    Map<String, Value> line = new LinkedHashMap<>();
    line.put("from", point(0, 0));
    line.put("to", point(3, 4));
    line.put("tags", Value.list(Value.str("a"), Value.str("b")));
    v.put("struct nested", new Value.Struct("Line", line));
    v.put("struct empty name, no fields", new Value.Struct("", Map.of()));
    v.put(
        "ndarray f64 1-D",
        nd(
            Type.Scalar.F64,
            new long[] {3},
            buf(24).putDouble(1.5).putDouble(-2).putDouble(Double.NaN)));
    v.put(
        "ndarray f64 2-D [2,3]", nd(Type.Scalar.F64, new long[] {2, 3}, doubles(1, 2, 3, 4, 5, 6)));
    v.put("ndarray f64 0-D", nd(Type.Scalar.F64, new long[] {}, doubles(42.0)));
    v.put("ndarray f64 empty [0]", nd(Type.Scalar.F64, new long[] {0}, buf(0)));
    v.put(
        "ndarray f32 1-D",
        nd(
            Type.Scalar.F32,
            new long[] {4},
            buf(16).putFloat(0.5f).putFloat(-1).putFloat(Float.POSITIVE_INFINITY).putFloat(3.25f)));
    v.put(
        "ndarray i32 2-D [2,2]",
        nd(
            Type.Scalar.I32,
            new long[] {2, 2},
            buf(16).putInt(1).putInt(-1).putInt(Integer.MAX_VALUE).putInt(Integer.MIN_VALUE)));
    v.put(
        "ndarray i64 1-D",
        nd(
            Type.Scalar.I64,
            new long[] {2},
            buf(16).putLong(Long.MIN_VALUE).putLong(Long.MAX_VALUE)));
    v.put(
        "ndarray u8 1-D",
        nd(
            Type.Scalar.U8,
            new long[] {5},
            buf(5).put(new byte[] {0, 1, 127, (byte) 128, (byte) 255})));
    v.put(
        "ndarray u8 2-D [2,3]",
        nd(Type.Scalar.U8, new long[] {2, 3}, buf(6).put(new byte[] {1, 2, 3, 4, 5, 6})));
    v.put(
        "ndarray u16 1-D",
        nd(Type.Scalar.U16, new long[] {2}, buf(4).putShort((short) 1).putShort((short) 0xFFFF)));
    v.put(
        "ndarray bool 1-D",
        nd(Type.Scalar.BOOL, new long[] {4}, buf(4).put(new byte[] {1, 0, 0, 1})));
    v.put(
        "ndarray bool 2-D [2,2]",
        nd(Type.Scalar.BOOL, new long[] {2, 2}, buf(4).put(new byte[] {0, 1, 1, 0})));
    v.put("handle", new Value.Handle("file", 7, 1));
    v.put("handle large id", new Value.Handle("socket", -1L, -1));
    v.put("fn with signature", new Value.Fn("math.cos", (Type.Fn) Type.parse("fn(f64) -> f64")));
    v.put("fn without signature", new Value.Fn("callbacks.on_done", null));
    Value deep = Value.i64(0);
    for (int i = 0; i < WireLimits.DEFAULT_MAX_DEPTH; i++) {
      deep = Value.list(deep);
    }
    v.put("list nested 32 deep (the depth limit)", deep);
    return v;
  }

  static JsonNode values() {
    ArrayNode out = JSON.createArrayNode();
    ValueCodec codec = ValueCodec.of();
    namedValues()
        .forEach(
            (name, value) -> {
              ObjectNode o = out.addObject();
              o.put("name", name);
              o.set("value", NeutralJson.toJson(value));
              o.put("hex", HEX.formatHex(codec.encodeToBytes(value)));
            });
    return out;
  }

  // ---- frames.json ----------------------------------------------------------------------------

  /** One frame of each kind, in field-number order. */
  static Map<String, Frame> namedFrames() {
    ValueCodec codec = ValueCodec.of();
    Map<String, Frame> f = new LinkedHashMap<>();
    f.put(
        "challenge (nonce a0..bf, versions [1])",
        Frame.newBuilder()
            .setChallenge(
                Challenge.newBuilder()
                    .setNonce(ByteString.copyFrom(CHALLENGE_NONCE))
                    .addVersions(1))
            .build());
    f.put(
        "hello from worker python-1: proof = HMAC-SHA256(secret 00..1f, challenge nonce a0..bf"
            + " || UTF-8(\"python-1\"))",
        Frame.newBuilder()
            .setHello(
                Hello.newBuilder()
                    .setVersion(1)
                    .setRole(Role.WORKER)
                    .setWorkerId(HELLO_WORKER_ID)
                    .setProof(
                        ByteString.copyFrom(proof(HELLO_SECRET, CHALLENGE_NONCE, HELLO_WORKER_ID)))
                    .setLanguage("python")
                    .setSdkVersion("0.1.0")
                    .setPid(4242))
            .build());
    f.put(
        "hello from a client",
        Frame.newBuilder()
            .setHello(
                Hello.newBuilder()
                    .setVersion(1)
                    .setRole(Role.CLIENT)
                    .setLanguage("javascript")
                    .setSdkVersion("0.1.0")
                    .setPid(77))
            .build());
    f.put(
        "welcome with default limits",
        Frame.newBuilder()
            .setWelcome(
                Welcome.newBuilder()
                    .setVersion(1)
                    .setLimits(WireLimits.DEFAULT.withMaxInFlight(64).toProto())
                    .setNodeId("node-a"))
            .build());
    f.put(
        "call math.cos(0.5) with a deadline and one metadata entry",
        Frame.newBuilder()
            .setCall(
                Call.newBuilder()
                    .setCallId(1)
                    .setFunction("math.cos")
                    .addArgs(codec.encode(Value.f64(0.5)))
                    .setTimeoutNanos(1_000_000_000L)
                    .putMetadata("trace-id", "abc123"))
            .build());
    f.put(
        "call with several args, no deadline",
        Frame.newBuilder()
            .setCall(
                Call.newBuilder()
                    .setCallId(-1L)
                    .setFunction("stats.mean@2")
                    .addArgs(codec.encode(Value.list(Value.i32(1), Value.i32(2))))
                    .addArgs(codec.encode(Value.str("h\u00e9")))
                    .addArgs(codec.encode(Value.NULL)))
            .build());
    f.put(
        "result with a value",
        Frame.newBuilder()
            .setResult(
                Result.newBuilder()
                    .setCallId(1)
                    .setValue(codec.encode(Value.f64(0.8775825618903728))))
            .build());
    // The SDKs write the frame around a big ndarray result by hand (the block sent apart from
    // the bytes before it): this is the frame they must write, at a size a vector can hold.
    Value.NdArray grid = Value.NdArray.allocate(Type.Scalar.F64, 2, 3);
    for (int i = 0; i < 6; i++) {
      grid.data().setAtIndex(java.lang.foreign.ValueLayout.JAVA_DOUBLE, i, i * 0.5 - 1);
    }
    f.put(
        "result with an ndarray value (f64 [2, 3])",
        Frame.newBuilder()
            .setResult(Result.newBuilder().setCallId(300).setValue(codec.encode(grid)))
            .build());
    f.put(
        "result with a status and a cross-language stack",
        Frame.newBuilder()
            .setResult(
                Result.newBuilder()
                    .setCallId(2)
                    .setStatus(
                        StatusCodec.encode(
                            Status.INVALID_ARGUMENT
                                .withDescription("ValueError: math domain error")
                                .withFrames(
                                    List.of(
                                        new Status.StackFrame(
                                            "python", "stats.mean", "stats.py", 12),
                                        new Status.StackFrame(
                                            "polycall", "stats.mean [python]", "", 0),
                                        new Status.StackFrame(
                                            "java", "app.Main.main", "Main.java", 7))))))
            .build());
    f.put("cancel", Frame.newBuilder().setCancel(Cancel.newBuilder().setCallId(2)).build());
    f.put("ping", Frame.newBuilder().setPing(Ping.newBuilder().setNonce(12345)).build());
    f.put("pong", Frame.newBuilder().setPong(Pong.newBuilder().setNonce(12345)).build());
    f.put(
        "announce",
        Frame.newBuilder()
            .setAnnounce(
                Announce.newBuilder()
                    .addFunctions(
                        FunctionDecl.newBuilder()
                            .setSignature("stats.mean(xs: ndarray<f64>) -> f64")
                            .setVersion(1)
                            .addTags("pure")
                            .setDoc("Arithmetic mean."))
                    .addFunctions(
                        FunctionDecl.newBuilder()
                            .setSignature("stats.count(xs: list<any>) -> i64")))
            .build());
    f.put(
        "withdraw",
        Frame.newBuilder()
            .setWithdraw(Withdraw.newBuilder().addNames("stats.count").addNames("stats.mean@1"))
            .build());
    f.put(
        "batch of two calls",
        Frame.newBuilder()
            .setBatch(
                Batch.newBuilder()
                    .setBatchId(9)
                    .addCalls(
                        Call.newBuilder()
                            .setFunction("math.cos")
                            .addArgs(codec.encode(Value.f64(0))))
                    .addCalls(
                        Call.newBuilder()
                            .setFunction("math.sin")
                            .addArgs(codec.encode(Value.f64(0)))))
            .build());
    f.put(
        "batch result, one value and one failure",
        Frame.newBuilder()
            .setBatchResult(
                BatchResult.newBuilder()
                    .setBatchId(9)
                    .addResults(Result.newBuilder().setValue(codec.encode(Value.f64(1.0))))
                    .addResults(
                        Result.newBuilder()
                            .setStatus(
                                StatusCodec.encode(
                                    Status.NOT_FOUND.withDescription("no function math.sin")))))
            .build());
    f.put(
        "goaway (drain)",
        Frame.newBuilder()
            .setGoaway(GoAway.newBuilder().setStatus(StatusCodec.encode(Status.OK)))
            .build());
    f.put(
        "goaway unauthenticated",
        Frame.newBuilder()
            .setGoaway(
                GoAway.newBuilder()
                    .setStatus(
                        StatusCodec.encode(
                            Status.UNAUTHENTICATED.withDescription(
                                "wrong proof for worker python-1"))))
            .build());
    return f;
  }

  static JsonNode frames() throws IOException {
    ArrayNode out = JSON.createArrayNode();
    JsonFormat.Printer printer = JsonFormat.printer().omittingInsignificantWhitespace();
    for (Map.Entry<String, Frame> e : namedFrames().entrySet()) {
      ObjectNode o = out.addObject();
      o.put("name", e.getKey());
      o.set("frame", JSON.readTree(printer.print(e.getValue())));
      o.put("hex", HEX.formatHex(FrameCodec.encode(e.getValue())));
    }
    return out;
  }

  // ---- invalid.json ---------------------------------------------------------------------------

  /** One entry of invalid.json. */
  record Invalid(String name, String kind, byte[] bytes, Status.Code status, String reason) {}

  static List<Invalid> invalidEntries() {
    List<Invalid> l = new ArrayList<>();
    var bad = Status.Code.INVALID_ARGUMENT;
    // -- values
    l.add(
        new Invalid(
            "value with no kind (empty message)",
            "value",
            new byte[0],
            bad,
            "a Value with no kind set"));
    l.add(
        new Invalid(
            "value with only a width",
            "value",
            pv().setWidth(Scalar.I8).build().toByteArray(),
            bad,
            "a Value with no kind set"));
    l.add(
        new Invalid(
            "value whose kind this version does not know (field 15)",
            "value",
            HEX.parseHex("7801"),
            bad,
            "a Value with no kind set"));
    l.add(
        new Invalid(
            "i8 out of its width (300)",
            "value",
            pv().setIntValue(300).setWidth(Scalar.I8).build().toByteArray(),
            bad,
            "int out of its width"));
    l.add(
        new Invalid(
            "i32 out of its width (2^31)",
            "value",
            pv().setIntValue(1L << 31).setWidth(Scalar.I32).build().toByteArray(),
            bad,
            "int out of its width"));
    l.add(
        new Invalid(
            "u8 out of its width (256)",
            "value",
            pv().setUintValue(256).setWidth(Scalar.U8).build().toByteArray(),
            bad,
            "uint out of its width"));
    l.add(
        new Invalid(
            "f32 out of its width (1e39)",
            "value",
            pv().setFloatValue(1e39).setWidth(Scalar.F32).build().toByteArray(),
            bad,
            "float out of its width"));
    l.add(
        new Invalid(
            "width I8 on a float_value",
            "value",
            pv().setFloatValue(1.5).setWidth(Scalar.I8).build().toByteArray(),
            bad,
            "width on the wrong kind"));
    l.add(
        new Invalid(
            "width U8 on an int_value",
            "value",
            pv().setIntValue(1).setWidth(Scalar.U8).build().toByteArray(),
            bad,
            "width on the wrong kind"));
    l.add(
        new Invalid(
            "width I32 on a uint_value",
            "value",
            pv().setUintValue(1).setWidth(Scalar.I32).build().toByteArray(),
            bad,
            "width on the wrong kind"));
    l.add(
        new Invalid(
            "width F64 on a string_value",
            "value",
            pv().setStringValue("x").setWidth(Scalar.F64).build().toByteArray(),
            bad,
            "width on the wrong kind"));
    l.add(
        new Invalid(
            "unknown width 99 on an int_value",
            "value",
            pv().setIntValue(1).setWidthValue(99).build().toByteArray(),
            bad,
            "unknown width"));
    l.add(
        new Invalid(
            "ndarray f64 [2] with 15 bytes of data",
            "value",
            pv().setNdarrayValue(
                    NdArray.newBuilder()
                        .setDtype(Scalar.F64)
                        .addShape(2)
                        .setData(ByteString.copyFrom(new byte[15])))
                .build()
                .toByteArray(),
            bad,
            "ndarray data of the wrong size"));
    l.add(
        new Invalid(
            "ndarray i32 [2,2] with 12 bytes of data",
            "value",
            pv().setNdarrayValue(
                    NdArray.newBuilder()
                        .setDtype(Scalar.I32)
                        .addShape(2)
                        .addShape(2)
                        .setData(ByteString.copyFrom(new byte[12])))
                .build()
                .toByteArray(),
            bad,
            "ndarray data of the wrong size"));
    l.add(
        new Invalid(
            "ndarray with unknown dtype 99",
            "value",
            pv().setNdarrayValue(
                    NdArray.newBuilder()
                        .setDtypeValue(99)
                        .addShape(1)
                        .setData(ByteString.copyFrom(new byte[1])))
                .build()
                .toByteArray(),
            bad,
            "unknown dtype"));
    l.add(
        new Invalid(
            "ndarray with no dtype",
            "value",
            pv().setNdarrayValue(NdArray.newBuilder().addShape(0)).build().toByteArray(),
            bad,
            "unknown dtype"));
    l.add(
        new Invalid(
            "ndarray bool with an element of 2",
            "value",
            pv().setNdarrayValue(
                    NdArray.newBuilder()
                        .setDtype(Scalar.BOOL)
                        .addShape(2)
                        .setData(ByteString.copyFrom(new byte[] {1, 2})))
                .build()
                .toByteArray(),
            bad,
            "bool elements are 0 or 1"));
    // string_value (field 6, length 2) holding C3 28: a lead byte without its continuation.
    l.add(
        new Invalid(
            "string with invalid UTF-8",
            "value",
            HEX.parseHex("3202c328"),
            bad,
            "invalid UTF-8 in a string"));
    l.add(
        new Invalid(
            "string inside a list with invalid UTF-8 (overlong encoding of '/')",
            "value",
            HEX.parseHex("42060a043202c0af"),
            bad,
            "invalid UTF-8 in a string"));
    l.add(
        new Invalid(
            "list nested 33 deep (limit 32)",
            "value",
            nestedLists(WireLimits.DEFAULT_MAX_DEPTH + 1).toByteArray(),
            bad,
            "nesting deeper than the limit"));
    l.add(
        new Invalid(
            "map with a duplicate key",
            "value",
            pv().setMapValue(
                    MapValue.newBuilder()
                        .addEntries(entry(Value.str("a"), Value.i64(1)))
                        .addEntries(entry(Value.str("a"), Value.i64(2))))
                .build()
                .toByteArray(),
            bad,
            "duplicate map keys"));
    l.add(
        new Invalid(
            "map entry with no value",
            "value",
            pv().setMapValue(
                    MapValue.newBuilder()
                        .addEntries(
                            MapEntry.newBuilder().setKey(ValueCodec.of().encode(Value.str("a")))))
                .build()
                .toByteArray(),
            bad,
            "map entry with no value"));
    l.add(
        new Invalid(
            "struct with a duplicate field name",
            "value",
            pv().setStructValue(
                    StructValue.newBuilder()
                        .setName("P")
                        .addFields(field("x", Value.i64(1)))
                        .addFields(field("x", Value.i64(2))))
                .build()
                .toByteArray(),
            bad,
            "duplicate struct fields"));
    l.add(
        new Invalid(
            "list holding a value with no kind",
            "value",
            pv().setListValue(ListValue.newBuilder().addItems(pv())).build().toByteArray(),
            bad,
            "a Value with no kind set"));
    l.add(
        new Invalid(
            "bytes that are not a protobuf message",
            "value",
            HEX.parseHex("ffffffff"),
            bad,
            "unparseable bytes"));
    // -- streams
    l.add(new Invalid("length 0", "stream", HEX.parseHex("00000000"), bad, "length 0"));
    l.add(
        new Invalid(
            "length above 64 MiB (67108865), body not sent",
            "stream",
            HEX.parseHex("04000001"),
            bad,
            "length above the limit"));
    l.add(
        new Invalid(
            "length with the high bit set (2^31)",
            "stream",
            HEX.parseHex("800000003a00"),
            bad,
            "length above the limit"));
    byte[] ping =
        FrameCodec.encode(Frame.newBuilder().setPing(Ping.newBuilder().setNonce(1)).build());
    l.add(
        new Invalid(
            "truncated frame: length 10, 3 bytes of body",
            "stream",
            HEX.parseHex("0000000a3a0208"),
            bad,
            "stream ends inside a frame"));
    l.add(
        new Invalid(
            "truncated length prefix",
            "stream",
            HEX.parseHex("0000"),
            bad,
            "stream ends inside a frame"));
    l.add(
        new Invalid(
            "garbage that is not a Frame",
            "stream",
            HEX.parseHex("00000004ffffffff"),
            bad,
            "unparseable bytes"));
    l.add(
        new Invalid(
            "a valid ping, then garbage",
            "stream",
            concat(ping, HEX.parseHex("00000004ffffffff")),
            bad,
            "unparseable bytes"));
    // Field 100, varint 1: a Frame that parses but has no body.
    l.add(
        new Invalid(
            "frame with no body (only an unknown field 100)",
            "stream",
            HEX.parseHex("00000003a00601"),
            bad,
            "a Frame with no body set"));
    l.add(
        new Invalid(
            "frame with a call holding invalid UTF-8 in its function name",
            "stream",
            HEX.parseHex("000000062204120278ff"),
            bad,
            "invalid UTF-8 in a string"));
    return l;
  }

  static JsonNode invalid() {
    ArrayNode out = JSON.createArrayNode();
    for (Invalid i : invalidEntries()) {
      ObjectNode o = out.addObject();
      o.put("name", i.name());
      o.put("hex", HEX.formatHex(i.bytes()));
      o.put("kind", i.kind());
      o.put("status", i.status().name());
      o.put("reason", i.reason());
    }
    return out;
  }

  // ---- helpers --------------------------------------------------------------------------------

  static byte[] proof(byte[] secret, byte[] nonce, String workerId) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(secret, "HmacSHA256"));
      mac.update(nonce);
      return mac.doFinal(workerId.getBytes(StandardCharsets.UTF_8));
    } catch (java.security.GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  private static io.polycall.wire.proto.Value.Builder pv() {
    return io.polycall.wire.proto.Value.newBuilder();
  }

  private static io.polycall.wire.proto.Value nestedLists(int depth) {
    io.polycall.wire.proto.Value v = pv().setIntValue(0).build();
    for (int i = 0; i < depth; i++) {
      v = pv().setListValue(ListValue.newBuilder().addItems(v)).build();
    }
    return v;
  }

  private static MapEntry entry(Value k, Value v) {
    return MapEntry.newBuilder()
        .setKey(ValueCodec.of().encode(k))
        .setValue(ValueCodec.of().encode(v))
        .build();
  }

  private static StructField field(String name, Value v) {
    return StructField.newBuilder().setName(name).setValue(ValueCodec.of().encode(v)).build();
  }

  private static Value dict(Value k, Value v) {
    Map<Value, Value> m = new LinkedHashMap<>();
    m.put(k, v);
    return new Value.Dict(m);
  }

  private static Value point(double x, double y) {
    Map<String, Value> f = new LinkedHashMap<>();
    f.put("x", Value.f64(x));
    f.put("y", Value.f64(y));
    return new Value.Struct("Point", f);
  }

  private static ByteBuffer buf(int n) {
    return ByteBuffer.allocate(n).order(ByteOrder.LITTLE_ENDIAN);
  }

  private static ByteBuffer doubles(double... d) {
    ByteBuffer b = buf(d.length * 8);
    for (double x : d) {
      b.putDouble(x);
    }
    return b;
  }

  private static Value nd(Type.Scalar dtype, long[] shape, ByteBuffer data) {
    byte[] bytes = data.array();
    MemorySegment seg =
        Arena.ofAuto().allocate(Math.max(bytes.length, 1), 8).asSlice(0, bytes.length);
    MemorySegment.copy(bytes, 0, seg, ValueLayout.JAVA_BYTE, 0, bytes.length);
    return Value.NdArray.of(dtype, shape, seg);
  }

  private static byte[] sequence(int n, int first) {
    byte[] b = new byte[n];
    for (int i = 0; i < n; i++) {
      b[i] = (byte) (first + i);
    }
    return b;
  }

  private static byte[] concat(byte[] a, byte[] b) {
    byte[] out = new byte[a.length + b.length];
    System.arraycopy(a, 0, out, 0, a.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }
}
