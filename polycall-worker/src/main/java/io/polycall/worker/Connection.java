package io.polycall.worker;

import io.polycall.Status;
import io.polycall.StatusException;
import io.polycall.Value;
import io.polycall.spi.BatchInvoker.Outcome;
import io.polycall.wire.FrameCodec;
import io.polycall.wire.FrameReader;
import io.polycall.wire.ProtocolException;
import io.polycall.wire.StatusCodec;
import io.polycall.wire.ValueCodec;
import io.polycall.wire.WireLimits;
import io.polycall.wire.proto.Batch;
import io.polycall.wire.proto.BatchResult;
import io.polycall.wire.proto.Call;
import io.polycall.wire.proto.Cancel;
import io.polycall.wire.proto.Frame;
import io.polycall.wire.proto.GoAway;
import io.polycall.wire.proto.Ping;
import io.polycall.wire.proto.Pong;
import io.polycall.wire.proto.Result;
import io.polycall.wire.proto.Wake;
import io.polycall.worker.internal.SharedRings;
import io.polycall.worker.internal.ShmRing;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One PolyCall connection after its handshake: frames in both directions over a Unix-domain stream
 * socket, many calls in flight each way, multiplexed by {@code call_id}.
 *
 * <pre>
 *                 +-------------------- Connection --------------------+
 *   call(...) --> | encode -> socket, or queue --> writer thread ----> | --> peer
 *   (any thread)  |                                                    |
 *   handler   <-- | handler thread (virtual, one per incoming call)    |
 *                 |   ^                                                |
 *                 |   +-- reader thread <-- FrameReader <------ socket | <-- peer
 *                 +----------------------------------------------------+
 * </pre>
 *
 * <p>Each frame on the socket is a 4-byte big-endian length and a protobuf {@code Frame} (see
 * {@link io.polycall.wire.FrameReader} and {@code spec/WIRE.md}).
 *
 * <h2>Threading</h2>
 *
 * <ul>
 *   <li>Thread-safe: every public method may be called from any thread.
 *   <li>One <b>reader</b> (platform, daemon) thread reads frames and dispatches them; it never runs
 *       user code except {@link ConnectionListener#onAnnounce}/{@code onWithdraw}/{@code onGoAway}
 *       and the completion of futures (see below). A platform thread waiting in {@link
 *       #callAndAwait} reads and dispatches frames itself while no other thread reads (so its
 *       result reaches it without a hand-off between threads); meanwhile the reader thread stands
 *       aside, for at most {@value #LINGER_NANOS} ns after such a caller stopped, unless a call,
 *       batch or ping that nobody reads for needs it. Frames are read and dispatched by one thread
 *       at a time, in order.
 *   <li>With shared-memory rings ({@link Builder#rings}), frames that may use them go on the
 *       outgoing ring while the peer polls it. A platform thread in {@link #callAndAwait} polls the
 *       incoming ring for its result for up to {@value #SPIN_NANOS} ns (one such thread at a time,
 *       so never more than one spinning core), dispatching whatever arrives there; frames from the
 *       ring may thus be dispatched beside the socket's, but a socket frame is dispatched only
 *       after every ring frame sent before it (WIRE.md).
 *   <li>Frames leave in the order they were sent. A sending thread writes its frame itself when
 *       nothing is queued ahead of it and the socket takes it whole; the socket is non-blocking, so
 *       such a write never waits, and interrupting the thread cannot close the socket (only
 *       blocking channel operations are interruptible). Otherwise the frame is queued for one
 *       <b>writer</b> (platform, daemon) thread, which waits for the socket to drain. The methods
 *       that send ({@link #call}, {@link #ping}, ...) do not block.
 *   <li>Each incoming call runs on its own virtual thread, so a handler may block and may call back
 *       over this connection: nested and re-entrant calls work.
 *   <li>Futures returned by {@link #call}, {@link #batch} and {@link #ping} are completed on the
 *       thread that reads (the reader thread or a caller in {@link #callAndAwait}); non-async
 *       dependent stages ({@code thenApply}, ...) run there too and must not block. Use the {@code
 *       *Async} variants, or {@code get()}/{@code join()} on another thread, for anything that
 *       waits.
 * </ul>
 *
 * <h2>Lifecycle</h2>
 *
 * <p>Running until {@link #shutdown()} (sends {@code GoAway{OK}}, refuses new calls, closes when
 * the calls in flight both ways have finished), {@link #shutdownNow()}/{@link #close()} (sends
 * {@code GoAway{UNAVAILABLE}} and closes at once), a {@code GoAway} from the peer (drain if OK,
 * close at once otherwise), the peer closing the socket, or a protocol error (sends {@code
 * GoAway{INVALID_ARGUMENT}} naming the error, then closes). Closing fails every call still in
 * flight with {@code UNAVAILABLE} and interrupts running handlers. {@link #closeFuture()} completes
 * with the reason once the socket is closed.
 *
 * {@snippet :
 * Connection conn = Connection.builder(channel)
 *     .reader(accepted.reader())          // from the handshake, with any bytes it read ahead
 *     .limits(limits)
 *     .handler(call -> Value.f64(Math.cos(((Value.Float) call.args().get(0)).value())))
 *     .start();
 * Value v = conn.call("stats.mean", List.of(xs)).get();
 * }
 */
public final class Connection implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(Connection.class.getName());

  /** How long last words (a GoAway) may take to leave before the socket is closed anyway. */
  private static final long FLUSH_GRACE_MILLIS = 2_000;

  /** Requested socket send buffer. */
  private static final int SEND_BUFFER_BYTES = 4 << 20;

  /**
   * How long the reader thread stands aside after a caller read for itself (and how often it checks
   * while callers keep reading): frames that no waiting caller reads (a call from the peer that is
   * not nested in one of ours) wait at most this long.
   */
  static final long LINGER_NANOS = 500_000;

  /**
   * Frames at least this big (and too big for the ring) are serialized into a direct buffer, which
   * the socket reads from: an 8 MB ndarray is then copied once on its way out (into that buffer),
   * where a heap array was copied into it and then into a temporary direct buffer by every write
   * (what remained of it each time), each in a freshly zeroed array.
   */
  private static final int DIRECT_FRAME_BYTES = 256 * 1024;

  /**
   * Arguments of native memory at least this big are sent from that memory by a caller that waits
   * for its result (see {@link BorrowedCall}): not even copied into the frame's direct buffer.
   */
  private static final long LEND_BYTES = 256 * 1024;

  /**
   * The largest direct buffer a connection keeps for its next big frame: a node may hold many
   * connections, and direct memory is scarcer than heap (bigger frames get a buffer each).
   */
  private static final int SPARE_DIRECT_MAX_BYTES = 16 << 20;

  /** Buffers the writer sends in one gathering write. */
  private static final int GATHER = 64;

  /**
   * How long a platform thread waiting in {@link #callAndAwait} polls the incoming shared-memory
   * ring before it blocks on the socket. A no-op round trip to a Python worker over the rings takes
   * about 10-20 us, so this catches most quick results without the wake-up of a blocked thread
   * (several us); past it, a slow function costs no more CPU than this per call, which matters on a
   * machine of 2 cores where the peer needs the other one.
   */
  static final long SPIN_NANOS = 50_000;

  /**
   * Polls in a row that ended with nothing on the ring, after which callers stop polling (the peer
   * does not use the rings, or its functions are slow) except for one call in {@link
   * #SPIN_PROBE_EVERY}, which finds out whether that changed.
   */
  private static final int SPIN_MISSES = 8;

  private static final int SPIN_PROBE_EVERY = 64;

  /** Polls of the ring with a pause instruction (a few us) before polls yield the core. */
  private static final int SPIN_PAUSES = 64;

  private static final byte[] WAKE =
      FrameCodec.encode(Frame.newBuilder().setWake(Wake.getDefaultInstance()).build());

  private final String name;
  private final SocketChannel channel;
  private final FrameReader reader;
  private final WireLimits limits;
  private final ValueCodec codec;
  // For values serialized at once on the thread that encodes them (a call's arguments, a lone
  // call's result): ndarray data goes from the caller's memory straight into the frame.
  private final ValueCodec sendCodec;
  private final CallHandler handler;
  private final ConnectionListener listener;

  private final AtomicLong nextId = new AtomicLong(1);
  private final ConcurrentHashMap<Long, CompletableFuture<Value>> outgoing =
      new ConcurrentHashMap<>();
  private final ConcurrentHashMap<Long, CompletableFuture<List<Outcome>>> outgoingBatches =
      new ConcurrentHashMap<>();
  private final ConcurrentHashMap<Long, CompletableFuture<Void>> pings = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<Long, Running> incoming = new ConcurrentHashMap<>();
  private final Set<Running> incomingInBatches = ConcurrentHashMap.newKeySet();
  private final AtomicInteger incomingBatches = new AtomicInteger();

  // Writing. The channel is non-blocking once started: a thread with a frame to send writes it
  // itself when nothing is queued ahead of it (no hand-off to the writer thread, and a
  // non-blocking write is not interruptible, so interrupting that thread cannot close the
  // socket); what the socket does not take at once is queued, in order, for the writer thread,
  // which waits for the socket to drain.
  private final ReentrantLock writeLock = new ReentrantLock();
  private final Condition writable = writeLock.newCondition();
  private final ArrayDeque<ByteBuffer> pending = new ArrayDeque<>(); // guarded by writeLock
  // A direct buffer of a big frame, written out, kept for the next one (its pages stay mapped:
  // fresh direct memory is zeroed and faults in page by page, about 2 ms per 8 MB).
  private final AtomicReference<ByteBuffer> spareDirect = new AtomicReference<>();
  private boolean closeQueued; // guarded by writeLock: close after what is pending
  private IOException writeFailure; // guarded by writeLock
  private final Selector readSelector;
  private final Selector writeSelector;
  private final AtomicBoolean closing = new AtomicBoolean();
  private volatile boolean draining; // we sent GoAway{OK}
  private volatile boolean peerGoingAway; // the peer sent GoAway{OK}
  private volatile Status closeReason;
  private final CompletableFuture<Status> closed = new CompletableFuture<>();

  // Reading. Whoever holds readRole reads and dispatches frames, one at a time and in order: the
  // reader thread, or a platform thread waiting in callAndAwait for its own result (it then
  // reads that result itself: no wake-up of the reader thread and no hand-off back). The
  // reader thread stands aside ("lingers") while callers have led recently and nobody else
  // needs it, so that the next such caller finds the role free; it checks again every
  // LINGER_NANOS, and is woken at once when someone needs it (see needReader()).
  private final ReentrantLock readRole = new ReentrantLock();
  private volatile Thread readerThread;
  private volatile Thread writerThread;
  private volatile Thread leader; // a caller holding readRole, or null
  private volatile long lastLeadNanos; // when a caller last held readRole
  private volatile boolean wantLead; // a caller found the role taken by the reader thread
  private volatile boolean readerNeeded; // someone waits on a frame that no caller will read
  private final AtomicInteger waitingUnled = new AtomicInteger(); // callAndAwait, not leading

  // Shared-memory rings (WIRE.md, shm-rings/1), or null. Frames that may use them go on ringOut
  // when the peer polls it (else on the socket). ringIn is consumed by whoever holds ringRole:
  // a platform thread in callAndAwait, which polls it for up to spinNanos after sending its
  // call (whether or not it also reads the socket: the reader thread may stay blocked on the
  // socket meanwhile); or the thread holding readRole, before it dispatches any socket frame and
  // before it blocks on the socket. Lock order: readRole, then ringRole. Whoever gives up
  // ringRole after polling puts the ring to sleep first (awake = 0, fence, look again), so a
  // frame published later comes with a Wake on the socket; a readRole holder that finds
  // ringRole taken may block on the socket at once, since the holder will do just that.
  private final SharedRings rings;
  private final ShmRing ringOut;
  private final ShmRing ringIn;
  private final ReentrantLock ringOutLock = new ReentrantLock();
  private final ReentrantLock ringRole = new ReentrantLock();
  private volatile boolean ringWanted; // the socket reader waits for ringRole: stop polling
  private final FrameReader ringReader;
  private boolean ringsClosed; // guarded by ringRole and ringOutLock (both held to set it)
  private volatile boolean peerSeen; // a frame from the peer arrived: it has mapped the file
  private int spinMisses; // guarded by ringRole
  private int spinProbe; // guarded by ringRole
  private final long spinNanos;
  private final LongAdder ringFramesSent = new LongAdder();
  private final LongAdder ringFramesReceived = new LongAdder();
  private final LongAdder wakesSent = new LongAdder();

  private Connection(Builder b) throws IOException {
    this.name = b.name;
    this.channel = b.channel;
    channel.configureBlocking(false);
    try {
      // A bigger send buffer (the kernel caps it at net.core.wmem_max): an 8 MB array then
      // crosses in a few pieces instead of ~40 of the default ~200 KB, each a wake-up.
      channel.setOption(java.net.StandardSocketOptions.SO_SNDBUF, SEND_BUFFER_BYTES);
    } catch (IOException | UnsupportedOperationException e) {
      LOG.log(System.Logger.Level.DEBUG, "cannot raise the send buffer of " + b.name, e);
    }
    this.readSelector = Selector.open();
    this.writeSelector = Selector.open();
    channel.register(readSelector, SelectionKey.OP_READ);
    channel.register(writeSelector, SelectionKey.OP_WRITE);
    this.limits = b.limits;
    this.reader = b.reader != null ? b.reader : FrameReader.of(b.limits);
    this.codec = ValueCodec.of(b.limits);
    this.sendCodec = codec.aliasingNdArrays();
    this.handler = b.handler;
    this.listener = b.listener;
    this.rings = b.rings;
    this.ringOut = rings == null ? null : rings.outgoing();
    this.ringIn = rings == null ? null : rings.incoming();
    this.ringReader = rings == null ? null : FrameReader.of(b.limits);
    this.spinNanos = b.spinNanos;
  }

  /** A builder for a connection over {@code channel}, a connected blocking socket channel. */
  public static Builder builder(SocketChannel channel) {
    return new Builder(channel);
  }

  /** Settings of a connection; {@link #start()} makes it. Not thread-safe. */
  public static final class Builder {
    private final SocketChannel channel;
    private String name;
    private WireLimits limits = WireLimits.DEFAULT;
    private FrameReader reader;
    private CallHandler handler = CallHandler.none();
    private ConnectionListener listener = ConnectionListener.none();
    private SharedRings rings;
    // -Dpolycall.rings.spinMicros: for benchmarks that compare, and tests that need a caller
    // surely polling when its result is sent.
    private long spinNanos = Long.getLong("polycall.rings.spinMicros", SPIN_NANOS / 1000) * 1000;

    private Builder(SocketChannel channel) {
      this.channel = Objects.requireNonNull(channel, "channel");
      this.name = "conn-" + Integer.toHexString(System.identityHashCode(channel));
    }

    /** A name for thread names, log lines and error messages (e.g. the worker id). */
    public Builder name(String name) {
      this.name = Objects.requireNonNull(name, "name");
      return this;
    }

    /** The limits of both directions, as the {@code Welcome} announced them. */
    public Builder limits(WireLimits limits) {
      this.limits = Objects.requireNonNull(limits, "limits");
      return this;
    }

    /**
     * The reader the handshake used. Pass it on: it may hold frames the peer sent right after its
     * part of the handshake (a worker's {@code Announce}). Its limits are the ones it was made
     * with.
     */
    public Builder reader(FrameReader reader) {
      this.reader = Objects.requireNonNull(reader, "reader");
      return this;
    }

    /** Runs incoming calls; by default every incoming call is NOT_FOUND. */
    public Builder handler(CallHandler handler) {
      this.handler = Objects.requireNonNull(handler, "handler");
      return this;
    }

    public Builder listener(ConnectionListener listener) {
      this.listener = Objects.requireNonNull(listener, "listener");
      return this;
    }

    /**
     * Shared-memory rings beside the socket, as the handshake set them up ({@link
     * Handshake.Accepted#rings()}, {@link Handshake.Welcomed#rings()}); the connection owns them
     * from now on and unmaps them when it closes. Null (the default) for the socket only.
     */
    public Builder rings(SharedRings rings) {
      this.rings = rings;
      return this;
    }

    /**
     * How long callers poll the ring ({@link #SPIN_NANOS} by default). Tests set it long, so that a
     * caller is surely polling when its result is sent.
     */
    Builder spinNanos(long nanos) {
      this.spinNanos = nanos;
      return this;
    }

    /** Starts the reader and writer threads and returns the running connection. */
    public Connection start() {
      if (!channel.isBlocking()) {
        throw new IllegalArgumentException("the channel must be in blocking mode");
      }
      if (!channel.isConnected()) {
        throw new IllegalArgumentException("the channel is not connected");
      }
      Connection c;
      try {
        c = new Connection(this);
      } catch (IOException e) {
        throw new java.io.UncheckedIOException("cannot start connection " + name, e);
      }
      // Platform threads: a virtual thread blocked on the socket parks and is woken through the
      // JDK's poller, a hand-off per piece of a big frame (the socket buffer holds ~200 KB, so an
      // 8 MB array is 40 of them each way); a platform thread waits in the kernel instead.
      c.readerThread =
          Thread.ofPlatform().daemon().name("polycall-" + name + "-reader").unstarted(c::readLoop);
      c.readerThread.start();
      c.writerThread =
          Thread.ofPlatform().daemon().name("polycall-" + name + "-writer").start(c::writeLoop);
      return c;
    }
  }

  /** The name given at build time. */
  public String name() {
    return name;
  }

  /** The limits this connection enforces and respects. */
  public WireLimits limits() {
    return limits;
  }

  // ---- outgoing -------------------------------------------------------------------------------

  /** {@link #call(String, List, long, Map)} with no deadline and no metadata. */
  public CompletableFuture<Value> call(String function, List<Value> args) {
    return call(function, args, 0, Map.of());
  }

  /**
   * Calls {@code function} on the peer. Does not block.
   *
   * <p>The future completes with the result value, or exceptionally with a {@link StatusException}:
   * the callee's status; DEADLINE_EXCEEDED when {@code timeoutNanos} passes first (a {@code Cancel}
   * is then sent); UNAVAILABLE when the connection closes or is going away; RESOURCE_EXHAUSTED when
   * {@link WireLimits#maxInFlight()} calls are already out or the frame would exceed the frame size
   * limit; INVALID_ARGUMENT when the result does not decode. Cancelling the future sends {@code
   * Cancel} to the peer.
   *
   * @param timeoutNanos the deadline, relative; 0 for none
   */
  public CompletableFuture<Value> call(
      String function, List<Value> args, long timeoutNanos, Map<String, String> metadata) {
    CompletableFuture<Value> f = sendCall(function, args, timeoutNanos, metadata, null);
    needReader();
    return f;
  }

  /**
   * {@link #call(String, List, long, Map)} and waits for the result. A platform thread reads the
   * connection itself while it waits when no other thread is reading (its result then costs no
   * hand-off from the reader thread); it dispatches whatever frames arrive meanwhile, as the reader
   * thread would. Blocks.
   *
   * @return the result value
   * @throws ExecutionException with the {@link StatusException} the future of {@link #call} would
   *     fail with
   * @throws InterruptedException the thread was interrupted; the call is then cancelled (a {@code
   *     Cancel} goes to the peer)
   */
  public Value callAndAwait(
      String function, List<Value> args, long timeoutNanos, Map<String, String> metadata)
      throws InterruptedException, ExecutionException {
    Thread me = Thread.currentThread();
    CompletableFuture<Value> f;
    // Big arrays of this caller's are written from its memory while it waits (BorrowedCall);
    // whatever of them is still unwritten when it stops waiting is copied (giveBack).
    List<ByteBuffer> lent = new ArrayList<>(2);
    if (ringIn != null
        && !me.isVirtual()
        && me != readerThread
        && !me.isInterrupted()
        && ringRole.tryLock()) {
      // Say "awake" before sending: a quick peer then puts its result on the ring, where this
      // thread polls for it, and nobody makes a system call or wakes a thread for it.
      try {
        boolean spin =
            !ringsClosed && (spinMisses < SPIN_MISSES || ++spinProbe % SPIN_PROBE_EVERY == 0);
        if (spin) {
          ringIn.wake();
        }
        f = sendCall(function, args, timeoutNanos, metadata, lent);
        if (spin) {
          spinRing(f, me);
        }
      } finally {
        settleRing();
        ringRole.unlock();
      }
    } else {
      f = sendCall(function, args, timeoutNanos, metadata, lent);
    }
    try {
      return await(f);
    } catch (InterruptedException e) {
      f.cancel(true);
      throw e;
    } finally {
      if (!lent.isEmpty()) {
        giveBack(lent);
      }
    }
  }

  private <T> T await(CompletableFuture<T> f) throws InterruptedException, ExecutionException {
    Thread me = Thread.currentThread();
    if (me.isVirtual() || me == readerThread) {
      // A virtual thread blocked in a selector would pin its carrier; the reader thread (a
      // listener's dependent stage) must not wait on itself.
      needReader();
      return f.get();
    }
    if (!f.isDone() && !me.isInterrupted() && readRole.tryLock()) {
      boolean handOff;
      try {
        lead(f, me);
        // Frames already read, or a frame half read, or calls that no caller reads for: the
        // reader thread takes over now.
        handOff =
            !f.isDone()
                || reader.hasPartialFrame()
                || reader.hasReadyFrames()
                || waitingUnled.get() > 0
                || othersWaiting();
      } finally {
        stopLeading();
      }
      if (handOff) {
        readerNeeded = true;
        LockSupport.unpark(readerThread);
      }
    }
    if (!f.isDone()) {
      wantLead = true;
      waitingUnled.incrementAndGet();
      try {
        needReader();
        return f.get();
      } finally {
        waitingUnled.decrementAndGet();
      }
    }
    return f.get();
  }

  /** Gives up readRole after leading. */
  private void stopLeading() {
    if (readRole.getHoldCount() == 1) {
      leader = null;
    }
    lastLeadNanos = System.nanoTime();
    readRole.unlock();
  }

  /** Reads and dispatches frames, holding readRole, until {@code f} is done. */
  private void lead(CompletableFuture<?> f, Thread me) {
    leader = me;
    // A future completed by another thread (deadline, cancel, close) wakes the selector, so
    // that the leader stops waiting for frames.
    f.whenComplete(
        (v, t) -> {
          if (leader == me && Thread.currentThread() != me) {
            readSelector.wakeup();
          }
        });
    LeaderView view = new LeaderView(f, me);
    try {
      while (!f.isDone() && readOne(view)) {}
    } catch (StepDown e) {
      // done, or interrupted: the reader keeps any partial frame for the next one to read
    }
  }

  /**
   * Polls the incoming ring, dispatching what arrives, until {@code f} is done, spinNanos have
   * passed, the thread is interrupted, or the socket reader needs the ring. Holds ringRole.
   */
  private void spinRing(CompletableFuture<?> f, Thread me) {
    long until = System.nanoTime() + spinNanos;
    boolean got = false;
    try {
      for (int i = 1; !f.isDone() && !ringWanted && !ringsClosed && !closing.get(); i++) {
        if (ringIn.hasRecords()) {
          drainRing();
          ringIn.wake(); // a listener's nested call may have put it to sleep
          got = true;
          continue;
        }
        // nanoTime costs about as much as a few pauses: look at the clock every 16th round.
        if ((i & 15) == 0 && (System.nanoTime() - until >= 0 || me.isInterrupted())) {
          break;
        }
        if (i < SPIN_PAUSES) {
          Thread.onSpinWait();
        } else {
          // With more runnable threads than cores (the peer, our handlers, other processes),
          // a pure spin would hold a core that the peer needs to produce the very result we
          // wait for: give it up each round; it costs a system call, not a wake-up.
          Thread.yield();
        }
      }
    } catch (ProtocolException e) {
      protocolError(e.status());
    } catch (RuntimeException e) {
      readFailed(e);
    }
    spinMisses = got ? 0 : spinMisses + 1;
  }

  /**
   * Dispatches the frames on the incoming ring, up to those there when it starts (so it ends even
   * while the peer keeps publishing). Holds ringRole.
   *
   * @throws ProtocolException a malformed record, or a frame of a kind that must use the socket
   */
  private void drainRing() throws ProtocolException {
    if (ringsClosed) {
      return;
    }
    long end = ringIn.tail();
    byte[] record;
    while (ringIn.head() - end < 0 && (record = ringIn.poll()) != null) {
      ringFramesReceived.increment();
      sawPeer();
      ringReader.feed(ByteBuffer.wrap(record), ringSink);
      Frame f = ringFrame;
      ringFrame = null;
      if (!mayUseRing(f)) {
        throw ProtocolException.invalid(
            "a " + f.getBodyCase() + " frame on the shared-memory ring; it must use the socket");
      }
      dispatch(f);
      if (closing.get()) {
        return;
      }
    }
  }

  private Frame ringFrame; // guarded by ringRole: the frame drainRing just parsed
  private final java.util.function.Consumer<Frame> ringSink = f -> ringFrame = f;

  /**
   * Before blocking on the socket (holding readRole): says "asleep" on the incoming ring, then
   * looks once more. True when frames had arrived meanwhile and were dispatched: look at the socket
   * again before blocking. False when a caller polls the ring: it puts the ring to sleep when it
   * stops, and whatever comes later comes with a Wake.
   */
  private boolean ringSleep() throws ProtocolException {
    if (ringIn == null || !ringRole.tryLock()) {
      return false;
    }
    try {
      if (ringsClosed || !ringIn.sleep()) {
        return false;
      }
      drainRing();
      return true;
    } finally {
      ringRole.unlock();
    }
  }

  /**
   * Puts the incoming ring to sleep before giving up ringRole, dispatching what raced in. Ends: the
   * peer publishes only after seeing awake = 1, and awake stays 0 throughout.
   */
  private void settleRing() {
    try {
      while (!ringsClosed && ringIn.sleep()) {
        drainRing();
      }
    } catch (ProtocolException e) {
      protocolError(e.status());
    } catch (RuntimeException e) {
      readFailed(e);
    }
  }

  /** Takes ringRole for the socket reader, asking a polling caller to stop. */
  private void lockRingRole() {
    if (!ringRole.tryLock()) {
      ringWanted = true;
      ringRole.lock();
      ringWanted = false;
    }
  }

  /** The peer sent its first frame after the Welcome: it has mapped the ring file. */
  private void sawPeer() {
    if (!peerSeen) {
      peerSeen = true;
      rings.unlink();
    }
  }

  /** Unmaps the rings, once no thread can touch them (called when the reader thread ends). */
  private void closeRings() {
    if (rings == null) {
      return;
    }
    lockRingRole();
    ringOutLock.lock();
    try {
      if (!ringsClosed) {
        ringsClosed = true;
        rings.close();
      }
    } finally {
      ringOutLock.unlock();
      ringRole.unlock();
    }
  }

  private static boolean mayUseRing(Frame f) {
    return switch (f.getBodyCase()) {
      case CALL, RESULT, BATCH, BATCH_RESULT, PING, PONG -> true;
      default -> false;
    };
  }

  /** How many frames went through the shared-memory rings, for tests and benchmarks. */
  public record RingStats(boolean enabled, long framesSent, long framesReceived, long wakesSent) {}

  /** What the shared-memory rings carried so far (all zero and disabled without rings). */
  public RingStats ringStats() {
    return new RingStats(
        rings != null, ringFramesSent.sum(), ringFramesReceived.sum(), wakesSent.sum());
  }

  /** Whether calls, batches or pings wait for frames that the reader thread must read. */
  private boolean othersWaiting() {
    return !outgoing.isEmpty() || !outgoingBatches.isEmpty() || !pings.isEmpty();
  }

  /** Tells the reader thread it is needed now, if it is standing aside. */
  private void needReader() {
    if (!readerNeeded && lastLeadNanos != 0) {
      readerNeeded = true;
      Thread r = readerThread;
      if (r != null) {
        LockSupport.unpark(r);
      }
    }
  }

  /**
   * Sends a Call. With {@code lent} (a caller that waits for the result), big arguments of native
   * memory are written from it, and their buffers are added to {@code lent}.
   */
  private CompletableFuture<Value> sendCall(
      String function,
      List<Value> args,
      long timeoutNanos,
      Map<String, String> metadata,
      List<ByteBuffer> lent) {
    Objects.requireNonNull(function, "function");
    if (timeoutNanos < 0) {
      throw new IllegalArgumentException("timeoutNanos must not be negative: " + timeoutNanos);
    }
    Status refusal = refusalForNewCalls();
    if (refusal != null) {
      return CompletableFuture.failedFuture(refusal.asException());
    }
    if (limits.maxInFlight() > 0 && outgoing.size() >= limits.maxInFlight()) {
      return CompletableFuture.failedFuture(
          Status.RESOURCE_EXHAUSTED
              .withDescription(
                  limits.maxInFlight() + " calls already in flight on connection " + name)
              .asException());
    }
    long id = nextId.getAndIncrement();
    ByteBuffer bytes = null;
    ByteBuffer[] parts = null;
    try {
      if (lent != null) {
        parts =
            BorrowedCall.parts(
                id,
                function,
                timeoutNanos,
                metadata,
                args,
                sendCodec,
                limits.maxFrameBytes(),
                LEND_BYTES,
                writerThread);
      }
    } catch (StatusException e) {
      return CompletableFuture.failedFuture(e);
    }
    try {
      Call.Builder c =
          Call.newBuilder()
              .setCallId(id)
              .setFunction(function)
              .setTimeoutNanos(timeoutNanos)
              .putAllMetadata(metadata);
      if (parts == null) {
        for (Value a : args) {
          c.addArgs(sendCodec.encode(a));
        }
        bytes = encode(Frame.newBuilder().setCall(c).build());
      }
    } catch (StatusException e) {
      return CompletableFuture.failedFuture(e);
    }
    CompletableFuture<Value> f = new CompletableFuture<>();
    outgoing.put(id, f);
    f.whenComplete(
        (v, t) -> {
          // Removed by someone else when a Result arrived or the connection closed; removed here
          // when the caller gave up (cancel, deadline): then tell the peer.
          if (outgoing.remove(id, f)
              && (t instanceof CancellationException || isDeadline(t))
              && !closing.get()) {
            enqueue(Frame.newBuilder().setCancel(Cancel.newBuilder().setCallId(id)).build());
          }
          maybeFinishDrain();
        });
    if (timeoutNanos > 0) {
      CompletableFuture.delayedExecutor(timeoutNanos, TimeUnit.NANOSECONDS)
          .execute(
              () ->
                  f.completeExceptionally(
                      Status.DEADLINE_EXCEEDED
                          .withDescription(
                              function
                                  + " did not answer within "
                                  + TimeUnit.NANOSECONDS.toMillis(timeoutNanos)
                                  + " ms")
                          .asException()));
    }
    if (parts != null) {
      for (ByteBuffer p : parts) {
        if (BorrowedCall.isLent(p)) {
          lent.add(p);
        }
      }
      enqueueBuffers(parts); // too big for the ring
    } else {
      sendBuffer(bytes, true);
    }
    if (closing.get() && outgoing.remove(id, f)) {
      f.completeExceptionally(unavailable().asException());
    }
    return f;
  }

  /**
   * Sends many calls in one {@code Batch} frame. The future completes with one {@link Outcome} per
   * call, in order (one failed call fails only its own result), or exceptionally as {@link #call}
   * does for the whole batch (UNAVAILABLE, RESOURCE_EXHAUSTED for size).
   */
  public CompletableFuture<List<Outcome>> batch(List<BatchCall> calls) {
    Status refusal = refusalForNewCalls();
    if (refusal != null) {
      return CompletableFuture.failedFuture(refusal.asException());
    }
    long id = nextId.getAndIncrement();
    ByteBuffer bytes;
    try {
      Batch.Builder b = Batch.newBuilder().setBatchId(id);
      // Consecutive calls without arguments of one function (a batch of no-ops) share one
      // immutable Call message: built, and its size computed, once instead of per call.
      Call bare = null;
      for (BatchCall bc : calls) {
        if (bc.args().isEmpty()) {
          if (bare == null || !bare.getFunction().equals(bc.function())) {
            bare = Call.newBuilder().setFunction(bc.function()).build();
          }
          b.addCalls(bare);
          continue;
        }
        Call.Builder c = Call.newBuilder().setFunction(bc.function());
        for (Value a : bc.args()) {
          c.addArgs(sendCodec.encode(a));
        }
        b.addCalls(c);
      }
      bytes = encode(Frame.newBuilder().setBatch(b).build());
    } catch (StatusException e) {
      return CompletableFuture.failedFuture(e);
    }
    CompletableFuture<List<Outcome>> f = new CompletableFuture<>();
    outgoingBatches.put(id, f);
    f.whenComplete(
        (v, t) -> {
          outgoingBatches.remove(id, f);
          maybeFinishDrain();
        });
    sendBuffer(bytes, true);
    if (closing.get() && outgoingBatches.remove(id, f)) {
      f.completeExceptionally(unavailable().asException());
    }
    needReader();
    return f;
  }

  /**
   * Sends {@code Ping}; the future completes when the matching {@code Pong} arrives, or
   * exceptionally with UNAVAILABLE when the connection closes first. Does not block; the caller
   * applies its own timeout ({@code orTimeout}).
   */
  public CompletableFuture<Void> ping() {
    if (closing.get()) {
      return CompletableFuture.failedFuture(unavailable().asException());
    }
    long nonce = nextId.getAndIncrement();
    CompletableFuture<Void> f = new CompletableFuture<>();
    pings.put(nonce, f);
    f.whenComplete((v, t) -> pings.remove(nonce, f));
    enqueue(Frame.newBuilder().setPing(Ping.newBuilder().setNonce(nonce)).build());
    if (closing.get() && pings.remove(nonce, f)) {
      f.completeExceptionally(unavailable().asException());
    }
    needReader();
    return f;
  }

  /**
   * Sends a frame that is not a call, result or ping, such as a worker's {@code Announce} or {@code
   * Withdraw}. Does not block.
   *
   * @throws StatusException UNAVAILABLE when the connection is closing; RESOURCE_EXHAUSTED when the
   *     frame is too large
   */
  public void send(Frame frame) {
    switch (frame.getBodyCase()) {
      case ANNOUNCE, WITHDRAW -> {}
      default ->
          throw new IllegalArgumentException(
              "send() is for Announce and Withdraw; use call(), batch(), ping() or shutdown() for "
                  + frame.getBodyCase());
    }
    if (closing.get()) {
      throw unavailable().asException();
    }
    enqueueBuffer(encode(frame));
  }

  /** Calls in flight that this side sent and that have not been answered. */
  public int outgoingCount() {
    return outgoing.size() + outgoingBatches.size();
  }

  /** Calls from the peer that are running here. */
  public int incomingCount() {
    return incoming.size() + incomingBatches.get();
  }

  // ---- lifecycle ------------------------------------------------------------------------------

  /**
   * Sends {@code GoAway{OK}} and drains: new calls are refused with UNAVAILABLE, calls in flight in
   * both directions finish, then the connection closes. Idempotent; does not block.
   */
  public void shutdown() {
    if (closing.get() || draining) {
      return;
    }
    draining = true;
    enqueue(
        Frame.newBuilder()
            .setGoaway(GoAway.newBuilder().setStatus(StatusCodec.encode(Status.OK)))
            .build());
    maybeFinishDrain();
  }

  /**
   * Sends {@code GoAway{UNAVAILABLE}} and closes now: calls in flight fail with UNAVAILABLE and
   * running handlers are interrupted. Idempotent; does not block.
   */
  public void shutdownNow() {
    Status s = Status.UNAVAILABLE.withDescription("connection " + name + " shut down");
    terminate(s, goAway(s));
  }

  /** {@link #shutdownNow()}. Idempotent. */
  @Override
  public void close() {
    shutdownNow();
  }

  /** Whether {@link #shutdown()} or {@link #shutdownNow()} was called, or the connection closed. */
  public boolean isShutdown() {
    return draining || closing.get();
  }

  /** Whether the socket is closed and the writer has stopped. */
  public boolean isTerminated() {
    return closed.isDone();
  }

  /** Waits until terminated; false when the time ran out first. */
  public boolean awaitTermination(long timeout, TimeUnit unit) throws InterruptedException {
    try {
      closed.get(timeout, unit);
      return true;
    } catch (TimeoutException e) {
      return false;
    } catch (java.util.concurrent.ExecutionException e) {
      return true;
    }
  }

  /**
   * Completes when the connection is closed, with the reason: OK after a clean drain, otherwise the
   * status that closed it (the peer's GoAway, a protocol error, the stream ending).
   */
  public CompletableFuture<Status> closeFuture() {
    return closed.copy();
  }

  // ---- reading --------------------------------------------------------------------------------

  /** Reads of the non-blocking channel that wait, in the kernel, for bytes to arrive. */
  private final ReadableByteChannel blockingView =
      new ReadableByteChannel() {
        @Override
        public int read(ByteBuffer dst) throws IOException {
          int n;
          while ((n = channel.read(dst)) == 0 && dst.hasRemaining()) {
            if (ringSleep()) {
              continue;
            }
            readSelector.select();
            readSelector.selectedKeys().clear();
          }
          return n;
        }

        @Override
        public boolean isOpen() {
          return channel.isOpen();
        }

        @Override
        public void close() {}
      };

  /** A leading caller stops reading: its result is in, or it was interrupted. */
  private static final class StepDown extends RuntimeException {
    StepDown() {
      super(null, null, false, false);
    }
  }

  private static final StepDown STEP_DOWN = new StepDown();

  /** The blocking view for a caller leading until {@code f} is done. */
  private final class LeaderView implements ReadableByteChannel {
    final CompletableFuture<?> f;
    final Thread me;

    LeaderView(CompletableFuture<?> f, Thread me) {
      this.f = f;
      this.me = me;
    }

    @Override
    public int read(ByteBuffer dst) throws IOException {
      int n;
      while ((n = channel.read(dst)) == 0 && dst.hasRemaining()) {
        if (f.isDone() || me.isInterrupted()) {
          throw STEP_DOWN;
        }
        if (ringSleep()) {
          continue;
        }
        readSelector.select();
        readSelector.selectedKeys().clear();
      }
      return n;
    }

    @Override
    public boolean isOpen() {
      return channel.isOpen();
    }

    @Override
    public void close() {}
  }

  /** Reads and dispatches one frame; false once the connection has ended. */
  private boolean readOne(ReadableByteChannel view) {
    try {
      Frame f = reader.read(view);
      if (ringIn != null) {
        // Frames put on the ring before this one was sent on the socket are dispatched first
        // (WIRE.md: a Cancel after its Call, a GoAway after results; at the end, the results
        // before the socket closed). Any frame is also a sign of traffic: poll while at it.
        sawPeer();
        lockRingRole();
        try {
          if (!ringsClosed && f != null) {
            ringIn.wake();
          }
          drainRing();
        } finally {
          ringRole.unlock();
        }
      }
      if (f == null) {
        // After a GoAway either way, the other side closing is the end of a clean drain, as
        // long as none of our calls is left unanswered.
        boolean clean = (draining || peerGoingAway) && outgoingCount() == 0;
        terminate(
            clean ? Status.OK : Status.UNAVAILABLE.withDescription("the peer closed the socket"),
            null);
        return false;
      }
      dispatch(f);
      if (f.getBodyCase() != Frame.BodyCase.BATCH) {
        // Decoded already (a batch is decoded by its own thread, later): the reader may reuse
        // the buffer of a big frame.
        reader.release(f);
      }
      return true;
    } catch (ProtocolException e) {
      protocolError(e.status());
    } catch (StepDown e) {
      throw e;
    } catch (IOException | RuntimeException e) {
      readFailed(e);
    }
    return false;
  }

  private void readFailed(Exception e) {
    if (!closing.get()) {
      LOG.log(System.Logger.Level.DEBUG, "connection " + name + " read failed", e);
      terminate(Status.UNAVAILABLE.withDescription("connection " + name + " failed: " + e), null);
    }
  }

  private void readLoop() {
    while (true) {
      if (standAside()) {
        LockSupport.parkNanos(this, LINGER_NANOS);
        continue;
      }
      if (!readRole.tryLock()) {
        // A caller leads although the reader is needed: it hands over when it stops.
        LockSupport.parkNanos(this, LINGER_NANOS);
        continue;
      }
      try {
        readerNeeded = false;
        if (!readOne(blockingView)) {
          closeRings();
          return;
        }
        if (wantLead) {
          // A caller waited for a frame that this thread read: stand aside for a while, so
          // that its next call finds the role free.
          wantLead = false;
          lastLeadNanos = System.nanoTime();
        }
      } finally {
        readRole.unlock();
      }
    }
  }

  /** Whether the reader thread should leave reading to the callers for now. */
  private boolean standAside() {
    return !readerNeeded
        && waitingUnled.get() == 0
        && lastLeadNanos != 0
        && !closing.get()
        && (leader != null || System.nanoTime() - lastLeadNanos < LINGER_NANOS);
  }

  private void dispatch(Frame f) {
    switch (f.getBodyCase()) {
      case CALL -> onCall(f.getCall());
      case RESULT -> onResult(f.getResult());
      case CANCEL -> onCancel(f.getCancel().getCallId());
      case PING ->
          enqueue(
              Frame.newBuilder()
                  .setPong(Pong.newBuilder().setNonce(f.getPing().getNonce()))
                  .build());
      case PONG -> {
        CompletableFuture<Void> p = pings.remove(f.getPong().getNonce());
        if (p != null) {
          p.complete(null);
        }
      }
      case ANNOUNCE -> listener.onAnnounce(this, f.getAnnounce());
      case WITHDRAW -> listener.onWithdraw(this, f.getWithdraw());
      case BATCH -> onBatch(f.getBatch());
      case BATCH_RESULT -> onBatchResult(f.getBatchResult());
      case GOAWAY -> onGoAway(StatusCodec.decode(f.getGoaway().getStatus()));
      case WAKE -> {} // the ring was drained before this frame was dispatched
      case CHALLENGE, HELLO, WELCOME ->
          protocolError(
              Status.INVALID_ARGUMENT.withDescription(
                  "a "
                      + f.getBodyCase().name().toLowerCase(java.util.Locale.ROOT)
                      + " frame after the handshake"));
      case BODY_NOT_SET ->
          protocolError(Status.INVALID_ARGUMENT.withDescription("a Frame with no body set"));
    }
  }

  private void onCall(Call c) {
    long id = c.getCallId();
    Status refusal = refusalForIncoming();
    if (refusal != null) {
      sendResult(id, null, refusal);
      return;
    }
    List<Value> args;
    try {
      args = decodeArgs(c);
    } catch (StatusException e) {
      sendResult(id, null, e.status());
      return;
    }
    IncomingCall call =
        new IncomingCall(id, c.getFunction(), args, c.getTimeoutNanos(), c.getMetadataMap(), this);
    Running r = new Running(call);
    Thread t =
        Thread.ofVirtual()
            .name("polycall-" + name + "-call-" + id)
            .unstarted(() -> runIncoming(r, true));
    r.thread = t;
    if (incoming.putIfAbsent(id, r) != null) {
      protocolError(
          Status.INVALID_ARGUMENT.withDescription("call_id " + id + " is already in flight"));
      return;
    }
    scheduleDeadline(r);
    t.start();
  }

  private void onBatch(Batch b) {
    Status refusal = refusalForIncoming();
    if (refusal != null) {
      BatchResult.Builder out = BatchResult.newBuilder().setBatchId(b.getBatchId());
      for (int i = 0; i < b.getCallsCount(); i++) {
        out.addResults(Result.newBuilder().setStatus(StatusCodec.encode(refusal)));
      }
      enqueue(Frame.newBuilder().setBatchResult(out).build());
      return;
    }
    incomingBatches.incrementAndGet();
    Thread.ofVirtual()
        .name("polycall-" + name + "-batch-" + b.getBatchId())
        .start(() -> runBatch(b));
  }

  private void runBatch(Batch b) {
    try {
      List<Running> runs = new ArrayList<>(b.getCallsCount());
      List<Status> early = new ArrayList<>(b.getCallsCount());
      for (Call c : b.getCallsList()) {
        try {
          IncomingCall call =
              new IncomingCall(
                  0, c.getFunction(), decodeArgs(c), c.getTimeoutNanos(), c.getMetadataMap(), this);
          Running r = new Running(call);
          r.thread =
              Thread.ofVirtual()
                  .name("polycall-" + name + "-batch-" + b.getBatchId() + "-" + runs.size())
                  .unstarted(() -> runIncoming(r, false));
          incomingInBatches.add(r);
          runs.add(r);
          early.add(null);
          scheduleDeadline(r);
          r.thread.start();
        } catch (StatusException e) {
          runs.add(null);
          early.add(e.status());
        }
      }
      BatchResult.Builder out = BatchResult.newBuilder().setBatchId(b.getBatchId());
      for (int i = 0; i < runs.size(); i++) {
        Running r = runs.get(i);
        if (r == null) {
          out.addResults(Result.newBuilder().setStatus(StatusCodec.encode(early.get(i))));
          continue;
        }
        r.thread.join();
        incomingInBatches.remove(r);
        out.addResults(r.result.build());
      }
      sendFrameOrStatus(
          Frame.newBuilder().setBatchResult(out).build(),
          s -> {
            BatchResult.Builder failed = BatchResult.newBuilder().setBatchId(b.getBatchId());
            for (int i = 0; i < b.getCallsCount(); i++) {
              failed.addResults(Result.newBuilder().setStatus(StatusCodec.encode(s)));
            }
            return Frame.newBuilder().setBatchResult(failed).build();
          });
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      incomingBatches.decrementAndGet();
      maybeFinishDrain();
    }
  }

  /** Runs one incoming call; sends its Result when {@code reply}, else leaves it in r.result. */
  private void runIncoming(Running r, boolean reply) {
    IncomingCall call = r.call;
    Value value = null;
    Status status = null;
    try {
      value = handler.onCall(call);
      if (value == null) {
        value = Value.NULL;
      }
    } catch (Throwable t) {
      status = r.expired ? deadlineExceeded(call) : Status.fromThrowable(t);
      if (call.isCancelled() && !r.expired && t instanceof InterruptedException) {
        status = Status.CANCELLED.withDescription(call.function() + " was cancelled");
      }
    } finally {
      r.finish();
    }
    Result.Builder res = Result.newBuilder().setCallId(call.callId());
    if (status == null) {
      try {
        res.setValue((reply ? sendCodec : codec).encode(value));
      } catch (RuntimeException e) {
        status = Status.fromThrowable(e);
      }
    }
    if (status != null) {
      res.clearValue().setStatus(StatusCodec.encode(status));
    }
    r.result = res;
    if (reply) {
      try {
        long id = call.callId();
        sendFrameOrStatus(
            Frame.newBuilder().setResult(res).build(),
            s ->
                Frame.newBuilder()
                    .setResult(Result.newBuilder().setCallId(id).setStatus(StatusCodec.encode(s)))
                    .build());
      } finally {
        incoming.remove(call.callId(), r);
        maybeFinishDrain();
      }
    }
  }

  private List<Value> decodeArgs(Call c) {
    List<Value> args = new ArrayList<>(c.getArgsCount());
    for (int i = 0; i < c.getArgsCount(); i++) {
      args.add(codec.decode(c.getArgs(i), "args[" + i + "]"));
    }
    return args;
  }

  private void scheduleDeadline(Running r) {
    long t = r.call.timeoutNanos();
    if (t > 0) {
      CompletableFuture.delayedExecutor(t, TimeUnit.NANOSECONDS).execute(r::expire);
    }
  }

  private void onCancel(long id) {
    Running r = incoming.get(id);
    if (r != null) {
      r.cancel();
    }
  }

  private void onResult(Result r) {
    CompletableFuture<Value> f = outgoing.remove(r.getCallId());
    if (f == null) {
      return; // cancelled, timed out, or never ours: the answer is ignored
    }
    completeFromResult(f, r, "result of call " + r.getCallId());
  }

  private void completeFromResult(CompletableFuture<Value> f, Result r, String path) {
    switch (r.getOutcomeCase()) {
      case VALUE -> {
        try {
          f.complete(codec.decode(r.getValue(), path));
        } catch (StatusException e) {
          f.completeExceptionally(e);
        } catch (RuntimeException e) {
          // A bug in decoding must fail this call, not the reader: the future is already out of
          // the table, so nothing else would ever complete it.
          f.completeExceptionally(
              Status.INTERNAL
                  .withDescription(path + ": could not decode the result: " + e)
                  .withCause(e)
                  .asException());
        }
      }
      case STATUS -> {
        Status s = StatusCodec.decode(r.getStatus());
        f.completeExceptionally(
            (s.isOk() ? Status.INTERNAL.withDescription(path + ": a status of OK and no value") : s)
                .asException());
      }
      case OUTCOME_NOT_SET ->
          f.completeExceptionally(
              Status.INVALID_ARGUMENT
                  .withDescription(path + ": a Result with neither value nor status")
                  .asException());
    }
  }

  private void onBatchResult(BatchResult br) {
    CompletableFuture<List<Outcome>> f = outgoingBatches.remove(br.getBatchId());
    if (f == null) {
      return;
    }
    int n = br.getResultsCount();
    Outcome[] out = new Outcome[n];
    for (int i = 0; i < n; i++) {
      Result r = br.getResults(i);
      if (r.getOutcomeCase() == Result.OutcomeCase.VALUE) {
        // The common case without a future and a path string per result; a value that does
        // not decode takes the general path below, whose messages name the result.
        try {
          out[i] = Outcome.ofValue(codec.decode(r.getValue(), "result"));
          continue;
        } catch (RuntimeException e) {
          // below
        }
      }
      CompletableFuture<Value> one = new CompletableFuture<>();
      completeFromResult(one, r, "batch " + br.getBatchId() + " result " + i);
      out[i] =
          one.isCompletedExceptionally()
              ? Outcome.ofStatus(Status.fromThrowable(one.exceptionNow()))
              : Outcome.ofValue(one.resultNow());
    }
    f.complete(List.of(out));
  }

  private void onGoAway(Status s) {
    listener.onGoAway(this, s);
    if (!s.isOk()) {
      terminate(s, null);
      return;
    }
    peerGoingAway = true;
    maybeFinishDrain();
  }

  private void protocolError(Status s) {
    LOG.log(System.Logger.Level.WARNING, "protocol error on connection " + name + ": " + s);
    terminate(s, goAway(s));
  }

  // ---- writing --------------------------------------------------------------------------------

  private void enqueue(Frame f) {
    try {
      sendBuffer(encode(f), mayUseRing(f));
    } catch (StatusException e) {
      LOG.log(System.Logger.Level.WARNING, "dropped a frame on " + name + ": " + e.getMessage());
    }
  }

  /**
   * The length prefix and bytes of {@code f}: a wrapped array, or for a big frame a direct buffer
   * (see {@link #DIRECT_FRAME_BYTES}).
   *
   * @throws StatusException RESOURCE_EXHAUSTED when the frame is above the frame size limit
   */
  private ByteBuffer encode(Frame f) {
    int size = f.getSerializedSize(); // memoized: encoding does not compute it again
    int direct =
        ringOut == null
            ? DIRECT_FRAME_BYTES
            : Math.max(DIRECT_FRAME_BYTES, ringOut.maxRecordBytes() + 1);
    if (size < direct - FrameCodec.PREFIX_BYTES || size > limits.maxFrameBytes()) {
      return ByteBuffer.wrap(FrameCodec.encode(f, limits.maxFrameBytes()));
    }
    return FrameCodec.encode(f, limits.maxFrameBytes(), this::directBuffer);
  }

  private ByteBuffer directBuffer(int bytes) {
    ByteBuffer b = spareDirect.getAndSet(null);
    if (b == null || b.capacity() < bytes) {
      // Rounded up to a MiB, so that the next frame of about the same size fits too.
      b =
          ByteBuffer.allocateDirect(
              (int) Math.min(Integer.MAX_VALUE, (bytes + (1L << 20) - 1) >>> 20 << 20));
    }
    return b.clear().limit(bytes);
  }

  /** Keeps the direct buffer of a frame that has been written whole, for the next big frame. */
  private void written(ByteBuffer b) {
    if (b.isDirect() && !BorrowedCall.isLent(b) && b.capacity() <= SPARE_DIRECT_MAX_BYTES) {
      spareDirect.set(b);
    }
  }

  /**
   * Sends an encoded frame (length prefix and all): on the outgoing ring when {@code ringOk} and
   * the ring takes it (WIRE.md: the peer polls, there is room, it is small), else on the socket.
   */
  private void sendBuffer(ByteBuffer b, boolean ringOk) {
    if (ringOk && ringOut != null && b.hasArray() && offerToRing(b.array())) {
      return;
    }
    enqueueBuffer(b);
  }

  private boolean offerToRing(byte[] bytes) {
    int r;
    ringOutLock.lock();
    try {
      if (ringsClosed || closing.get()) {
        return false;
      }
      r = ringOut.offer(bytes, FrameCodec.PREFIX_BYTES, bytes.length - FrameCodec.PREFIX_BYTES);
    } finally {
      ringOutLock.unlock();
    }
    if (r == ShmRing.REFUSED) {
      return false;
    }
    ringFramesSent.increment();
    if (r == ShmRing.PUBLISHED_ASLEEP) {
      // The peer stopped polling while we published: tell it on the socket.
      wakesSent.increment();
      enqueueBuffer(ByteBuffer.wrap(WAKE));
    }
    return true;
  }

  private void enqueueBuffer(ByteBuffer b) {
    writeLock.lock();
    try {
      if (closeQueued) {
        return;
      }
      if (pending.isEmpty() && writeFailure == null) {
        try {
          channel.write(b);
        } catch (IOException e) {
          writeFailure = e;
        }
        if (!b.hasRemaining()) {
          written(b);
          return;
        }
      }
      pending.add(b);
      writable.signal();
    } finally {
      writeLock.unlock();
    }
  }

  /** Writes the buffers of one frame, in order, with nothing of another frame between them. */
  private void enqueueBuffers(ByteBuffer[] parts) {
    writeLock.lock();
    try {
      if (closeQueued) {
        return;
      }
      int i = 0;
      if (pending.isEmpty() && writeFailure == null) {
        try {
          channel.write(parts);
        } catch (IOException e) {
          writeFailure = e;
        }
        while (i < parts.length && !parts[i].hasRemaining()) {
          written(parts[i++]);
        }
        if (i == parts.length) {
          return;
        }
      }
      for (; i < parts.length; i++) {
        pending.add(parts[i]);
      }
      writable.signal();
    } finally {
      writeLock.unlock();
    }
  }

  /**
   * A caller that lent its memory stops waiting: what is still to be written of it is copied, so
   * that the caller may change or free it. (The writer writes only under writeLock, so no write is
   * reading it meanwhile.) Normally everything is written by then: the peer answered.
   */
  private void giveBack(List<ByteBuffer> lent) {
    writeLock.lock();
    try {
      boolean unwritten = false;
      for (ByteBuffer b : lent) {
        unwritten |= b.hasRemaining();
      }
      if (!unwritten) {
        return;
      }
      List<ByteBuffer> kept = new ArrayList<>(pending.size());
      for (ByteBuffer p : pending) {
        boolean ours = false;
        for (ByteBuffer b : lent) {
          ours |= b == p;
        }
        if (ours && p.hasRemaining()) {
          ByteBuffer own = ByteBuffer.allocateDirect(p.remaining());
          own.put(p.duplicate()).flip();
          p.position(p.limit()); // the caller's buffer is done with
          kept.add(own);
        } else {
          kept.add(p);
        }
      }
      pending.clear();
      pending.addAll(kept);
    } finally {
      writeLock.unlock();
    }
  }

  /** Sends {@code f}; when it is too large to send, sends {@code instead} of the status. */
  private void sendFrameOrStatus(Frame f, java.util.function.Function<Status, Frame> instead) {
    ByteBuffer b;
    try {
      b = encode(f);
    } catch (StatusException e) {
      b = encode(instead.apply(e.status()));
    }
    sendBuffer(b, true);
  }

  private void sendResult(long id, Value v, Status s) {
    Result.Builder r = Result.newBuilder().setCallId(id);
    if (s == null) {
      r.setValue(codec.encode(v));
    } else {
      r.setStatus(StatusCodec.encode(s));
    }
    enqueue(Frame.newBuilder().setResult(r).build());
  }

  private void writeLoop() {
    Status failure = null;
    ByteBuffer[] bufs = new ByteBuffer[GATHER];
    try {
      while (true) {
        boolean blocked;
        writeLock.lock();
        try {
          while (pending.isEmpty() && !closeQueued && writeFailure == null) {
            writable.await();
          }
          if (writeFailure != null) {
            throw writeFailure;
          }
          if (pending.isEmpty()) {
            break; // closeQueued, and everything before it is written
          }
          int n = 0;
          for (ByteBuffer b : pending) {
            bufs[n++] = b;
            if (n == GATHER) {
              break;
            }
          }
          channel.write(bufs, 0, n);
          while (!pending.isEmpty() && !pending.peekFirst().hasRemaining()) {
            written(pending.pollFirst());
          }
          java.util.Arrays.fill(bufs, 0, n, null);
          blocked = !pending.isEmpty();
        } finally {
          writeLock.unlock();
        }
        if (blocked) {
          // The socket is full (or more than GATHER frames wait): wait until it can take more.
          writeSelector.select(100);
          writeSelector.selectedKeys().clear();
        }
      }
    } catch (IOException e) {
      failure = Status.UNAVAILABLE.withDescription("connection " + name + " failed: " + e);
    } catch (InterruptedException e) {
      failure = Status.UNAVAILABLE.withDescription("connection " + name + " writer interrupted");
    } finally {
      if (failure != null && !closing.get()) {
        terminate(failure, null);
      }
      closeChannel();
      Status reason = closeReason != null ? closeReason : failure;
      if (closed.complete(reason)) {
        try {
          listener.onClosed(this, reason);
        } catch (RuntimeException e) {
          LOG.log(System.Logger.Level.WARNING, "onClosed of " + name + " threw", e);
        }
      }
    }
  }

  // ---- closing --------------------------------------------------------------------------------

  /**
   * Starts closing, once: fails calls in flight, interrupts handlers, queues {@code lastWords} (a
   * GoAway, or null) and the close marker; the writer closes the socket after them.
   */
  private void terminate(Status reason, Frame lastWords) {
    if (!closing.compareAndSet(false, true)) {
      return;
    }
    closeReason = reason;
    if (rings != null) {
      rings.unlink(); // unmapped by the reader thread once it stops
    }
    StatusException gone = unavailable().asException();
    for (Long id : outgoing.keySet()) {
      CompletableFuture<Value> f = outgoing.remove(id);
      if (f != null) {
        f.completeExceptionally(gone);
      }
    }
    for (Long id : outgoingBatches.keySet()) {
      CompletableFuture<List<Outcome>> f = outgoingBatches.remove(id);
      if (f != null) {
        f.completeExceptionally(gone);
      }
    }
    for (Long id : pings.keySet()) {
      CompletableFuture<Void> f = pings.remove(id);
      if (f != null) {
        f.completeExceptionally(gone);
      }
    }
    incoming.values().forEach(Running::cancel);
    incomingInBatches.forEach(Running::cancel);
    if (lastWords != null) {
      enqueue(lastWords);
    }
    writeLock.lock();
    try {
      closeQueued = true;
      writable.signal();
    } finally {
      writeLock.unlock();
    }
    // A peer that stops reading must not keep the socket open: close it after a grace period
    // even if the last words are still stuck.
    CompletableFuture.delayedExecutor(FLUSH_GRACE_MILLIS, TimeUnit.MILLISECONDS)
        .execute(this::closeChannel);
  }

  private void closeChannel() {
    try {
      channel.close();
      readSelector.close();
      writeSelector.close();
    } catch (IOException e) {
      LOG.log(System.Logger.Level.DEBUG, "closing " + name, e);
    }
  }

  private void maybeFinishDrain() {
    if ((draining || peerGoingAway)
        && !closing.get()
        && outgoing.isEmpty()
        && outgoingBatches.isEmpty()
        && incoming.isEmpty()
        && incomingBatches.get() == 0) {
      terminate(Status.OK, null);
    }
  }

  private Status refusalForNewCalls() {
    if (closing.get()) {
      return unavailable();
    }
    if (draining) {
      return Status.UNAVAILABLE.withDescription("connection " + name + " is shutting down");
    }
    if (peerGoingAway) {
      return Status.UNAVAILABLE.withDescription(
          "the peer of connection " + name + " is going away");
    }
    return null;
  }

  private Status refusalForIncoming() {
    if (closing.get() || draining) {
      return Status.UNAVAILABLE.withDescription("connection " + name + " is shutting down");
    }
    if (limits.maxInFlight() > 0 && incomingCount() >= limits.maxInFlight()) {
      return Status.RESOURCE_EXHAUSTED.withDescription(
          limits.maxInFlight() + " calls already in flight on connection " + name);
    }
    return null;
  }

  private Status unavailable() {
    Status r = closeReason;
    String why = r == null || r.isOk() ? "" : ": " + r;
    return Status.UNAVAILABLE.withDescription("connection " + name + " closed" + why);
  }

  private static Frame goAway(Status s) {
    return Frame.newBuilder()
        .setGoaway(GoAway.newBuilder().setStatus(StatusCodec.encode(s)))
        .build();
  }

  private static boolean isDeadline(Throwable t) {
    return t instanceof StatusException se && se.status().code() == Status.Code.DEADLINE_EXCEEDED;
  }

  private static Status deadlineExceeded(IncomingCall call) {
    return Status.DEADLINE_EXCEEDED.withDescription(
        call.function()
            + " ran past its deadline of "
            + TimeUnit.NANOSECONDS.toMillis(call.timeoutNanos())
            + " ms");
  }

  @Override
  public String toString() {
    return "Connection[" + name + (closing.get() ? ", closed" : "") + "]";
  }

  /** An incoming call and the thread running it. */
  private static final class Running {
    final IncomingCall call;
    volatile Thread thread;
    volatile Result.Builder result;
    volatile boolean expired;
    private boolean finished; // guarded by this

    Running(IncomingCall call) {
      this.call = call;
    }

    /** Interrupts the handler unless it has returned: a returned handler may be writing. */
    synchronized void cancel() {
      call.cancel();
      if (!finished && thread != null) {
        thread.interrupt();
      }
    }

    void expire() {
      synchronized (this) {
        if (finished) {
          return;
        }
        expired = true;
      }
      cancel();
    }

    void finish() {
      synchronized (this) {
        finished = true;
      }
      Thread.interrupted(); // a cancel that raced the return must not leak into the next task
    }
  }
}
