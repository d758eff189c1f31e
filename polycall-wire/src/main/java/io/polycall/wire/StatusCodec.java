package io.polycall.wire;

import io.polycall.Status;
import io.polycall.wire.proto.StackFrame;
import java.util.ArrayList;
import java.util.List;

/**
 * Converts {@link Status} to and from the wire's {@code polycall.v1.Status}: code number, message
 * and the cross-language stack (innermost frame first). The Java cause does not travel; its frames
 * do, through {@link Status#frames()}.
 *
 * <p>Stateless and thread-safe.
 */
public final class StatusCodec {
  private StatusCodec() {}

  /** The wire form of {@code status}; a null description becomes the empty message. */
  public static io.polycall.wire.proto.Status encode(Status status) {
    var b =
        io.polycall.wire.proto.Status.newBuilder()
            .setCode(status.code().number())
            .setMessage(status.description() == null ? "" : status.description());
    for (Status.StackFrame f : status.frames()) {
      b.addFrames(
          StackFrame.newBuilder()
              .setLanguage(f.language())
              .setFunction(f.function())
              .setFile(f.file())
              .setLine(f.line()));
    }
    return b.build();
  }

  /**
   * The status of a wire {@code Status}. An unknown code number becomes {@code UNKNOWN}, as in
   * gRPC, with the number kept in the description; an empty message becomes no description.
   */
  public static Status decode(io.polycall.wire.proto.Status wire) {
    Status.Code code = Status.Code.ofNumber(wire.getCode());
    String message = wire.getMessage().isEmpty() ? null : wire.getMessage();
    if (code.number() != wire.getCode()) {
      message = "unknown status code " + wire.getCode() + (message == null ? "" : ": " + message);
    }
    Status s = code.toStatus().withDescription(message);
    if (wire.getFramesCount() > 0) {
      List<Status.StackFrame> frames = new ArrayList<>(wire.getFramesCount());
      for (StackFrame f : wire.getFramesList()) {
        frames.add(
            new Status.StackFrame(
                f.getLanguage(), f.getFunction(), f.getFile(), Math.max(f.getLine(), 0)));
      }
      s = s.withFrames(frames);
    }
    return s;
  }
}
