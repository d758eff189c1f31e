package io.polycall;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class GlobTest {
  @Test
  void aSingleStarStaysWithinOneNamespaceSegment() {
    Glob g = Glob.of("math.*");
    assertTrue(g.matches("math.cos"));
    assertFalse(g.matches("math.vec.dot"));
    assertFalse(g.matches("mathx.cos"));
  }

  @Test
  void aDoubleStarCrossesDots() {
    assertTrue(Glob.of("math.**").matches("math.vec.dot"));
    assertTrue(Glob.of("**").matches("a.b.c"));
  }

  @Test
  void aQuestionMarkIsOneCharacterOfASegmentAndOtherCharactersAreLiteral() {
    assertTrue(Glob.of("f?o").matches("foo"));
    assertFalse(Glob.of("f?o").matches("f.o"));
    assertFalse(Glob.of("a+b").matches("aab"));
    assertTrue(Glob.of("a+b").matches("a+b"));
  }
}
