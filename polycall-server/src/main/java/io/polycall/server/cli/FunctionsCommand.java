package io.polycall.server.cli;

import io.polycall.FunctionInfo;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code polycall functions [GLOB]}: a table of the registered functions. */
@Command(
    name = "functions",
    aliases = "ls",
    mixinStandardHelpOptions = true,
    description = "Lists the registered functions: name@version, bridge, signature and tags.",
    footer = {"", "Examples:", "  polycall functions", "  polycall functions 'math.*'"})
final class FunctionsCommand implements Callable<Integer> {
  @CommandLine.ParentCommand PolyCallCli cli;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Parameters(
      index = "0",
      arity = "0..1",
      paramLabel = "GLOB",
      defaultValue = "**",
      description =
          "Names to list: * matches within a dot-separated part, ** across parts"
              + " (default: ${DEFAULT-VALUE}).")
  String glob;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    List<FunctionInfo> fs = cli.node().functions(glob);
    if (fs.isEmpty()) {
      spec.commandLine().getErr().println("no functions match '" + glob + "'");
      return ExitCodes.OK;
    }
    List<String[]> rows = new ArrayList<>();
    rows.add(new String[] {"NAME", "BRIDGE", "SIGNATURE", "TAGS"});
    for (FunctionInfo f : fs) {
      rows.add(
          new String[] {
            f.qualifiedName(),
            f.bridge(),
            f.signature().shape(),
            String.join(",", f.tags().stream().sorted().toList())
          });
    }
    printTable(out, rows);
    return ExitCodes.OK;
  }

  static void printTable(PrintWriter out, List<String[]> rows) {
    int cols = rows.getFirst().length;
    int[] width = new int[cols];
    for (String[] r : rows) {
      for (int c = 0; c < cols; c++) {
        width[c] = Math.max(width[c], r[c].length());
      }
    }
    for (String[] r : rows) {
      StringBuilder sb = new StringBuilder();
      for (int c = 0; c < cols; c++) {
        sb.append(c == cols - 1 ? r[c] : String.format("%-" + (width[c] + 2) + "s", r[c]));
      }
      out.println(sb.toString().stripTrailing());
    }
  }
}
