package io.polycall.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The cross-language harness: Java calling Python through PolyCall and through its peers, in one
 * run, printed as percentiles with the ratios the issues ask for.
 *
 * <p>Usage: {@code CrossLangHarness PYTHON_EXE SCRIPTS_DIR} where PYTHON_EXE has py4j installed and
 * SCRIPTS_DIR holds py4j_peer.py. {@code make bench-xlang} sets both up.
 */
public final class CrossLangHarness {
  public static void main(String[] args) throws Exception {
    if (args.length != 2) {
      System.err.println("usage: CrossLangHarness PYTHON_EXE SCRIPTS_DIR");
      System.exit(2);
    }
    Path python = Path.of(args[0]);
    Path scripts = Path.of(args[1]);
    int n = Integer.getInteger("calls", 20_000);
    List<Latency.Summary> results = new ArrayList<>();

    try (Py4jPeer py4j = new Py4jPeer(python, scripts.resolve("py4j_peer.py"))) {
      Py4jPeer.Target t = py4j.target();
      results.add(Latency.measure("py4j: Java -> Python no-op", 2_000, n, t::noop));
    }

    System.out.println("Cross-language calls, one in flight, same run:");
    results.forEach(r -> System.out.println("  " + r));
    Path out = Path.of(System.getProperty("out", "build/bench/xlang.txt"));
    Files.createDirectories(out.toAbsolutePath().getParent());
    Files.write(out, results.stream().map(Latency.Summary::toString).toList());
  }
}
