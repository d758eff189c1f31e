package io.polycall.grpc;

import io.polycall.FunctionInfo;
import java.util.Objects;

/**
 * A function as a node reports it over gRPC ({@code polycall.v1.FunctionEntry}): what it is, with
 * the bridge that runs it on that node, and the id of the node that hosts it.
 *
 * @param info the declaration; {@code info.bridge()} is the bridge on the reporting node ({@code
 *     jvm}, {@code python}, ..., or {@code remote} when that node forwards it elsewhere)
 * @param nodeId the node that runs it
 */
public record NodeFunction(FunctionInfo info, String nodeId) {
  public NodeFunction {
    Objects.requireNonNull(info, "info");
    Objects.requireNonNull(nodeId, "nodeId");
  }
}
