/**
 * The HTTP gateway of a node (issue 4): {@code POST /v1/call/{function}} with JSON or CBOR, {@code
 * GET /v1/functions}, an OpenAPI 3.1 document generated from the registry, and a WebSocket endpoint
 * for streaming calls; statuses map to HTTP codes as in gRPC's HTTP mapping ({@link
 * io.polycall.gateway.HttpStatusMapping}). Start one with {@link io.polycall.gateway.HttpGateway};
 * the protocol is documented in {@code docs/http.md}.
 *
 * <h2>Why Netty 4 directly</h2>
 *
 * The gateway needs HTTP/1.1 with keep-alive and pipelining, WebSocket, a body limit enforced from
 * the Content-Length before the body is read, idle and write timeouts, and backpressure that a slow
 * client cannot defeat. Netty gives each of these as a small handler whose behaviour is visible in
 * one pipeline ({@code internal.GatewayInitializer}): {@code HttpObjectAggregator} rejects an
 * oversized request at its headers, {@code WriteTimeoutHandler} drops a client that does not take
 * its answer, and with auto-read off plus {@code FlowControlHandler} the gateway reads the next
 * request (or WebSocket message) only when it has room, so memory per connection is bounded by one
 * request and the channel's write high-water mark. It is the server underneath grpc-java, Vert.x
 * and Reactor Netty, and has no dependencies of its own. Jetty 12 and Helidon 4 would serve as well
 * but bring a servlet-style or routing framework whose threading the gateway would have to work
 * around; here calls already run on virtual threads, so the event loops only move bytes.
 *
 * <p>grpc-netty-shaded, used by the gRPC module, relocates its own Netty under {@code
 * io.grpc.netty.shaded}, so the two copies never clash on the class path. Only the NIO transport is
 * used (no native epoll), which keeps the shaded CLI jar portable.
 *
 * <p>HTTP/2 without TLS (h2c) is offered too, by prior knowledge or by {@code Upgrade: h2c} on a
 * request without a body: Netty's HTTP/2 codec turns each stream into the same HTTP objects, so the
 * same handler serves both protocols, and HTTP/2's own flow control bounds each stream.
 */
package io.polycall.gateway;
