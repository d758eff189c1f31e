package io.polycall.server.cli;

import io.polycall.Status;
import io.polycall.StatusException;
import io.polycall.core.PolyCall;
import io.polycall.server.Node;
import io.polycall.server.PolyCallConfig;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Properties;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The {@code polycall} command line: list, describe and call the functions a config declares, and a
 * demo. Each command runs on a node started from the config for that one command.
 *
 * <pre>
 *   polycall [--config FILE] functions [GLOB]     name@version, bridge, signature, tags
 *   polycall [--config FILE] describe NAME        signature, bridge, version, tags, doc
 *   polycall [--config FILE] call NAME [ARG...]   each ARG is JSON; the result is JSON on stdout
 *   polycall [--config FILE] serve [--for 30s]    serves the node's Unix socket until a signal
 *   polycall [--config FILE] token issue --sub S  a signed bearer token (docs/security.md)
 *   polycall policy check|explain FILE ...        a policy file checked, a decision explained
 *   polycall demo                                 a tour of PolyCall, self-contained
 * </pre>
 *
 * <p>Without {@code --config}, {@code ./polycall.yaml} is used when it exists, else the example
 * config bundled in the jar. Exit codes are in {@link ExitCodes}. Failures print {@code CODE:
 * message} and the cross-language stack on stderr.
 *
 * <p>One instance runs one command line; not thread-safe.
 */
@Command(
    name = "polycall",
    mixinStandardHelpOptions = true,
    versionProvider = PolyCallCli.Version.class,
    description = "Lists, describes and calls PolyCall functions, whatever language runs them.",
    subcommands = {
      FunctionsCommand.class,
      DescribeCommand.class,
      CallCommand.class,
      ServeCommand.class,
      TokenCommand.class,
      PolicyCommand.class,
      DemoCommand.class,
      AuditCommand.class,
      CommandLine.HelpCommand.class
    },
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {
      "0:OK",
      "1:the function ran and failed",
      "2:usage error (bad option or argument, argument not JSON)",
      "3:configuration error",
      "4:no function of that name",
      "5:arguments do not match the signature"
    },
    footer = {
      "",
      "Without --config: ./polycall.yaml if it exists, else the built-in example config.",
      "Example: polycall call math.add 1 2"
    })
public final class PolyCallCli implements Runnable {

  @Option(
      names = {"-c", "--config"},
      paramLabel = "FILE",
      scope = CommandLine.ScopeType.INHERIT,
      description = "The YAML config (default: ./polycall.yaml, else the built-in example).")
  Path config;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  private PolyCall node;

  public static void main(String[] args) {
    // One line per record (the JDK default takes two), before anything creates a logger.
    if (System.getProperty("java.util.logging.SimpleFormatter.format") == null) {
      System.setProperty(
          "java.util.logging.SimpleFormatter.format", "%1$tT.%1$tL %4$s %3$s: %5$s%6$s%n");
    }
    // Logging stays on while 'serve' drains its workers from a shutdown hook.
    if (System.getProperty("java.util.logging.manager") == null) {
      System.setProperty("java.util.logging.manager", ShutdownLogManager.class.getName());
    }
    int code;
    try (PrintWriter out = new PrintWriter(System.out, true);
        PrintWriter err = new PrintWriter(System.err, true)) {
      code = run(args, out, err);
    }
    System.exit(code);
  }

  /** Runs one command line, printing to {@code out} and {@code err}; returns the exit code. */
  public static int run(String[] args, PrintWriter out, PrintWriter err) {
    PolyCallCli cli = new PolyCallCli();
    CommandLine cl = commandLine(cli, out, err);
    try {
      return cl.execute(args);
    } finally {
      cli.close();
      out.flush();
      err.flush();
    }
  }

  static CommandLine commandLine(PolyCallCli cli, PrintWriter out, PrintWriter err) {
    CommandLine cl = new CommandLine(cli);
    cl.setOut(out);
    cl.setErr(err);
    cl.setExitCodeExceptionMapper(PolyCallCli::exitCodeOf);
    cl.setExecutionExceptionHandler(
        (e, commandLine, parseResult) -> {
          PrintWriter w = commandLine.getErr();
          switch (e) {
            case ConfigException c -> w.println(Errors.describe(c.status()));
            case UsageException u -> {
              w.println(Errors.describe(u.status()));
              w.println("Run 'polycall " + commandLine.getCommandName() + " --help' for usage.");
            }
            case StatusException s -> w.println(Errors.describe(s.status()));
            default -> w.println(Errors.describe(Status.fromThrowable(e)));
          }
          w.flush();
          return exitCodeOf(e);
        });
    return cl;
  }

