package io.polycall.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.polycall.Status;
import io.polycall.server.PolyCallConfig.PeersSpec;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The {@code node_id:} and {@code peers:} sections. */
class PeersConfigTest extends ConfigTestSupport {

  @Test
  void aConfigWithoutPeersHasNoneAndADefaultNodeId() {
    PolyCallConfig c = parse("jvm: []\n");
    assertTrue(c.peers().isEmpty());
    assertFalse(c.nodeId().isBlank());
  }

  @Test
  void everyPeerSettingIsRead() {
    PolyCallConfig c =
        parse(
            """
            node_id: node-1
            peers:
              static: [10.0.0.2:7443, "[::1]:7444"]
              dns: polycall-peers.default.svc.cluster.local:7443
              health_interval: 2s
              refresh_interval: 500ms
              retry_budget: {max_tokens: 20, token_ratio: 0.5}
            """);
    assertEquals("node-1", c.nodeId());
    PeersSpec p = c.peers();
    assertEquals(List.of("10.0.0.2:7443", "[::1]:7444"), p.staticPeers());
    assertEquals("polycall-peers.default.svc.cluster.local:7443", p.dns());
    assertEquals(Duration.ofSeconds(2), p.healthInterval());
    assertEquals(Duration.ofMillis(500), p.refreshInterval());
    assertEquals(20, p.retryMaxTokens());
    assertEquals(0.5, p.retryTokenRatio());
  }

  @Test
  void unsetPeerSettingsTakeTheirDefaults() {
    PeersSpec p = parse("peers:\n  dns: peers:7443\n").peers();
    assertEquals(List.of(), p.staticPeers());
    assertEquals(PeersSpec.DEFAULT_HEALTH_INTERVAL, p.healthInterval());
    assertEquals(PeersSpec.DEFAULT_REFRESH_INTERVAL, p.refreshInterval());
    assertEquals(10, p.retryMaxTokens());
    assertEquals(0.1, p.retryTokenRatio());
  }

  @Test
  void serveDashDashPeerAddsToTheStaticPeersWithoutDuplicates() {
    PolyCallConfig c = parse("peers:\n  static: [a:1]\n");
    PolyCallConfig more = c.withPeers(c.peers().withMorePeers(List.of("b:2", "a:1")));
    assertEquals(List.of("a:1", "b:2"), more.peers().staticPeers());
    assertEquals(c.nodeId(), more.nodeId());
    assertNull(more.peers().dns());
  }

  @Test
  void aPeerWithoutAPortIsRejectedWithItsPath() {
    assertMessage(
        parseFails("peers:\n  static: [node-2]\n"),
        Status.Code.INVALID_ARGUMENT,
        "test.yaml:2",
        "peers.static[0]",
        "host:port");
    assertMessage(
        parseFails("peers:\n  dns: peers:99999\n"), Status.Code.INVALID_ARGUMENT, "peers.dns");
  }

  @Test
  void aPeersSectionNamingNoPeerIsRejected() {
    assertMessage(
        parseFails("peers:\n  health_interval: 1s\n"),
        Status.Code.INVALID_ARGUMENT,
        "peers",
        "static:",
        "dns:");
  }

  @Test
  void anUnknownPeersKeyIsRejectedWithASuggestion() {
    assertMessage(
        parseFails("peers:\n  statik: [a:1]\n"), Status.Code.INVALID_ARGUMENT, "statik", "static");
  }

  @Test
  void aBadRetryBudgetIsRejected() {
    assertMessage(
        parseFails("peers:\n  static: [a:1]\n  retry_budget: {max_tokens: 0}\n"),
        Status.Code.INVALID_ARGUMENT,
        "peers.retry_budget.max_tokens");
    assertMessage(
        parseFails("peers:\n  static: [a:1]\n  retry_budget: {token_ratio: -1}\n"),
        Status.Code.INVALID_ARGUMENT,
        "peers.retry_budget.token_ratio");
  }

  @Test
  void aBadNodeIdIsRejected() {
    assertMessage(parseFails("node_id: \"two words\"\n"), Status.Code.INVALID_ARGUMENT, "node_id");
  }

  @Test
  void peersTlsFilesAreResolvedAgainstTheConfigsDirectory() {
    PeersSpec p =
        parse(
                """
                peers:
                  dns: polycall-peers:7443
                  tls: {ca: certs/ca.pem, cert: certs/node.pem, key: certs/node.key, server_name: polycall}
                """)
            .peers();
    assertEquals(dir.resolve("certs/ca.pem"), p.tls().ca());
    assertEquals(dir.resolve("certs/node.key"), p.tls().key());
    assertEquals("polycall", p.tls().serverName());
    assertNull(parse("peers:\n  static: [a:1]\n").peers().tls());
  }

  @Test
  void peersTlsWithACertificateButNoKeyIsRejected() {
    assertMessage(
        parseFails("peers:\n  static: [a:1]\n  tls: {cert: node.pem}\n"),
        Status.Code.INVALID_ARGUMENT,
        "peers.tls",
        "both cert and key");
  }
}
