package io.polycall.server.cli;

import java.util.logging.LogManager;

/**
 * The JDK's log manager, except that its shutdown hook does not switch logging off: {@code polycall
 * serve} logs the drain of its workers from its own shutdown hook, which runs at the same time.
 * Installed by {@link PolyCallCli#main} through {@code java.util.logging.manager}; otherwise the
 * same as {@link LogManager}. Thread-safe.
 */
public final class ShutdownLogManager extends LogManager {
  public ShutdownLogManager() {}

  /** Ignored while the JVM shuts down; handlers flush every record, so nothing is lost. */
  @Override
  public void reset() {
    if (!shuttingDown()) {
      super.reset();
    }
  }

  private static boolean shuttingDown() {
    try {
      Thread probe = new Thread(() -> {});
      Runtime.getRuntime().addShutdownHook(probe);
      Runtime.getRuntime().removeShutdownHook(probe);
      return false;
    } catch (IllegalStateException e) {
      return true;
    }
  }
}
