package io.polycall.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import org.junit.jupiter.api.Test;

/** Listen addresses as users write them. */
class GrpcServerAddressTest {
  @Test
  void hostPortIpv6AndAllAddressesAreRead() {
    assertEquals(
        new InetSocketAddress("127.0.0.1", 50051), GrpcServer.parseAddress("127.0.0.1:50051"));
    assertEquals(new InetSocketAddress("::1", 0), GrpcServer.parseAddress("[::1]:0"));
    InetSocketAddress any = GrpcServer.parseAddress(":7443");
    assertTrue(any.getAddress().isAnyLocalAddress());
    assertEquals(7443, any.getPort());
  }

  @Test
  void aMissingOrBadPortSaysHowToWriteIt() {
    IllegalArgumentException noPort =
        assertThrows(IllegalArgumentException.class, () -> GrpcServer.parseAddress("localhost"));
    assertTrue(noPort.getMessage().contains("HOST:PORT"), noPort.getMessage());
    IllegalArgumentException bad =
        assertThrows(IllegalArgumentException.class, () -> GrpcServer.parseAddress("h:99999"));
    assertTrue(bad.getMessage().contains("0..65535"), bad.getMessage());
  }
}
