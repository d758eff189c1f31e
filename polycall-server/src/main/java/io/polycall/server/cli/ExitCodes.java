package io.polycall.server.cli;

import io.polycall.Status;

/**
 * What {@code polycall} exits with, so that scripts can tell failures apart.
 *
 * <pre>
 *   0  OK                the command did what it was asked
 *   1  CALL_FAILED       the function ran and failed (or any other failure status)
 *   2  USAGE             bad command line: unknown option, missing argument, argument not JSON
 *   3  CONFIG            the config file is missing or wrong, or a library in it cannot be loaded
 *   4  NOT_FOUND         no function of that name (the message suggests close names)
 *   5  INVALID_ARGUMENT  the arguments do not match the signature (count, types, ranges)
 * </pre>
 */
public final class ExitCodes {
  public static final int OK = 0;
  public static final int CALL_FAILED = 1;
  public static final int USAGE = 2;
  public static final int CONFIG = 3;
  public static final int NOT_FOUND = 4;
  public static final int INVALID_ARGUMENT = 5;

  private ExitCodes() {}

  /** The exit code for a failed call's status. */
  public static int of(Status status) {
    return switch (status.code()) {
      case OK -> OK;
      case NOT_FOUND -> NOT_FOUND;
      case INVALID_ARGUMENT, OUT_OF_RANGE -> INVALID_ARGUMENT;
      default -> CALL_FAILED;
    };
  }
}
