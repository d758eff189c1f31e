package io.polycall.worker;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.polycall.CallOptions;
import io.polycall.Status;
import io.polycall.StatusException;
import io.polycall.Type;
import io.polycall.Value;
import io.polycall.core.CallRequest;
import io.polycall.core.CallResult;
import io.polycall.core.PolyCall;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.LongUnaryOperator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Real workers that crash, hang, lie and misbehave; the node keeps serving. Each worker language
 * subclasses it with the same functions (pyconf.py, nodeconf.mjs).
 */
abstract class AbstractWorkerFaultsTest {
  /** A pool of the conformance/fault functions under {@link #prefix()}. */
  protected abstract WorkerSpec spec(String name);

  /** A pool whose processes fail while importing their module, from files in {@code dir}. */
  protected abstract WorkerSpec brokenOnImport(String name, Path dir) throws IOException;

  protected abstract String prefix();

  /** The language its stack frames carry. */
  protected abstract String language();

  /** The bridge its functions are registered under. */
  protected abstract String bridge();

  /** The file its functions live in, as its frames name it. */
  protected abstract String sourceFile();

  /** How bad_message's exception maps: its status code and message prefix. */
  protected abstract Status.Code badMessageCode();

  protected abstract String badMessagePrefix();

  private String fn(String name) {
    return prefix() + "." + name;
  }

  protected PolyCall pc;
  protected WorkerSupervisor workers;

  @BeforeEach
  void start() throws Exception {
    pc = PolyCall.create();
    workers = pc.addBridge(WorkerSupervisor.start(pc.registry(), pc));
    workers.add(spec("py").withProcesses(2).withMaxInFlight(8));
    assertTrue(workers.awaitReady(Duration.ofSeconds(30)), "workers did not start");
  }

  @AfterEach
  void stop() {
    pc.close();
  }

  private Status failure(String fn, Value... args) {
    return assertThrows(StatusException.class, () -> pc.call(fn, args)).status();
  }

