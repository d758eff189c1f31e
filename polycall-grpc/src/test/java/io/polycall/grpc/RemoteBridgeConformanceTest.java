package io.polycall.grpc;

import io.polycall.core.PolyCall;
import io.polycall.testing.BridgeConformanceTest;
import io.polycall.testing.JvmConformanceFunctions;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;

/**
 * The conformance suite through the remote bridge: the functions run on one node (Java, behind its
 * gRPC server on loopback) and every call is made on another node that reaches them over gRPC.
 */
class RemoteBridgeConformanceTest extends BridgeConformanceTest {
  private PolyCall host;
  private GrpcServer server;

  @Override
  protected PolyCall createNode() {
    host = PolyCall.create();
    host.jvm().register(new JvmConformanceFunctions());
    server = GrpcServer.builder(host).withListenAddress("127.0.0.1:0").withNodeId("host").start();
    PolyCall caller = PolyCall.create();
    caller
        .addBridge(
            RemoteBridge.builder(caller.registry(), "caller")
                .peers(List.of(server.target()))
                .healthInterval(Duration.ofSeconds(1))
                .refreshInterval(Duration.ofSeconds(30))
                .build())
        .start();
    return caller;
  }

  @AfterAll
  void stopHost() {
    if (server != null) {
      server.close();
    }
    if (host != null) {
      host.close();
    }
  }

  @Override
  protected String prefix() {
    return "jconf";
  }

  @Override
  protected String bridgeName() {
    return RemoteBridge.NAME;
  }

  @Override
  protected boolean supportsCallbacks() {
    return false;
  }
}
