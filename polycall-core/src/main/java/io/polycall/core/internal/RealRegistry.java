package io.polycall.core.internal;

import io.polycall.FunctionInfo;
import io.polycall.FunctionRef;
import io.polycall.Registry;
import io.polycall.RegistryListener;
import io.polycall.Status;
import io.polycall.spi.BoundFunction;
import java.lang.System.Logger.Level;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The registry: name to an immutable map of versions. Lookups, the hot path, are one {@link
 * ConcurrentHashMap#get} and one read of an immutable map, with no lock. Changes to one name are
 * serialized by {@link ConcurrentHashMap#compute}, so two racing registrations of the same version
 * cannot both win.
 */
public final class RealRegistry implements Registry {
  private static final System.Logger LOG = System.getLogger(RealRegistry.class.getName());

  /** Versions of one name, highest last; replaced whole on each change. */
  private record Versions(NavigableMap<Integer, BoundFunction> byVersion, BoundFunction latest) {
    static Versions of(NavigableMap<Integer, BoundFunction> m) {
      return new Versions(m, m.lastEntry().getValue());
    }
  }

  private final ConcurrentHashMap<String, Versions> functions = new ConcurrentHashMap<>();
  private final List<RegistryListener> listeners = new CopyOnWriteArrayList<>();

  @Override
  public void register(BoundFunction function) {
    FunctionInfo info = function.info();
    validateName(info.name());
    functions.compute(
        info.name(),
        (name, old) -> {
          TreeMap<Integer, BoundFunction> m =
              old == null ? new TreeMap<>() : new TreeMap<>(old.byVersion());
          BoundFunction prior = m.putIfAbsent(info.version(), function);
          if (prior != null) {
            throw Status.ALREADY_EXISTS
                .withDescription(
                    info.qualifiedName()
                        + " is already registered (bridge "
                        + prior.info().bridge()
                        + ", "
                        + prior.info().signature()
                        + "); unregister it first or register another version")
                .asException();
          }
          return Versions.of(java.util.Collections.unmodifiableNavigableMap(m));
        });
    for (RegistryListener l : listeners) {
      try {
        l.onRegistered(info);
      } catch (RuntimeException e) {
        LOG.log(Level.WARNING, "registry listener failed on " + info.qualifiedName(), e);
      }
    }
  }

  private static void validateName(String name) {
    if (name.isEmpty()
        || name.startsWith(".")
        || name.endsWith(".")
        || name.contains("..")
        || name.contains("@")
        || name.chars().anyMatch(Character::isWhitespace)) {
      throw Status.INVALID_ARGUMENT
          .withDescription(
              "bad function name '"
                  + name
                  + "': use dot-separated identifiers such as math.cos, with no '@' or spaces")
          .asException();
    }
  }

  @Override
  public boolean unregister(String nameOrRef) {
    FunctionRef ref = FunctionRef.parse(nameOrRef);
    List<FunctionInfo> removed = new ArrayList<>();
    functions.computeIfPresent(
        ref.name(),
        (name, old) -> {
          if (ref.isLatest()) {
            old.byVersion().values().forEach(f -> removed.add(f.info()));
            return null;
          }
          TreeMap<Integer, BoundFunction> m = new TreeMap<>(old.byVersion());
          BoundFunction gone = m.remove(ref.version());
          if (gone == null) {
            return old;
          }
          removed.add(gone.info());
          return m.isEmpty()
              ? null
              : Versions.of(java.util.Collections.unmodifiableNavigableMap(m));
        });
    for (FunctionInfo info : removed) {
      for (RegistryListener l : listeners) {
        try {
          l.onUnregistered(info);
        } catch (RuntimeException e) {
          LOG.log(Level.WARNING, "registry listener failed on " + info.qualifiedName(), e);
        }
      }
    }
    return !removed.isEmpty();
  }

  @Override
  public Optional<BoundFunction> lookup(String nameOrRef) {
    return Optional.ofNullable(find(nameOrRef));
  }

  /** The hot path: null when absent. A plain name is one map read. */
  public BoundFunction find(String nameOrRef) {
    Versions v = functions.get(nameOrRef);
    if (v != null) {
      return v.latest();
    }
    if (nameOrRef.indexOf('@') < 0) {
      return null;
    }
    FunctionRef ref = FunctionRef.parse(nameOrRef);
    v = functions.get(ref.name());
    return v == null ? null : (ref.isLatest() ? v.latest() : v.byVersion().get(ref.version()));
  }

  @Override
  public BoundFunction resolve(String nameOrRef) {
    BoundFunction f = find(nameOrRef);
    if (f != null) {
      return f;
    }
    throw notFound(nameOrRef);
  }

  /** NOT_FOUND with the closest names, so a typo tells the user what they meant. */
  public io.polycall.StatusException notFound(String nameOrRef) {
    FunctionRef ref = FunctionRef.parse(nameOrRef);
    Versions v = functions.get(ref.name());
    if (v != null) {
      return Status.NOT_FOUND
          .withDescription(
              "function "
                  + ref.name()
                  + " has no version "
                  + ref.version()
                  + "; registered versions: "
                  + v.byVersion().keySet())
          .asException();
    }
    List<String> close = Suggestions.closest(ref.name(), functions.keySet(), 3);
    String hint =
        close.isEmpty()
            ? (functions.isEmpty()
                ? "; no functions are registered"
                : "; list them with 'polycall functions'")
            : "; did you mean " + String.join(", ", close) + "?";
    return Status.NOT_FOUND.withDescription("no function named " + ref.name() + hint).asException();
  }

  @Override
  public List<FunctionInfo> list(String glob) {
    Glob g = Glob.of(glob == null || glob.isEmpty() ? "**" : glob);
    List<FunctionInfo> out = new ArrayList<>();
    for (Map.Entry<String, Versions> e : functions.entrySet()) {
      if (g.matches(e.getKey())) {
        e.getValue().byVersion().values().forEach(f -> out.add(f.info()));
      }
    }
    out.sort(Comparator.comparing(FunctionInfo::name).thenComparingInt(FunctionInfo::version));
    return out;
  }

  @Override
  public void addListener(RegistryListener listener) {
    listeners.add(listener);
  }

  @Override
  public void removeListener(RegistryListener listener) {
    listeners.remove(listener);
  }

  public int size() {
    return functions.size();
  }
}
