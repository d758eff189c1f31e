package io.polycall.grpc.internal;

import io.polycall.FunctionInfo;
import io.polycall.Signature;
import io.polycall.wire.proto.FunctionDecl;
import io.polycall.wire.proto.FunctionEntry;
import java.util.Set;

/** {@link FunctionInfo} to and from the wire's {@code FunctionDecl} and {@code FunctionEntry}. */
public final class Decls {
  private Decls() {}

  public static FunctionDecl toDecl(FunctionInfo info) {
    return FunctionDecl.newBuilder()
        .setSignature(info.signature().toString())
        .setVersion(info.version())
        .addAllTags(info.tags().stream().sorted().toList())
        .setDoc(info.doc())
        .build();
  }

  public static FunctionEntry toEntry(FunctionInfo info, String nodeId) {
    return FunctionEntry.newBuilder()
        .setDecl(toDecl(info))
        .setBridge(info.bridge())
        .setNodeId(nodeId)
        .build();
  }

  /**
   * The function an entry describes, with the bridge the entry names.
   *
   * @throws io.polycall.StatusException INVALID_ARGUMENT if the signature does not parse
   */
  public static FunctionInfo fromEntry(FunctionEntry e) {
    FunctionDecl d = e.getDecl();
    return new FunctionInfo(
        Signature.parse(d.getSignature()),
        Math.max(1, d.getVersion()),
        e.getBridge(),
        Set.copyOf(d.getTagsList()),
        d.getDoc());
  }
}
