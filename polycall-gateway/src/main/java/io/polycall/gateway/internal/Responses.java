package io.polycall.gateway.internal;

import com.fasterxml.jackson.databind.JsonNode;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.polycall.Status;
import io.polycall.gateway.HttpStatusMapping;

/** Builds the gateway's responses. Stateless. */
final class Responses {
  private Responses() {}

  static FullHttpResponse of(int httpStatus, Codec codec, JsonNode body) {
    byte[] bytes = codec.write(body);
    FullHttpResponse r =
        new DefaultFullHttpResponse(
            HttpVersion.HTTP_1_1, status(httpStatus), Unpooled.wrappedBuffer(bytes));
    r.headers().set(HttpHeaderNames.CONTENT_TYPE, codec.mediaType());
    r.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, bytes.length);
    return r;
  }

  /** The error body of a status, with the HTTP status of {@link HttpStatusMapping}. */
  static FullHttpResponse error(Status status) {
    return error(status, Codec.JSON, HttpStatusMapping.httpStatus(status.code()));
  }

  static FullHttpResponse error(Status status, Codec codec, int httpStatus) {
    FullHttpResponse r = of(httpStatus, codec, ErrorBodies.body(status));
    HttpStatusMapping.retryAfterSeconds(status)
        .ifPresent(s -> r.headers().set(HttpHeaderNames.RETRY_AFTER, Long.toString(s)));
    if (status.code() == Status.Code.UNAUTHENTICATED) {
      // RFC 6750: tells the client which credential the node wants.
      r.headers().set(HttpHeaderNames.WWW_AUTHENTICATE, "Bearer realm=\"polycall\"");
    }
    return r;
  }

  private static HttpResponseStatus status(int code) {
    return code == 499
        ? new HttpResponseStatus(499, "Client Closed Request")
        : HttpResponseStatus.valueOf(code);
  }
}
