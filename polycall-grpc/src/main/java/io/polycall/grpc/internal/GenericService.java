package io.polycall.grpc.internal;

import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerServiceDefinition;
import io.polycall.CallOptions;
import io.polycall.FunctionInfo;
import io.polycall.Status;
import io.polycall.Value;
import io.polycall.core.CallRequest;
import io.polycall.core.CallResult;
import io.polycall.core.PolyCall;
import io.polycall.wire.StatusCodec;
import io.polycall.wire.ValueCodec;
import io.polycall.wire.proto.Batch;
import io.polycall.wire.proto.BatchResult;
import io.polycall.wire.proto.Call;
import io.polycall.wire.proto.DescribeFunctionRequest;
import io.polycall.wire.proto.FunctionEntry;
import io.polycall.wire.proto.ListFunctionsRequest;
import io.polycall.wire.proto.ListFunctionsResponse;
import io.polycall.wire.proto.Result;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * {@code polycall.v1.PolyCall} over one node: every call goes through the node's {@link
 * io.polycall.Caller}, so the interceptor chain (authentication, authorization, audit) runs as for
 * any other caller.
 */
public final class GenericService {
  /** The bridge name of functions that live on another node; {@code local_only} leaves them out. */
  public static final String REMOTE_BRIDGE = "remote";

  private GenericService() {}

  public static ServerServiceDefinition create(
      PolyCall node, String nodeId, ValueCodec codec, int maxStreamInFlight) {
    return ServerServiceDefinition.builder(Rpc.Server.SERVICE_DESCRIPTOR)
        .addMethod(Rpc.Server.CALL, new CallHandler(node, codec))
        .addMethod(
            Rpc.Server.CALL_STREAM,
            new CallStreamHandler(node.registry(), node, codec, maxStreamInFlight))
        .addMethod(Rpc.Server.BATCH, new BatchHandler(node, codec))
        .addMethod(
            Rpc.Server.LIST_FUNCTIONS,
            new UnaryHandler<ListFunctionsRequest, ListFunctionsResponse>() {
              @Override
              protected CompletableFuture<ListFunctionsResponse> start(
                  ListFunctionsRequest req,
                  ServerCall<?, ListFunctionsResponse> call,
                  Metadata headers) {
                String glob = req.getPattern().isEmpty() ? "**" : req.getPattern();
                var b = ListFunctionsResponse.newBuilder().setNodeId(nodeId);
                for (FunctionInfo f : node.functions(glob)) {
                  if (req.getLocalOnly() && f.bridge().equals(REMOTE_BRIDGE)) {
                    continue;
                  }
                  b.addFunctions(Decls.toEntry(f, nodeId));
                }
                return CompletableFuture.completedFuture(b.build());
              }
            })
        .addMethod(
            Rpc.Server.DESCRIBE_FUNCTION,
            new UnaryHandler<DescribeFunctionRequest, FunctionEntry>() {
              @Override
              protected CompletableFuture<FunctionEntry> start(
                  DescribeFunctionRequest req,
                  ServerCall<?, FunctionEntry> call,
                  Metadata headers) {
                if (req.getName().isEmpty()) {
                  throw Status.INVALID_ARGUMENT
                      .withDescription("DescribeFunction needs a name, e.g. math.cos or math.cos@2")
                      .asException();
                }
                return CompletableFuture.completedFuture(
                    Decls.toEntry(node.describe(req.getName()), nodeId));
              }
            })
        .build();
  }

  private static final class CallHandler extends UnaryHandler<Call, Result> {
    private final PolyCall node;
    private final ValueCodec codec;

    CallHandler(PolyCall node, ValueCodec codec) {
      this.node = node;
      this.codec = codec;
    }

    @Override
    protected CompletableFuture<Result> start(
        Call req, ServerCall<?, Result> call, Metadata headers) {
      List<Value> args = Requests.args(codec, req);
      CallOptions options = Requests.options(call, headers, req);
      long id = req.getCallId();
      CompletableFuture<Value> running =
          Dispatch.call(node.registry(), node.caller(), req.getFunction(), args, options);
      return Futures.map(
          running, v -> Result.newBuilder().setCallId(id).setValue(codec.encode(v)).build());
    }
  }

  private static final class BatchHandler extends UnaryHandler<Batch, BatchResult> {
    private final PolyCall node;
    private final ValueCodec codec;

    BatchHandler(PolyCall node, ValueCodec codec) {
      this.node = node;
      this.codec = codec;
    }

    @Override
    protected CompletableFuture<BatchResult> start(
        Batch req, ServerCall<?, BatchResult> call, Metadata headers) {
      // The batch's own options (gRPC deadline, headers) apply to every call. When no inner call
      // has a timeout or metadata of its own, the calls go through PolyCall.batch, which may send
      // consecutive calls of one worker function as one frame; otherwise each call runs on its
      // own with its own options.
      CallOptions options = Requests.options(call, headers, java.util.Map.of(), 0);
      int n = req.getCallsCount();
      Result[] out = new Result[n];
      List<CallRequest> valid = new ArrayList<>(n);
      int[] slots = new int[n];
      boolean shared = true;
      for (int i = 0; i < n; i++) {
        Call c = req.getCalls(i);
        shared &= c.getTimeoutNanos() == 0 && c.getMetadataCount() == 0;
        try {
          valid.add(new CallRequest(c.getFunction(), Requests.args(codec, c)));
          slots[valid.size() - 1] = i;
        } catch (RuntimeException e) {
          out[i] = failed(Statuses.of(e));
        }
      }
      if (!shared) {
        List<CompletableFuture<?>> each = new ArrayList<>(valid.size());
        for (int k = 0; k < valid.size(); k++) {
          int slot = slots[k];
          Call c = req.getCalls(slot);
          CallOptions o = Requests.options(call, headers, c);
          each.add(
              node.caller()
                  .callAsync(c.getFunction(), valid.get(k).args(), o)
                  .handle(
                      (v, t) ->
                          out[slot] =
                              t == null
                                  ? Result.newBuilder().setValue(codec.encode(v)).build()
                                  : failed(Statuses.of(t))));
        }
        CompletableFuture<Void> all =
            CompletableFuture.allOf(each.toArray(CompletableFuture[]::new));
        CompletableFuture<BatchResult> done = Futures.map(all, x -> result(req, out));
        done.whenComplete(
            (r, t) -> {
              if (t != null) {
                each.forEach(f -> f.cancel(true));
              }
            });
        return done;
      }
      CompletableFuture<BatchResult> done = new CompletableFuture<>();
      Thread.ofVirtual()
          .name("polycall-grpc-batch")
          .start(
              () -> {
                try {
                  List<CallResult> results =
                      valid.isEmpty() ? List.of() : node.batch(valid, options);
                  for (int k = 0; k < results.size(); k++) {
                    CallResult r = results.get(k);
                    out[slots[k]] =
                        r.isOk()
                            ? Result.newBuilder().setValue(codec.encode(r.value())).build()
                            : failed(r.status());
                  }
                  done.complete(result(req, out));
                } catch (Throwable t) {
                  done.completeExceptionally(t);
                }
              });
      return done;
    }

    private static BatchResult result(Batch req, Result[] out) {
      return BatchResult.newBuilder()
          .setBatchId(req.getBatchId())
          .addAllResults(List.of(out))
          .build();
    }

    private static Result failed(Status s) {
      return Result.newBuilder().setStatus(StatusCodec.encode(s)).build();
    }
  }
}
