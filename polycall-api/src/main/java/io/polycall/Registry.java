package io.polycall;

import io.polycall.spi.BoundFunction;
import java.util.List;
import java.util.Optional;

/**
 * The functions this node can call, by name and version. Thread-safe: registration, removal and
 * calls may race, and a call sees either the old or the new state, never a half-made one.
 */
public interface Registry {

  /**
   * Adds a function. The version is the one in its {@link FunctionInfo}.
   *
   * @throws StatusException ALREADY_EXISTS if that name and version are taken
   */
  void register(BoundFunction function);

  /** Removes one version ({@code name@2}) or every version ({@code name}); false if none. */
  boolean unregister(String nameOrRef);

  /** The function a caller means by {@code name} or {@code name@N}, or empty. */
  Optional<BoundFunction> lookup(String nameOrRef);

  /**
   * The function a caller means, or NOT_FOUND with the closest registered names suggested.
   *
   * @throws StatusException NOT_FOUND
   */
  BoundFunction resolve(String nameOrRef);

  /** Every registered version whose name matches a glob ({@code math.*}, {@code **}), sorted. */
  List<FunctionInfo> list(String glob);

  /**
   * Describes the function a caller means.
   *
   * @throws StatusException NOT_FOUND
   */
  default FunctionInfo describe(String nameOrRef) {
    return resolve(nameOrRef).info();
  }

  void addListener(RegistryListener listener);

  void removeListener(RegistryListener listener);
}
