package io.polycall.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.polycall.Status;
import io.polycall.StatusException;
import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;

/** What the config tests share: parsing a YAML text as "test.yaml" and checking its errors. */
abstract class ConfigTestSupport {
  @TempDir Path dir;

  PolyCallConfig parse(String yaml) {
    return PolyCallConfig.parse(yaml, "test.yaml", dir);
  }

  StatusException parseFails(String yaml) {
    return assertThrows(StatusException.class, () -> parse(yaml));
  }

  StatusException startFails(String yaml) {
    PolyCallConfig c = parse(yaml);
    return assertThrows(StatusException.class, () -> Node.start(c).close());
  }

  static void assertMessage(StatusException e, Status.Code code, String... parts) {
    assertEquals(code, e.status().code(), e.getMessage());
    for (String p : parts) {
      assertTrue(e.getMessage().contains(p), () -> "expected '" + p + "' in: " + e.getMessage());
    }
  }
}
