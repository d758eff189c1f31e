package io.polycall.security;

import io.polycall.FunctionInfo;
import io.polycall.Identity;
import io.polycall.Status;
import io.polycall.StatusException;
import io.polycall.security.internal.Globs;
import io.polycall.security.internal.YamlNodes;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;
import org.yaml.snakeyaml.nodes.Node;

/**
 * Who may call what: subjects get roles, roles allow function patterns on bridges with permissions.
 * Anything no role allows is denied.
 *
 * {@snippet lang = yaml :
 * roles:
 *   analyst:                       # the roles example of seed 002, as a policy
 *     functions: ["stats.**", "math.*"]
 *     bridges: [jvm, python]       # default: any bridge
 *   engineer:
 *     functions: ["**"]
 *     bridges: [jvm, python, native]
 *     permissions: [native, gpu]   # default: none
 *   admin: {functions: ["**"], bridges: ["*"], permissions: ["*"]}
 * subjects:
 *   alice: [analyst]               # a token's sub (exact or glob: "svc-*")
 *   "role:ops": [engineer]         # a token whose roles claim holds ops
 *   "worker:py-stats": [analyst]   # a worker pool's nested calls ("worker:*": all pools)
 *   "mtls:billing.internal": [engineer]   # a client certificate's CN
 *   "unix:deploy": [admin]         # a socket client's Unix user
 *   "local:app": [admin]           # the embedding program (security.local_identity)
 * requires:                        # permissions a call needs besides the function and bridge
 *   bridges: {native: [native], remote: [network]}   # these two are the defaults
 *   tags: {gpu: [gpu]}             # a function tagged gpu needs gpu (default; network too)
 *   functions: {"net.**": [network]}
 * }
 *
 * <p>A role allows a call when one of its function patterns matches the name ({@code *} within a
 * dotted segment, {@code **} across), its bridges include the function's bridge, and its
 * permissions include every permission the call requires. One role must allow the call on its own:
 * the permissions of one role never combine with the functions of another.
 *
 * <p>Immutable and thread-safe: a new file makes a new policy, swapped in whole. {@link #decide}
 * never blocks; it remembers its answers per subject and function.
 */
public final class Policy {
  private static final Set<String> TOP_KEYS = Set.of("roles", "subjects", "requires", "version");
  private static final Set<String> ROLE_KEYS =
      Set.of("functions", "bridges", "permissions", "description");
  private static final Set<String> REQUIRES_KEYS = Set.of("bridges", "tags", "functions");

