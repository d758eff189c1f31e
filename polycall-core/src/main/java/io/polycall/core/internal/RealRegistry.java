package io.polycall.core.internal;

import io.polycall.FunctionInfo;
import io.polycall.FunctionRef;
import io.polycall.Glob;
import io.polycall.Registry;
import io.polycall.RegistryListener;
import io.polycall.Status;
import io.polycall.spi.BoundFunction;
import io.polycall.spi.Distance;
import java.lang.System.Logger.Level;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
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
 *
 * <p>Each version has the registration calls see ({@code byVersion}) and, behind it, farther
 * registrations of the same {@code name@version} (a remote node's copy of a local function),
 * nearest first, one per {@link Distance}. The hot path never looks behind.
 */
public final class RealRegistry implements Registry {
  private static final System.Logger LOG = System.getLogger(RealRegistry.class.getName());

  /** Versions of one name, highest last; replaced whole on each change. */
  private record Versions(
      NavigableMap<Integer, BoundFunction> byVersion,
      BoundFunction latest,
      Map<Integer, List<BoundFunction>> behind) {
    static Versions of(
        NavigableMap<Integer, BoundFunction> m, Map<Integer, List<BoundFunction>> behind) {
      if (m.isEmpty()) {
        return null;
      }
      return new Versions(
          Collections.unmodifiableNavigableMap(m), m.lastEntry().getValue(), Map.copyOf(behind));
    }
  }

  /** What a change did to the registrations calls see, told to listeners after it. */
  private record Change(List<FunctionInfo> gone, List<FunctionInfo> added) {
    Change() {
      this(new ArrayList<>(), new ArrayList<>());
    }
  }

  private final ConcurrentHashMap<String, Versions> functions = new ConcurrentHashMap<>();
  private final List<RegistryListener> listeners = new CopyOnWriteArrayList<>();

  @Override
  public void register(BoundFunction function) {
    FunctionInfo info = function.info();
    validateName(info.name());
    Change change = new Change();
    functions.compute(
        info.name(),
        (name, old) -> {
          TreeMap<Integer, BoundFunction> m =
              old == null ? new TreeMap<>() : new TreeMap<>(old.byVersion());
          Map<Integer, List<BoundFunction>> behind =
              old == null ? new HashMap<>() : new HashMap<>(old.behind());
          BoundFunction seen = m.get(info.version());
          if (seen == null) {
            m.put(info.version(), function);
            change.added().add(info);
            return Versions.of(m, behind);
          }
          List<BoundFunction> waiting =
              new ArrayList<>(behind.getOrDefault(info.version(), List.of()));
          for (BoundFunction prior : concat(seen, waiting)) {
            if (prior.distance() == function.distance()) {
              throw alreadyExists(info, prior);
            }
          }
          if (function.distance().isNearerThan(seen.distance())) {
            m.put(info.version(), function);
            waiting.add(seen);
            change.gone().add(seen.info());
            change.added().add(info);
          } else {
            waiting.add(function);
          }
          waiting.sort(Comparator.comparing(BoundFunction::distance));
          behind.put(info.version(), List.copyOf(waiting));
          return Versions.of(m, behind);
        });
    tell(change);
  }

  private static List<BoundFunction> concat(BoundFunction first, List<BoundFunction> rest) {
    List<BoundFunction> all = new ArrayList<>(rest.size() + 1);
    all.add(first);
    all.addAll(rest);
    return all;
  }

  private static io.polycall.StatusException alreadyExists(FunctionInfo info, BoundFunction prior) {
    return Status.ALREADY_EXISTS
        .withDescription(
            info.qualifiedName()
                + " is already registered (bridge "
                + prior.info().bridge()
                + ", "
                + prior.info().signature()
                + "); unregister it first or register another version")
        .asException();
  }

  private void tell(Change change) {
    for (FunctionInfo info : change.gone()) {
      for (RegistryListener l : listeners) {
        try {
          l.onUnregistered(info);
        } catch (RuntimeException e) {
          LOG.log(Level.WARNING, "registry listener failed on " + info.qualifiedName(), e);
        }
      }
    }
    for (FunctionInfo info : change.added()) {
      for (RegistryListener l : listeners) {
        try {
          l.onRegistered(info);
        } catch (RuntimeException e) {
          LOG.log(Level.WARNING, "registry listener failed on " + info.qualifiedName(), e);
        }
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
    Change change = new Change();
    functions.computeIfPresent(
        ref.name(),
        (name, old) -> {
          TreeMap<Integer, BoundFunction> m = new TreeMap<>(old.byVersion());
          Map<Integer, List<BoundFunction>> behind = new HashMap<>(old.behind());
          List<Integer> versions =
              ref.isLatest() ? List.copyOf(m.keySet()) : List.of(ref.version());
          for (int v : versions) {
            BoundFunction gone = m.get(v);
            if (gone != null) {
              removeSeen(v, m, behind, change);
            }
          }
          return change.gone().isEmpty() ? old : Versions.of(m, behind);
        });
    tell(change);
    return !change.gone().isEmpty();
  }

  @Override
  public boolean unregister(BoundFunction function) {
    FunctionInfo info = function.info();
    Change change = new Change();
    boolean[] found = {false};
    functions.computeIfPresent(
        info.name(),
        (name, old) -> {
          TreeMap<Integer, BoundFunction> m = new TreeMap<>(old.byVersion());
          Map<Integer, List<BoundFunction>> behind = new HashMap<>(old.behind());
          int v = info.version();
          if (function.equals(m.get(v))) {
            found[0] = true;
            removeSeen(v, m, behind, change);
            return Versions.of(m, behind);
          }
          List<BoundFunction> waiting = new ArrayList<>(behind.getOrDefault(v, List.of()));
          if (!waiting.remove(function)) {
            return old;
          }
          found[0] = true;
          if (waiting.isEmpty()) {
            behind.remove(v);
          } else {
            behind.put(v, List.copyOf(waiting));
          }
          return Versions.of(m, behind);
        });
    tell(change);
    return found[0];
  }

  /** Removes the registration calls see of version v; the nearest one behind it takes its place. */
  private static void removeSeen(
      int v,
      TreeMap<Integer, BoundFunction> m,
      Map<Integer, List<BoundFunction>> behind,
      Change change) {
    BoundFunction gone = m.remove(v);
    change.gone().add(gone.info());
    List<BoundFunction> waiting = behind.remove(v);
    if (waiting != null && !waiting.isEmpty()) {
      BoundFunction next = waiting.getFirst();
      m.put(v, next);
      change.added().add(next.info());
      if (waiting.size() > 1) {
        behind.put(v, List.copyOf(waiting.subList(1, waiting.size())));
      }
    }
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
