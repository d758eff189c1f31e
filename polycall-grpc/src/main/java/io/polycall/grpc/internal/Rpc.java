package io.polycall.grpc.internal;

import com.google.protobuf.Descriptors;
import com.google.protobuf.Message;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServiceDescriptor;
import io.grpc.protobuf.ProtoMethodDescriptorSupplier;
import io.grpc.protobuf.ProtoServiceDescriptorSupplier;
import io.grpc.protobuf.ProtoUtils;
import io.polycall.wire.proto.Batch;
import io.polycall.wire.proto.BatchResult;
import io.polycall.wire.proto.Call;
import io.polycall.wire.proto.DescribeFunctionRequest;
import io.polycall.wire.proto.FunctionEntry;
import io.polycall.wire.proto.ListFunctionsRequest;
import io.polycall.wire.proto.ListFunctionsResponse;
import io.polycall.wire.proto.Result;
import io.polycall.wire.proto.ServiceProto;
import io.polycall.wire.proto.Status;
import io.polycall.wire.proto.StreamRequest;

/**
 * The method descriptors of {@code polycall.v1.PolyCall} (spec/service.proto), written by hand over
 * the message classes polycall-wire generates, so there is one set of message classes. Server and
 * client share them. The schema descriptors point at the proto's own descriptors, which is what
 * server reflection serves.
 */
public final class Rpc {
  private Rpc() {}

  public static final String SERVICE = "polycall.v1.PolyCall";

  /** The trailer that carries a failed call's full status (code, message, stack frames). */
  public static final Metadata.Key<Status> STATUS_TRAILER =
      Metadata.Key.of(
          "polycall-status-bin", ProtoUtils.metadataMarshaller(Status.getDefaultInstance()));

  public static final MethodDescriptor<Call, Result> CALL =
      method(
          "Call",
          MethodDescriptor.MethodType.UNARY,
          Call.getDefaultInstance(),
          Result.getDefaultInstance());

  public static final MethodDescriptor<StreamRequest, Result> CALL_STREAM =
      method(
          "CallStream",
          MethodDescriptor.MethodType.BIDI_STREAMING,
          StreamRequest.getDefaultInstance(),
          Result.getDefaultInstance());

  public static final MethodDescriptor<Batch, BatchResult> BATCH =
      method(
          "Batch",
          MethodDescriptor.MethodType.UNARY,
          Batch.getDefaultInstance(),
          BatchResult.getDefaultInstance());

  public static final MethodDescriptor<ListFunctionsRequest, ListFunctionsResponse> LIST_FUNCTIONS =
      method(
          "ListFunctions",
          MethodDescriptor.MethodType.UNARY,
          ListFunctionsRequest.getDefaultInstance(),
          ListFunctionsResponse.getDefaultInstance());

  public static final MethodDescriptor<DescribeFunctionRequest, FunctionEntry> DESCRIBE_FUNCTION =
      method(
          "DescribeFunction",
          MethodDescriptor.MethodType.UNARY,
          DescribeFunctionRequest.getDefaultInstance(),
          FunctionEntry.getDefaultInstance());

  public static final ServiceDescriptor SERVICE_DESCRIPTOR =
      ServiceDescriptor.newBuilder(SERVICE)
          .setSchemaDescriptor(new Schema(null))
          .addMethod(CALL)
          .addMethod(CALL_STREAM)
          .addMethod(BATCH)
          .addMethod(LIST_FUNCTIONS)
          .addMethod(DESCRIBE_FUNCTION)
          .build();

  /**
   * The server's view of the same methods: a request that does not parse reaches the handler as a
   * {@link Marshallers.ParseFailure}, which it answers with INVALID_ARGUMENT.
   */
  public static final class Server {
    private Server() {}

    public static final MethodDescriptor<Object, Result> CALL = lenient(Rpc.CALL);
    public static final MethodDescriptor<Object, Result> CALL_STREAM = lenient(Rpc.CALL_STREAM);
    public static final MethodDescriptor<Object, BatchResult> BATCH = lenient(Rpc.BATCH);
    public static final MethodDescriptor<Object, ListFunctionsResponse> LIST_FUNCTIONS =
        lenient(Rpc.LIST_FUNCTIONS);
    public static final MethodDescriptor<Object, FunctionEntry> DESCRIBE_FUNCTION =
        lenient(Rpc.DESCRIBE_FUNCTION);

    public static final ServiceDescriptor SERVICE_DESCRIPTOR =
        ServiceDescriptor.newBuilder(SERVICE)
            .setSchemaDescriptor(new Schema(null))
            .addMethod(CALL)
            .addMethod(CALL_STREAM)
            .addMethod(BATCH)
            .addMethod(LIST_FUNCTIONS)
            .addMethod(DESCRIBE_FUNCTION)
            .build();

    private static <Q, R> MethodDescriptor<Object, R> lenient(MethodDescriptor<Q, R> m) {
      String name =
          ((Message)
                  ((io.grpc.MethodDescriptor.PrototypeMarshaller<?>) m.getRequestMarshaller())
                      .getMessagePrototype())
              .getDescriptorForType()
              .getFullName();
      return m.toBuilder(
              Marshallers.parseFailureAsValue(m.getRequestMarshaller(), name),
              m.getResponseMarshaller())
          .build();
    }
  }

  private static <Q extends Message, R extends Message> MethodDescriptor<Q, R> method(
      String name, MethodDescriptor.MethodType type, Q request, R response) {
    return MethodDescriptor.<Q, R>newBuilder()
        .setType(type)
        .setFullMethodName(MethodDescriptor.generateFullMethodName(SERVICE, name))
        .setRequestMarshaller(ProtoUtils.marshaller(request))
        .setResponseMarshaller(ProtoUtils.marshaller(response))
        .setSchemaDescriptor(new Schema(name))
        .setSampledToLocalTracing(true)
        .build();
  }

  /** What reflection reads: the file, service and method descriptors of spec/service.proto. */
  private record Schema(String method)
      implements ProtoServiceDescriptorSupplier, ProtoMethodDescriptorSupplier {
    @Override
    public Descriptors.FileDescriptor getFileDescriptor() {
      return ServiceProto.getDescriptor();
    }

    @Override
    public Descriptors.ServiceDescriptor getServiceDescriptor() {
      return ServiceProto.getDescriptor().findServiceByName("PolyCall");
    }

    @Override
    public Descriptors.MethodDescriptor getMethodDescriptor() {
      return method == null ? null : getServiceDescriptor().findMethodByName(method);
    }
  }
}
