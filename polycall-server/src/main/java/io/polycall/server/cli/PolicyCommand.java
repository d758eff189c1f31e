package io.polycall.server.cli;

import io.polycall.FunctionInfo;
import io.polycall.Identity;
import io.polycall.Signature;
import io.polycall.StatusException;
import io.polycall.security.Policy;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code polycall policy check|explain}: a policy file checked before a node reloads it. */
@Command(
    name = "policy",
    mixinStandardHelpOptions = true,
    description = "Checks a policy file, and explains what it decides for a subject and function.",
    subcommands = {PolicyCommand.Check.class, PolicyCommand.Explain.class},
    footer = {
      "",
      "Examples:",
      "  polycall policy check policy.yaml",
      "  polycall policy explain policy.yaml --subject alice --function stats.mean",
      "  polycall policy explain policy.yaml --subject worker:py --function gpu.train"
          + " --bridge python --tag gpu"
    })
final class PolicyCommand implements Runnable {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  static Policy load(Path file) {
    try {
      return Policy.load(file);
    } catch (StatusException e) {
      throw new PolyCallCli.ConfigException(e.status());
    }
  }

  @Command(
      name = "check",
      mixinStandardHelpOptions = true,
      description = {
        "Reads the policy as a node would; prints its roles, or the first mistake with its line"
            + " and column (exit code 3). Check a file before the node re-reads it: a file with a"
            + " mistake is not loaded (the old policy stays in force), but the mistake only shows"
            + " in the node's log."
      })
  static final class Check implements Callable<Integer> {
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Parameters(index = "0", paramLabel = "FILE", description = "The policy file.")
    Path file;

    @Override
    public Integer call() {
      Policy p = load(file);
      spec.commandLine().getOut().println(file + ": ok, roles " + p.roleNames());
      return ExitCodes.OK;
    }
  }

  @Command(
      name = "explain",
      mixinStandardHelpOptions = true,
      description = {
        "Prints what the policy decides for one caller and function: ALLOW with the role that"
            + " allows it, or DENY with what would allow it (exit code 1).",
        "Subjects are written as in the policy: alice (a token's sub), worker:POOL, unix:USER,"
            + " mtls:CN, local:NAME."
      },
      footer = {
        "",
        "Example:",
        "  polycall policy explain policy.yaml --subject bob --role analyst --function stats.mean"
      })
  static final class Explain implements Callable<Integer> {
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Parameters(index = "0", paramLabel = "FILE", description = "The policy file.")
    Path file;

    @Option(names = "--subject", required = true, paramLabel = "SUBJECT", description = "Who.")
    String subject;

    @Option(
        names = "--role",
        paramLabel = "ROLE",
        description = "A role in the caller's token (repeatable).")
    List<String> roles = new ArrayList<>();

    @Option(
        names = "--function",
        required = true,
        paramLabel = "NAME",
        description = "The function.")
    String function;

    @Option(
        names = "--bridge",
        defaultValue = "jvm",
        paramLabel = "BRIDGE",
        description = "Its bridge: jvm, native, python, node, remote, wasm (default jvm).")
    String bridge;

    @Option(
        names = "--tag",
        paramLabel = "TAG",
        description = "A tag of the function (repeatable).")
    List<String> tags = new ArrayList<>();

    @Override
    public Integer call() {
      Policy p = load(file);
      Identity id = identity(subject, roles);
      FunctionInfo f;
      try {
        f =
            new FunctionInfo(
                Signature.parse(function + "() -> any"), 1, bridge, Set.copyOf(tags), "");
      } catch (StatusException e) {
        throw new PolyCallCli.UsageException(e.status());
      }
      Policy.Decision d = p.decide(id, f);
      var out = spec.commandLine().getOut();
      out.println("roles of " + id + ": " + p.rolesOf(id));
      Map<String, String> needs = p.requiredPermissions(f);
      if (!needs.isEmpty()) {
        out.println("permissions needed: " + needs);
      }
      out.println((d.allowed() ? "ALLOW: " : "DENY: ") + d.reason());
      return d.allowed() ? ExitCodes.OK : ExitCodes.CALL_FAILED;
    }

    /** The identity a transport or a token would give {@code subject}. */
    static Identity identity(String subject, List<String> roles) {
      int colon = subject.indexOf(':');
      String prefix = colon < 0 ? "" : subject.substring(0, colon);
      String rest = subject.substring(colon + 1);
      return switch (prefix) {
        case Identity.WORKER, Identity.UNIX -> Identity.of(subject, prefix);
        case Identity.MTLS, Identity.LOCAL -> Identity.of(rest, prefix);
        case Identity.JWT -> jwt(rest, roles);
        default -> jwt(subject, roles);
      };
    }

    private static Identity jwt(String sub, List<String> roles) {
      return roles.isEmpty()
          ? Identity.of(sub, Identity.JWT)
          : new Identity(sub, Identity.JWT, Map.of("roles", String.join(",", roles)));
    }
  }
}
