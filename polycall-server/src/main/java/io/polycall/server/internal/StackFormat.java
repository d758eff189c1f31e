package io.polycall.server.internal;

import io.polycall.Status;
import java.util.List;

/**
 * Prints a {@link Status} as people read it: {@code CODE: message}, then the cross-language stack,
 * innermost first. Java frames of PolyCall's own call path (the engine, proxies, the native
 * bridge's upcall plumbing, the CLI) and of the JVM's reflection are left out and counted: they are
 * the same in every error and hide the frames that differ. Stateless and thread-safe.
 */
public final class StackFormat {
  private static final List<String> PLUMBING =
      List.of(
          "io.polycall.core.internal.",
          "io.polycall.core.PolyCall.",
          "io.polycall.core.FunctionHandle.",
          "io.polycall.ffi.internal.",
          "io.polycall.server.cli.",
          // The demo's own frames, but not its lambdas: those are the functions being shown.
          "io.polycall.server.internal.Demo.run",
          "io.polycall.server.internal.Demo.errors",
          "picocli.",
          "java.lang.invoke.",
          "java.lang.reflect.",
          "jdk.internal.",
          "java.util.concurrent.",
          "java.lang.Thread.",
          "java.lang.VirtualThread.");

  private StackFormat() {}

  /**
   * The status and its frames, each line after the first starting with {@code indent + "at "}.
   *
   * @param maxFrames frames to print at most; the rest are counted
   */
  public static String format(Status status, String indent, int maxFrames) {
    StringBuilder sb = new StringBuilder(status.toString());
    int hidden = 0;
    int shown = 0;
    int dropped = 0;
    boolean callerTail = false;
    for (Status.StackFrame f : status.frames()) {
      boolean java = f.language().equals("java");
      callerTail = java && (callerTail || isPlumbing(f));
      if (callerTail) {
        hidden++;
      } else if (shown < maxFrames) {
        sb.append('\n').append(indent).append("at ").append(f);
        shown++;
      } else {
        dropped++;
      }
    }
    if (dropped > 0) {
      sb.append('\n').append(indent).append("... ").append(dropped).append(" more");
    }
    if (hidden > 0) {
      sb.append('\n')
          .append(indent)
          .append("(")
          .append(hidden)
          .append(" frames of PolyCall's call path and the JVM not shown)");
    }
    return sb.toString();
  }

  private static boolean isPlumbing(Status.StackFrame f) {
    for (String p : PLUMBING) {
      if (f.function().startsWith(p)) {
        return true;
      }
    }
    return false;
  }
}
