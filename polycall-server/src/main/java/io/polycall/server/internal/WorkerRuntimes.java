package io.polycall.server.internal;

import io.polycall.Status;
import io.polycall.StatusException;
import io.polycall.server.PolyCallConfig;
import io.polycall.server.PolyCallConfig.WorkerPoolSpec;
import io.polycall.worker.WorkerSpec;
import java.io.File;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.CodeSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Turns a config's worker pool into the command that runs it: finds the Python interpreter or the
 * Node worker script (the repository's SDK environments by default), and resolves files against the
 * config's directory. Stateless and thread-safe.
 */
public final class WorkerRuntimes {
  /** The SDK environments, relative to the repository root. */
  public static final String PYTHON_VENV = "sdks/python/.venv/bin/python";

  public static final String NODE_WORKER = "sdks/node/bin/polycall-worker.js";

  private static final String HOW_TO_GET_THEM = "run 'make sdk-envs' at the repository root";

  private WorkerRuntimes() {}

  /**
   * The pool as a {@link WorkerSpec}, or empty when it is optional and something it needs is not
   * installed (the reason is in {@code skipped}).
   *
   * @throws StatusException FAILED_PRECONDITION naming the pool when something it needs is missing
   */
  public static Optional<WorkerSpec> spec(WorkerPoolSpec pool, Path baseDir, List<String> skipped) {
    try {
      return Optional.of(build(pool, baseDir));
    } catch (StatusException e) {
      if (pool.optional() && e.status().code() == Status.Code.FAILED_PRECONDITION) {
        skipped.add(e.status().description());
        return Optional.empty();
      }
      throw e;
    }
  }

  private static WorkerSpec build(WorkerPoolSpec pool, Path baseDir) {
    // The runtime first: when the SDK environments are missing, that is the message to give.
    List<String> command = new ArrayList<>();
    switch (pool.language()) {
      case "python" -> {
        command.add(python(pool, baseDir));
        command.addAll(List.of("-m", "polycall.worker"));
      }
      case "node" -> {
        command.add(
            onPath("node")
                .orElseThrow(
                    () -> missing(pool, "node is not on the PATH", "install Node.js 20 or newer")));
        command.add(nodeWorker(pool, baseDir));
      }
      default ->
          throw Status.INVALID_ARGUMENT
              .withDescription(pool.where() + ": unknown worker language " + pool.language())
              .asException();
    }
    List<String> files = new ArrayList<>();
    for (int i = 0; i < pool.files().size(); i++) {
      Path f = baseDir.resolve(Substitution.apply(pool.files().get(i))).normalize();
      if (!Files.isRegularFile(f)) {
        throw missing(
            pool,
            "files[" + i + "] " + f + " does not exist",
            "fix the path (it is relative to the config file's directory)");
      }
      files.add(f.toString());
    }
    String option = pool.language().equals("python") ? "--file" : "--module";
    // Python takes module names and files apart; the Node worker takes paths (relative to its
    // working directory, the config's) for both.
    for (String m : pool.modules()) {
      command.add("--module");
      command.add(m);
    }
    for (String f : files) {
      command.add(option);
      command.add(f);
    }
    return new WorkerSpec(
            pool.name(),
            pool.language(),
            sandboxed(command, pool),
            pool.processes(),
            pool.env(),
            pool.maxInFlight(),
            baseDir,
            pool.startTimeout())
        .withSharedRings(pool.sharedRings());
  }

  /** Where util-linux puts prlimit; the Makefile's tools target installs it when missing. */
  public static final String PRLIMIT = "/usr/bin/prlimit";

  /**
   * The command launched through {@code prlimit} with the pool's resource limits, or unchanged when
   * it has none. prlimit sets the limits (soft and hard alike, so the worker cannot raise them) and
   * then execs the worker: the worker keeps prlimit's pid, and the limits hold for everything it
   * starts.
   *
   * <pre>
   *   /usr/bin/prlimit --as=8589934592 --nofile=1024 -- .venv/bin/python -m polycall.worker ...
   * </pre>
   */
  static List<String> sandboxed(List<String> command, WorkerPoolSpec pool) {
    PolyCallConfig.Sandbox s = pool.sandbox();
    if (s.isEmpty()) {
      return command;
    }
    if (!Files.isExecutable(Path.of(PRLIMIT))) {
      throw missing(
          pool,
          "its sandbox (memory, cpu_seconds, open_files) needs " + PRLIMIT + ", which is missing",
          "install util-linux (make tools does), or remove the sandbox settings");
    }
    List<String> out = new ArrayList<>();
    out.add(PRLIMIT);
    if (s.memoryBytes() > 0) {
      out.add("--as=" + s.memoryBytes());
    }
    if (s.cpuSeconds() > 0) {
      out.add("--cpu=" + s.cpuSeconds());
    }
    if (s.openFiles() > 0) {
      out.add("--nofile=" + s.openFiles());
    }
    out.add("--");
    out.addAll(command);
    return out;
  }

  private static String python(WorkerPoolSpec pool, Path baseDir) {
    if (pool.runtime() != null) {
      return executable(pool, Substitution.apply(pool.runtime()), baseDir, "python");
    }
    Optional<Path> venv = repoRoot().map(r -> r.resolve(PYTHON_VENV));
    if (venv.isPresent() && Files.isExecutable(venv.get())) {
      return venv.get().toString();
    }
    if (pool.optional()) {
      // python3 alone rarely has the polycall package: an optional pool waits for the venv.
      throw missing(
          pool,
          "the Python SDK environment "
              + venv.map(Path::toString).orElse(PYTHON_VENV)
              + " does not exist",
          HOW_TO_GET_THEM + ", or set 'python:' to an interpreter with the polycall package");
    }
    return onPath("python3")
        .orElseThrow(
            () ->
                missing(
                    pool,
                    "neither " + PYTHON_VENV + " nor python3 on the PATH exists",
                    HOW_TO_GET_THEM + ", or set 'python:' to an interpreter"));
  }

  private static String nodeWorker(WorkerPoolSpec pool, Path baseDir) {
    if (pool.runtime() != null) {
      Path script = baseDir.resolve(Substitution.apply(pool.runtime())).normalize();
      if (!Files.isRegularFile(script)) {
        throw missing(pool, "the Node worker script " + script + " does not exist", "fix 'node:'");
      }
      return script.toString();
    }
    Path root =
        repoRoot()
            .orElseThrow(
                () ->
                    missing(
                        pool,
                        "the PolyCall repository (for " + NODE_WORKER + ") was not found",
                        "set 'node:' to the path of polycall-worker.js"));
    Path script = root.resolve(NODE_WORKER);
    if (!Files.isRegularFile(script)) {
      throw missing(pool, script + " does not exist", "update the repository, or set 'node:'");
    }
    if (!Files.isDirectory(root.resolve("sdks/node/node_modules"))) {
      throw missing(pool, "the Node SDK's dependencies are not installed", HOW_TO_GET_THEM);
    }
    return script.toString();
  }

  /** A path (with a '/') relative to the config's directory, or a command on the PATH. */
  private static String executable(WorkerPoolSpec pool, String name, Path baseDir, String key) {
    if (name.indexOf('/') >= 0) {
      Path p = baseDir.resolve(name).normalize();
      if (!Files.isExecutable(p)) {
        throw missing(pool, key + " " + p + " is not an executable file", "fix '" + key + ":'");
      }
      return p.toString();
    }
    return onPath(name)
        .orElseThrow(
            () ->
                missing(
                    pool,
                    key + " " + name + " is not on the PATH",
                    "fix '" + key + ":' or install it"));
  }

  private static Optional<String> onPath(String command) {
    String path = System.getenv("PATH");
    if (path == null) {
      return Optional.empty();
    }
    for (String dir : path.split(File.pathSeparator)) {
      if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, command))) {
        return Optional.of(Path.of(dir, command).toString());
      }
    }
    return Optional.empty();
  }

  private static StatusException missing(WorkerPoolSpec pool, String problem, String fix) {
    return Status.FAILED_PRECONDITION
        .withDescription(
            pool.where()
                + ": worker pool '"
                + pool.name()
                + "' ("
                + pool.language()
                + "): "
                + problem
                + "; "
                + fix
                + (pool.optional() ? "" : " (or mark the pool 'optional: true')"))
        .asException();
  }

  /**
   * The PolyCall repository: {@code polycall.home} (set by bin/polycall), {@code polycall.repo.dir}
   * (set by the build for tests), else the directory above this code's jar or classes that holds
   * {@code sdks/}.
   */
  public static Optional<Path> repoRoot() {
    for (String prop : List.of("polycall.home", "polycall.repo.dir")) {
      String v = System.getProperty(prop);
      if (v != null && Files.isDirectory(Path.of(v))) {
        return Optional.of(Path.of(v).toAbsolutePath().normalize());
      }
    }
    try {
      CodeSource cs = WorkerRuntimes.class.getProtectionDomain().getCodeSource();
      if (cs != null) {
        for (Path p = Path.of(cs.getLocation().toURI()); p != null; p = p.getParent()) {
          if (Files.isDirectory(p.resolve("sdks")) && Files.isDirectory(p.resolve("examples"))) {
            return Optional.of(p);
          }
        }
      }
    } catch (URISyntaxException | RuntimeException e) {
      // no repository to be found this way
    }
    return Optional.empty();
  }
}
