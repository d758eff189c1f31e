package io.polycall.grpc.internal;

import io.grpc.Attributes;
import io.grpc.Context;
import io.grpc.Deadline;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.polycall.CallOptions;
import io.polycall.Identity;
import io.polycall.Value;
import io.polycall.wire.ValueCodec;
import io.polycall.wire.proto.Call;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * How a gRPC request becomes a PolyCall call: its {@link CallOptions} (deadline, metadata,
 * identity) and its decoded arguments.
 *
 * <p>Metadata: every request header except {@code grpc-*}, binary ({@code *-bin}) headers, HTTP/2
 * pseudo headers and the HTTP transport headers {@code content-type}, {@code te} and {@code
 * user-agent}, then {@code Call.metadata} on top (a key in both takes the message's value). The
 * identity is the one the transport verified ({@link #IDENTITY}, set per connection by {@link
 * TlsIdentityFilter}); a client can never set it.
 */
public final class Requests {
  private Requests() {}

  /** The identity the transport verified for a connection (mTLS), in the call's attributes. */
  public static final Attributes.Key<Identity> IDENTITY =
      Attributes.Key.create("polycall.identity");

  private static final Set<String> TRANSPORT_HEADERS = Set.of("content-type", "te", "user-agent");

  /** The options of a call: the gRPC deadline, shortened by {@code timeoutNanos} when set. */
  public static CallOptions options(
      ServerCall<?, ?> call, Metadata headers, Map<String, String> extra, long timeoutNanos) {
    long deadline = Long.MAX_VALUE;
    Deadline d = Context.current().getDeadline();
    long now = 0;
    if (d != null || timeoutNanos > 0) {
      now = System.nanoTime();
    }
    if (d != null) {
      deadline = now + Math.max(0, d.timeRemaining(TimeUnit.NANOSECONDS));
    }
    if (timeoutNanos > 0 && timeoutNanos < Long.MAX_VALUE / 4) {
      deadline = Math.min(deadline, now + timeoutNanos);
    }
    Identity identity = call.getAttributes().get(IDENTITY);
    return new CallOptions(
        deadline, metadata(headers, extra), identity == null ? Identity.ANONYMOUS : identity);
  }

  public static CallOptions options(ServerCall<?, ?> call, Metadata headers, Call request) {
    return options(call, headers, request.getMetadataMap(), (long) request.getTimeoutNanos());
  }

  /** Request headers as call metadata (see the class comment), then {@code extra} on top. */
  public static Map<String, String> metadata(Metadata headers, Map<String, String> extra) {
    Map<String, String> m = null;
    for (String key : headers.keys()) {
      if (key.startsWith("grpc-")
          || key.startsWith(":")
          || key.endsWith(Metadata.BINARY_HEADER_SUFFIX)
          || TRANSPORT_HEADERS.contains(key)) {
        continue;
      }
      Iterable<String> values =
          headers.getAll(Metadata.Key.of(key, Metadata.ASCII_STRING_MARSHALLER));
      if (values == null) {
        continue;
      }
      if (m == null) {
        m = new HashMap<>();
      }
      // A header sent more than once arrives as one value, comma-separated, as HTTP joins them.
      m.put(key, String.join(",", values));
    }
    if (m == null) {
      return extra;
    }
    m.putAll(extra);
    return m;
  }

  /**
   * The arguments of a call, decoded and checked by the wire codec.
   *
   * @throws io.polycall.StatusException INVALID_ARGUMENT naming the bad argument
   */
  public static List<Value> args(ValueCodec codec, Call call) {
    int n = call.getArgsCount();
    if (n == 0) {
      return List.of();
    }
    List<Value> out = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      out.add(codec.decode(call.getArgs(i), "args[" + i + "]"));
    }
    return out;
  }
}
