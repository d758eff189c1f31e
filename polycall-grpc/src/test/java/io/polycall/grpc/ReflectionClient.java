package io.polycall.grpc;

import com.google.protobuf.ByteString;
import com.google.protobuf.DescriptorProtos.FileDescriptorProto;
import com.google.protobuf.Descriptors;
import com.google.protobuf.DynamicMessage;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.MethodDescriptor;
import io.grpc.protobuf.ProtoUtils;
import io.grpc.reflection.v1.ServerReflectionGrpc;
import io.grpc.reflection.v1.ServerReflectionRequest;
import io.grpc.reflection.v1.ServerReflectionResponse;
import io.grpc.reflection.v1.ServiceResponse;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.StreamObserver;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * What a generic client such as grpcurl does, in Java: ask server reflection (v1) for a service's
 * file, build its descriptors, and call a method with a JSON request. For tests.
 */
final class ReflectionClient {
  private final Channel channel;

  ReflectionClient(Channel channel) {
    this.channel = channel;
  }

  private ServerReflectionResponse ask(ServerReflectionRequest req) throws Exception {
    CompletableFuture<ServerReflectionResponse> f = new CompletableFuture<>();
    StreamObserver<ServerReflectionRequest> out =
        ServerReflectionGrpc.newStub(channel)
            .serverReflectionInfo(
                new StreamObserver<>() {
                  @Override
                  public void onNext(ServerReflectionResponse value) {
                    f.complete(value);
                  }

                  @Override
                  public void onError(Throwable t) {
                    f.completeExceptionally(t);
                  }

                  @Override
                  public void onCompleted() {
                    f.completeExceptionally(new IllegalStateException("no answer"));
                  }
                });
    out.onNext(req);
    out.onCompleted();
    return f.get(10, TimeUnit.SECONDS);
  }

  List<String> services() throws Exception {
    ServerReflectionResponse r =
        ask(ServerReflectionRequest.newBuilder().setListServices("").build());
    return r.getListServicesResponse().getServiceList().stream()
        .map(ServiceResponse::getName)
        .toList();
  }

  /** The descriptor of the file that defines {@code symbol}, dependencies resolved. */
  Descriptors.FileDescriptor fileContaining(String symbol) throws Exception {
    ServerReflectionResponse r =
        ask(ServerReflectionRequest.newBuilder().setFileContainingSymbol(symbol).build());
    if (r.hasErrorResponse()) {
      throw new IllegalStateException(
          symbol + ": " + r.getErrorResponse().getErrorCode() + " " + r.getErrorResponse());
    }
    Map<String, FileDescriptorProto> protos = new HashMap<>();
    String first = null;
    for (ByteString b : r.getFileDescriptorResponse().getFileDescriptorProtoList()) {
      FileDescriptorProto p = FileDescriptorProto.parseFrom(b);
      protos.put(p.getName(), p);
      if (first == null) {
        first = p.getName();
      }
    }
    return build(first, protos, new HashMap<>());
  }

  private static Descriptors.FileDescriptor build(
      String name,
      Map<String, FileDescriptorProto> protos,
      Map<String, Descriptors.FileDescriptor> done)
      throws Descriptors.DescriptorValidationException {
    Descriptors.FileDescriptor known = done.get(name);
    if (known != null) {
      return known;
    }
    FileDescriptorProto p = protos.get(name);
    if (p == null) {
      throw new IllegalStateException("reflection did not send dependency " + name);
    }
    List<Descriptors.FileDescriptor> deps = new ArrayList<>();
    for (String d : p.getDependencyList()) {
      deps.add(build(d, protos, done));
    }
    Descriptors.FileDescriptor fd =
        Descriptors.FileDescriptor.buildFrom(p, deps.toArray(new Descriptors.FileDescriptor[0]));
    done.put(name, fd);
    return fd;
  }

  Descriptors.MethodDescriptor method(String service, String method) throws Exception {
    Descriptors.FileDescriptor fd = fileContaining(service);
    String simple = service.substring(service.lastIndexOf('.') + 1);
    Descriptors.ServiceDescriptor sd = fd.findServiceByName(simple);
    if (sd == null) {
      throw new IllegalStateException(service + " is not in " + fd.getName());
    }
    Descriptors.MethodDescriptor md = sd.findMethodByName(method);
    if (md == null) {
      throw new IllegalStateException(service + "/" + method + " is not described");
    }
    return md;
  }

  /** Calls {@code service/method} with a JSON request, answers JSON (as grpcurl does). */
  String call(String service, String method, String json) throws Exception {
    Descriptors.MethodDescriptor md = method(service, method);
    DynamicMessage.Builder req = DynamicMessage.newBuilder(md.getInputType());
    JsonFormat.parser().merge(json, req);
    MethodDescriptor<DynamicMessage, DynamicMessage> m =
        MethodDescriptor.<DynamicMessage, DynamicMessage>newBuilder()
            .setType(MethodDescriptor.MethodType.UNARY)
            .setFullMethodName(MethodDescriptor.generateFullMethodName(service, method))
            .setRequestMarshaller(
                ProtoUtils.marshaller(DynamicMessage.getDefaultInstance(md.getInputType())))
            .setResponseMarshaller(
                ProtoUtils.marshaller(DynamicMessage.getDefaultInstance(md.getOutputType())))
            .build();
    DynamicMessage res =
        ClientCalls.blockingUnaryCall(
            channel, m, CallOptions.DEFAULT.withDeadlineAfter(20, TimeUnit.SECONDS), req.build());
    try {
      // Gson escapes ">" as \u003e; grpcurl does not. Compare text as a reader sees it.
      return JsonFormat.printer()
          .omittingInsignificantWhitespace()
          .print(res)
          .replace("\\u003e", ">");
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException(e);
    }
  }
}
