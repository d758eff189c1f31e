package io.polycall.security;

import io.polycall.Call;
import io.polycall.CallInterceptor;
import io.polycall.Identity;
import io.polycall.Status;
import io.polycall.StatusException;
import io.polycall.Value;
import io.polycall.security.internal.FileWatch;
import java.lang.System.Logger.Level;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;

/**
 * Deny by default: a call goes on only if the {@link Policy} allows its identity to call its
 * function. An anonymous call is UNAUTHENTICATED (it should authenticate); an authenticated one
 * that no rule allows is PERMISSION_DENIED, naming the subject, the function and what would allow
 * it.
 *
 * <p>A policy read from a file is re-read when the file changes (checked at most once per reload
 * interval, on the call path). The new policy replaces the old one in one volatile write, so every
 * call is decided by one whole policy, old or new, and there is no moment when nothing is enforced.
 * A file that does not parse keeps the old policy in force and logs the error, with its line and
 * column, at ERROR.
 *
 * <p>Thread-safe; never blocks (the one call that notices a change re-reads the file).
 */
public final class AuthorizationInterceptor implements CallInterceptor {
  private static final System.Logger LOG =
      System.getLogger(AuthorizationInterceptor.class.getName());

  public static final Duration DEFAULT_RELOAD_INTERVAL = Duration.ofSeconds(1);

  private volatile Policy policy;
  private volatile String lastError = "";
  private final FileWatch watch;

  private AuthorizationInterceptor(Policy policy, FileWatch watch) {
    this.policy = policy;
    this.watch = watch;
  }

  /** A fixed policy. */
  public static AuthorizationInterceptor of(Policy policy) {
    return new AuthorizationInterceptor(Objects.requireNonNull(policy, "policy"), null);
  }

  /**
   * The policy of {@code file}, re-read when it changes.
   *
   * @throws StatusException INVALID_ARGUMENT (with line and column) or FAILED_PRECONDITION when the
   *     file cannot be used now: a node does not start without a policy it can read
   */
  public static AuthorizationInterceptor watching(Path file, Duration reloadInterval) {
    FileWatch w = new FileWatch(file, reloadInterval.toNanos());
    return new AuthorizationInterceptor(Policy.load(file), w);
  }

  public static AuthorizationInterceptor watching(Path file) {
    return watching(file, DEFAULT_RELOAD_INTERVAL);
  }

  /** The policy in force now. */
  public Policy policy() {
    return policy;
  }

  /** The error that kept the last changed file from taking effect; empty when it took effect. */
  public String lastReloadError() {
    return lastError;
  }

  /**
   * Re-reads the file now if it changed since it was last read (whatever the interval).
   *
   * @return true if a new policy is in force
   */
  public boolean reloadIfChanged() {
    return watch != null && watch.changedNow() && reload();
  }

  private boolean reload() {
    try {
      Policy fresh = Policy.load(watch.path());
      policy = fresh;
      lastError = "";
      LOG.log(Level.INFO, "policy reloaded from {0}: roles {1}", watch.path(), fresh.roleNames());
      return true;
    } catch (StatusException e) {
      lastError = e.status().description();
      LOG.log(
          Level.ERROR,
          "policy NOT reloaded, the previous policy stays in force: {0}",
          e.status().description());
      return false;
    }
  }

  @Override
  public Value intercept(Chain chain) {
    if (watch != null && watch.due()) {
      reload();
    }
    Call call = chain.call();
    Identity id = call.options().identity();
    if (!id.isAuthenticated()) {
      String why =
          "anonymous call of "
              + call.function().name()
              + " refused: authenticate first (a bearer token, a client certificate, or a local"
              + " identity)";
      report(id, false, why);
      throw Status.UNAUTHENTICATED.withDescription(why).asException();
    }
    Policy.Decision d = policy.decide(id, call.function());
    report(id, d.allowed(), d.reason());
    if (!d.allowed()) {
      throw Status.PERMISSION_DENIED.withDescription(d.reason()).asException();
    }
    return chain.proceed(call);
  }

  private static void report(Identity id, boolean allowed, String reason) {
    CallRecord.current()
        .ifPresent(
            r -> {
              r.identity(id);
              r.decide("authz", allowed, reason);
            });
  }
}
