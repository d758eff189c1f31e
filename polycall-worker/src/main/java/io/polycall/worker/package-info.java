/**
 * Connections between the hub and its workers and clients over Unix-domain sockets, speaking the
 * protocol of {@code spec/WIRE.md}.
 *
 * <h2>Pieces</h2>
 *
 * <ul>
 *   <li>{@link io.polycall.worker.SocketDirectory}: a 0700 directory for the hub's sockets.
 *   <li>{@link io.polycall.worker.Handshake}: {@code accept} (hub: Challenge, check the Hello's
 *       HMAC proof against {@link io.polycall.worker.WorkerSecrets}, Welcome) and {@code connect}
 *       (peer: answer the Challenge with {@link io.polycall.worker.PeerCredentials}).
 *   <li>{@link io.polycall.worker.Connection}: after the handshake, calls in both directions
 *       multiplexed by call id, with {@link io.polycall.worker.CallHandler} running the incoming
 *       ones on virtual threads and {@link io.polycall.worker.ConnectionListener} hearing Announce,
 *       Withdraw, GoAway and the close.
 * </ul>
 *
 * <h2>Hub side, start to finish</h2>
 *
 * {@snippet :
 * SocketDirectory dir = SocketDirectory.create(null, "polycall-");
 * ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
 * server.bind(UnixDomainSocketAddress.of(dir.socket("hub.sock")));
 * WorkerSecrets secrets = new WorkerSecrets();
 * byte[] secret = secrets.register("python-1");   // then spawn the worker with
 *                                                  // POLYCALL_WORKER_ID, _SECRET (hex), _SOCKET
 * SocketChannel ch = server.accept();
 * Handshake.Accepted a = Handshake.accept(ch, secrets, false, WireLimits.DEFAULT, "node-a");
 * Connection conn = Connection.builder(ch)
 *     .name(a.workerId())
 *     .reader(a.reader())
 *     .limits(a.limits())
 *     .handler(call -> router.call(call))      // the worker's calls back into the hub
 *     .listener(registryListener)              // its Announce / Withdraw, and the close
 *     .start();
 * conn.closeFuture().thenRun(() -> secrets.release(a.workerId()));
 * Value v = conn.call("stats.mean", List.of(xs)).get();
 * }
 *
 * <p>The peer side is the same with {@link io.polycall.worker.Handshake#connect} and {@link
 * io.polycall.worker.PeerCredentials#worker}, so Java can play a worker or a client in tests.
 */
package io.polycall.worker;
