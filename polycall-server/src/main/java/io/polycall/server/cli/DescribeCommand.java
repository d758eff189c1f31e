package io.polycall.server.cli;

import io.polycall.FunctionInfo;
import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code polycall describe NAME}: everything the registry knows of one function. */
@Command(
    name = "describe",
    mixinStandardHelpOptions = true,
    description = "Shows a function's signature, bridge, version, tags and documentation.",
    footer = {"", "Examples:", "  polycall describe math.add", "  polycall describe math.add@1"})
final class DescribeCommand implements Callable<Integer> {
  @CommandLine.ParentCommand PolyCallCli cli;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Parameters(index = "0", paramLabel = "NAME", description = "A function name, or name@version.")
  String name;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    FunctionInfo f = cli.node().describe(name);
    List<FunctionInfo> all = cli.node().functions(f.name());
    out.println(f.qualifiedName());
    out.println("  signature  " + f.signature());
    out.println("  bridge     " + f.bridge());
    out.println(
        "  version    "
            + f.version()
            + (all.size() > 1
                ? " (registered: "
                    + all.stream()
                        .map(i -> Integer.toString(i.version()))
                        .collect(Collectors.joining(", "))
                    + ")"
                : ""));
    out.println(
        "  tags       "
            + (f.tags().isEmpty() ? "-" : String.join(", ", f.tags().stream().sorted().toList())));
    out.println("  doc        " + (f.doc().isEmpty() ? "-" : f.doc()));
    return ExitCodes.OK;
  }
}
