package io.polycall.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Reads JMH's JSON results and prints every score and the ratios the issues set as targets, each
 * against its peer from the same run. Writes {@code summary.json} beside the input.
 *
 * <p>Usage: {@code java -cp polycall-benchmarks.jar io.polycall.bench.Report build/bench/jmh.json}
 */
public final class Report {

  /** A target: {@code subject / peer} must stay at most {@code maxRatio}; or a ns ceiling. */
  /**
   * A target: {@code subject / peer} at most {@code maxRatio} or at least {@code minRatio}, or
   * {@code subject} under {@code maxNanos}; a target with none of them is only reported.
   */
  record Target(
      String what,
      String subject,
      String peer,
      double maxRatio,
      double minRatio,
      double maxNanos,
      double maxExtraNanos) {
    Target(
        String what,
        String subject,
        String peer,
        double maxRatio,
        double minRatio,
        double maxNanos) {
      this(what, subject, peer, maxRatio, minRatio, maxNanos, 0);
    }

    /** {@code subject} at most {@code nanos} slower than {@code peer} (a cost, not a ratio). */
    static Target extraAtMost(String what, String subject, String peer, double nanos) {
      return new Target(what, subject, peer, 0, 0, 0, nanos);
    }

    static Target atMost(String what, String subject, String peer, double ratio) {
      return new Target(what, subject, peer, ratio, 0, 0);
    }

    static Target atLeast(String what, String subject, String peer, double ratio) {
      return new Target(what, subject, peer, 0, ratio, 0);
    }

    static Target under(String what, String subject, double nanos) {
      return new Target(what, subject, null, 0, 0, nanos);
    }

    static Target report(String what, String subject, String peer) {
      return new Target(what, subject, peer, 0, 0, 0);
    }

    String verdict(double ratio) {
      if (maxRatio > 0) {
        return (ratio <= maxRatio ? "MET" : "MISSED")
            + String.format(Locale.ROOT, " (target <= %.1fx)", maxRatio);
      }
      if (minRatio > 0) {
        return (ratio >= minRatio ? "MET" : "MISSED")
            + String.format(Locale.ROOT, " (target >= %.1fx)", minRatio);
      }
      return "reported";
    }
  }

  static final List<Target> TARGETS =
      List.of(
          Target.atMost(
              "typed proxy vs direct MethodHandle.invokeExact",
              "JvmCallBench.typedProxy",
              "JvmCallBench.direct",
              2.0),
          Target.under("dynamic call by name, two boxed args", "JvmCallBench.dynamicByName", 150),
          Target.atMost(
              "libm cos via typed proxy vs raw FFM downcall",
              "NativeCallBench.polycallProxy",
              "NativeCallBench.rawFfm",
              3.0),
          Target.report(
              "libm cos via typed proxy vs raw FFM critical downcall",
              "NativeCallBench.polycallProxy",
              "NativeCallBench.rawFfmCriticalHeap"),
          Target.report(
              "libm cos via dynamic call vs raw FFM downcall",
              "NativeCallBench.polycallDynamic",
              "NativeCallBench.rawFfm"),
          Target.atLeast(
              "JNA (direct mapping) vs PolyCall typed proxy, cos",
              "NativeCallBench.jnaDirect",
              "NativeCallBench.polycallProxy",
              5.0),
          Target.atLeast(
              "JNA (interface) vs PolyCall typed proxy, cos",
              "NativeCallBench.jnaInterface",
              "NativeCallBench.polycallProxy",
              5.0),
          Target.extraAtMost(
              "in-process call, authn+authz+audit vs none",
              "SecuredCallBench.call[on]",
              "SecuredCallBench.call[off]",
              2000),
          Target.extraAtMost(
              "the same, p50 of calls timed one by one",
              "SecuredCallBench.callSampled[on] p50",
              "SecuredCallBench.callSampled[off] p50",
              2000));

