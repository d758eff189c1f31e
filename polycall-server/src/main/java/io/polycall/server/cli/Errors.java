package io.polycall.server.cli;

import io.polycall.Status;
import io.polycall.server.internal.StackFormat;

/** How the CLI prints a failure: {@code CODE: message}, then the cross-language stack. */
final class Errors {
  static final int MAX_FRAMES = 20;

  private Errors() {}

  static String describe(Status status) {
    return StackFormat.format(status, "    ", MAX_FRAMES);
  }
}
