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
import java.security.MessageDigest;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;

/**
 * The audit log's single writer thread: callers queue {@link AuditEntry}s (formatted and hashed on
 * their own threads) without touching the disk; the writer numbers and links them (each record
 * carries the hash of the one before), writes whatever has queued up in one write (group commit),
 * forces it per the fsync policy and rotates by size.
 *
 * <pre>
 *   callers --offer--> [ lock-free queue, bounded by a counter ] --drain--> writer thread
 *                                                                  | seq, prev, link hash
 *                                                                  | one write() per batch
 *                                                                  | force() per fsync policy
 *                                                                  v
 *                                               audit.jsonl  (audit.jsonl.1 .. .N rotated)
 * </pre>
 *
 * <p>When a write fails (disk full, file made unwritable), the file is cut back to its last whole
 * record, the batch is counted as lost and the writer reports itself failed; the next batch that
 * can be written starts with a {@code gap} record saying how many records were lost and why, so the
 * chain stays verifiable and the loss is on the record. Thread-safe; {@link #append} blocks only
 * when the queue is full or when the caller asks to wait for its record.
 */
public final class AuditWriter implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(AuditWriter.class.getName());
  private static final DateTimeFormatter TIME =
      DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSSSSS'Z'").withZone(ZoneOffset.UTC);
  private static final int SPIN_ROUNDS = 20;
  private static final long SPIN_PARK_NANOS = 50_000;

  private final AuditConfig config;
  private final Path file;
  private final ConcurrentLinkedQueue<AuditEntry> queue = new ConcurrentLinkedQueue<>();
  private final AtomicInteger pending = new AtomicInteger();
  private final Thread thread;
  private final MessageDigest sha = AuditLine.sha256();
  private final LongAdder written = new LongAdder();
  private final LongAdder dropped = new LongAdder();
  private final LongAdder failures = new LongAdder();

  private volatile boolean sleeping;
  private volatile boolean closing;
  private volatile String failure;
  private volatile String head;

  // Writer-thread state.
  private FileChannel channel;
  private long fileSize;
  private long seq;
  private String prev;
  private long committedSize;
  private long committedSeq;
  private String committedPrev;
  private long lastForceNanos = System.nanoTime();
  private boolean unforced;
  private long lost;
  private String lostError;
  // Direct, so that a write goes from here to the kernel without the JDK's copy of a heap buffer.
  private ByteBuffer out = ByteBuffer.allocateDirect(64 * 1024);
  private final List<AuditEntry> inBuffer = new ArrayList<>();

  private AuditWriter(AuditConfig config) {
    this.config = config;
    this.file = config.file().toAbsolutePath();
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
    w.lock();
    try {
      long recovered = w.openFile();
      w.writeNow(
          w.event(
              "open",
              "\"recovered_bytes\":" + recovered + ",\"pid\":" + ProcessHandle.current().pid()));
    } catch (IOException | RuntimeException e) {
      w.closeChannelQuietly();
      w.unlock();
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
  private void lock() throws IOException {
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

  private void unlock() {
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
   * Queues a record. With {@code await}, returns once the writer has written it (and forced it
   * under {@code fsync: every_record}) or failed to; check {@link AuditEntry#error()}.
   */
  public void append(AuditEntry e, boolean await) {
    if (closing) {
      e.error = "the audit log is closed";
      e.state = 2;
      return;
    }
    while (pending.get() >= config.queueCapacity()) {
      // Back-pressure: audit is never dropped to keep up; the caller waits for the writer.
      LockSupport.unpark(thread);
      LockSupport.parkNanos(10_000);
    }
    pending.incrementAndGet();
    if (await) {
      e.waiter = Thread.currentThread();
    }
    queue.offer(e);
    if (await || sleeping) {
      LockSupport.unpark(thread);
    }
    if (await) {
      while (e.state == 0) {
        LockSupport.park(this);
      }
    }
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
    if (closing) {
      joinQuietly();
      return;
    }
    closing = true;
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

  // ---- writer thread ---------------------------------------------------------------------------

  private void run() {
    List<AuditEntry> batch = new ArrayList<>();
    int idle = 0;
    while (true) {
      AuditEntry e;
      while (batch.size() < 4096 && (e = queue.poll()) != null) {
        batch.add(e);
      }
      if (!batch.isEmpty()) {
        idle = 0;
        pending.addAndGet(-batch.size());
        writeBatch(batch);
        batch.clear();
        continue;
      }
      maybeForce(false);
      if (closing) {
        break;
      }
      if (idle < SPIN_ROUNDS) {
        idle++;
        LockSupport.parkNanos(SPIN_PARK_NANOS);
      } else {
        sleeping = true;
        if (queue.isEmpty() && !closing) {
          LockSupport.parkNanos(unforced ? intervalNanos() : TimeUnit.SECONDS.toNanos(1));
        }
        sleeping = false;
      }
    }
    try {
      if (channel != null) {
        channel.force(false);
        channel.close();
      }
    } catch (IOException ex) {
      LOG.log(Level.WARNING, "audit log " + file + ": cannot close cleanly: " + ex);
    } finally {
      unlock();
    }
  }

  private long intervalNanos() {
    return Math.max(1_000_000L, config.fsyncInterval().toNanos());
  }

  private void writeBatch(List<AuditEntry> batch) {
    try {
      if (channel == null) {
        openFile();
      }
      if (lost > 0) {
        append(
            event(
                "gap",
                "\"lost\":" + lost + ",\"error\":" + Json.string(new StringBuilder(), lostError)),
            null);
      }
      for (AuditEntry e : batch) {
        appendCall(e);
      }
      flush();
      if (config.fsync() == Fsync.EVERY_RECORD) {
        channel.force(false);
        unforced = false;
        lastForceNanos = System.nanoTime();
      } else {
        maybeForce(false);
      }
      for (AuditEntry e : pendingForce) {
        e.state = 1;
        Thread w = e.waiter;
        if (w != null) {
          LockSupport.unpark(w);
        }
      }
      pendingForce.clear();
      if (failure != null) {
        LOG.log(Level.WARNING, "audit log " + file + " is being written again after: " + failure);
        failure = null;
      }
      lost = 0;
      lostError = null;
    } catch (IOException | RuntimeException ex) {
      String why = ex.toString();
      failures.increment();
      // Set before any waiter is released, so that the next call (fail-closed) sees it.
      boolean wasHealthy = failure == null;
      failure = why;
      // Records already flushed stay in the file (not lost, though perhaps not forced); the rest of
      // the batch is lost and the partial write, if any, is cut off.
      long lostNow = 0;
      for (AuditEntry e : batch) {
        if (!e.flushed) {
          lostNow++;
        }
        if (e.state == 0) {
          finish(e, why);
        }
      }
      pendingForce.clear();
      inBuffer.clear();
      out.clear();
      dropped.add(lostNow);
      lost += lostNow;
      lostError = why;
      seq = committedSeq;
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
  }

  private void finish(AuditEntry e, String error) {
    e.error = error;
    e.state = 2;
    Thread w = e.waiter;
    if (w != null) {
      LockSupport.unpark(w);
    }
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
    committedSeq = seq;
    committedPrev = prev;
    head = prev;
  }

  /** Adds one event record (open, gap) to the pending write, rotating first. */
  private void append(String body, AuditEntry e) throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    appendLinked(bytes, sha.digest(bytes));
    if (e != null) {
      inBuffer.add(e);
    }
  }

  // ---- linking records -------------------------------------------------------------------------
  //
  // The caller's thread formatted the body and hashed it (AuditEntry); here each record gets its
  // number and its link, SHA-256(seq || prev || SHA-256(body)): two SHA-256 blocks, whatever the
  // record's size, so that one writer keeps up with many callers.

  /** Appends one call record (seq, prev and hash filled in here), rotating first if needed. */
  private void appendCall(AuditEntry e) throws IOException {
    appendLinked(e.body, e.bodySha256);
    inBuffer.add(e);
  }

  private void appendLinked(byte[] body, byte[] bodySha) throws IOException {
    seq++;
    byte[] seqText = Long.toString(seq).getBytes(StandardCharsets.US_ASCII);
    byte[] h = AuditLine.link(sha, seq, prevRaw, bodySha);
    int len = 8 + seqText.length + body.length + 9 + 64 + 1 + 9 + 64 + 3;
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
    out.put(SEQ_PREFIX).put(seqText).put((byte) ',').put(body);
    out.put(PREV_KEY).put(prev.getBytes(StandardCharsets.US_ASCII)).put((byte) '"');
    out.put(HASH_KEY).put(hexBytes(h)).put(END);
    setPrev(h);
  }

  private static final byte[] SEQ_PREFIX = AuditLine.SEQ_PREFIX.getBytes(StandardCharsets.US_ASCII);
  private static final byte[] PREV_KEY = AuditLine.PREV_KEY.getBytes(StandardCharsets.US_ASCII);
  private static final byte[] HASH_KEY = AuditLine.HASH_KEY.getBytes(StandardCharsets.US_ASCII);
  private static final byte[] END = "\"}\n".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] HEX = "0123456789abcdef".getBytes(StandardCharsets.US_ASCII);

  private static byte[] hexBytes(byte[] b) {
    byte[] out = new byte[b.length * 2];
    for (int i = 0; i < b.length; i++) {
      out[2 * i] = HEX[(b[i] >> 4) & 15];
      out[2 * i + 1] = HEX[b[i] & 15];
    }
    return out;
  }

  private byte[] prevRaw = new byte[32];

  private void setPrev(byte[] raw) {
    prevRaw = raw;
    prev = Json.hex(raw);
  }

  private void setPrev(String hex) {
    prev = hex;
    prevRaw = java.util.HexFormat.of().parseHex(hex);
  }

  private void flush() throws IOException {
    out.flip();
    while (out.hasRemaining()) {
      fileSize += channel.write(out);
    }
    out.clear();
    unforced = true;
    commit();
    for (AuditEntry e : inBuffer) {
      e.flushed = true;
      if (config.fsync() == Fsync.EVERY_RECORD) {
        // Released once the batch is forced (writeBatch).
        pendingForce.add(e);
      } else {
        e.state = 1;
        Thread w = e.waiter;
        if (w != null) {
          LockSupport.unpark(w);
        }
      }
    }
    written.add(inBuffer.size());
    inBuffer.clear();
  }

  private final List<AuditEntry> pendingForce = new ArrayList<>();

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

  /** Writes one record from the opening thread, before the writer thread starts. */
  private void writeNow(String body) throws IOException {
    append(body, null);
    flush();
    channel.force(false);
    unforced = false;
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
      seq = last == null ? 0 : last.seq();
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
