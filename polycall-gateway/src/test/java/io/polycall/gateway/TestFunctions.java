package io.polycall.gateway;

import io.polycall.CallContext;
import io.polycall.Status;
import io.polycall.core.PolyFunction;
import io.polycall.core.PolyNamespace;
import java.util.concurrent.CountDownLatch;

/** Functions the gateway tests call over HTTP. */
@PolyNamespace("t")
public class TestFunctions {
  /** Counted down when {@link #sleep} sees its call cancelled. */
  public volatile CountDownLatch cancelled = new CountDownLatch(1);

  /** Counted down when {@link #sleep} has started. */
  public volatile CountDownLatch started = new CountDownLatch(1);

  /** What {@link #hold} waits for. */
  public volatile CountDownLatch release = new CountDownLatch(1);

  public record Person(String name, int age) {}

  /** Waits until the test counts {@link #release} down; true then. */
  @PolyFunction
  public boolean hold() throws InterruptedException {
    return release.await(60, java.util.concurrent.TimeUnit.SECONDS);
  }

  @PolyFunction(doc = "Adds two integers.")
  public long add(long a, long b) {
    return a + b;
  }

  @PolyFunction
  public void nop() {}

  /** Runs on the gateway's event loop. */
  @PolyFunction(tags = "nonblocking")
  public long twice(long x) {
    return 2 * x;
  }

  @PolyFunction(signature = "(x: u64) -> u64")
  public long big(long x) {
    return x;
  }

  @PolyFunction
  public String greet(Person p) {
    return "hello " + p.name() + " (" + p.age() + ")";
  }

  @PolyFunction
  public byte[] blob(int n) {
    return new byte[n];
  }

  @PolyFunction
  public byte[] reverse(byte[] b) {
    byte[] out = new byte[b.length];
    for (int i = 0; i < b.length; i++) {
      out[i] = b[b.length - 1 - i];
    }
    return out;
  }

  @PolyFunction
  public double[] scale(double[] a, double k) {
    double[] out = new double[a.length];
    for (int i = 0; i < a.length; i++) {
      out[i] = a[i] * k;
    }
    return out;
  }

  /** Sleeps up to {@code ms}, polling for cancellation; true if it was cancelled. */
  @PolyFunction
  public boolean sleep(CallContext ctx, long ms) {
    started.countDown();
    long end = System.nanoTime() + ms * 1_000_000;
    while (System.nanoTime() < end) {
      if (ctx.isCancelled()) {
        cancelled.countDown();
        return true;
      }
      try {
        Thread.sleep(5);
      } catch (InterruptedException e) {
        cancelled.countDown();
        return true;
      }
    }
    return false;
  }

  @PolyFunction
  public long busy() {
    throw Status.RESOURCE_EXHAUSTED
        .withDescription("too many calls from you; retry after 1500ms")
        .asException();
  }
}
