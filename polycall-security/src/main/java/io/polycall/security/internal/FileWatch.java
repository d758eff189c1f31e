package io.polycall.security.internal;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Objects;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Notices that a file changed by polling its modification time, size and file key, at most once per
 * interval and from the call path, so that nothing needs a thread of its own or a close.
 *
 * <p>Polling rather than a {@code WatchService}: editors replace files by rename, bind-mounted
 * secrets (Kubernetes) change through symlink swaps, and both are missed by directory watches on
 * some file systems; a stat per second is cheap and sees them all. Thread-safe: {@link #due} costs
 * one {@code nanoTime} and one volatile read when the interval has not passed; at most one thread
 * at a time gets {@code true}.
 */
public final class FileWatch {
  private final Path path;
  private final long intervalNanos;
  private final ReentrantLock lock = new ReentrantLock();
  private volatile long nextCheckNanos;
  private Stamp seen;

  /** A stamp of the file as it is now (the caller has just read it). */
  public FileWatch(Path path, long intervalNanos) {
    this.path = Objects.requireNonNull(path, "path");
    this.intervalNanos = intervalNanos;
    this.seen = stamp(path);
    this.nextCheckNanos = System.nanoTime() + intervalNanos;
  }

  public Path path() {
    return path;
  }

  /**
   * Whether the file changed since the last time this returned true (or since construction). Cheap
   * when the interval has not passed. Never blocks: a thread that finds another checking returns
   * false.
   */
  public boolean due() {
    long now = System.nanoTime();
    if (now - nextCheckNanos < 0 || !lock.tryLock()) {
      return false;
    }
    try {
      nextCheckNanos = now + intervalNanos;
      return changed();
    } finally {
      lock.unlock();
    }
  }

  /** Checks now, whatever the interval. */
  public boolean changedNow() {
    lock.lock();
    try {
      nextCheckNanos = System.nanoTime() + intervalNanos;
      return changed();
    } finally {
      lock.unlock();
    }
  }

  private boolean changed() {
    Stamp now = stamp(path);
    if (now.equals(seen)) {
      return false;
    }
    seen = now;
    return true;
  }

  private record Stamp(long modifiedNanos, long size, Object fileKey) {}

  private static Stamp stamp(Path path) {
    try {
      BasicFileAttributes a = Files.readAttributes(path, BasicFileAttributes.class);
      return new Stamp(
          a.lastModifiedTime().to(java.util.concurrent.TimeUnit.NANOSECONDS),
          a.size(),
          a.fileKey());
    } catch (NoSuchFileException e) {
      return new Stamp(-1, -1, null);
    } catch (IOException e) {
      return new Stamp(-2, -2, e.getClass().getName());
    }
  }
}