  /** The bridges a policy may name. */
  public static final Set<String> BRIDGES =
      Set.of("jvm", "native", "python", "node", "remote", "wasm");

  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9_.-]*");
  private static final Pattern FUNCTION_GLOB = Pattern.compile("[A-Za-z0-9_.*?-]+");
  private static final int MAX_CACHED = 4096;

  /** What the policy said about one call, and why (the rule that matched, or what would). */
  public record Decision(boolean allowed, String reason) {}

  private record Role(
      String name,
      List<String> functionGlobs,
      List<Pattern> functions,
      Set<String> bridges,
      Set<String> permissions) {
    boolean allowsFunction(String fn) {
      for (Pattern p : functions) {
        if (p.matcher(fn).matches()) {
          return true;
        }
      }
      return false;
    }

    boolean allowsBridge(String bridge) {
      return bridges.contains("*") || bridges.contains(bridge);
    }

    boolean has(Set<String> required) {
      return permissions.contains("*") || permissions.containsAll(required);
    }
  }

  /**
   * One line of {@code subjects:}. {@code method} is the identity method it applies to; {@code
   * pattern} matches the subject ({@code role:} rules match the token's roles instead).
   */
  private record SubjectRule(
      String text, String method, Pattern pattern, boolean byRole, List<Role> roles) {}

  private record FunctionRequirement(String glob, Pattern pattern, Set<String> permissions) {}

  /**
   * A function by reference: the registry hands the same {@link FunctionInfo} to every call of a
   * function, so identity hashing spares hashing the whole signature on every call.
   */
  private record Ref(FunctionInfo f) {
    @Override
    public boolean equals(Object o) {
      return o instanceof Ref r && r.f == f;
    }

    @Override
    public int hashCode() {
      return System.identityHashCode(f);
    }
  }

  /** The roles of one identity, and the decisions made for it, per function (by reference). */
  private static final class RoleSet {
    final List<Role> roles;
    final Map<Ref, Decision> decisions = new ConcurrentHashMap<>();

    RoleSet(List<Role> roles) {
      this.roles = roles;
    }
  }

  private record RoleKey(String method, String subject, String roles) {}

  private final String source;
  private final Map<String, Role> roles;
  private final List<SubjectRule> subjects;
  private final Map<String, Set<String>> bridgeNeeds;
  private final Map<String, Set<String>> tagNeeds;
  private final List<FunctionRequirement> functionNeeds;
  private final Map<RoleKey, RoleSet> roleSets = new ConcurrentHashMap<>();

  private Policy(
      String source,
      Map<String, Role> roles,
      List<SubjectRule> subjects,
      Map<String, Set<String>> bridgeNeeds,
      Map<String, Set<String>> tagNeeds,
      List<FunctionRequirement> functionNeeds) {
    this.source = source;
    this.roles = roles;
    this.subjects = subjects;
    this.bridgeNeeds = bridgeNeeds;
    this.tagNeeds = tagNeeds;
    this.functionNeeds = functionNeeds;
  }

  /** Where the policy came from (its file), as messages name it. */
  public String source() {
    return source;
  }

  /** The role names, sorted. */
  public Set<String> roleNames() {
    return new TreeMap<>(roles).keySet();
  }

  /**
   * Reads a policy file.
   *
   * @throws StatusException INVALID_ARGUMENT with {@code file:line:column}, the key and what to
   *     change; FAILED_PRECONDITION when the file cannot be read
   */
  public static Policy load(Path file) {
    String text;
    try {
      text = Files.readString(file);
    } catch (IOException e) {
      throw Status.FAILED_PRECONDITION
          .withDescription("cannot read the policy file " + file + ": " + e)
          .withCause(e)
          .asException();
    }
    return parse(text, file.toString());
  }

  /** Reads a policy from YAML text; {@code source} names it in messages. */
  public static Policy parse(String yaml, String source) {
    YamlNodes y = new YamlNodes(source);
    Node root = y.parse(yaml);
    if (root == null) {
      throw y.invalid(
          null,
          "",
          "is empty; a policy needs 'roles' and 'subjects' (to deny everything on purpose, write"
              + " 'roles: {}')");
    }
    Map<String, Node> top = y.mapping(root, "", TOP_KEYS, "a policy");
    if (top.containsKey("version")) {
      String v = y.string(top.get("version"), "version");
      if (!v.equals("1")) {
        throw y.invalid(top.get("version"), "version", "must be 1 (the only version there is)");
      }
    }
    Map<String, Role> roles = new LinkedHashMap<>();
    Node rolesNode = top.get("roles");
    if (rolesNode == null) {
      throw y.invalid(root, "roles", "is missing; name the roles and what each may call");
    }
    for (var e : y.mapping(rolesNode, "roles", null, "a map of role names to rules").entrySet()) {
      roles.put(e.getKey(), role(y, e.getKey(), e.getValue()));
    }
    List<SubjectRule> subjects = new ArrayList<>();
    Node subjectsNode = top.get("subjects");
    if (subjectsNode != null) {
      Map<String, Node> m = y.mapping(subjectsNode, "subjects", null, "a map of subjects to roles");
      for (var e : m.entrySet()) {
        subjects.add(subject(y, e.getKey(), e.getValue(), roles));
      }
    }
    Map<String, Set<String>> bridgeNeeds = new TreeMap<>();
    bridgeNeeds.put("native", Set.of("native"));
    bridgeNeeds.put("remote", Set.of("network"));
    Map<String, Set<String>> tagNeeds = new TreeMap<>();
    tagNeeds.put("gpu", Set.of("gpu"));
    tagNeeds.put("network", Set.of("network"));
    List<FunctionRequirement> functionNeeds = new ArrayList<>();
    Node req = top.get("requires");
    if (req != null) {
      Map<String, Node> m = y.mapping(req, "requires", REQUIRES_KEYS, "a map");
      if (m.containsKey("bridges")) {
        for (var e :
            y.mapping(m.get("bridges"), "requires.bridges", null, "a map of bridges to permissions")
                .entrySet()) {
          String path = "requires.bridges." + e.getKey();
          if (!BRIDGES.contains(e.getKey())) {
            throw y.invalid(
                e.getValue(), path, "names an unknown bridge; known: " + sorted(BRIDGES));
          }
          bridgeNeeds.put(e.getKey(), permissions(y, e.getValue(), path));
        }
      }
      if (m.containsKey("tags")) {
        for (var e :
            y.mapping(m.get("tags"), "requires.tags", null, "a map of tags to permissions")
                .entrySet()) {
          tagNeeds.put(e.getKey(), permissions(y, e.getValue(), "requires.tags." + e.getKey()));
        }
      }
      if (m.containsKey("functions")) {
        for (var e :
            y.mapping(
                    m.get("functions"),
                    "requires.functions",
                    null,
                    "a map of function globs to permissions")
                .entrySet()) {
          String path = "requires.functions." + e.getKey();
          functionNeeds.add(
              new FunctionRequirement(
                  e.getKey(),
                  functionGlob(y, e.getValue(), path, e.getKey()),
                  permissions(y, e.getValue(), path)));
        }
      }
    }
    return new Policy(source, roles, subjects, bridgeNeeds, tagNeeds, functionNeeds);
  }

  private static Role role(YamlNodes y, String name, Node node) {
    String path = "roles." + name;
    if (!NAME.matcher(name).matches()) {
      throw y.invalid(node, path, "is not a role name; use letters, digits, '_', '.' and '-'");
    }
    Map<String, Node> m = y.mapping(node, path, ROLE_KEYS, "a role");
    Node fn = m.get("functions");
    if (fn == null) {
      throw y.invalid(
          node, path, "needs 'functions': the globs it may call, such as [\"math.*\"] or [\"**\"]");
    }
    List<String> globs = y.strings(fn, path + ".functions");
    List<Pattern> patterns = new ArrayList<>();
    for (String g : globs) {
      patterns.add(functionGlob(y, fn, path + ".functions", g));
    }
    Set<String> bridges = Set.of("*");
    if (m.containsKey("bridges")) {
      bridges = new LinkedHashSet<>(y.strings(m.get("bridges"), path + ".bridges"));
      for (String b : bridges) {
        if (!b.equals("*") && !BRIDGES.contains(b)) {
          throw y.invalid(
              m.get("bridges"),
              path + ".bridges",
              "names an unknown bridge '" + b + "'; known: " + sorted(BRIDGES) + " or \"*\"");
        }
      }
      bridges = Set.copyOf(bridges);
    }
    Set<String> perms =
        m.containsKey("permissions")
            ? permissions(y, m.get("permissions"), path + ".permissions")
            : Set.of();
    return new Role(name, List.copyOf(globs), List.copyOf(patterns), bridges, perms);
  }

  private static Pattern functionGlob(YamlNodes y, Node node, String path, String glob) {
    if (!FUNCTION_GLOB.matcher(glob).matches()) {
      throw y.invalid(
          node,
          path,
          "'"
              + glob
              + "' is not a function glob; use names with '*' (one segment) and '**' (any),"
              + " such as \"math.*\"");
    }
    return Globs.function(glob);
  }

  private static Set<String> permissions(YamlNodes y, Node node, String path) {
    Set<String> out = new LinkedHashSet<>();
    for (String p : y.strings(node, path)) {
      if (!p.equals("*") && !NAME.matcher(p).matches()) {
        throw y.invalid(
            node, path, "'" + p + "' is not a permission name such as native, network or gpu");
      }
      out.add(p);
    }
    return Set.copyOf(out);
  }

  private static final List<String> METHODS =
      List.of(Identity.WORKER, Identity.UNIX, Identity.MTLS, Identity.LOCAL, Identity.JWT);

  private static SubjectRule subject(YamlNodes y, String key, Node node, Map<String, Role> roles) {
    String path = "subjects." + key;
    List<Role> granted = new ArrayList<>();
    for (String r : y.strings(node, path)) {
      Role role = roles.get(r);
      if (role == null) {
        throw y.invalid(
            node,
            path,
            "names role '" + r + "', which is not under 'roles:'; known roles: " + roles.keySet());
      }
      granted.add(role);
    }
    if (key.isBlank()) {
      throw y.invalid(node, path, "a subject pattern must not be blank");
    }
    if (key.startsWith("role:")) {
      return new SubjectRule(
          key, Identity.JWT, Globs.text(key.substring(5)), true, List.copyOf(granted));
    }
    int colon = key.indexOf(':');
    String prefix = colon < 0 ? "" : key.substring(0, colon);
    if (METHODS.contains(prefix)) {
      String rest = key.substring(colon + 1);
      if (rest.isEmpty()) {
        throw y.invalid(
            node, path, "names no subject after '" + prefix + ":'; write " + prefix + ":*");
      }
      // Worker and Unix subjects carry their prefix themselves (worker:POOL, unix:USER).
      String subjectGlob =
          prefix.equals(Identity.WORKER) || prefix.equals(Identity.UNIX) ? key : rest;
      return new SubjectRule(key, prefix, Globs.text(subjectGlob), false, List.copyOf(granted));
    }
    // A plain pattern names token subjects: a token whose sub is "worker:x" is still a token.
    return new SubjectRule(key, Identity.JWT, Globs.text(key), false, List.copyOf(granted));
  }

  /** The permissions a call of {@code f} needs, each with why. */
  public Map<String, String> requiredPermissions(FunctionInfo f) {
    Map<String, String> out = new TreeMap<>();
    for (String p : bridgeNeeds.getOrDefault(f.bridge(), Set.of())) {
      out.putIfAbsent(p, "bridge " + f.bridge());
    }
    for (String tag : f.tags()) {
      for (String p : tagNeeds.getOrDefault(tag, Set.of())) {
        out.putIfAbsent(p, "tag " + tag);
      }
    }
    for (FunctionRequirement r : functionNeeds) {
      if (r.pattern().matcher(f.name()).matches()) {
        for (String p : r.permissions()) {
          out.putIfAbsent(p, "requires.functions '" + r.glob() + "'");
        }
      }
    }
    return out;
  }

  /** The roles this policy gives {@code id}, in policy order, without duplicates. */
  public List<String> rolesOf(Identity id) {
    return roleSet(id).roles.stream().map(Role::name).toList();
  }

  private RoleSet roleSet(Identity id) {
    String tokenRoles = id.attributes().getOrDefault("roles", "");
    RoleKey key = new RoleKey(id.method(), id.subject(), tokenRoles);
    RoleSet rs = roleSets.get(key);
    if (rs != null) {
      return rs;
    }
    if (roleSets.size() >= MAX_CACHED) {
      roleSets.clear();
    }
    return roleSets.computeIfAbsent(key, k -> new RoleSet(resolveRoles(id, tokenRoles)));
  }

  private List<Role> resolveRoles(Identity id, String tokenRoles) {
    Set<Role> out = new LinkedHashSet<>();
    List<String> claimRoles = tokenRoles.isEmpty() ? List.of() : List.of(tokenRoles.split(","));
    for (SubjectRule rule : subjects) {
      if (!rule.method().equals(id.method())) {
        continue;
      }
      boolean match;
      if (rule.byRole()) {
        match = claimRoles.stream().anyMatch(r -> rule.pattern().matcher(r).matches());
      } else {
        match = rule.pattern().matcher(id.subject()).matches();
      }
      if (match) {
        out.addAll(rule.roles());
      }
    }
    return List.copyOf(out);
  }

  /**
   * Whether {@code id} may call {@code f}. An anonymous identity is never allowed (the caller
   * answers it with UNAUTHENTICATED, not PERMISSION_DENIED).
   */
  public Decision decide(Identity id, FunctionInfo f) {
    RoleSet rs = roleSet(id);
    Ref key = new Ref(f);
    Decision d = rs.decisions.get(key);
    if (d == null) {
      if (rs.decisions.size() >= MAX_CACHED) {
        rs.decisions.clear();
      }
      d = evaluate(id, rs.roles, f);
      rs.decisions.put(key, d);
    }
    return d;
  }

  private Decision evaluate(Identity id, List<Role> mine, FunctionInfo f) {
    String call = f.name() + " [" + f.bridge() + "]";
    String who = describe(id);
    if (!id.isAuthenticated()) {
      return new Decision(false, "anonymous callers may call nothing");
    }
    Map<String, String> needs = requiredPermissions(f);
    for (Role r : mine) {
      if (r.allowsFunction(f.name()) && r.allowsBridge(f.bridge()) && r.has(needs.keySet())) {
        return new Decision(true, "role " + r.name() + " of " + source);
      }
    }
    String fix = fix(f, needs);
    if (mine.isEmpty()) {
      return new Decision(
          false,
          who
              + " may not call "
              + call
              + ": it has no role in "
              + source
              + "; to allow it, map '"
              + policyKey(id)
              + "' under 'subjects:' to a role with "
              + fix);
    }
    List<String> names = mine.stream().map(Role::name).toList();
    for (Role r : mine) {
      if (r.allowsFunction(f.name()) && r.allowsBridge(f.bridge())) {
        Set<String> missing = new java.util.TreeSet<>(needs.keySet());
        missing.removeAll(r.permissions());
        List<String> why = missing.stream().map(p -> p + " (" + needs.get(p) + ")").toList();
        return new Decision(
            false,
            who
                + " may not call "
                + call
                + ": role "
                + r.name()
                + " allows the function and bridge but lacks permission "
                + String.join(", ", why)
                + "; to allow it, add "
                + missing
                + " to "
                + r.name()
                + "'s permissions in "
                + source);
      }
    }
    for (Role r : mine) {
      if (r.allowsFunction(f.name())) {
        return new Decision(
            false,
            who
                + " may not call "
                + call
                + ": role "
                + r.name()
                + " allows the function on bridges "
                + sorted(r.bridges())
                + " only; to allow it, add "
                + f.bridge()
                + " to "
                + r.name()
                + "'s bridges in "
                + source);
      }
    }
    return new Decision(
        false,
        who
            + " may not call "
            + call
            + ": none of its roles "
            + names
            + " allows the function; to allow it, give one of them (in "
            + source
            + ") "
            + fix);
  }

  private static String fix(FunctionInfo f, Map<String, String> needs) {
    return "functions matching '"
        + f.name()
        + "', bridge "
        + f.bridge()
        + (needs.isEmpty() ? "" : " and permissions " + needs.keySet());
  }

  private static String describe(Identity id) {
    return id.isAuthenticated() ? id.subject() + " (" + id.method() + ")" : "anonymous";
  }

  /** How the policy writes a subject under {@code subjects:}. */
  private static String policyKey(Identity id) {
    return switch (id.method()) {
      case Identity.JWT -> id.subject().indexOf(':') < 0 ? id.subject() : "jwt:" + id.subject();
      case Identity.WORKER, Identity.UNIX -> id.subject();
      default -> id.method() + ":" + id.subject();
    };
  }

  private static List<String> sorted(Set<String> s) {
    return s.stream().sorted().toList();
  }

  @Override
  public String toString() {
    return "Policy[" + source + ", roles " + roles.keySet() + "]";
  }
}
