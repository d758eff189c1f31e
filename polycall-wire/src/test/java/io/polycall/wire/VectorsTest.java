package io.polycall.wire;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.util.JsonFormat;
import io.polycall.StatusException;
import io.polycall.Value;
import io.polycall.wire.proto.Frame;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/** The shared vectors in spec/vectors, loaded as every other implementation loads them. */
class VectorsTest {
  private static final HexFormat HEX = HexFormat.of();
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final ValueCodec CODEC = ValueCodec.of();

  static Path vectors() {
    return Path.of(System.getProperty("polycall.spec.dir", "../spec")).resolve("vectors");
  }

  private static JsonNode load(String file) throws IOException {
    return JSON.readTree(Files.readString(vectors().resolve(file), StandardCharsets.UTF_8));
  }

  @TestFactory
  Stream<DynamicTest> eachValueDecodesFromItsHexAndEncodesToItByteForByte() throws IOException {
    List<DynamicTest> tests = new ArrayList<>();
    for (JsonNode v : load("values.json")) {
      tests.add(
          DynamicTest.dynamicTest(
              v.get("name").textValue(),
              () -> {
                Value expected = NeutralJson.fromJson(v.get("value"));
                byte[] hex = HEX.parseHex(v.get("hex").textValue());
                Value decoded = CODEC.decode(hex);
                assertEquals(expected, decoded);
                assertEquals(v.get("value").toString(), NeutralJson.toJson(decoded).toString());
                assertEquals(
                    v.get("hex").textValue(), HEX.formatHex(CODEC.encodeToBytes(expected)));
              }));
    }
    return tests.stream();
  }

  @TestFactory
  Stream<DynamicTest> eachFrameDecodesFromItsHexAndEncodesToItByteForByte() throws IOException {
    List<DynamicTest> tests = new ArrayList<>();
    for (JsonNode f : load("frames.json")) {
      tests.add(
          DynamicTest.dynamicTest(
              f.get("name").textValue(),
              () -> {
                Frame.Builder b = Frame.newBuilder();
                JsonFormat.parser().merge(f.get("frame").toString(), b);
                Frame expected = b.build();
                List<Frame> decoded =
                    FrameCodec.decode(HEX.parseHex(f.get("hex").textValue()), WireLimits.DEFAULT);
                assertEquals(List.of(expected), decoded);
                assertEquals(f.get("hex").textValue(), HEX.formatHex(FrameCodec.encode(expected)));
              }));
    }
    return tests.stream();
  }

  @TestFactory
  Stream<DynamicTest> eachInvalidEntryIsRefusedWithItsStatus() throws IOException {
    List<DynamicTest> tests = new ArrayList<>();
    for (JsonNode i : load("invalid.json")) {
      tests.add(
          DynamicTest.dynamicTest(
              i.get("name").textValue(),
              () -> {
                byte[] bytes = HEX.parseHex(i.get("hex").textValue());
                String want = i.get("status").textValue();
                switch (i.get("kind").textValue()) {
                  case "value" -> {
                    StatusException e =
                        assertThrows(StatusException.class, () -> CODEC.decode(bytes));
                    assertEquals(want, e.status().code().name(), e.getMessage());
                  }
                  case "stream" -> {
                    ProtocolException e =
                        assertThrows(
                            ProtocolException.class,
                            () -> FrameCodec.decode(bytes, WireLimits.DEFAULT));
                    assertEquals(want, e.status().code().name(), e.getMessage());
                  }
                  default -> throw new AssertionError("unknown kind " + i.get("kind"));
                }
              }));
    }
    return tests.stream();
  }

  @Test
  void theCommittedVectorFilesAreWhatTheGeneratorMakes() throws IOException {
    assertEquals(
        VectorGenerator.render(VectorGenerator.values()),
        Files.readString(vectors().resolve("values.json")),
        "spec/vectors/values.json is stale: run make vectors");
    assertEquals(
        VectorGenerator.render(VectorGenerator.frames()),
        Files.readString(vectors().resolve("frames.json")),
        "spec/vectors/frames.json is stale: run make vectors");
    assertEquals(
        VectorGenerator.render(VectorGenerator.invalid()),
        Files.readString(vectors().resolve("invalid.json")),
        "spec/vectors/invalid.json is stale: run make vectors");
  }

  @Test
  void theVectorsCoverWhatWireMdAsksFor() throws IOException {
    assertTrue(load("values.json").size() >= 40);
    assertTrue(load("frames.json").size() >= 13);
  }
}