  public static void main(String[] args) throws IOException {
    if (args.length != 1) {
      System.err.println("usage: Report JMH_JSON");
      System.exit(2);
    }
    Path in = Path.of(args[0]);
    ObjectMapper json = new ObjectMapper();
    Map<String, Double> scores = new LinkedHashMap<>();
    Map<String, Double> errors = new LinkedHashMap<>();
    for (JsonNode b : json.readTree(in.toFile())) {
      String name = b.get("benchmark").asText();
      String shortName = name.substring(name.lastIndexOf('.', name.lastIndexOf('.') - 1) + 1);
      JsonNode params = b.get("params");
      if (params != null && params.size() > 0) {
        // A parameterized benchmark: one score per parameter set, e.g. SecuredCallBench.call[on].
        List<String> values = new java.util.ArrayList<>();
        params.forEach(v -> values.add(v.asText()));
        shortName += "[" + String.join(",", values) + "]";
      }
      JsonNode m = b.get("primaryMetric");
      scores.put(shortName, toNanos(m.get("score").asDouble(), m.get("scoreUnit").asText()));
      errors.put(shortName, toNanos(m.get("scoreError").asDouble(), m.get("scoreUnit").asText()));
      JsonNode p50 = m.path("scorePercentiles").get("50.0");
      if ("sample".equals(b.path("mode").asText()) && p50 != null) {
        // Sample mode: the score is the mean; the median sits beside it.
        scores.put(shortName + " p50", toNanos(p50.asDouble(), m.get("scoreUnit").asText()));
        errors.put(shortName + " p50", 0.0);
      }
    }
    System.out.println("PolyCall benchmarks (JMH, average time per call, one run)");
    scores.forEach(
        (k, v) ->
            System.out.printf(Locale.ROOT, "  %-36s %10.2f ns  (+/- %.2f)%n", k, v, errors.get(k)));
    System.out.println();
    System.out.println("Targets, each against its peer from the same run:");
    ObjectNode summary = json.createObjectNode();
    summary.set("scoresNanos", json.valueToTree(scores));
    ArrayNode results = summary.putArray("targets");
    for (Target t : TARGETS) {
      Double s = scores.get(t.subject());
      if (s == null) {
        continue;
      }
      ObjectNode r = results.addObject().put("what", t.what()).put("subjectNanos", s);
      String verdict;
      if (t.peer() != null) {
        Double p = scores.get(t.peer());
        if (p == null) {
          continue;
        }
        double ratio = s / p;
        r.put("peerNanos", p).put("ratio", ratio);
        if (t.maxExtraNanos() > 0) {
          double extra = s - p;
          verdict =
              (extra <= t.maxExtraNanos() ? "MET" : "MISSED")
                  + String.format(Locale.ROOT, " (target <= +%.0f ns)", t.maxExtraNanos());
          System.out.printf(Locale.ROOT, "  %-52s %+8.0f ns %s%n", t.what(), extra, verdict);
        } else {
          verdict = t.verdict(ratio);
          System.out.printf(Locale.ROOT, "  %-52s %8.2fx  %s%n", t.what(), ratio, verdict);
        }
      } else {
        verdict =
            (s <= t.maxNanos() ? "MET" : "MISSED")
                + String.format(Locale.ROOT, " (target <= %.0f ns)", t.maxNanos());
        System.out.printf(Locale.ROOT, "  %-52s %8.2f ns %s%n", t.what(), s, verdict);
      }
      r.put("verdict", verdict);
    }
    Files.writeString(
        in.resolveSibling("summary.json"),
        json.writerWithDefaultPrettyPrinter().writeValueAsString(summary));
  }

  private static double toNanos(double v, String unit) {
    return switch (unit) {
      case "ns/op" -> v;
      case "us/op" -> v * 1e3;
      case "ms/op" -> v * 1e6;
      case "s/op" -> v * 1e9;
      default -> v;
    };
  }
}
