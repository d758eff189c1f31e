package io.polycall.gateway.internal;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.polycall.Status;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The error body of every failed request and stream call:
 *
 * <pre>
 * {"error": {"code": "NOT_FOUND", "status": 5, "message": "...",
 *            "suggestions": ["math.add"],                       (NOT_FOUND with close names)
 *            "frames": [{"language", "function", "file", "line"}, ...]}}
 * </pre>
 *
 * Stateless.
 */
public final class ErrorBodies {
  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
  private static final Pattern DID_YOU_MEAN = Pattern.compile("did you mean ([^?]+)\\?");

  private ErrorBodies() {}

  /** The {@code {"code", "status", "message", ...}} object of a status. */
  public static ObjectNode error(Status status) {
    ObjectNode e = NODES.objectNode();
    e.put("code", status.code().name());
    e.put("status", status.code().number());
    e.put("message", status.description() == null ? status.code().name() : status.description());
    if (status.code() == Status.Code.NOT_FOUND && status.description() != null) {
      Matcher m = DID_YOU_MEAN.matcher(status.description());
      if (m.find()) {
        ArrayNode s = e.putArray("suggestions");
        for (String name : m.group(1).split(",")) {
          s.add(name.trim());
        }
      }
    }
    if (!status.frames().isEmpty()) {
      ArrayNode frames = e.putArray("frames");
      for (Status.StackFrame f : status.frames()) {
        frames
            .addObject()
            .put("language", f.language())
            .put("function", f.function())
            .put("file", f.file())
            .put("line", f.line());
      }
    }
    return e;
  }

  /** {@code {"error": {...}}}. */
  public static ObjectNode body(Status status) {
    ObjectNode root = NODES.objectNode();
    root.set("error", error(status));
    return root;
  }
}
