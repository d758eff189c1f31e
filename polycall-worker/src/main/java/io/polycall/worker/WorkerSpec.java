package io.polycall.worker;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A pool of worker processes as the config declares it: what to run, how many, with what
 * environment, and how many calls each may have in flight.
 *
 * {@snippet :
 * WorkerSpec stats = WorkerSpec.python("py", Path.of(".venv/bin/python"), List.of("stats"))
 *     .withProcesses(2)
 *     .withMaxInFlight(64);
 * }
 *
 * @param name the pool's name, used in worker ids ({@code py-0}) and log lines
 * @param language the bridge name its functions are registered under: {@code python}, {@code node}
 * @param command the program and its arguments
 * @param processes how many processes run at once; calls go to the least busy
 * @param environment added to the workers' otherwise clean environment
 * @param maxInFlight calls one process may have in flight; past it, RESOURCE_EXHAUSTED
 * @param workingDirectory where the processes start; null for the hub's own
 * @param startTimeout how long a process may take to connect and announce before it is restarted
 * @param sharedRings whether a worker that offers shared-memory rings (WIRE.md, {@code
 *     shm-rings/1}) gets them: on by default; off, or system property {@code polycall.rings=false}
 *     for the whole hub, keeps every frame on the socket
 */
public record WorkerSpec(
    String name,
    String language,
    List<String> command,
    int processes,
    Map<String, String> environment,
    int maxInFlight,
    Path workingDirectory,
    Duration startTimeout,
    boolean sharedRings) {

  public WorkerSpec {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(language, "language");
    command = List.copyOf(command);
    environment = Map.copyOf(environment);
    if (command.isEmpty()) {
      throw new IllegalArgumentException("worker pool " + name + " has an empty command");
    }
    if (processes < 1) {
      throw new IllegalArgumentException("worker pool " + name + " needs at least 1 process");
    }
    if (maxInFlight < 1) {
      throw new IllegalArgumentException("worker pool " + name + " needs maxInFlight >= 1");
    }
    Objects.requireNonNull(startTimeout, "startTimeout");
  }

  /** A spec with shared-memory rings on. */
  public WorkerSpec(
      String name,
      String language,
      List<String> command,
      int processes,
      Map<String, String> environment,
      int maxInFlight,
      Path workingDirectory,
      Duration startTimeout) {
    this(
        name,
        language,
        command,
        processes,
        environment,
        maxInFlight,
        workingDirectory,
        startTimeout,
        true);
  }

  /** A Python pool: {@code python -m polycall.worker --module M ...}. */
  public static WorkerSpec python(String name, Path python, List<String> modules) {
    List<String> cmd = new ArrayList<>(List.of(python.toString(), "-m", "polycall.worker"));
    for (String m : modules) {
      cmd.add("--module");
      cmd.add(m);
    }
    return new WorkerSpec(name, "python", cmd, 1, Map.of(), 64, null, Duration.ofSeconds(20));
  }

  /** A Node pool: {@code node polycall-worker.js --module M ...}. */
  public static WorkerSpec node(String name, Path workerScript, List<String> modules) {
    List<String> cmd = new ArrayList<>(List.of("node", workerScript.toString()));
    for (String m : modules) {
      cmd.add("--module");
      cmd.add(m);
    }
    return new WorkerSpec(name, "node", cmd, 1, Map.of(), 64, null, Duration.ofSeconds(20));
  }

  public WorkerSpec withProcesses(int n) {
    return new WorkerSpec(
        name,
        language,
        command,
        n,
        environment,
        maxInFlight,
        workingDirectory,
        startTimeout,
        sharedRings);
  }

  public WorkerSpec withEnvironment(Map<String, String> env) {
    return new WorkerSpec(
        name,
        language,
        command,
        processes,
        env,
        maxInFlight,
        workingDirectory,
        startTimeout,
        sharedRings);
  }

  public WorkerSpec withMaxInFlight(int calls) {
    return new WorkerSpec(
        name,
        language,
        command,
        processes,
        environment,
        calls,
        workingDirectory,
        startTimeout,
        sharedRings);
  }

  public WorkerSpec withWorkingDirectory(Path dir) {
    return new WorkerSpec(
        name,
        language,
        command,
        processes,
        environment,
        maxInFlight,
        dir,
        startTimeout,
        sharedRings);
  }

  /** Whether workers that offer shared-memory rings get them (on by default). */
  public WorkerSpec withSharedRings(boolean on) {
    return new WorkerSpec(
        name,
        language,
        command,
        processes,
        environment,
        maxInFlight,
        workingDirectory,
        startTimeout,
        on);
  }

  public WorkerSpec withStartTimeout(Duration timeout) {
    return new WorkerSpec(
        name,
        language,
        command,
        processes,
        environment,
        maxInFlight,
        workingDirectory,
        timeout,
        sharedRings);
  }
}
