package io.polycall.server.cli;

import io.polycall.CallOptions;
import io.polycall.FunctionInfo;
import io.polycall.Signature;
import io.polycall.StatusException;
import io.polycall.Type;
import io.polycall.Value;
import io.polycall.gateway.JsonValues;
import io.polycall.security.LocalCaller;
import io.polycall.server.Node;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code polycall call NAME [ARG...]}: one call, JSON in and out. */
@Command(
    name = "call",
    mixinStandardHelpOptions = true,
    description = {
      "Calls a function with JSON arguments and prints its result as JSON.",
      "Numbers, strings, true/false, null, arrays (lists, or ndarrays when declared) and objects"
          + " (maps, or structs when declared). For a bytes parameter a string is its UTF-8"
          + " text, {\"base64\": \"...\"} raw bytes; for a fn parameter a string names a"
          + " registered function."
    },
    footer = {
      "",
      "Examples:",
      "  polycall call math.add 1 2",
      "  polycall call stats.mean '[1, 2, 3]'",
      "  polycall call zlib.crc32 '\"hello\"'",
      "  polycall -c polycall.yaml call --token \"$TOKEN\" math.add 1 2",
      "",
      "On failure: CODE: message and the cross-language stack on stderr; see 'polycall --help'"
          + " for exit codes."
    })
final class CallCommand implements Callable<Integer> {
  @CommandLine.ParentCommand PolyCallCli cli;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Parameters(index = "0", paramLabel = "NAME", description = "A function name, or name@version.")
  String name;

  @Parameters(
      index = "1..*",
      arity = "0..*",
      paramLabel = "ARG",
      description = "The arguments, each one JSON value (quote it for the shell).")
  List<String> args = new ArrayList<>();

  @Option(
      names = "--timeout",
      paramLabel = "DURATION",
      description = "Give up after this long: 500ms, 2s, 1m (default: no deadline).")
  String timeout;

  @Option(names = "--pretty", description = "Indent the JSON result.")
  boolean pretty;

  @Option(
      names = "--token",
      paramLabel = "JWT",
      description =
          "Call as the holder of this bearer token (polycall token issue); without it, a node"
              + " with security calls as its security.local_identity.")
  String token;

  @Override
  public Integer call() {
    CallOptions options = CallOptions.DEFAULT;
    if (timeout != null) {
      options = options.withDeadlineAfter(parseDuration(timeout));
    }
    // Resolve first: an unknown name is NOT_FOUND with suggestions before any argument is read,
    // and the declared types tell the JSON reader what JSON cannot say (bytes, fn, f32).
    FunctionInfo f = cli.node().describe(name);
    List<Value> values = new ArrayList<>(args.size());
    for (int i = 0; i < args.size(); i++) {
      Type declared = declaredType(f.signature(), i);
      try {
        values.add(JsonValues.parse(args.get(i), declared, "argument " + (i + 1)));
      } catch (StatusException e) {
        throw new PolyCallCli.UsageException(e.status());
      }
    }
    Value result;
    var local =
        token == null ? Node.localCaller(cli.node()) : java.util.Optional.<LocalCaller>empty();
    if (local.isPresent()) {
      result = local.get().call(name, values, options);
    } else {
      if (token != null) {
        options = options.withMetadata("authorization", "Bearer " + token.strip());
      }
      result = cli.node().call(name, values, options);
    }
    spec.commandLine()
        .getOut()
        .println(pretty ? JsonValues.toPrettyJsonText(result) : JsonValues.toJsonText(result));
    return ExitCodes.OK;
  }

  private static Type declaredType(Signature s, int i) {
    // Extra arguments are read untyped; the core then reports the wrong count with the signature.
    return i < s.arity() ? s.params().get(i).type() : Type.Scalar.ANY;
  }

  static Duration parseDuration(String text) {
    return parseDuration("--timeout", text);
  }

  /** {@code 500ms}, {@code 2s}, {@code 1.5s}, {@code 1m}; else a usage error naming the option. */
  static Duration parseDuration(String option, String text) {
    String t = text.trim().toLowerCase(java.util.Locale.ROOT);
    try {
      if (t.endsWith("ms")) {
        return Duration.ofMillis(Long.parseLong(t.substring(0, t.length() - 2)));
      }
      if (t.endsWith("s")) {
        return Duration.ofMillis(
            Math.round(Double.parseDouble(t.substring(0, t.length() - 1)) * 1000));
      }
      if (t.endsWith("m")) {
        return Duration.ofSeconds(Long.parseLong(t.substring(0, t.length() - 1)) * 60);
      }
    } catch (NumberFormatException e) {
      // falls through to the usage error
    }
    throw new PolyCallCli.UsageException(
        io.polycall.Status.INVALID_ARGUMENT.withDescription(
            option + " " + text + " is not a duration; write 500ms, 2s or 1m"));
  }
}
