package io.polycall.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.Yaml;

/**
 * The Kubernetes manifests of deploy/k8s and the Dockerfile, checked without a cluster or an image
 * registry (neither is reachable here): they parse, the probes ask the port the config's gRPC
 * server listens on, the headless Service the config's peers resolve selects the Deployment's pods,
 * and the config itself is valid.
 */
class DeploymentManifestsTest {
  private static final Path ROOT =
      Path.of(System.getProperty("polycall.repo.dir", "..")).toAbsolutePath().normalize();
  private static final Path K8S = ROOT.resolve("deploy/k8s");

  @SuppressWarnings("unchecked")
  private static List<Map<String, Object>> documents(String file) throws IOException {
    List<Map<String, Object>> out = new ArrayList<>();
    for (Object doc : new Yaml().loadAll(Files.readString(K8S.resolve(file)))) {
      if (doc != null) {
        out.add((Map<String, Object>) doc);
      }
    }
    return out;
  }

  private static Map<String, Object> one(String file, String kind, String name) throws IOException {
    for (Map<String, Object> d : documents(file)) {
      if (kind.equals(d.get("kind")) && name.equals(at(d, "metadata", "name"))) {
        return d;
      }
    }
    throw new AssertionError("no " + kind + " " + name + " in " + file);
  }

  @SuppressWarnings("unchecked")
  private static <T> T at(Object node, Object... path) {
    Object cur = node;
    for (Object key : path) {
      cur =
          key instanceof Integer i
              ? ((List<Object>) cur).get(i)
              : ((Map<String, Object>) cur).get((String) key);
      assertNotNull(cur, () -> "missing " + List.of(path));
    }
    return (T) cur;
  }

  private PolyCallConfig config() throws IOException {
    Map<String, Object> cm = one("configmap.yaml", "ConfigMap", "polycall-config");
    String yaml = at(cm, "data", "polycall.yaml");
    return PolyCallConfig.parse(yaml, "configmap.yaml polycall.yaml", Path.of("/etc/polycall"));
  }

  private static int port(String hostPort) {
    return Integer.parseInt(hostPort.substring(hostPort.lastIndexOf(':') + 1));
  }

  @Test
  void theConfigInTheConfigMapIsValidAndFindsPeersThroughTheHeadlessService() throws Exception {
    PolyCallConfig c = config();
    String dns = c.peers().dns();
    assertNotNull(dns, "the config's peers should use dns:");
    Map<String, Object> headless = one("service.yaml", "Service", "polycall-peers");
    assertEquals("None", at(headless, "spec", "clusterIP"));
    assertEquals(at(headless, "metadata", "name"), dns.substring(0, dns.lastIndexOf(':')));
    assertEquals((Integer) at(headless, "spec", "ports", 0, "port"), port(dns));
  }

  @Test
  void everyProbeAsksTheGrpcHealthServiceOnThePortTheConfigListensOn() throws Exception {
    Map<String, Object> dep = one("deployment.yaml", "Deployment", "polycall");
    Map<String, Object> container = at(dep, "spec", "template", "spec", "containers", 0);
    int grpcPort = -1;
    for (Map<String, Object> p : this.<List<Map<String, Object>>>at(container, "ports")) {
      if ("grpc".equals(p.get("name"))) {
        grpcPort = (Integer) p.get("containerPort");
      }
    }
    String listen =
        configText()
            .lines()
            .filter(l -> l.contains("listen: 0.0.0.0:74"))
            .findFirst()
            .orElseThrow();
    assertEquals(port(listen.trim()), grpcPort, "containerPort grpc vs the config's grpc.listen");
    for (String probe : List.of("startupProbe", "readinessProbe", "livenessProbe")) {
      Object port = at(container, probe, "grpc", "port");
      assertEquals(
          grpcPort, port, probe + " must use Kubernetes' native gRPC probe on " + grpcPort);
    }
    // The headless Service forwards to the same container port, by name.
    Map<String, Object> headless = one("service.yaml", "Service", "polycall-peers");
    assertEquals("grpc", at(headless, "spec", "ports", 0, "targetPort"));
  }

  @Test
  void theServicesSelectTheDeploymentsPods() throws Exception {
    Map<String, Object> dep = one("deployment.yaml", "Deployment", "polycall");
    Map<String, Object> podLabels = at(dep, "spec", "template", "metadata", "labels");
    assertEquals(at(dep, "spec", "selector", "matchLabels"), podLabels);
    for (String name : List.of("polycall-peers", "polycall")) {
      Map<String, Object> selector = at(one("service.yaml", "Service", name), "spec", "selector");
      for (Map.Entry<String, Object> e : selector.entrySet()) {
        assertEquals(e.getValue(), podLabels.get(e.getKey()), name + " selects " + e);
      }
    }
    Map<String, Object> volume = at(dep, "spec", "template", "spec", "volumes", 0, "configMap");
    assertEquals("polycall-config", volume.get("name"));
  }

  @Test
  void theKustomizationListsEveryManifest() throws Exception {
    List<String> resources = at(documents("kustomization.yaml").getFirst(), "resources");
    try (var files = Files.list(K8S)) {
      List<String> manifests =
          files
              .map(p -> p.getFileName().toString())
              .filter(n -> n.endsWith(".yaml") && !n.equals("kustomization.yaml"))
              .sorted()
              .toList();
      assertEquals(manifests, resources.stream().sorted().toList());
    }
  }

  @Test
  void theDockerfileBuildsOnAJdkAndRunsOnAJreWithTheGrpcPortExposed() throws Exception {
    String docker = Files.readString(ROOT.resolve("Dockerfile"));
    List<String> froms = docker.lines().filter(l -> l.startsWith("FROM ")).toList();
    assertEquals(2, froms.size(), "a build stage and a runtime stage");
    assertTrue(
        docker.contains("25-jdk") && docker.contains("25-jre"), "JDK 25 to build, JRE 25 to run");
    assertTrue(docker.contains("EXPOSE 7443"), "the gRPC port");
    assertTrue(docker.contains("POLYCALL_JAVA="), "bin/polycall needs POLYCALL_JAVA on a JRE");
    assertFalse(docker.contains("mvn install"), "the image builds through the reactor");
    assertTrue(
        docker.contains("polycall-api/target/polycall-api-*.jar polycall-api/target/")
            && docker.contains(
                "polycall-native/target/polycall-native-*.jar polycall-native/target/"),
        "the module jars bin/polycall needs to give native access to io.polycall.ffi only");
  }

  private String configText() throws IOException {
    return at(one("configmap.yaml", "ConfigMap", "polycall-config"), "data", "polycall.yaml");
  }
}
