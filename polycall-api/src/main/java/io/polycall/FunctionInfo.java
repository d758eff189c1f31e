package io.polycall;

import java.util.Objects;
import java.util.Set;

/**
 * What the registry knows of one function: what {@code describe} prints.
 *
 * @param version 1 or more; several versions of a name may be registered at once
 * @param bridge the bridge that runs it: {@code jvm}, {@code native}, {@code python}, ...
 * @param tags free-form tags; {@code pure} and {@code idempotent} are understood by the router
 * @param doc a one-paragraph description, may be empty
 */
public record FunctionInfo(
    Signature signature, int version, String bridge, Set<String> tags, String doc) {

  public static final String TAG_PURE = "pure";
  public static final String TAG_IDEMPOTENT = "idempotent";

  public FunctionInfo {
    Objects.requireNonNull(signature, "signature");
    Objects.requireNonNull(bridge, "bridge");
    if (version < 1) {
      throw new IllegalArgumentException("version must be 1 or more, was " + version);
    }
    tags = Set.copyOf(tags);
    doc = doc == null ? "" : doc;
  }

  public static FunctionInfo of(Signature signature, String bridge) {
    return new FunctionInfo(signature, 1, bridge, Set.of(), "");
  }

  public String name() {
    return signature.name();
  }

  /** {@code name@version}, which a call may use to pin a version. */
  public String qualifiedName() {
    return signature.name() + "@" + version;
  }

  public boolean hasTag(String tag) {
    return tags.contains(tag);
  }

  public FunctionInfo withVersion(int newVersion) {
    return new FunctionInfo(signature, newVersion, bridge, tags, doc);
  }

  public FunctionInfo withTags(Set<String> newTags) {
    return new FunctionInfo(signature, version, bridge, newTags, doc);
  }

  public FunctionInfo withDoc(String newDoc) {
    return new FunctionInfo(signature, version, bridge, tags, newDoc);
  }
}
