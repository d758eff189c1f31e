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
   * Adds a function. The version is the one in its {@link FunctionInfo}. A {@code name@version} may
   * be registered once per {@link io.polycall.spi.Distance}: calls and listings see the nearest
   * registration, and the farther ones wait behind it (a remote node's function never shadows a
   * local one, and answers again when the local one goes). Listeners hear of the registration only
   * when it becomes the one calls see.
   *
   * @throws StatusException ALREADY_EXISTS if that name and version are taken at that distance
   */
  void register(BoundFunction function);

  /**
   * Removes the registration calls see of one version ({@code name@2}) or of every version ({@code
   * name}); a farther registration waiting behind it takes its place. False if none.
   */
  boolean unregister(String nameOrRef);

  /**
   * Removes exactly this registration (as {@link #register} received it), whether calls see it or
   * it waits behind a nearer one. This is how a bridge withdraws its own function without touching
   * a nearer one of the same name. False if it is not registered.
   */
  boolean unregister(BoundFunction function);

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
