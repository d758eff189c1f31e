package io.polycall.spi;

/**
 * A way to run functions of one kind (JVM methods, native symbols, Python in a worker, ...). A
 * bridge binds functions and registers them as {@link BoundFunction}s; the core calls them through
 * their {@link Invoker}s and never needs to know which bridge it is.
 *
 * <p>{@link #close} releases what the bridge holds (libraries, processes, sockets); it is
 * idempotent.
 */
public interface Bridge extends AutoCloseable {

  /** The bridge's name as {@code describe} shows it: {@code jvm}, {@code native}, ... */
  String name();

  @Override
  default void close() {}
}
