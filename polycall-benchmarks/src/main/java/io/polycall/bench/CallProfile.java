package io.polycall.bench;

import io.polycall.Value;
import io.polycall.core.CallRequest;
import io.polycall.core.CallResult;
import io.polycall.core.PolyCall;
import io.polycall.worker.WorkerSpec;
import io.polycall.worker.WorkerSupervisor;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Per-call costs that do not depend on how loaded the machine is: context switches, CPU time and
 * (optionally) system calls per call, on the Java side and in the worker, for a no-op call with one
 * in flight, a batch of 1000 no-ops and an 8 MB float64 echo. Wall-clock latency on a shared
 * machine says little; these counts show whether a change removed work.
 *
 * <p>Usage: {@code CallProfile PYTHON_EXE SCRIPTS_DIR} (the same arguments as {@link
 * CrossLangHarness}; {@code make profile-xlang} sets them up). System properties: {@code calls}
 * (no-op calls, default 20000), {@code lang} ({@code python} or {@code node}), {@code strace}
 * (true: run each phase once more under {@code strace -c -f} on both processes and print system
 * calls per call; the process is slowed a lot meanwhile, but the counts stay exact), {@code only}
 * (run only the phases whose name starts with this, e.g. {@code batch}).
 *
 * <p>Counts come from {@code /proc}: context switches are summed over the live threads of each
 * process (threads that ended during a phase are not counted), CPU time is the process total
 * ({@code utime + stime} of the worker, the JVM's process CPU time).
 */
public final class CallProfile {

  private record Snapshot(
      long javaVol, long javaInvol, long javaCpuNs, long wVol, long wInvol, long wCpuNs) {}

  public static void main(String[] args) throws Exception {
    if (args.length != 2) {
      System.err.println("usage: CallProfile PYTHON_EXE SCRIPTS_DIR");
      System.exit(2);
    }
    Path python = Path.of(args[0]);
    Path scripts = Path.of(args[1]).toAbsolutePath();
    int n = Integer.getInteger("calls", 20_000);
    String lang = System.getProperty("lang", "python");
    boolean strace = Boolean.getBoolean("strace");
    try (PolyCall pc = PolyCall.create()) {
      WorkerSupervisor workers = pc.addBridge(WorkerSupervisor.start(pc.registry(), pc));
      String ns;
      if (lang.equals("node")) {
        Path nodeWorker =
            Path.of(System.getProperty("node.worker", "sdks/node/bin/polycall-worker.js"));
        workers.add(
            WorkerSpec.node(
                    "benchjs", nodeWorker, List.of(scripts.resolve("bench_node.mjs").toString()))
                .withProcesses(1)
                .withMaxInFlight(1024));
        ns = "benchjs";
      } else {
        workers.add(
            WorkerSpec.python("bench", python, List.of("bench_py"))
                .withProcesses(1)
                .withMaxInFlight(1024)
                .withEnvironment(Map.of("PYTHONPATH", scripts.toString())));
        ns = "benchpy";
      }
      if (!workers.awaitReady(Duration.ofSeconds(60))) {
        throw new IllegalStateException("the worker did not start");
      }
      long worker =
          ProcessHandle.current()
              .children()
              .filter(p -> p.info().commandLine().orElse("").contains("polycall"))
              .findFirst()
              .orElseThrow(() -> new IllegalStateException("no worker child process"))
              .pid();
      List<CallRequest> batch = new ArrayList<>();
      for (int i = 0; i < 1000; i++) {
        batch.add(CallRequest.of(ns + ".noop"));
      }
      Value.NdArray eight = Value.NdArray.allocate(io.polycall.Type.Scalar.F64, 1 << 20);
      Phase[] phases = {
        new Phase("no-op, 1 in flight", n, 1, () -> pc.call(ns + ".noop")),
        new Phase(
            "batch of 1000 no-ops",
            Math.max(1, n / 1000),
            1000,
            () -> {
              for (CallResult r : pc.batch(batch)) {
                r.valueOrThrow();
              }
            }),
        new Phase("8 MB f64 echo", Math.max(10, n / 400), 1, () -> pc.call(ns + ".echo", eight)),
      };
      System.out.printf(
          Locale.ROOT,
          "Per-call costs, Java -> %s (worker pid %d); cs = context switches (voluntary+involuntary)%n",
          lang,
          worker);
      System.out.printf(
          Locale.ROOT,
          "  %-22s %8s %14s %10s %14s %10s %10s %10s%n",
          "phase",
          "calls",
          "java cs/call",
          "java us",
          "worker cs/call",
          "worker us",
          "java sys",
          "worker sys");
      boolean perf = Files.isExecutable(Path.of("/usr/bin/perf")) && !Boolean.getBoolean("noperf");
      String only = System.getProperty("only", "");
      for (Phase p : phases) {
        if (!p.name.startsWith(only)) {
          continue;
        }
        for (int i = 0; i < Math.max(3, p.reps / 4); i++) {
          p.op.run(); // warm up (the JIT compiles the path)
        }
        double calls = (double) p.reps * p.perRep;
        if (perf) {
          Process pj = perfStat(ProcessHandle.current().pid());
          Process pw = perfStat(worker);
          Thread.sleep(500); // perf attaches to every thread
          for (int i = 0; i < p.reps; i++) {
            p.op.run();
          }
          double[] j = perfCounts(pj);
          double[] w = perfCounts(pw);
          System.out.printf(
              Locale.ROOT,
              "  %-22s %8d %14.2f %10.2f %14.2f %10.2f %10.2f %10.2f%n",
              p.name,
              (long) calls,
              j[0] / calls,
              j[1] / calls / 1e3,
              w[0] / calls,
              w[1] / calls / 1e3,
              j[2] / calls,
              w[2] / calls);
          continue;
        }
        Snapshot a = snapshot(worker);
        for (int i = 0; i < p.reps; i++) {
          p.op.run();
        }
        Snapshot b = snapshot(worker);
        System.out.printf(
            Locale.ROOT,
            "  %-22s %8d %14.2f %10.2f %14.2f %10.2f%n",
            p.name,
            (long) calls,
            (b.javaVol - a.javaVol + b.javaInvol - a.javaInvol) / calls,
            (b.javaCpuNs - a.javaCpuNs) / calls / 1e3,
            (b.wVol - a.wVol + b.wInvol - a.wInvol) / calls,
            (b.wCpuNs - a.wCpuNs) / calls / 1e3);
      }
      if (strace) {
        for (Phase p : phases) {
          int reps = Math.max(1, p.reps / 10);
          System.out.printf(
              Locale.ROOT, "  syscalls per call, %s (%d calls):%n", p.name, (long) reps * p.perRep);
          straced(ProcessHandle.current().pid(), "java", p, reps);
          straced(worker, "worker", p, reps);
        }
      }
    }
  }

  /** {@code perf stat} counting switches, CPU time and system calls of every thread of pid. */
  private static Process perfStat(long pid) throws IOException {
    return new ProcessBuilder(
            "perf",
            "stat",
            "-x,",
            "-e",
            "context-switches,task-clock,raw_syscalls:sys_enter",
            "-p",
            Long.toString(pid))
        .redirectErrorStream(true)
        .start();
  }

  /** Stops {@code perf} (SIGINT makes it print) and returns switches, CPU ns, system calls. */
  private static double[] perfCounts(Process perf) throws Exception {
    new ProcessBuilder("kill", "-INT", Long.toString(perf.pid())).start().waitFor();
    String out =
        new String(perf.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    perf.waitFor(10, TimeUnit.SECONDS);
    double[] r = new double[3];
    for (String l : out.split("\n")) {
      String[] f = l.split(",");
      if (f.length < 3 || f[0].isEmpty() || !Character.isDigit(f[0].charAt(0))) {
        continue;
      }
      double v = Double.parseDouble(f[0]);
      if (f[2].equals("context-switches")) {
        r[0] = v;
      } else if (f[2].equals("task-clock")) {
        r[1] = v * 1e6; // msec
      } else if (f[2].equals("raw_syscalls:sys_enter")) {
        r[2] = v;
      }
    }
    return r;
  }

  private record Phase(String name, int reps, int perRep, Latency.Op op) {}

  /** Runs {@code reps} of {@code p} with strace counting the system calls of {@code pid}. */
  private static void straced(long pid, String who, Phase p, int reps) throws Exception {
    Path out = Files.createTempFile("polycall-strace", ".txt");
    Process s =
        new ProcessBuilder("strace", "-c", "-f", "-o", out.toString(), "-p", Long.toString(pid))
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.DISCARD)
            .start();
    Thread.sleep(1000); // strace attaches to every thread
    for (int i = 0; i < reps; i++) {
      p.op.run();
    }
    ProcessHandle.of(s.pid()).ifPresent(h -> h.destroy()); // SIGTERM: strace detaches, reports
    s.waitFor(10, TimeUnit.SECONDS);
    double calls = (double) reps * p.perRep;
    List<String> lines = Files.readAllLines(out);
    Files.deleteIfExists(out);
    StringBuilder top = new StringBuilder();
    long total = 0;
    for (String l : lines) {
      String[] f = l.trim().split("\\s+");
      if (f.length >= 5 && f[0].matches("[0-9.]+") && !l.contains("total")) {
        long count = Long.parseLong(f[3]);
        String name = f[f.length - 1];
        if (count / calls >= 0.05) {
          top.append(String.format(Locale.ROOT, " %s %.2f", name, count / calls));
        }
      } else if (l.contains("total") && f.length >= 4) {
        total = Long.parseLong(f[3]);
      }
    }
    System.out.printf(Locale.ROOT, "    %-7s %6.2f /call:%s%n", who, total / calls, top);
  }

  private static Snapshot snapshot(long worker) throws IOException {
    long[] j = switches(ProcessHandle.current().pid());
    long[] w = switches(worker);
    long jcpu =
        ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
            .getProcessCpuTime();
    return new Snapshot(j[0], j[1], jcpu, w[0], w[1], cpuNanos(worker));
  }

  /** Voluntary and involuntary context switches summed over the live threads of {@code pid}. */
  private static long[] switches(long pid) throws IOException {
    long[] out = new long[2];
    try (Stream<Path> tasks = Files.list(Path.of("/proc", Long.toString(pid), "task"))) {
      for (Path t : (Iterable<Path>) tasks::iterator) {
        List<String> lines;
        try {
          lines = Files.readAllLines(t.resolve("status"));
        } catch (IOException e) {
          continue; // the thread ended meanwhile
        }
        for (String l : lines) {
          if (l.startsWith("voluntary_ctxt_switches:")) {
            out[0] += Long.parseLong(l.substring(l.indexOf(':') + 1).trim());
          } else if (l.startsWith("nonvoluntary_ctxt_switches:")) {
            out[1] += Long.parseLong(l.substring(l.indexOf(':') + 1).trim());
          }
        }
      }
    }
    return out;
  }

  /** CPU time of the whole process {@code pid} (ended threads included), from /proc/PID/stat. */
  private static long cpuNanos(long pid) throws IOException {
    String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
    String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
    // Fields after the command: state is index 0, utime 11, stime 12 (clock ticks, 100 Hz).
    long ticks = Long.parseLong(f[11]) + Long.parseLong(f[12]);
    return ticks * 10_000_000L;
  }
}
