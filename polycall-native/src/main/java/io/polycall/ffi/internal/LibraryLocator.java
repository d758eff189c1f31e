package io.polycall.ffi.internal;

import io.polycall.Status;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.SymbolLookup;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Turns a library name into something the dynamic loader accepts and opens it. Stateless and
 * thread-safe; blocks on the file system and dlopen.
 */
final class LibraryLocator {
  private static final List<String> SYSTEM_DIRS =
      List.of(
          "/lib/x86_64-linux-gnu",
          "/usr/lib/x86_64-linux-gnu",
          "/lib/aarch64-linux-gnu",
          "/usr/lib/aarch64-linux-gnu",
          "/lib64",
          "/usr/lib64",
          "/lib",
          "/usr/lib",
          "/usr/local/lib");

  private LibraryLocator() {}

  /** What was opened: the lookup and the string the loader was given. */
  record Opened(SymbolLookup lookup, String loadedAs) {}

  /**
   * Opens {@code nameOrPath} with its symbols tied to {@code arena}.
   *
   * @throws io.polycall.StatusException NOT_FOUND or FAILED_PRECONDITION, see {@link
   *     io.polycall.ffi.NativeBridge#load}
   */
  static Opened open(String nameOrPath, Arena arena) {
    if (nameOrPath == null || nameOrPath.isBlank()) {
      throw Status.INVALID_ARGUMENT.withDescription("library name is empty").asException();
    }
    List<String> candidates = candidates(nameOrPath);
    List<String> refusals = new ArrayList<>();
    for (String c : candidates) {
      try {
        return new Opened(
            c.contains("/")
                ? SymbolLookup.libraryLookup(Path.of(c), arena)
                : SymbolLookup.libraryLookup(c, arena),
            c);
      } catch (IllegalArgumentException e) {
        // dlopen said no. Remember why only when a file was really there: "not found" for a
        // name that does not exist is noise, a refusal of an existing file is the real story.
        if (exists(c)) {
          refusals.add(c + ": " + e.getMessage());
        }
      }
    }
    if (!refusals.isEmpty()) {
      throw Status.FAILED_PRECONDITION
          .withDescription(
              "native library '"
                  + nameOrPath
                  + "' was found but could not be loaded: "
                  + String.join("; ", refusals))
          .asException();
    }
    throw Status.NOT_FOUND
        .withDescription(
            "native library '"
                + nameOrPath
                + "' not found (tried "
                + String.join(", ", candidates)
                + " in the loader's search path"
                + (nameOrPath.contains("/") ? "" : " and " + String.join(":", SYSTEM_DIRS))
                + ")")
        .asException();
  }

  static List<String> candidates(String name) {
    Set<String> out = new LinkedHashSet<>();
    if (name.contains("/")) {
      out.add(name);
      return List.copyOf(out);
    }
    if (name.contains(".so") || name.endsWith(".dylib") || name.endsWith(".dll")) {
      out.add(name);
      return List.copyOf(out);
    }
    String base = System.mapLibraryName(name); // libz.so
    out.add(base);
    // libc.so and libm.so are linker scripts on Debian; the real one is libc.so.6.
    for (String dir : SYSTEM_DIRS) {
      Path d = Path.of(dir);
      if (!Files.isDirectory(d)) {
        continue;
      }
      try (DirectoryStream<Path> ds = Files.newDirectoryStream(d, base + ".*")) {
        List<String> found = new ArrayList<>();
        for (Path p : ds) {
          if (p.getFileName().toString().substring(base.length()).matches("(\\.[0-9]+)+")) {
            found.add(p.getFileName().toString());
          }
        }
        // Shortest first: libz.so.1 before libz.so.1.2.13 (same file, the soname is canonical).
        found.sort((a, b) -> a.length() != b.length() ? a.length() - b.length() : a.compareTo(b));
        out.addAll(found);
      } catch (IOException e) {
        // An unreadable directory is one fewer place to look, not an error.
      }
    }
    return List.copyOf(out);
  }

  private static boolean exists(String candidate) {
    if (candidate.contains("/")) {
      return Files.exists(Path.of(candidate));
    }
    for (String dir : SYSTEM_DIRS) {
      if (Files.exists(Path.of(dir, candidate))) {
        return true;
      }
    }
    return false;
  }
}
