package io.polycall.security.internal;

import io.polycall.security.AuditConfig;
import io.polycall.security.AuditConfig.Fsync;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.DigestException;
import java.security.MessageDigest;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The audit log's writer. A caller formats its record's body on its own thread and copies it into
 * the open batch under a short lock; that is all it pays. The writer thread takes the whole batch
 * every commit round (group commit: 1 ms while calls come in fast, stretched up to {@link
 * #MAX_COMMIT_NANOS} while they trickle in), hashes each body, numbers and links the records (each
 * carries the hash of the one before), writes them in one system call, forces them per the fsync
 * policy and rotates by size. When the writer falls behind (the open batch older than its round
 * plus {@link #LAG_NANOS}: it is short of CPU), callers hash their own bodies, in parallel, and the
 * writer only links.
 *
 * <pre>
 *   callers --format body, copy--> [ open batch: bodies in one reused buffer ]  (bounded)
 *                                          | taken every 1..8 ms by the writer thread, or
 *                                          | by a caller whose batch is full or who waits
 *                                          v
 *                   SHA-256(body), seq, prev, link hash; one write(); force() per fsync policy
 *                                          v
 *                           audit.jsonl  (audit.jsonl.1 .. .N rotated)
 * </pre>
 *
 * <p>Why this shape: queued records are bytes in two reused buffers, not objects, so a backlog
 * costs the garbage collector nothing; callers never wake the writer per record; and a caller that
 * would otherwise wait for the writer thread to be scheduled (a full batch, or fail-closed waiting
 * for its own record) writes the batch itself instead, so that a busy machine delays no one by a
 * scheduler's time slice. One batch is written at a time ({@link #ioLock}), in order.
 *
 * <p>When a write fails (disk full, file made unwritable), the file is cut back to its last whole
 * record, the batch's records not yet written are counted as lost and the writer reports itself
 * failed; the next batch that can be written starts with a {@code gap} record saying how many
 * records were lost and why, so the chain stays verifiable and the loss is on the record.
 * Thread-safe; {@link #append} blocks only when the batch is full ({@code queueCapacity} records)
 * or when the caller asks to wait for its record.
 */
public final class AuditWriter implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(AuditWriter.class.getName());
  private static final DateTimeFormatter TIME =
      DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSSSSS'Z'").withZone(ZoneOffset.UTC);

  /** How long a record waits in the open batch while calls come in fast (group commit). */
  static final long COMMIT_NANOS = TimeUnit.MILLISECONDS.toNanos(1);

  /**
   * The longest a record waits in the open batch while the writer is awake, when calls come in
   * slowly. A wake-up costs the writer tens of microseconds (a context switch, cold caches, a
   * write() call) whatever the batch holds: at ten thousand calls a second (a gRPC node at one call
   * in flight) 1 ms rounds cost the writer about 3.6 us of CPU per call, four times the hashing,
   * and take a core from the threads serving the calls a thousand times a second. So the round is
   * stretched until it holds about {@link #TARGET_BATCH} records, up to this; a record waits no
   * longer than that for its write (fail-closed callers write their own record and do not wait).
   */
  static final long MAX_COMMIT_NANOS = TimeUnit.MILLISECONDS.toNanos(8);

  /**
   * Records a commit round aims to take when calls come in slowly (see {@link #MAX_COMMIT_NANOS}).
   */
  static final int TARGET_BATCH = 64;

  /**
   * How late past its round the open batch may be before callers hash their own bodies: the writer
   * is then short of CPU, so the work goes back to the callers, in parallel, and the writer only
   * links. Otherwise the writer hashes, off the callers' path.
   */
  static final long LAG_NANOS = 2 * COMMIT_NANOS;

  /** Time without records after which the writer sleeps until a caller wakes it. */
  private static final long IDLE_NANOS = TimeUnit.MILLISECONDS.toNanos(50);

  /** The writer's current commit round, {@link #COMMIT_NANOS} .. {@link #MAX_COMMIT_NANOS}. */
  private volatile long commitNanos = COMMIT_NANOS;

  private final AuditConfig config;
  private final Path file;
  private final Thread thread;
  private final LongAdder written = new LongAdder();
  private final LongAdder dropped = new LongAdder();
  private final LongAdder failures = new LongAdder();

  private volatile boolean sleeping;
  private volatile boolean closing;
  private volatile String failure;
  private volatile String head;

  // ---- the open batch: guarded by lock ----
  private final ReentrantLock lock = new ReentrantLock();
  private Batch open = new Batch();

  /** What callers read of the open batch without the lock; padded (see {@link Padding}). */
  private final OpenHint hint = new OpenHint();

  /** Records in the open batch at which a caller wakes the writer early. */
  private final int wakeAt;

  /** Records in the open batch past which callers hash their own bodies: half the capacity. */
  private final int hashOnCallerAt;

  /**
   * Held while a batch is written: by the writer thread, or by a caller that should not wait for
   * it. Taken before {@link #lock}, never while holding it. Guards everything below.
   */
  private final ReentrantLock ioLock = new ReentrantLock();

  private Batch spare = new Batch();
  private final MessageDigest sha = AuditLine.sha256();
  private FileChannel channel;
  private long fileSize;
  private long committedSize;
  private long committedSeq;
  private final byte[] committedPrev = new byte[32];
  private long lastForceNanos = System.nanoTime();
  private boolean unforced;
  private long lost;
  private String lostError;
  // Direct, so that a write goes from here to the kernel without the JDK's copy of a heap buffer.
  private ByteBuffer out = ByteBuffer.allocateDirect(64 * 1024);

  /** What the writer changes per record; padded (see {@link Padding}). */
  private final ChainState chain = new ChainState();

  private int flushedOfBatch;

  /**
   * Cache-line padding (64 bytes on each side, as fields of a superclass come first and those of a
   * subclass last). Callers write {@link OpenHint} on every call and the writer thread writes
   * {@link ChainState} on every record; were those fields on a cache line with each other or with
   * fields the other side reads (this class's final fields are read by both on every record), each
   * write would take the line from the other core and each read there would miss: a transfer
   * between cores per call and per record, for nothing shared.
   */
  abstract static class Padding {
    long p00, p01, p02, p03, p04, p05, p06, p07;
  }

  abstract static class OpenHintFields extends Padding {
    /** {@code open.records}, for callers to read without the lock (a hint). */
    volatile int records;

    /** When the open batch got its first record ({@link System#nanoTime}), 0 when empty. */
    volatile long since;
  }

  static final class OpenHint extends OpenHintFields {
    long p10, p11, p12, p13, p14, p15, p16, p17;
  }

  abstract static class ChainFields extends Padding {
    /** The number of the last record linked. */
    long seq;

    /**
     * Records of the batch being written that are in the output buffer, and that reached the file.
     */
    int inOut;

    /** The hash of the last record linked, and a buffer for the next (swapped). */
    byte[] prevRaw = new byte[32];

    byte[] nextRaw = new byte[32];
  }

  static final class ChainState extends ChainFields {
    long p10, p11, p12, p13, p14, p15, p16, p17;
  }

  /** Record bodies in one reused buffer, in the order they were appended. */
  static final class Batch {
    byte[] bytes = new byte[16 * 1024];
    int length;
    int records;

    /** End offset of each record's body. */
    int[] ends = new int[64];

    /** SHA-256 of each record's body, when its caller took it ({@link #hashed}). */
    byte[] shas = new byte[64 * 32];

    boolean[] hashed = new boolean[64];

    /** Callers waiting for their record (fail-closed), with its index. */
    final List<AuditEntry> waiters = new ArrayList<>();

    void add(byte[] body, int n, byte[] sha) {
      if (length + n > bytes.length) {
        bytes = Arrays.copyOf(bytes, Math.max(bytes.length * 2, length + n));
      }
      if (records == ends.length) {
        ends = Arrays.copyOf(ends, records * 2);
        shas = Arrays.copyOf(shas, records * 2 * 32);
        hashed = Arrays.copyOf(hashed, records * 2);
      }
      System.arraycopy(body, 0, bytes, length, n);
      length += n;
      hashed[records] = sha != null;
      if (sha != null) {
        System.arraycopy(sha, 0, shas, records * 32, 32);
      }
      ends[records++] = length;
    }

    int start(int record) {
      return record == 0 ? 0 : ends[record - 1];
    }

    void clear() {
      length = 0;
      records = 0;
      waiters.clear();
    }
  }

  private AuditWriter(AuditConfig config) {
    this.config = config;
    this.file = config.file().toAbsolutePath();
    this.wakeAt = Math.max(1, config.queueCapacity() / 2);
    this.hashOnCallerAt = config.queueCapacity() / 2;
    this.thread = Thread.ofPlatform().daemon().name("polycall-audit-writer").unstarted(this::run);
  }

  /**
   * Opens (or continues) the log: an existing file's chain is continued, a partial last line left
   * by a crash is cut off and noted in an {@code open} record.
   *
   * @throws IOException when the file cannot be opened or holds no readable chain to continue
   */
  public static AuditWriter open(AuditConfig config) throws IOException {
    AuditWriter w = new AuditWriter(config);
    w.lockFile();
    try {
      long recovered = w.openFile();
      w.appendEvent(
          w.event(
              "open",
              "\"recovered_bytes\":" + recovered + ",\"pid\":" + ProcessHandle.current().pid()));
      w.flush();
      w.channel.force(false);
      w.unforced = false;
    } catch (IOException | RuntimeException e) {
      w.closeChannelQuietly();
      w.unlockFile();
      throw e;
    }
    w.thread.start();
    return w;
  }

  private FileChannel lockChannel;

  /**
   * Takes {@code .FILE.lock} for as long as the log is open: one chain has one writer. Two nodes
   * (or a node and a one-off {@code polycall call} with the same config) appending to one file
   * would interleave two chains and break both.
   */
  private void lockFile() throws IOException {
    Path dir = file.getParent();
    if (dir != null) {
      Files.createDirectories(dir);
    }
    // Hidden, so that "audit verify audit.jsonl*" does not pick it up.
    Path lockFile = file.resolveSibling("." + file.getFileName() + ".lock");
    FileChannel ch =
        FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
    java.nio.channels.FileLock l;
    try {
      l = ch.tryLock();
    } catch (java.nio.channels.OverlappingFileLockException e) {
      l = null;
    }
    if (l == null) {
      ch.close();
      throw new IOException(
          file
              + " is being written by another audit log (its lock "
              + lockFile
              + " is held, by this process or another); one log file has one writer: give each"
              + " node its own security.audit.file");
    }
    lockChannel = ch;
  }

  private void unlockFile() {
    if (lockChannel != null) {
      try {
        lockChannel.close(); // releases the lock
      } catch (IOException ignored) {
        // the process exiting releases it too
      }
      lockChannel = null;
    }
  }

  /**
   * Queues a record. With {@code await}, returns once it is written (and forced under {@code fsync:
   * every_record}) or could not be; check {@link AuditEntry#error()}.
   */
  public void append(AuditEntry e, boolean await) {
    if (closing) {
      closed(e);
      return;
    }
    RecordBody body = RecordBody.acquire();
    boolean wake;
    try {
      wake = queue(e, await, body);
    } finally {
      body.release();
    }
    // Read after the lock: a writer about to sleep either saw this record or is seen here.
    if (wake || (!await && sleeping)) {
      LockSupport.unpark(thread);
    }
    if (await) {
      // Written on this thread, with whatever queued before it, rather than handed to the writer
      // thread and back (a wake-up and a context switch each way). If a batch is being written,
      // it is done once the lock is ours; this record is then written, or still in the open batch.
      while (e.state == 0) {
        ioLock.lock();
        try {
          if (e.state == 0) {
            drainOnce();
          }
        } finally {
          ioLock.unlock();
        }
      }
    }
  }

  /**
   * Formats {@code e} into {@code body} and adds it to the open batch; true when the writer should
   * be woken. Marks {@code e} failed instead when the log is closing (the loop waiting for it then
   * ends at once).
   */
  private boolean queue(AuditEntry e, boolean await, RecordBody body) {
    int n = body.call(e);
    long since = hint.since;
    byte[] sha =
        hint.records >= hashOnCallerAt
                || (since != 0 && System.nanoTime() - since > commitNanos + LAG_NANOS)
            ? body.sha256(n)
            : null;
    boolean wake;
    lock.lock();
    try {
      while (open.records >= config.queueCapacity() && !closing) {
        // Back-pressure: audit is never dropped to keep up. Rather than wait for the writer thread
        // to be scheduled (tens of ms on a busy machine), the caller writes the batch itself.
        lock.unlock();
        try {
          drainIfFull();
        } finally {
          lock.lock();
        }
      }
      if (closing) {
        closed(e);
        return false;
      }
      open.add(body.wb, n, sha);
      hint.records = open.records;
      if (open.records == 1) {
        hint.since = System.nanoTime() | 1; // never 0
      }
      if (await) {
        e.index = open.records - 1;
        e.waiter = Thread.currentThread();
        open.waiters.add(e);
      }
      wake = !await && open.records == wakeAt;
    } finally {
      lock.unlock();
    }
    return wake;
  }

  private static void closed(AuditEntry e) {
    e.error = "the audit log is closed";
    e.state = 2;
  }

  private void drainIfFull() {
    ioLock.lock();
    try {
      boolean full;
      lock.lock();
      try {
        full = open.records >= config.queueCapacity();
      } finally {
        lock.unlock();
      }
      if (full) {
        drainOnce();
      }
    } finally {
      ioLock.unlock();
    }
  }

  /** Takes the open batch and writes it (ioLock held); returns its records, 0 when it was empty. */
  private int drainOnce() {
    Batch b;
    lock.lock();
    try {
      if (open.records == 0) {
        return 0;
      }
      b = open;
      open = spare;
      hint.records = 0;
      hint.since = 0;
    } finally {
      lock.unlock();
    }
    int records = b.records;
    try {
      writeBatch(b);
    } finally {
      b.clear();
      spare = b;
    }
    return records;
  }

  /** Why the last write failed, or null while the log is being written. */
  public String failure() {
    return failure;
  }

  public long written() {
    return written.sum();
  }

  /** Records that could not be written (each noted by a later gap record when possible). */
  public long dropped() {
    return dropped.sum();
  }

  /** Failed writes (each may have lost several records). */
  public long failures() {
    return failures.sum();
  }

  /** The hash of the last record written: publish it elsewhere to anchor the chain. */
  public String head() {
    return head;
  }

  /** Writes what is queued, forces it and closes the file. Idempotent; blocks until done. */
  @Override
  public void close() {
    if (!closing) {
      lock.lock();
      try {
        closing = true; // under the lock: every record appended before it is in a batch
      } finally {
        lock.unlock();
      }
    }
    LockSupport.unpark(thread);
    joinQuietly();
  }

  private void joinQuietly() {
    boolean interrupted = false;
    while (thread.isAlive()) {
      try {
        thread.join();
      } catch (InterruptedException ie) {
        interrupted = true;
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }

  // ---- writer side (ioLock held) ------------------------------------------------------------

  private void run() {
    long lastTaken = System.nanoTime();
    while (true) {
      boolean closingNow = closing;
      int took;
      ioLock.lock();
      try {
        took = drainOnce();
        if (took == 0) {
          maybeForce(false);
        }
      } finally {
        ioLock.unlock();
      }
      long now = System.nanoTime();
      if (took > 0) {
        // The next round: long enough to take about TARGET_BATCH records at the rate just seen.
        long round = (now - lastTaken) / took * TARGET_BATCH;
        commitNanos = Math.clamp(round, COMMIT_NANOS, MAX_COMMIT_NANOS);
        lastTaken = now;
        continue;
      }
      if (closingNow) {
        break;
      }
      if (now - lastTaken < IDLE_NANOS) {
        // Group commit: what callers append meanwhile goes out in one write, and they never wake
        // this thread per record.
        LockSupport.parkNanos(commitNanos);
      } else {
        sleeping = true;
        boolean empty;
        lock.lock();
        try {
          empty = open.records == 0;
        } finally {
          lock.unlock();
        }
        if (empty && !closing) {
          ioLock.lock();
          try {
            // Give back what a burst grew, so that a quiet log does not hold megabytes.
            if (spare.bytes.length > (1 << 20)) {
              spare = new Batch();
            }
          } finally {
            ioLock.unlock();
          }
          LockSupport.parkNanos(unforced ? intervalNanos() : TimeUnit.SECONDS.toNanos(1));
        }
        sleeping = false;
        // Woken by a caller after a quiet spell: its record goes out within the short round.
        commitNanos = COMMIT_NANOS;
        lastTaken = System.nanoTime();
      }
    }
    ioLock.lock();
    try {
      if (channel != null) {
        channel.force(false);
        channel.close();
        channel = null;
      }
    } catch (IOException ex) {
      LOG.log(Level.WARNING, "audit log " + file + ": cannot close cleanly: " + ex);
    } finally {
      unlockFile();
      ioLock.unlock();
    }
  }

  private long intervalNanos() {
    return Math.max(1_000_000L, config.fsyncInterval().toNanos());
  }

  private void writeBatch(Batch b) {
    chain.inOut = 0;
    flushedOfBatch = 0;
    try {
      if (channel == null) {
        openFile();
      }
      if (lost > 0) {
        appendEvent(
            event(
                "gap",
                "\"lost\":" + lost + ",\"error\":" + Json.string(new StringBuilder(), lostError)));
      }
      // The batch's fields read once: its object may share a cache line with the open batch's,
      // which callers write meanwhile.
      int records = b.records;
      byte[] bytes = b.bytes;
      int[] ends = b.ends;
      boolean[] hashed = b.hashed;
      byte[] shas = b.shas;
      for (int i = 0, from = 0; i < records; from = ends[i++]) {
        if (hashed[i]) {
          System.arraycopy(shas, i * 32, bodySha, 0, 32);
        } else {
          sha.update(bytes, from, ends[i] - from);
          digestInto(bodySha);
        }
        appendLinked(bytes, from, ends[i] - from);
        chain.inOut++;
      }
      flush();
      if (config.fsync() == Fsync.EVERY_RECORD) {
        channel.force(false);
        unforced = false;
        lastForceNanos = System.nanoTime();
      } else {
        maybeForce(false);
      }
      if (failure != null) {
        LOG.log(Level.WARNING, "audit log " + file + " is being written again after: " + failure);
        failure = null;
      }
      lost = 0;
      lostError = null;
      for (AuditEntry e : b.waiters) {
        e.state = 1;
        LockSupport.unpark(e.waiter);
      }
    } catch (IOException | RuntimeException | Error ex) {
      // An Error too: its waiters must be released (they would otherwise wait for ever).
      fail(b, ex.toString());
      if (ex instanceof Error err) {
        throw err;
      }
    }
  }

  private void fail(Batch b, String why) {
    failures.increment();
    boolean wasHealthy = failure == null;
    // Set before any waiter is released, so that the next call (fail-closed) sees it.
    failure = why;
    // Records already flushed stay in the file (not lost, though perhaps not forced); the rest of
    // the batch is lost and the partial write, if any, is cut off.
    long lostNow = b.records - flushedOfBatch;
    boolean flushedIsEnough = config.fsync() != Fsync.EVERY_RECORD;
    for (AuditEntry e : b.waiters) {
      if (flushedIsEnough && e.index < flushedOfBatch) {
        e.state = 1;
      } else {
        e.error = why;
        e.state = 2;
      }
      LockSupport.unpark(e.waiter);
    }
    out.clear();
    chain.inOut = 0;
    dropped.add(lostNow);
    lost += lostNow;
    lostError = why;
    chain.seq = committedSeq;
    setPrev(committedPrev);
    try {
      if (channel != null && channel.isOpen() && channel.size() > committedSize) {
        channel.truncate(committedSize);
      }
    } catch (IOException ignored) {
      // The next open cuts a partial record off anyway.
    }
    closeChannelQuietly();
    if (wasHealthy) {
      LOG.log(
          Level.ERROR,
          "audit log "
              + file
              + ": cannot write records ("
              + why
              + "); "
              + (config.failClosed()
                  ? "calls are refused (fail_closed) until it can be written"
                  : "calls go on unaudited (fail_closed: false); lost records are counted"));
    }
  }

  /** Links an event record (open, gap) into the pending write. */
  private void appendEvent(String body) throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    sha.update(bytes);
    digestInto(bodySha);
    appendLinked(bytes, 0, bytes.length);
  }

  private void flush() throws IOException {
    out.flip();
    while (out.hasRemaining()) {
      fileSize += channel.write(out);
    }
    out.clear();
    unforced = true;
    commit();
    written.add(chain.inOut);
    flushedOfBatch += chain.inOut;
    chain.inOut = 0;
  }

  private void closeChannelQuietly() {
    if (channel != null) {
      try {
        channel.close();
      } catch (IOException ignored) {
        // already failing
      }
      channel = null;
    }
  }

  private void commit() {
    committedSize = fileSize;
    committedSeq = chain.seq;
    System.arraycopy(chain.prevRaw, 0, committedPrev, 0, 32);
    head = Json.hex(chain.prevRaw);
  }

  // ---- linking records (I/O side) ---------------------------------------------------------------
  //
  // Each record gets its number and its link, SHA-256(seq || prev || SHA-256(body)). The body's
  // hash is taken here too, off the caller's thread: a caller only formats its body.

  private static final byte[] SEQ_PREFIX = AuditLine.SEQ_PREFIX.getBytes(StandardCharsets.US_ASCII);
  private static final byte[] PREV_KEY = AuditLine.PREV_KEY.getBytes(StandardCharsets.US_ASCII);
  private static final byte[] HASH_KEY = AuditLine.HASH_KEY.getBytes(StandardCharsets.US_ASCII);
  private static final byte[] END = "\"}\n".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] HEX = "0123456789abcdef".getBytes(StandardCharsets.US_ASCII);

  private final byte[] prevHex = new byte[64];
  private final byte[] bodySha = new byte[32];
  private final byte[] seqBytes = new byte[20];
  private final byte[] link = new byte[72];

  /** Appends one record to the pending write, rotating first if needed. */
  /** Appends one record whose body's SHA-256 is in {@link #bodySha}. */
  private void appendLinked(byte[] body, int off, int n) throws IOException {
    long s = chain.seq + 1;
    int digits = 0;
    for (long v = s; v > 0; v /= 10) {
      digits++;
    }
    long v = s;
    for (int i = digits - 1; i >= 0; i--) {
      seqBytes[i] = (byte) ('0' + v % 10);
      v /= 10;
    }
    // seq (8 bytes, big-endian) || prev || SHA-256(body), hashed in one update.
    for (int i = 0; i < 8; i++) {
      link[i] = (byte) (s >>> (56 - 8 * i));
    }
    System.arraycopy(chain.prevRaw, 0, link, 8, 32);
    System.arraycopy(bodySha, 0, link, 40, 32);
    sha.update(link, 0, 72);
    digestInto(chain.nextRaw);
    int len =
        SEQ_PREFIX.length
            + digits
            + 1
            + n
            + PREV_KEY.length
            + 64
            + 1
            + HASH_KEY.length
            + 64
            + END.length;
    if (config.rotateBytes() > 0
        && fileSize + out.position() > 0
        && fileSize + out.position() + len > config.rotateBytes()) {
      flush();
      rotate();
    }
    if (out.remaining() < len) {
      flush();
      if (out.capacity() < len) {
        out = ByteBuffer.allocateDirect(len);
      }
    }
    out.put(SEQ_PREFIX).put(seqBytes, 0, digits).put((byte) ',').put(body, off, n);
    out.put(PREV_KEY).put(prevHex).put((byte) '"');
    for (int i = 0; i < 32; i++) {
      prevHex[2 * i] = HEX[(chain.nextRaw[i] >> 4) & 15];
      prevHex[2 * i + 1] = HEX[chain.nextRaw[i] & 15];
    }
    out.put(HASH_KEY).put(prevHex).put(END);
    byte[] t = chain.prevRaw;
    chain.prevRaw = chain.nextRaw;
    chain.nextRaw = t;
    chain.seq = s;
  }

  private void digestInto(byte[] to) {
    try {
      sha.digest(to, 0, 32);
    } catch (DigestException e) {
      throw new IllegalStateException("SHA-256 is 32 bytes", e);
    }
  }

  private void setPrev(byte[] raw) {
    System.arraycopy(raw, 0, chain.prevRaw, 0, 32);
    for (int i = 0; i < 32; i++) {
      prevHex[2 * i] = HEX[(raw[i] >> 4) & 15];
      prevHex[2 * i + 1] = HEX[raw[i] & 15];
    }
  }

  private void setPrev(String hex) {
    setPrev(java.util.HexFormat.of().parseHex(hex));
  }

  private void maybeForce(boolean always) {
    if (!unforced || channel == null) {
      return;
    }
    boolean due =
        always
            || config.fsync() == Fsync.EVERY_RECORD
            || (config.fsync() == Fsync.INTERVAL
                && System.nanoTime() - lastForceNanos >= intervalNanos());
    if (!due) {
      return;
    }
    try {
      channel.force(false);
      unforced = false;
      lastForceNanos = System.nanoTime();
    } catch (IOException ex) {
      failures.increment();
      failure = ex.toString();
      LOG.log(Level.ERROR, "audit log " + file + ": cannot force records to disk: " + ex);
    }
  }

  private void rotate() throws IOException {
    channel.force(false);
    channel.close();
    channel = null;
    int keep = config.keep();
    if (keep == 0) {
      Files.deleteIfExists(file);
    } else {
      Files.deleteIfExists(rotated(keep));
      for (int i = keep - 1; i >= 1; i--) {
        if (Files.exists(rotated(i))) {
          Files.move(rotated(i), rotated(i + 1), StandardCopyOption.REPLACE_EXISTING);
        }
      }
      Files.move(file, rotated(1), StandardCopyOption.REPLACE_EXISTING);
    }
    channel = create(file);
    fileSize = 0;
    committedSize = 0;
  }

  private Path rotated(int i) {
    return file.resolveSibling(file.getFileName() + "." + i);
  }

  // ---- records ---------------------------------------------------------------------------------

  private String event(String kind, String fields) {
    Instant now = Instant.now();
    StringBuilder sb = new StringBuilder(160);
    time(sb, now.getEpochSecond(), now.getNano()).append(",\"event\":\"").append(kind).append('"');
    if (!fields.isEmpty()) {
      sb.append(',').append(fields);
    }
    return sb.toString();
  }

  private static StringBuilder time(StringBuilder sb, long epochSecond, int nano) {
    return sb.append("\"time\":\"")
        .append(TIME.format(Instant.ofEpochSecond(epochSecond, nano)))
        .append('"');
  }

  // ---- opening and continuing a chain ----------------------------------------------------------

  /** Opens the current file, continuing its chain; returns the bytes of a partial line cut off. */
  private long openFile() throws IOException {
    Path dir = file.getParent();
    if (dir != null) {
      Files.createDirectories(dir);
    }
    long recovered = 0;
    FileChannel ch;
    if (Files.exists(file)) {
      ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE);
    } else {
      ch = create(file);
    }
    try {
      long size = ch.size();
      Tail tail = tail(ch, size);
      if (tail.goodSize < size) {
        recovered = size - tail.goodSize;
        ch.truncate(tail.goodSize);
        LOG.log(
            Level.WARNING,
            "audit log " + file + ": cut off a partial last record of " + recovered + " bytes");
      }
      if (tail.last == null && tail.goodSize > 0) {
        throw new IOException(
            file
                + " does not end with an audit record; move it away (keep it as evidence) and"
                + " start a new log");
      }
      AuditLine last = tail.last;
      if (last == null) {
        last = lastOf(rotated(1));
      }
      chain.seq = last == null ? 0 : last.seq();
      setPrev(last == null ? AuditLine.GENESIS : last.hash());
      fileSize = ch.size();
      ch.position(fileSize);
    } catch (IOException | RuntimeException ex) {
      ch.close();
      throw ex;
    }
    channel = ch;
    commit();
    return recovered;
  }

  private static FileChannel create(Path p) throws IOException {
    try {
      return FileChannel.open(
          p,
          java.util.Set.of(
              StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE, StandardOpenOption.READ),
          PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    } catch (UnsupportedOperationException ex) {
      return FileChannel.open(
          p, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE, StandardOpenOption.READ);
    } catch (FileAlreadyExistsException ex) {
      return FileChannel.open(p, StandardOpenOption.WRITE, StandardOpenOption.READ);
    }
  }

  private static AuditLine lastOf(Path p) throws IOException {
    if (!Files.exists(p)) {
      return null;
    }
    try (FileChannel ch = FileChannel.open(p, StandardOpenOption.READ)) {
      return tail(ch, ch.size()).last;
    }
  }

  private record Tail(AuditLine last, long goodSize) {}

  /** The last whole record of a file and where it ends (a partial line after it is not counted). */
  private static Tail tail(FileChannel ch, long size) throws IOException {
    if (size == 0) {
      return new Tail(null, 0);
    }
    int window = (int) Math.min(size, 1 << 20);
    ByteBuffer buf = ByteBuffer.allocate(window);
    long start = size - window;
    while (buf.hasRemaining()) {
      if (ch.read(buf, start + buf.position()) < 0) {
        break;
      }
    }
    byte[] b = buf.array();
    int end = window;
    while (end > 0 && b[end - 1] != '\n') {
      end--;
    }
    if (end == 0) {
      return new Tail(null, start == 0 ? 0 : size);
    }
    int begin = end - 1;
    while (begin > 0 && b[begin - 1] != '\n') {
      begin--;
    }
    String lastLine = new String(b, begin, end - 1 - begin, StandardCharsets.UTF_8);
    return new Tail(AuditLine.parse(lastLine), start + end);
  }
}
