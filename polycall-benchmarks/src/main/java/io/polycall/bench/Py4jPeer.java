package io.polycall.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import py4j.ClientServer;

/**
 * The peer for Java-to-Python calls: Py4J, as its users run it (ClientServer, pinned threads),
 * calling a method of a Python object that implements a Java interface. Loopback only.
 */
public final class Py4jPeer implements AutoCloseable {

  /** What the Python object implements. */
  public interface Target {
    Object noop();

    byte[] echo(byte[] data);
  }

  private final ClientServer server;
  private final Process python;
  private final Target target;

  public Py4jPeer(Path pythonExe, Path script) throws IOException, InterruptedException {
    int javaPort = freePort();
    int pythonPort = freePort();
    server =
        new ClientServer.ClientServerBuilder()
            .javaPort(javaPort)
            .pythonPort(pythonPort)
            .javaAddress(java.net.InetAddress.getLoopbackAddress())
            .pythonAddress(java.net.InetAddress.getLoopbackAddress())
            .build();
    python =
        new ProcessBuilder(
                pythonExe.toString(),
                script.toString(),
                Integer.toString(javaPort),
                Integer.toString(pythonPort))
            .redirectError(ProcessBuilder.Redirect.INHERIT)
            .start();
    BufferedReader out =
        new BufferedReader(new InputStreamReader(python.getInputStream(), StandardCharsets.UTF_8));
    String line = out.readLine();
    if (!"ready".equals(line)) {
      close();
      throw new IOException("the Py4J peer did not start (said: " + line + ")");
    }
    target = (Target) server.getPythonServerEntryPoint(new Class<?>[] {Target.class});
  }

  public Target target() {
    return target;
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  @Override
  public void close() throws InterruptedException {
    server.shutdown();
    python.destroy();
    if (!python.waitFor(5, TimeUnit.SECONDS)) {
      python.destroyForcibly();
    }
  }
}
