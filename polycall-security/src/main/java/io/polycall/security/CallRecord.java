package io.polycall.security;

import io.polycall.Identity;
import java.util.Optional;

/**
 * What the security stages learned about one call, for the audit log: the identity the
 * authentication stage established and the decision that let the call through or stopped it.
 *
 * <p>The audit interceptor (outermost) opens one per call with {@link #open} and binds it as a
 * {@link ScopedValue} while the rest of the chain runs on the same thread; the inner stages report
 * through {@link #current()}, which is empty when no audit is installed, so every stage works with
 * or without an audit log. Not thread-safe: one call, one thread.
 */
public final class CallRecord {
  private static final ScopedValue<CallRecord> CURRENT = ScopedValue.newInstance();

  private Identity identity = Identity.ANONYMOUS;
  private String decision = "";
  private String reason = "";

  /** The scoped value that carries the record of the call running on this thread. */
  public static ScopedValue<CallRecord> scope() {
    return CURRENT;
  }

  /** A fresh record, not yet bound (bind it with {@code ScopedValue.where(scope(), record)}). */
  public static CallRecord open() {
    return new CallRecord();
  }

  /** The record of the call running on this thread, if an audit interceptor opened one. */
  public static Optional<CallRecord> current() {
    return CURRENT.isBound() ? Optional.of(CURRENT.get()) : Optional.empty();
  }

  /** Records who the caller was proven to be (or claimed to be, for a refused credential). */
  public void identity(Identity id) {
    this.identity = id;
  }

  /**
   * Records a decision: {@code stage} is the stage that made it ({@code authn}, {@code authz},
   * {@code limits}, {@code rate}), {@code reason} why (e.g. the policy rule that matched).
   */
  public void decide(String stage, boolean allowed, String reason) {
    this.decision = decision(stage, allowed);
    this.reason = reason == null ? "" : reason;
  }

  /**
   * {@code stage:allow} or {@code stage:deny}: the same String object every call for the stages
   * that decide on every call, so that the audit log's formatter can reuse its JSON.
   */
  private static String decision(String stage, boolean allowed) {
    return switch (stage) {
      case "authz" -> allowed ? "authz:allow" : "authz:deny";
      case "authn" -> allowed ? "authn:allow" : "authn:deny";
      default -> stage + ":" + (allowed ? "allow" : "deny");
    };
  }

  public Identity identity() {
    return identity;
  }

  /** {@code stage:allow} or {@code stage:deny} of the last stage that decided; empty if none. */
  public String decision() {
    return decision;
  }

  public String reason() {
    return reason;
  }
}
