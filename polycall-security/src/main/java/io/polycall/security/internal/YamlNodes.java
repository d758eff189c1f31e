package io.polycall.security.internal;

import io.polycall.Status;
import io.polycall.StatusException;
import java.io.StringReader;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.error.Mark;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.error.YAMLException;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;
import org.yaml.snakeyaml.nodes.Tag;

/**
 * Typed access to a SnakeYAML node tree whose every error names {@code file:line:column}, the key
 * path and what to write instead. One instance per document; not thread-safe.
 */
public final class YamlNodes {
  private final String source;

  public YamlNodes(String source) {
    this.source = source;
  }

  /** The document's root node, or null for an empty document. */
  public Node parse(String yaml) {
    LoaderOptions options = new LoaderOptions();
    options.setAllowDuplicateKeys(false);
    options.setAllowRecursiveKeys(false);
    options.setMaxAliasesForCollections(10);
    try {
      return new Yaml(options).compose(new StringReader(yaml));
    } catch (MarkedYAMLException e) {
      Mark m = e.getProblemMark();
      throw invalid(
          m,
          "",
          "is not valid YAML: "
              + e.getProblem()
              + (e.getContext() == null ? "" : " " + e.getContext())
              + "; check indentation and quoting");
    } catch (YAMLException e) {
      throw invalid((Mark) null, "", "is not valid YAML: " + e.getMessage());
    }
  }

  public Map<String, Node> mapping(Node node, String path, Set<String> allowed, String what) {
    if (!(node instanceof MappingNode mn)) {
      throw invalid(node, path, "must be " + what + ", not " + kind(node));
    }
    Map<String, Node> out = new LinkedHashMap<>();
    for (NodeTuple t : mn.getValue()) {
      String key = t.getKeyNode() instanceof ScalarNode s ? s.getValue() : null;
      String at = path.isEmpty() ? String.valueOf(key) : path + "." + key;
      if (key == null || (allowed != null && !allowed.contains(key))) {
        throw invalid(
            t.getKeyNode(),
            at,
            allowed == null
                ? "must be a string key"
                : "is not a known key; " + what + " takes " + new TreeSet<>(allowed));
      }
      out.put(key, t.getValueNode());
    }
    return out;
  }

  public List<Node> sequence(Node node, String path, String what) {
    if (node instanceof SequenceNode sn) {
      return sn.getValue();
    }
    throw invalid(node, path, "must be " + what + ", not " + kind(node));
  }

  public String string(Node node, String path) {
    if (node instanceof ScalarNode s && !s.getTag().equals(Tag.NULL)) {
      return s.getValue();
    }
    throw invalid(node, path, "must be a string, not " + kind(node));
  }

  /** A list of strings; a single string is a list of one. */
  public List<String> strings(Node node, String path) {
    if (node instanceof ScalarNode s && !s.getTag().equals(Tag.NULL)) {
      return List.of(s.getValue());
    }
    List<String> out = new ArrayList<>();
    List<Node> items = sequence(node, path, "a list of strings");
    for (int i = 0; i < items.size(); i++) {
      out.add(string(items.get(i), path + "[" + i + "]"));
    }
    return out;
  }

  public static String kind(Node node) {
    return switch (node) {
      case MappingNode m -> "a map";
      case SequenceNode s -> "a list";
      case ScalarNode s when s.getTag().equals(Tag.NULL) -> "empty";
      case ScalarNode s -> "'" + s.getValue() + "'";
      default -> node.getNodeId().toString();
    };
  }

  /** {@code source:line:column} of a node. */
  public String where(Node node) {
    return where(node == null ? null : node.getStartMark());
  }

  private String where(Mark m) {
    return m == null ? source : source + ":" + (m.getLine() + 1) + ":" + (m.getColumn() + 1);
  }

  public StatusException invalid(Node node, String path, String problem) {
    return invalid(node == null ? null : node.getStartMark(), path, problem);
  }

  private StatusException invalid(Mark mark, String path, String problem) {
    return Status.INVALID_ARGUMENT
        .withDescription(where(mark) + (path.isEmpty() ? "" : " " + path) + ": " + problem)
        .asException();
  }
}
