package io.polycall.worker;

import io.polycall.Status;
import io.polycall.wire.proto.Announce;
import io.polycall.wire.proto.Withdraw;

/**
 * Hears what a {@link Connection}'s peer says besides calls. Every method has an empty default.
 *
 * <p>{@link #onAnnounce}, {@link #onWithdraw} and {@link #onGoAway} run on the connection's reader
 * thread, in the order the frames arrived; they must not block for long, since no frame is read
 * meanwhile (and must never wait for a call on the same connection). {@link #onClosed} runs once,
 * on whichever thread closed the connection.
 */
public interface ConnectionListener {

  /** The peer (a worker) hosts these functions. */
  default void onAnnounce(Connection connection, Announce announce) {}

  /** The peer no longer hosts these functions. */
  default void onWithdraw(Connection connection, Withdraw withdraw) {}

  /** The peer will close: no new calls go out; calls in flight finish if the status is OK. */
  default void onGoAway(Connection connection, Status status) {}

  /**
   * The connection is closed; calls that were in flight have failed with UNAVAILABLE.
   *
   * @param reason OK after a clean drain or an orderly close; otherwise why it closed (a protocol
   *     error, the peer's GoAway, the stream ending)
   */
  default void onClosed(Connection connection, Status reason) {}

  /** A listener that ignores everything. */
  static ConnectionListener none() {
    return new ConnectionListener() {};
  }
}