  protected void awaitServing() throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (System.nanoTime() < deadline) {
      if (workers.awaitReady(Duration.ofMillis(200))) {
        return;
      }
    }
    throw new AssertionError("the pool did not come back");
  }

  @Test
  void twoProcessesReallyRunInParallel() throws Exception {
    List<CompletableFuture<Value>> fs = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      fs.add(pc.callAsync(fn("pid")));
    }
    Set<Value> pids = new HashSet<>();
    for (CompletableFuture<Value> f : fs) {
      pids.add(f.join());
    }
    assertEquals(2, workers.pids("py").size());
    // Least-outstanding dispatch spreads concurrent calls over both processes.
    List<CompletableFuture<Value>> slow = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      slow.add(pc.callAsync(fn("block"), Value.i64(300)));
    }
    Set<Value> slowPids = new HashSet<>();
    for (int i = 0; i < 4; i++) {
      slowPids.add(pc.call(fn("pid")));
    }
    slow.forEach(CompletableFuture::join);
    assertTrue(
        pids.size() + slowPids.size() >= 2, "calls went to one process only: " + pids + slowPids);
  }

  @Test
  void aWorkerKilledMidCallFailsItsCallsWithUnavailableNamingTheSignalAndIsRestarted()
      throws Exception {
    int before = workers.spawnCount("py");
    CompletableFuture<Value> inFlight = pc.callAsync(fn("block"), Value.i64(20_000));
    Thread.sleep(300);
    for (long pid : workers.pids("py")) {
      ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly); // SIGKILL
    }
    StatusException e =
        assertThrows(
            StatusException.class,
            () -> {
              try {
                inFlight.get(10, TimeUnit.SECONDS);
              } catch (java.util.concurrent.ExecutionException ex) {
                throw ex.getCause();
              }
            });
    assertEquals(Status.Code.UNAVAILABLE, e.status().code());
    assertTrue(e.status().description().contains("killed by signal 9"), e.status().description());
    awaitServing();
    assertTrue(workers.spawnCount("py") > before);
    assertEquals(Value.i32(3), pc.call(fn("add_i32"), Value.i32(1), Value.i32(2)));
  }

  @Test
  void aWorkerThatExitsMidCallReportsItsExitCode() throws Exception {
    Status s = failure(fn("crash"), Value.i64(7));
    assertEquals(Status.Code.UNAVAILABLE, s.code());
    assertTrue(s.description().contains("exited with code 7"), s.description());
    awaitServing();
    assertEquals(Value.i64(2), pc.call(fn("add_i64"), Value.i64(1), Value.i64(1)));
  }

  @Test
  void aWorkerThatHangsPastTheDeadlineIsDeadlineExceededAndTheNodeKeepsServing() {
    CallOptions soon = CallOptions.DEFAULT.withDeadlineAfter(Duration.ofMillis(200));
    StatusException e =
        assertThrows(
            StatusException.class, () -> pc.call(fn("block"), List.of(Value.i64(3_000)), soon));
    assertEquals(Status.Code.DEADLINE_EXCEEDED, e.status().code());
    assertEquals(Value.i64(5), pc.call(fn("add_i64"), Value.i64(2), Value.i64(3)));
  }

  @Test
  void anIntBeyond64BitsIsOutOfRange() {
    Status s = failure(fn("big_int"));
    assertEquals(Status.Code.OUT_OF_RANGE, s.code());
  }

  @Test
  void anExceptionWhoseMessageIsNotUtf8ArrivesRepaired() {
    Status s = failure(fn("bad_message"));
    assertEquals(badMessageCode(), s.code());
    assertTrue(s.description().startsWith(badMessagePrefix()), s.description());
    assertTrue(s.description().contains("\ufffd"), s.description());
    assertTrue(
        s.frames().stream().anyMatch(f -> f.language().equals(language())), s.frames().toString());
  }

  @Test
  void anErrorCarriesTheWorkersFramesAndTheCallFrame() {
    Status s = failure(fn("checked_div"), Value.i64(1), Value.i64(0));
    assertEquals(Status.Code.INVALID_ARGUMENT, s.code());
    assertTrue(s.frames().getFirst().language().equals(language()), s.frames().toString());
    assertTrue(s.frames().getFirst().file().endsWith(sourceFile()), s.frames().toString());
    assertTrue(
        s.frames().stream()
            .anyMatch(f -> f.function().equals(fn("checked_div") + "@1 [" + bridge() + "]")));
  }

  @Test
  void valuesNestedDeeperThanTheLimitAreRefused() {
    Value v = Value.i64(1);
    for (int i = 0; i < 40; i++) {
      v = Value.list(v);
    }
    Value deep = v;
    StatusException e =
        assertThrows(StatusException.class, () -> pc.call(fn("apply"), deep, Value.i64(1)));
    assertEquals(Status.Code.INVALID_ARGUMENT, e.status().code());
    assertEquals(Value.i64(2), pc.call(fn("add_i64"), Value.i64(1), Value.i64(1)));
  }

  @Test
  void nanAndInfinitiesCrossUnchanged() {
    assertEquals(
        Value.f64(Double.NEGATIVE_INFINITY),
        pc.call(fn("mul_f64"), Value.f64(Double.POSITIVE_INFINITY), Value.f64(-1)));
    Value nan = pc.call(fn("mul_f64"), Value.f64(Double.NaN), Value.f64(1));
    assertTrue(Double.isNaN(((Value.Float) nan).value()));
  }

  @Test
  void anEightMegabyteArrayGoesToPythonAndBack() {
    double[] xs = new double[1 << 20];
    for (int i = 0; i < xs.length; i++) {
      xs[i] = i;
    }
    Value.NdArray out = (Value.NdArray) pc.call(fn("double_all"), Value.NdArray.copyOf(xs));
    assertEquals(xs.length, out.elementCount());
    assertEquals(2.0 * 12345, out.elementAsDouble(12345));
  }

  /**
   * Big arrays travel apart from the frame around them (a direct buffer each way on the Java side;
   * in the Python worker, the buffer the frame was read into, and the array's own memory back):
   * every dtype, odd sizes (not a multiple of a read or of a page), empty and multi-dimensional
   * arrays come back byte for byte.
   */
  @Test
  void arraysOfEveryDtypeAndOddSizesRoundTripExactly() {
    for (Type.Scalar dtype : Type.Scalar.values()) {
      if (!dtype.isDtype()) {
        continue;
      }
      long big = (256 * 1024) / dtype.byteSize() + 3; // above the direct-buffer threshold
      List<long[]> shapes =
          new ArrayList<>(
              List.of(
                  new long[] {0},
                  new long[] {1},
                  new long[] {big},
                  new long[] {3, 40_001},
                  new long[] {2, 0, 5}));
      if (dtype == Type.Scalar.F64 || dtype == Type.Scalar.U8) {
        shapes.add(new long[] {(8L << 20) / dtype.byteSize()}); // 8 MiB each way
      }
      for (long[] shape : shapes) {
        Value.NdArray a = Value.NdArray.allocate(dtype, shape);
        MemorySegment seg = a.data();
        for (long i = 0; i < seg.byteSize(); i++) {
          byte b = (byte) (i * 31 + 7 + (i >>> 9));
          seg.set(ValueLayout.JAVA_BYTE, i, dtype == Type.Scalar.BOOL ? (byte) (b & 1) : b);
        }
        String what = dtype + java.util.Arrays.toString(shape);
        Value.NdArray out = (Value.NdArray) pc.call(fn("echo_any"), a);
        assertEquals(dtype, out.dtype(), what);
        assertArrayEquals(shape, out.shape(), what);
        assertEquals(-1, seg.mismatch(out.data()), what);
      }
    }
  }

  @Test
  void aCallbackCrossesFromJavaToPythonAndBack() {
    pc.jvm().register("java.triple(x: i64) -> i64", (LongUnaryOperator) x -> 3 * x);
    assertEquals(Value.i64(21), pc.call(fn("call_back"), Value.str("java.triple"), Value.i64(7)));
  }

  @Test
  void tooManyCallsInFlightIsResourceExhausted() throws Exception {
    List<CompletableFuture<Value>> hold = new ArrayList<>();
    for (int i = 0; i < 16; i++) {
      hold.add(pc.callAsync(fn("block"), Value.i64(1_500)));
    }
    Thread.sleep(300);
    Status s = failure(fn("noop"));
    assertEquals(Status.Code.RESOURCE_EXHAUSTED, s.code());
    assertTrue(s.description().contains("8 calls in flight"), s.description());
    hold.forEach(CompletableFuture::join);
    assertEquals(Value.NULL, pc.call(fn("noop")));
  }

  @Test
  void aBatchWithinTheInFlightBoundRunsOnTheWorkers() {
    List<CallRequest> calls = new ArrayList<>();
    for (int i = 0; i < 16; i++) {
      calls.add(CallRequest.of(fn("add_i64"), Value.i64(i), Value.i64(1)));
    }
    List<CallResult> rs = pc.batch(calls);
    for (int i = 0; i < 16; i++) {
      assertEquals(Value.i64(i + 1), rs.get(i).value());
    }
  }

  @Test
  void aBatchPastTheInFlightBoundFailsOnlyTheCallsThatFoundNoRoom() {
    List<CallRequest> calls = new ArrayList<>();
    for (int i = 0; i < 200; i++) {
      calls.add(CallRequest.of(fn("add_i64"), Value.i64(i), Value.i64(1)));
    }
    List<CallResult> rs = pc.batch(calls);
    int ok = 0;
    for (int i = 0; i < 200; i++) {
      CallResult r = rs.get(i);
      if (r.isOk()) {
        assertEquals(Value.i64(i + 1), r.value());
        ok++;
      } else {
        assertEquals(Status.Code.RESOURCE_EXHAUSTED, r.status().code(), r.status().toString());
      }
    }
    assertTrue(ok > 0);
  }

  @Test
  void aBatchTravelsSplitAcrossBothProcessesInOrderAndABadCallFailsAlone() {
    List<CallRequest> pids = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      pids.add(CallRequest.of(fn("pid")));
    }
    Set<Value> seen = new HashSet<>();
    for (CallResult r : pc.batch(pids)) {
      seen.add(r.valueOrThrow());
    }
    assertEquals(2, seen.size(), "one Batch frame per process: " + seen);
    List<CallRequest> divs =
        List.of(
            CallRequest.of(fn("checked_div"), Value.i64(6), Value.i64(3)),
            CallRequest.of(fn("checked_div"), Value.i64(1), Value.i64(0)),
            CallRequest.of(fn("checked_div"), Value.i64(9), Value.i64(3)),
            CallRequest.of(fn("checked_div"), Value.str("nine"), Value.i64(3)),
            CallRequest.of(fn("checked_div"), Value.i64(8), Value.i64(2)));
    List<CallResult> rs = pc.batch(divs);
    assertEquals(Value.i64(2), rs.get(0).valueOrThrow());
    assertTrue(!rs.get(1).isOk(), rs.get(1).toString());
    assertTrue(rs.get(1).status().description().contains("division by zero"));
    assertEquals(Value.i64(3), rs.get(2).valueOrThrow());
    assertEquals(Status.Code.INVALID_ARGUMENT, rs.get(3).status().code());
    assertEquals(Value.i64(4), rs.get(4).valueOrThrow());
  }

  @Test
  void aHandshakeWithAWrongSecretIsRefusedAndTheNodeKeepsServing() throws Exception {
    try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
      ch.connect(UnixDomainSocketAddress.of(workers.socketPath()));
      StatusException e =
          assertThrows(
              StatusException.class,
              () -> Handshake.connect(ch, PeerCredentials.worker("py-0", new byte[32])));
      assertEquals(Status.Code.UNAUTHENTICATED, e.status().code());
    }
    assertEquals(Value.i64(2), pc.call(fn("add_i64"), Value.i64(1), Value.i64(1)));
  }

  @Test
  void garbageOnTheSocketIsDroppedAndTheNodeKeepsServing() throws Exception {
    try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
      ch.connect(UnixDomainSocketAddress.of(workers.socketPath()));
      ch.write(ByteBuffer.wrap(new byte[] {0x7f, (byte) 0xff, (byte) 0xff, (byte) 0xff, 1, 2, 3}));
      ByteBuffer buf = ByteBuffer.allocate(4096);
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
      int n = 0;
      while (n >= 0 && System.nanoTime() < deadline) {
        buf.clear();
        n = ch.read(buf); // the hub closes the connection
      }
      assertEquals(-1, n);
    }
    assertEquals(Value.i64(2), pc.call(fn("add_i64"), Value.i64(1), Value.i64(1)));
  }

  @Test
  void aClientCallsAnyFunctionOfTheNodeThroughTheSocket() throws Exception {
    pc.jvm().register("java.twice(x: i64) -> i64", (LongUnaryOperator) x -> 2 * x);
    try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
      ch.connect(UnixDomainSocketAddress.of(workers.socketPath()));
      Handshake.Welcomed w = Handshake.connect(ch, PeerCredentials.client());
      Connection c = Connection.builder(ch).reader(w.reader()).limits(w.limits()).start();
      assertEquals(
          Value.i64(42), c.call("java.twice", List.of(Value.i64(21))).get(10, TimeUnit.SECONDS));
      assertEquals(
          Value.i64(6),
          c.call(fn("add_i64"), List.of(Value.i64(3), Value.i64(3))).get(10, TimeUnit.SECONDS));
      c.close();
    }
  }

  @Test
  void aWorkerThatFailsOnImportIsRestartedWithBackoffAndTheNodeKeepsServing() throws Exception {
    Path dir = Files.createTempDirectory("polycall-bad");
    workers.add(brokenOnImport("bad", dir));
    // Waits for the restart rather than sleeping a fixed time: on a loaded machine the first
    // process alone can take more than a second to start and fail (this flaked in CI-like runs).
    long until = System.nanoTime() + 30_000_000_000L;
    while (workers.spawnCount("bad") < 2 && System.nanoTime() < until) {
      Thread.sleep(50);
    }
    assertTrue(workers.spawnCount("bad") >= 2, "the broken worker was not restarted");
    assertEquals(Value.i64(2), pc.call(fn("add_i64"), Value.i64(1), Value.i64(1)));
  }

  @Test
  void tenThousandCallsWithCrashesInBetweenLeakNoFilesOrProcesses() throws Exception {
    for (int i = 0; i < 200; i++) {
      pc.call(fn("noop"));
    }
    long fdsBefore = openFds();
    long childrenBefore = ProcessHandle.current().descendants().count();
    for (int round = 0; round < 5; round++) {
      for (int i = 0; i < 2_000; i++) {
        pc.call(fn("noop"));
      }
      assertThrows(StatusException.class, () -> pc.call(fn("crash"), Value.i64(3)));
      awaitServing();
    }
    awaitServing();
    // Let the restarted processes settle: each round's crashed worker must be gone, its
    // replacement up, and nothing else left behind.
    long childrenAfter = -1;
    for (int i = 0; i < 100 && childrenAfter != childrenBefore; i++) {
      Thread.sleep(100);
      childrenAfter = ProcessHandle.current().descendants().count();
    }
    long fdsAfter = openFds();
    assertTrue(
        fdsAfter <= fdsBefore + 8, "file descriptors grew from " + fdsBefore + " to " + fdsAfter);
    assertEquals(childrenBefore, childrenAfter, "worker processes leaked");
    assertNotEquals(0, childrenAfter);
  }

  private static long openFds() throws IOException {
    try (var s = Files.list(Path.of("/proc/self/fd"))) {
      return s.count();
    }
  }
}
