package io.polycall.worker;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Comparator;
import java.util.Set;
import java.util.stream.Stream;

/**
 * A directory for the hub's Unix sockets that only its owner may enter (mode 0700). Being able to
 * connect to a socket in it is a client's authentication until tokens arrive (WIRE.md), so the
 * directory is created with that mode from the start, never widened afterwards.
 *
 * <p>Thread-safe. {@link #close()} deletes the directory and everything in it; idempotent.
 */
public final class SocketDirectory implements AutoCloseable {
  private static final Set<PosixFilePermission> OWNER_ONLY =
      PosixFilePermissions.fromString("rwx------");

  private final Path path;
  private final boolean created;

  private SocketDirectory(Path path, boolean created) {
    this.path = path;
    this.created = created;
  }

  /**
   * A new directory with a unique name under {@code parent} (the system temporary directory when
   * null), created with mode 0700.
   */
  public static SocketDirectory create(Path parent, String prefix) throws IOException {
    var attr = PosixFilePermissions.asFileAttribute(OWNER_ONLY);
    Path dir =
        parent == null
            ? Files.createTempDirectory(prefix, attr)
            : Files.createTempDirectory(parent, prefix, attr);
    // The umask can only remove bits, but say exactly what we mean.
    Files.setPosixFilePermissions(dir, OWNER_ONLY);
    return new SocketDirectory(dir, true);
  }

  /**
   * {@code dir}, created with mode 0700 if absent. An existing directory must already be mode 0700
   * and owned by this process's user; anything wider is refused rather than fixed, since someone
   * else may already be inside.
   *
   * @throws IOException the directory exists with other permissions or another owner
   */
  public static SocketDirectory at(Path dir) throws IOException {
    if (Files.notExists(dir)) {
      Files.createDirectories(dir.getParent() == null ? dir : dir.getParent());
      Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(OWNER_ONLY));
      Files.setPosixFilePermissions(dir, OWNER_ONLY);
      return new SocketDirectory(dir, true);
    }
    if (!Files.isDirectory(dir)) {
      throw new IOException(dir + " is not a directory");
    }
    Set<PosixFilePermission> perms = Files.getPosixFilePermissions(dir);
    if (!perms.equals(OWNER_ONLY)) {
      throw new IOException(
          dir
              + " has mode "
              + PosixFilePermissions.toString(perms)
              + "; a socket directory must be rwx------ (0700)");
    }
    var owner = Files.getOwner(dir);
    var me =
        dir.getFileSystem()
            .getUserPrincipalLookupService()
            .lookupPrincipalByName(System.getProperty("user.name"));
    if (!owner.equals(me)) {
      throw new IOException(dir + " belongs to " + owner.getName() + ", not to " + me.getName());
    }
    return new SocketDirectory(dir, false);
  }

  /** The directory. */
  public Path path() {
    return path;
  }

  /** The path of socket {@code name} in this directory (nothing is created). */
  public Path socket(String name) {
    if (name.contains("/") || name.isEmpty()) {
      throw new IllegalArgumentException("a socket name is one path element: " + name);
    }
    return path.resolve(name);
  }

  /** Deletes what is inside, and the directory itself if this object created it. Idempotent. */
  @Override
  public void close() throws IOException {
    if (Files.notExists(path)) {
      return;
    }
    try (Stream<Path> walk = Files.walk(path)) {
      for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
        if (!p.equals(path) || created) {
          Files.deleteIfExists(p);
        }
      }
    }
  }

  @Override
  public String toString() {
    return "SocketDirectory[" + path + "]";
  }
}
