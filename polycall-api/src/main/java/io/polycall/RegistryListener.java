package io.polycall;

/**
 * Told of registry changes, after they take effect, on the thread that made them. Must not block;
 * must not throw (a throwing listener is logged and skipped).
 */
public interface RegistryListener {
  default void onRegistered(FunctionInfo function) {}

  default void onUnregistered(FunctionInfo function) {}
}
