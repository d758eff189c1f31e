package io.polycall.grpc.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class RetryBudgetTest {
  @Test
  void retriesStopOnceHalfTheTokensAreGoneAndSuccessesEarnThemBack() {
    RetryBudget b = new RetryBudget(10, 0.5);
    for (int i = 0; i < 4; i++) {
      assertTrue(b.onFailure(), "failure " + i);
    }
    assertFalse(b.onFailure()); // 5 left: not above half
    assertEquals(5.0, b.tokens());
    b.onSuccess();
    b.onSuccess();
    b.onSuccess();
    assertEquals(6.5, b.tokens());
    assertTrue(b.onFailure()); // 5.5 left
  }

  @Test
  void tokensNeverGoBelowZeroOrAboveTheMaximum() {
    RetryBudget b = new RetryBudget(2, 1);
    for (int i = 0; i < 10; i++) {
      b.onFailure();
    }
    assertEquals(0.0, b.tokens());
    for (int i = 0; i < 10; i++) {
      b.onSuccess();
    }
    assertEquals(2.0, b.tokens());
  }

  @Test
  void badSettingsAreRejectedWithTheirName() {
    assertTrue(
        assertThrows(IllegalArgumentException.class, () -> new RetryBudget(0, 0.1))
            .getMessage()
            .contains("max_tokens"));
    assertTrue(
        assertThrows(IllegalArgumentException.class, () -> new RetryBudget(10, 0))
            .getMessage()
            .contains("token_ratio"));
  }
}
