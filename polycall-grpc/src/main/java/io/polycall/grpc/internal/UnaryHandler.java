package io.polycall.grpc.internal;

import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.polycall.Status;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Future;

/**
 * A unary method whose work finishes later, on whatever thread completes its future. Written
 * against {@link ServerCall} directly (not the stub helpers) to keep the per-call path short and to
 * cancel the running call when the client goes away.
 *
 * <p>Listener callbacks never block (the server may run them on its event loop); the work itself
 * runs where {@link #start} puts it, usually a virtual thread of the call engine.
 */
public abstract class UnaryHandler<Q, R> implements ServerCallHandler<Object, R> {

  /**
   * Starts the work for one request. May throw a {@link io.polycall.StatusException} (or anything
   * else, mapped by {@link Status#fromThrowable}) to fail the call at once.
   */
  protected abstract CompletableFuture<R> start(Q request, ServerCall<?, R> call, Metadata headers);

  @Override
  public final ServerCall.Listener<Object> startCall(ServerCall<Object, R> call, Metadata headers) {
    // Two, not one: a second message from a misbehaving client is then seen and refused.
    call.request(2);
    return new Listener<>(this, call, headers);
  }

  private static final class Listener<Q, R> extends ServerCall.Listener<Object> {
    private final UnaryHandler<Q, R> handler;
    private final ServerCall<Object, R> call;
    private final Metadata headers;
    private Object request;
    private volatile Future<R> work;
    private volatile boolean cancelled;
    private boolean closed;

    Listener(UnaryHandler<Q, R> handler, ServerCall<Object, R> call, Metadata headers) {
      this.handler = handler;
      this.call = call;
      this.headers = headers;
    }

    @Override
    public void onMessage(Object message) {
      if (message instanceof Marshallers.ParseFailure pf) {
        fail(pf.status());
        return;
      }
      if (request != null) {
        fail(
            Status.INVALID_ARGUMENT.withDescription(
                "a unary method takes one request message; the client sent more"));
        return;
      }
      request = message;
    }

    @Override
    public void onHalfClose() {
      if (closed) {
        return;
      }
      if (request == null) {
        fail(
            Status.INVALID_ARGUMENT.withDescription(
                "the client half-closed without sending the request message"));
        return;
      }
      CompletableFuture<R> f;
      try {
        @SuppressWarnings("unchecked")
        Q q = (Q) request;
        f = handler.start(q, call, headers);
      } catch (Throwable t) {
        fail(Statuses.of(t));
        return;
      }
      work = f;
      if (cancelled) {
        f.cancel(true);
        return;
      }
      f.whenComplete(this::finish);
    }

    private void finish(R value, Throwable t) {
      if (t != null) {
        fail(Statuses.of(t));
        return;
      }
      synchronized (this) {
        if (closed || cancelled) {
          return;
        }
        closed = true;
        try {
          call.sendHeaders(new Metadata());
          call.sendMessage(value);
          call.close(io.grpc.Status.OK, new Metadata());
        } catch (IllegalStateException e) {
          // The call was cancelled between our check and the send: nobody is listening.
        }
      }
    }

    private synchronized void fail(Status s) {
      if (closed || cancelled) {
        return;
      }
      closed = true;
      try {
        call.close(Statuses.toGrpc(s), Statuses.trailersOf(s));
      } catch (IllegalStateException e) {
        // Cancelled meanwhile.
      }
    }

    @Override
    public void onCancel() {
      cancelled = true;
      Future<R> w = work;
      if (w != null) {
        w.cancel(true);
      }
    }
  }
}
