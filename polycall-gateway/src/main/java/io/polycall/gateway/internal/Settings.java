package io.polycall.gateway.internal;

import io.netty.channel.group.ChannelGroup;
import io.polycall.core.PolyCall;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * What every connection of one gateway shares: the node, the limits, and whether the gateway is
 * draining. Thread-safe (the only mutable part is the atomic flag and the channel group).
 *
 * @param maxBodyBytes the largest request body, and the largest WebSocket message
 * @param idleTimeout a connection with no request in flight and no traffic this long is closed
 * @param writeTimeout a response (or stream message) the client has not taken this long is dropped
 *     with its connection
 * @param maxStreamCalls calls in flight on one WebSocket; one more is answered RESOURCE_EXHAUSTED
 */
public record Settings(
    PolyCall node,
    int maxBodyBytes,
    Duration idleTimeout,
    Duration writeTimeout,
    int maxStreamCalls,
    AtomicBoolean draining,
    ChannelGroup channels) {

  /** Told to every connection when the gateway starts draining. */
  public enum Event {
    DRAIN
  }
}
