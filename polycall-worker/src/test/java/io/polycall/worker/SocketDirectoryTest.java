package io.polycall.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SocketDirectoryTest {

  @Test
  void aNewSocketDirectoryIsOwnerOnlyAndCloseRemovesIt() throws IOException {
    SocketDirectory d = SocketDirectory.create(null, "polycall-test-");
    assertEquals(
        "rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(d.path())));
    Files.createFile(d.socket("hub.sock"));
    d.close();
    assertFalse(Files.exists(d.path()));
    d.close(); // idempotent
  }

  @Test
  void anExistingDirectoryOpenToOthersIsRefusedNotWidenedOrFixed(@TempDir Path tmp)
      throws IOException {
    Path open = Files.createDirectory(tmp.resolve("open"));
    Files.setPosixFilePermissions(open, PosixFilePermissions.fromString("rwxr-xr-x"));
    IOException e = assertThrows(IOException.class, () -> SocketDirectory.at(open));
    assertTrue(e.getMessage().contains("rwxr-xr-x"), e.getMessage());
    assertEquals("rwxr-xr-x", PosixFilePermissions.toString(Files.getPosixFilePermissions(open)));
  }

  @Test
  void aMissingDirectoryIsCreatedOwnerOnly(@TempDir Path tmp) throws IOException {
    try (SocketDirectory d = SocketDirectory.at(tmp.resolve("a/b/sockets"))) {
      assertEquals(
          "rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(d.path())));
      assertThrows(IllegalArgumentException.class, () -> d.socket("../escape"));
    }
  }
}
