package io.polycall.security;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.polycall.FunctionInfo;
import io.polycall.Identity;
import io.polycall.Signature;
import io.polycall.Status;
import io.polycall.StatusException;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class PolicyTest {
  static final String SEED_002 =
      """
      # The roles example of seed 002 (bridge permissions, user roles), as a policy.
      roles:
        analyst:
          functions: ["stats.**", "math.*"]
          bridges: [jvm, python]
        engineer:
          functions: ["**"]
          bridges: [jvm, python, native]
          permissions: [native, gpu]
        admin:
          functions: ["**"]
          bridges: ["*"]
          permissions: ["*"]
        worker:
          functions: ["math.*"]
      subjects:
        alice: [analyst]
        "svc-*": [engineer]
        "role:ops": [engineer]
        "worker:*": [worker]
        "mtls:billing.internal": [analyst]
        "unix:deploy": [admin]
        "local:app": [admin]
      requires:
        functions: {"net.**": [network]}
      """;

  static final Policy POLICY = Policy.parse(SEED_002, "policy.yaml");

  static FunctionInfo fn(String name, String bridge, String... tags) {
    return new FunctionInfo(Signature.parse(name + "() -> i64"), 1, bridge, Set.of(tags), "");
  }

  static Identity jwt(String sub) {
    return Identity.of(sub, Identity.JWT);
  }

  @Test
  void a_role_allows_function_globs_within_and_across_segments() {
    assertTrue(POLICY.decide(jwt("alice"), fn("math.add", "jvm")).allowed());
    assertTrue(POLICY.decide(jwt("alice"), fn("stats.deep.mean", "python")).allowed());
    Policy.Decision d = POLICY.decide(jwt("alice"), fn("math.vec.dot", "jvm"));
    assertFalse(d.allowed());
    assertEquals(
        "alice (jwt) may not call math.vec.dot [jvm]: none of its roles [analyst] allows the"
            + " function; to allow it, give one of them (in policy.yaml) functions matching"
            + " 'math.vec.dot', bridge jvm",
        d.reason());
  }

  @Test
  void a_role_allows_only_its_bridges() {
    Policy.Decision d = POLICY.decide(jwt("alice"), fn("math.cos", "native"));
    assertFalse(d.allowed());
    assertTrue(
        d.reason().contains("allows the function on bridges [jvm, python] only"), d.reason());
  }

  @Test
  void the_native_bridge_and_a_gpu_tag_need_their_permissions() {
    Policy p =
        Policy.parse(
            """
            roles:
              plain: {functions: ["**"]}
              gpu: {functions: ["**"], permissions: [gpu]}
            subjects: {bob: [plain], carol: [gpu]}
            """,
            "p.yaml");
    Policy.Decision d = p.decide(jwt("bob"), fn("math.cos", "native"));
    assertFalse(d.allowed());
    assertTrue(
        d.reason()
            .contains(
                "role plain allows the function and bridge but lacks permission native (bridge native)"),
        d.reason());
    assertFalse(p.decide(jwt("bob"), fn("ml.train", "python", "gpu")).allowed());
    assertTrue(p.decide(jwt("carol"), fn("ml.train", "python", "gpu")).allowed());
    assertTrue(p.decide(jwt("bob"), fn("ml.predict", "python")).allowed());
    assertEquals(Map.of("gpu", "tag gpu"), p.requiredPermissions(fn("ml.train", "python", "gpu")));
  }

  @Test
  void permissions_of_one_role_never_combine_with_the_functions_of_another() {
    Policy p =
        Policy.parse(
            """
            roles:
              natives: {functions: ["c.*"], permissions: [native]}
              everything: {functions: ["**"]}
            subjects: {dan: [natives, everything]}
            """,
            "p.yaml");
    assertTrue(p.decide(jwt("dan"), fn("c.strlen", "native")).allowed());
    assertFalse(p.decide(jwt("dan"), fn("zlib.crc32", "native")).allowed());
  }

  @Test
  void subjects_match_exactly_by_glob_by_token_role_and_by_transport() {
    assertTrue(POLICY.decide(jwt("svc-reports"), fn("math.cos", "native")).allowed());
    assertFalse(POLICY.decide(jwt("svc"), fn("math.add", "jvm")).allowed());
    Identity ops = new Identity("eve", Identity.JWT, Map.of("roles", "dev,ops"));
    assertEquals(List.of("engineer"), POLICY.rolesOf(ops));
    assertTrue(POLICY.decide(Identity.worker("py", "py-0"), fn("math.add", "jvm")).allowed());
    assertFalse(POLICY.decide(Identity.worker("py", "py-0"), fn("stats.mean", "python")).allowed());
    assertTrue(
        POLICY
            .decide(Identity.of("billing.internal", Identity.MTLS), fn("math.add", "jvm"))
            .allowed());
    assertTrue(
        POLICY.decide(Identity.of("unix:deploy", Identity.UNIX), fn("x.y", "native")).allowed());
    assertTrue(POLICY.decide(Identity.of("app", Identity.LOCAL), fn("net.get", "jvm")).allowed());
  }

  @Test
  void a_token_whose_subject_looks_like_a_worker_or_a_local_name_gets_no_transport_roles() {
    assertEquals(List.of(), POLICY.rolesOf(jwt("worker:py")));
    assertEquals(List.of(), POLICY.rolesOf(jwt("local:app")));
    assertEquals(List.of(), POLICY.rolesOf(jwt("unix:deploy")));
    assertEquals(List.of(), POLICY.rolesOf(Identity.of("alice", Identity.MTLS)));
  }

  @Test
  void a_subject_without_roles_is_told_how_to_get_one() {
    Policy.Decision d = POLICY.decide(jwt("zoe"), fn("math.add", "jvm"));
    assertFalse(d.allowed());
    assertEquals(
        "zoe (jwt) may not call math.add [jvm]: it has no role in policy.yaml; to allow it, map"
            + " 'zoe' under 'subjects:' to a role with functions matching 'math.add', bridge jvm",
        d.reason());
  }

  @Test
  void a_function_requirement_adds_a_permission() {
    Policy.Decision d = POLICY.decide(jwt("svc-a"), fn("net.fetch", "jvm"));
    assertFalse(d.allowed());
    assertTrue(d.reason().contains("network (requires.functions 'net.**')"), d.reason());
  }

  @Test
  void anonymous_is_never_allowed() {
    assertFalse(POLICY.decide(Identity.ANONYMOUS, fn("math.add", "jvm")).allowed());
  }

  static StatusException invalid(String yaml) {
    StatusException e = assertThrows(StatusException.class, () -> Policy.parse(yaml, "p.yaml"));
    assertEquals(Status.Code.INVALID_ARGUMENT, e.status().code());
    return e;
  }

  @Test
  void a_syntax_error_is_reported_with_line_and_column() {
    StatusException e = invalid("roles:\n  a: {functions: [\"**\"]\nsubjects: {}\n");
    assertTrue(e.status().description().startsWith("p.yaml:3:"), e.status().description());
    assertTrue(e.status().description().contains("is not valid YAML"), e.status().description());
  }

  @Test
  void mistakes_name_their_place_and_the_fix() {
    assertEquals(
        "p.yaml:1:1 rolez: is not a known key; a policy takes [requires, roles, subjects, version]",
        invalid("rolez: {}\n").status().description());
    assertEquals(
        "p.yaml:2:19 subjects.alice: names role 'nobody', which is not under 'roles:'; known"
            + " roles: [a]",
        invalid("roles: {a: {functions: [x]}}\nsubjects: {alice: [nobody]}\n")
            .status()
            .description());
    assertTrue(
        invalid("roles:\n  a: {functions: [x], bridges: [pyhton]}\n")
            .status()
            .description()
            .matches("p\\.yaml:2:\\d+ roles\\.a\\.bridges: names an unknown bridge 'pyhton'.*"));
    assertTrue(
        invalid("roles:\n  a: {bridges: [jvm]}\n")
            .status()
            .description()
            .contains("needs 'functions'"));
    assertTrue(invalid("").status().description().contains("is empty"));
    assertTrue(
        invalid("roles:\n  a: {functions: [\"math add\"]}\n")
            .status()
            .description()
            .contains("is not a function glob"));
  }
}
