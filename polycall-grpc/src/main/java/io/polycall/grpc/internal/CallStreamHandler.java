package io.polycall.grpc.internal;

import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.polycall.CallOptions;
import io.polycall.Caller;
import io.polycall.Registry;
import io.polycall.Status;
import io.polycall.Value;
import io.polycall.wire.StatusCodec;
import io.polycall.wire.ValueCodec;
import io.polycall.wire.proto.Call;
import io.polycall.wire.proto.Result;
import io.polycall.wire.proto.StreamRequest;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * {@code CallStream}: many calls on one bidirectional stream, multiplexed by {@code call_id}.
 *
 * <p>Flow control, so a client that never reads cannot make the node buffer without bound: the
 * handler asks gRPC for the next request message only while fewer than {@code maxInFlight} calls
 * are running or waiting to be sent, and while nothing waits in the outbox (the outbox fills when
 * the transport is not ready, i.e. the client is not reading). Results are sent when {@link
 * ServerCall#isReady} and otherwise wait for {@code onReady}. So a stream holds at most {@code
 * maxInFlight} results besides what the transport itself buffers (gRPC's ready threshold).
 *
 * <pre>
 *   request(1) --> onMessage(call) --> callAsync --> result --> outbox --isReady--> sendMessage
 *        ^                                                                    |
 *        +------------ only while pending &lt; maxInFlight and outbox empty ----+
 * </pre>
 */
public final class CallStreamHandler implements ServerCallHandler<Object, Result> {
  private final Registry registry;
  private final Caller caller;
  private final ValueCodec codec;
  private final int maxInFlight;

  public CallStreamHandler(Registry registry, Caller caller, ValueCodec codec, int maxInFlight) {
    this.registry = registry;
    this.caller = caller;
    this.codec = codec;
    this.maxInFlight = maxInFlight;
  }

  @Override
  public ServerCall.Listener<Object> startCall(ServerCall<Object, Result> call, Metadata headers) {
    Stream s = new Stream(call, headers);
    call.sendHeaders(new Metadata());
    s.requestMore();
    return s;
  }

  private final class Stream extends ServerCall.Listener<Object> {
    private final ServerCall<Object, Result> call;
    private final Metadata headers;
    // All state below is guarded by this.
    private final Map<Long, CompletableFuture<Value>> running = new HashMap<>();
    private final ArrayDeque<Result> outbox = new ArrayDeque<>();
    private int pending;
    private boolean requested;
    private boolean halfClosed;
    private boolean done;

    Stream(ServerCall<Object, Result> call, Metadata headers) {
      this.call = call;
      this.headers = headers;
    }

    @Override
    public void onMessage(Object message) {
      synchronized (this) {
        requested = false;
      }
      if (message instanceof Marshallers.ParseFailure pf) {
        closeWith(pf.status());
        return;
      }
      StreamRequest req = (StreamRequest) message;
      switch (req.getBodyCase()) {
        case CALL -> start(req.getCall());
        case CANCEL -> {
          CompletableFuture<Value> f;
          synchronized (this) {
            f = running.get(req.getCancel().getCallId());
          }
          if (f != null) {
            f.cancel(true);
          }
        }
        default -> {
          closeWith(
              Status.INVALID_ARGUMENT.withDescription(
                  "a StreamRequest must hold a call or a cancel; this one held neither"));
          return;
        }
      }
      requestMore();
    }

    private void start(Call c) {
      long id = c.getCallId();
      synchronized (this) {
        if (done) {
          return;
        }
        if (running.containsKey(id)) {
          answer(
              id,
              failed(
                  id,
                  Status.INVALID_ARGUMENT.withDescription(
                      "call_id " + id + " is already in flight on this stream; pick another")),
              false);
          return;
        }
        pending++;
      }
      CompletableFuture<Value> f;
      try {
        List<Value> args = Requests.args(codec, c);
        CallOptions options = Requests.options(call, headers, c);
        f = Dispatch.call(registry, caller, c.getFunction(), args, options);
      } catch (Throwable t) {
        answer(id, failed(id, Statuses.of(t)), true);
        return;
      }
      synchronized (this) {
        if (done) {
          f.cancel(true);
          return;
        }
        running.put(id, f);
      }
      f.whenComplete(
          (v, t) ->
              answer(
                  id,
                  t == null
                      ? Result.newBuilder().setCallId(id).setValue(codec.encode(v)).build()
                      : failed(id, Statuses.of(t)),
                  true));
    }

    private Result failed(long id, Status s) {
      return Result.newBuilder().setCallId(id).setStatus(StatusCodec.encode(s)).build();
    }

    /** Queues the result of call {@code id}; {@code counted} if it was counted in pending. */
    private void answer(long id, Result r, boolean counted) {
      synchronized (this) {
        if (done) {
          return;
        }
        if (counted) {
          running.remove(id);
        } else {
          pending++;
        }
        outbox.add(r);
        drain();
      }
      requestMore();
    }

    /** Sends what the transport takes now; closes once half-closed and all answered. */
    private void drain() {
      assert Thread.holdsLock(this);
      while (!done && !outbox.isEmpty() && call.isReady()) {
        call.sendMessage(outbox.poll());
        pending--;
      }
      if (!done && halfClosed && pending == 0) {
        done = true;
        call.close(io.grpc.Status.OK, new Metadata());
      }
    }

    void requestMore() {
      synchronized (this) {
        if (done || halfClosed || requested || pending >= maxInFlight || !outbox.isEmpty()) {
          return;
        }
        requested = true;
      }
      call.request(1);
    }

    @Override
    public void onReady() {
      synchronized (this) {
        drain();
      }
      requestMore();
    }

    @Override
    public void onHalfClose() {
      synchronized (this) {
        halfClosed = true;
        drain();
      }
    }

    @Override
    public void onCancel() {
      List<CompletableFuture<Value>> toCancel;
      synchronized (this) {
        done = true;
        toCancel = List.copyOf(running.values());
        running.clear();
        outbox.clear();
      }
      for (CompletableFuture<Value> f : toCancel) {
        f.cancel(true);
      }
    }

    private void closeWith(Status s) {
      List<CompletableFuture<Value>> toCancel;
      synchronized (this) {
        if (done) {
          return;
        }
        done = true;
        toCancel = List.copyOf(running.values());
        running.clear();
        outbox.clear();
        call.close(Statuses.toGrpc(s), Statuses.trailersOf(s));
      }
      for (CompletableFuture<Value> f : toCancel) {
        f.cancel(true);
      }
    }
  }
}
