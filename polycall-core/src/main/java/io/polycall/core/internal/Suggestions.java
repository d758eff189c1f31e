package io.polycall.core.internal;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;

/** "Did you mean" for unknown names: the nearest names by edit distance, nearest first. */
final class Suggestions {
  private Suggestions() {}

  static List<String> closest(String wanted, Collection<String> names, int limit) {
    record Scored(String name, int distance) {}
    List<Scored> scored = new ArrayList<>();
    String w = wanted.toLowerCase(java.util.Locale.ROOT);
    int max = Math.max(2, wanted.length() / 3);
    for (String n : names) {
      String lower = n.toLowerCase(java.util.Locale.ROOT);
      int d = distance(w, lower);
      // The last segment alone also counts: "cos" finds "math.cos".
      int dot = lower.lastIndexOf('.');
      if (dot >= 0) {
        d = Math.min(d, distance(w, lower.substring(dot + 1)) + 1);
      }
      if (d <= max) {
        scored.add(new Scored(n, d));
      }
    }
    scored.sort(Comparator.comparingInt(Scored::distance).thenComparing(Scored::name));
    return scored.stream().limit(limit).map(Scored::name).toList();
  }

  /** Levenshtein distance with two rows. */
  static int distance(String a, String b) {
    int[] prev = new int[b.length() + 1];
    int[] cur = new int[b.length() + 1];
    for (int j = 0; j <= b.length(); j++) {
      prev[j] = j;
    }
    for (int i = 1; i <= a.length(); i++) {
      cur[0] = i;
      for (int j = 1; j <= b.length(); j++) {
        int sub = prev[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
        cur[j] = Math.min(sub, Math.min(prev[j] + 1, cur[j - 1] + 1));
      }
      int[] t = prev;
      prev = cur;
      cur = t;
    }
    return prev[b.length()];
  }
}
