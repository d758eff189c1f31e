package io.polycall.server.cli;

import io.polycall.server.internal.Demo;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code polycall demo}: the guided tour, independent of any config. */
@Command(
    name = "demo",
    mixinStandardHelpOptions = true,
    description = {
      "A short tour: register Java functions, discover and call them, call C (libm, zlib, the"
          + " project's test library), a C callback into Java, an error with its cross-language"
          + " stack, and the latency of each bridge.",
      "It sets up its own functions and ignores --config."
    })
final class DemoCommand implements Callable<Integer> {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    new Demo(spec.commandLine().getOut()).run();
    return ExitCodes.OK;
  }
}