  private static int exitCodeOf(Throwable e) {
    return switch (e) {
      case ConfigException c -> ExitCodes.CONFIG;
      case UsageException u -> ExitCodes.USAGE;
      case StatusException s -> ExitCodes.of(s.status());
      case CommandLine.ParameterException p -> ExitCodes.USAGE;
      default -> ExitCodes.CALL_FAILED;
    };
  }

  @Override
  public void run() {
    // 'polycall' alone: show what it can do rather than fail.
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  /**
   * The node for this command line, started on first use from the config.
   *
   * @throws ConfigException when the config cannot be read or started
   */
  PolyCall node() {
    if (node == null) {
      quietWorkers();
      PolyCallConfig cfg;
      try {
        cfg = loadConfig();
        node = Node.start(cfg);
      } catch (StatusException e) {
        throw new ConfigException(e.status());
      }
    }
    return node;
  }

  /** Held so that the level set below stays set: JUL keeps loggers only weakly. */
  private static volatile List<java.util.logging.Logger> quiet;

  /**
   * A one-shot command shows worker start-up lines only when something goes wrong; {@code serve}
   * logs them all.
   */
  private static void quietWorkers() {
    if (quiet == null) {
      quiet =
          List.of(
              java.util.logging.Logger.getLogger("io.polycall.worker"),
              java.util.logging.Logger.getLogger(Node.class.getName()));
    }
    for (java.util.logging.Logger l : quiet) {
      l.setLevel(java.util.logging.Level.WARNING);
    }
  }

  PolyCallConfig loadConfig() {
    if (config != null) {
      return PolyCallConfig.load(config);
    }
    Path local = Path.of("polycall.yaml");
    return Files.isRegularFile(local) ? PolyCallConfig.load(local) : PolyCallConfig.builtIn();
  }

  private void close() {
    if (node != null) {
      node.close();
      node = null;
    }
  }

  /** A failure of the config, not of a call: exit code {@link ExitCodes#CONFIG}. */
  static final class ConfigException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final transient Status status;

    ConfigException(Status status) {
      super(status.toString(), status.cause(), true, false);
      this.status = status;
    }

    Status status() {
      return status;
    }
  }

  /**
   * A command line that is wrong in a way picocli cannot see: exit code {@link ExitCodes#USAGE}.
   */
  static final class UsageException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final transient Status status;

    UsageException(Status status) {
      super(status.toString(), status.cause(), true, false);
      this.status = status;
    }

    Status status() {
      return status;
    }
  }

  /** The version from the build, so {@code --version} never drifts from the pom. */
  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      Properties p = new Properties();
      try (InputStream in =
          PolyCallCli.class.getResourceAsStream("/io/polycall/server/version.properties")) {
        if (in != null) {
          p.load(in);
        }
      } catch (IOException e) {
        // falls back to "unknown" below: a version line is not worth failing for
      }
      return List.of(
              "polycall " + p.getProperty("version", "unknown"),
              "Java " + Runtime.version() + " (" + System.getProperty("java.vm.vendor") + ")",
              nativeAccess())
          .toArray(String[]::new);
    }

    /**
     * Who may call the JDK's restricted (native) methods: bin/polycall enables them for the native
     * bridge's module only; a bare {@code java -jar} enables them for the class path or not at all.
     */
    static String nativeAccess() {
      Module ffi = io.polycall.ffi.NativeBridge.class.getModule();
      boolean classPath = PolyCallCli.class.getModule().isNativeAccessEnabled();
      if (ffi.isNamed()) {
        return "native access: "
            + (ffi.isNativeAccessEnabled() ? "module " + ffi.getName() : "none")
            + (classPath ? ", and the class path" : " only (not the class path)");
      }
      return "native access: " + (classPath ? "the whole class path" : "none");
    }
  }
}
