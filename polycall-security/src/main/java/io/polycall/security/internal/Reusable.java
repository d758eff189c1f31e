package io.polycall.security.internal;

import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.function.Supplier;

/**
 * One reusable instance of a costly helper (a {@link java.security.MessageDigest} and its buffers)
 * per calling thread, for platform and virtual threads alike.
 *
 * <p>A {@link ThreadLocal} alone serves platform threads well but not virtual ones: a gRPC call
 * runs on a fresh virtual thread of the call engine, so a thread-local helper would be made anew
 * for every call (a digest looked up in the security providers, kilobytes of buffers, a date
 * formatted) and thrown away. Virtual threads therefore borrow from a few shared slots and give the
 * instance back when done; a borrower that finds every slot empty makes a new one, and one given
 * back to full slots is dropped. Platform threads keep theirs in a {@link ThreadLocal}, and {@link
 * #release} is then a no-op.
 *
 * <p>Thread-safe. An instance from {@link #acquire} belongs to the caller until it calls {@link
 * #release} with it, on the same thread.
 */
public final class Reusable<T> {
  /** Slots: more than the carrier threads that can borrow at once on a small machine. */
  private static final int SLOTS = 16;

  private final Supplier<T> make;
  private final ThreadLocal<T> platform;
  private final AtomicReferenceArray<T> slots = new AtomicReferenceArray<>(SLOTS);

  public Reusable(Supplier<T> make) {
    this.make = make;
    this.platform = ThreadLocal.withInitial(make);
  }

  /** This thread's instance (platform), or one borrowed or made (virtual). */
  public T acquire() {
    Thread t = Thread.currentThread();
    if (!t.isVirtual()) {
      return platform.get();
    }
    int start = (int) t.threadId();
    for (int i = 0; i < SLOTS; i++) {
      int k = (start + i) & (SLOTS - 1);
      if (slots.getPlain(k) != null) {
        T x = slots.getAndSet(k, null);
        if (x != null) {
          return x;
        }
      }
    }
    return make.get();
  }

  /** Gives back what {@link #acquire} returned on this thread; the caller must not use it again. */
  public void release(T x) {
    Thread t = Thread.currentThread();
    if (!t.isVirtual()) {
      return;
    }
    int start = (int) t.threadId();
    for (int i = 0; i < SLOTS; i++) {
      int k = (start + i) & (SLOTS - 1);
      if (slots.getPlain(k) == null && slots.compareAndSet(k, null, x)) {
        return;
      }
    }
  }
}
