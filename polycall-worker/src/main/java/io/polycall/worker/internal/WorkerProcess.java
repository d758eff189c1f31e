package io.polycall.worker.internal;

import io.polycall.Status;
import io.polycall.worker.Connection;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.lang.System.Logger.Level;
import java.nio.charset.StandardCharsets;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One running worker process of a pool: the OS process, its connection once it has shaken hands,
 * the functions it announced, and the calls it has in flight. Thread-safe.
 *
 * <pre>
 *   spawned --handshake--> connected --Announce--> ready --exit/close--> dead (pool restarts)
 * </pre>
 */
public final class WorkerProcess {
  private static final System.Logger LOG = System.getLogger("io.polycall.worker");

  final String id;
  final Process process;
  final AtomicInteger inFlight = new AtomicInteger();
  final AtomicInteger missedPings = new AtomicInteger();
  final long startedNanos = System.nanoTime();
  final CompletableFuture<Connection> connected = new CompletableFuture<>();
  volatile Set<String> functions = Set.of();
  volatile boolean ready;

  WorkerProcess(String id, Process process) {
    this.id = id;
    this.process = process;
    forward(process.getInputStream(), Level.INFO);
    forward(process.getErrorStream(), Level.INFO);
  }

  /** Worker output goes to the log, a line at a time, tagged with the worker id. */
  private void forward(InputStream stream, Level level) {
    Thread.ofVirtual()
        .name("polycall-" + id + "-output")
        .start(
            () -> {
              try (BufferedReader r =
                  new BufferedReader(new InputStreamReader(stream, StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                  LOG.log(level, "[{0} pid {1}] {2}", id, Long.toString(process.pid()), line);
                }
              } catch (IOException e) {
                // The process ended; its exit is reported elsewhere.
              }
            });
  }

  Connection connection() {
    return connected.getNow(null);
  }

  boolean isAlive() {
    return process.isAlive();
  }

  /**
   * How the process ended, for error messages: "exited with code 3" or "was killed by signal 9".
   * Waits up to {@code waitMillis} for the exit to be known.
   */
  String exitDescription(long waitMillis) {
    try {
      if (!process.waitFor(waitMillis, TimeUnit.MILLISECONDS)) {
        return "lost its connection (pid " + process.pid() + " still running)";
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "lost its connection";
    }
    int code = process.exitValue();
    // The JDK reports death by signal N as 128 + N, as shells do.
    return code > 128 && code < 128 + 65
        ? "was killed by signal " + (code - 128) + " (pid " + process.pid() + ")"
        : "exited with code " + code + " (pid " + process.pid() + ")";
  }

  Status unavailable(String pool, String what) {
    return Status.UNAVAILABLE.withDescription("worker " + id + " of pool " + pool + " " + what);
  }

  void kill() {
    Connection c = connection();
    if (c != null) {
      c.shutdownNow();
    }
    process.destroyForcibly();
  }

  @Override
  public String toString() {
    return id + "(pid " + process.pid() + ")";
  }
}
