package io.polycall.security;

import io.polycall.Call;
import io.polycall.CallInterceptor;
import io.polycall.CallOptions;
import io.polycall.Caller;
import io.polycall.Identity;
import io.polycall.Status;
import io.polycall.StatusException;
import io.polycall.Value;
import io.polycall.security.internal.JwtVerifier;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Establishes who is calling: verifies a bearer token from the {@code authorization} metadata
 * ({@code Bearer <jwt>}) and passes the call on with its {@link Identity}, the token removed.
 *
 * <table>
 *   <caption>What each kind of call becomes</caption>
 *   <tr><th>the call carries</th><th>result</th></tr>
 *   <tr><td>a transport identity (unix, mtls) or a verified one</td><td>kept; a token next to it
 *       is dropped unread</td></tr>
 *   <tr><td>a worker identity and a token</td><td>UNAUTHENTICATED: a worker calls as itself and
 *       never on behalf of a token it was handed (that would let it borrow its caller's
 *       rights)</td></tr>
 *   <tr><td>a local identity made by {@link #localCaller}</td><td>kept</td></tr>
 *   <tr><td>a local identity made any other way</td><td>UNAUTHENTICATED</td></tr>
 *   <tr><td>no identity, a token</td><td>the token's identity, or UNAUTHENTICATED saying what
 *       is wrong with it</td></tr>
 *   <tr><td>no identity, no token</td><td>UNAUTHENTICATED when authentication is required (the
 *       default), else anonymous (the authorization stage refuses it)</td></tr>
 * </table>
 *
 * <p>Each decision is reported to the audit log through {@link CallRecord#current()}. Thread-safe;
 * never blocks. Verified tokens are remembered by their text until they expire or the keys change.
 */
public final class AuthenticationInterceptor implements CallInterceptor {
  /** The metadata key a token travels in (gRPC's and HTTP's header, lower-cased). */
  public static final String AUTHORIZATION = "authorization";

  private final JwtVerifier verifier;
  private final boolean required;
  private final Map<String, Identity> locals = new ConcurrentHashMap<>();

  private AuthenticationInterceptor(JwtVerifier verifier, boolean required) {
    this.verifier = verifier;
    this.required = required;
  }

  /**
   * Checks tokens with {@code settings}; calls without any credential are refused.
   *
   * @throws StatusException FAILED_PRECONDITION when a key file is missing or unusable
   */
  public static AuthenticationInterceptor jwt(JwtSettings settings) {
    return new AuthenticationInterceptor(new JwtVerifier(settings), true);
  }

  /** Only in-process {@link #localCaller local identities} and transport identities; no tokens. */
  public static AuthenticationInterceptor localOnly() {
    return new AuthenticationInterceptor(null, true);
  }

  /**
   * The same checks, but a call with no credential at all goes on anonymous instead of being
   * refused here (for nodes whose policy should be the one to say no).
   */
  public AuthenticationInterceptor allowingAnonymous() {
    AuthenticationInterceptor a = new AuthenticationInterceptor(verifier, false);
    a.locals.putAll(locals);
    return a;
  }

  /**
   * A caller for the program that embeds the node: its calls run as {@code name} (subject {@code
   * name}, method {@link Identity#LOCAL}; the policy names it {@code local:NAME}).
   *
   * <p>It is deliberately not a {@link Caller}: transports (the worker socket, gRPC, HTTP) take a
   * {@code Caller}, so a local caller cannot be handed to one by mistake. And its identity is
   * recognized by reference: a {@code local} identity that some other code constructs, or that
   * arrives from anywhere but a caller made here, is refused.
   */
  public LocalCaller localCaller(Caller node, String name) {
    Objects.requireNonNull(node, "node");
    Objects.requireNonNull(name, "name");
    if (name.isBlank() || name.contains(":")) {
      throw new IllegalArgumentException(
          "a local identity is a plain name such as 'app', not '" + name + "'");
    }
    Identity id = locals.computeIfAbsent(name, n -> Identity.of(n, Identity.LOCAL));
    return new LocalCaller(node, id);
  }

  /** Whether tokens are checked (false for {@link #localOnly}). */
  public boolean checksTokens() {
    return verifier != null;
  }

  /** Re-reads the key files now instead of at the next check (for tests and operators). */
  public void reloadKeys() {
    if (verifier != null) {
      verifier.reloadNow();
    }
  }

  @Override
  public Value intercept(Chain chain) {
    Call call = chain.call();
    CallOptions options = call.options();
    Identity id = options.identity();
    String auth = options.metadata().get(AUTHORIZATION);
    if (id.isAuthenticated()) {
      return known(chain, call, id, auth);
    }
    if (auth == null) {
      if (required) {
        throw deny(
            Identity.ANONYMOUS,
            "no credential: "
                + call.function().name()
                + " needs an authenticated caller; send 'authorization: Bearer <token>'"
                + " (make one with: polycall token issue --sub NAME)");
      }
      return chain.proceed(call);
    }
    if (verifier == null) {
      throw deny(
          Identity.ANONYMOUS,
          "bearer tokens are not accepted by this node (no security.authentication.jwt configured)");
    }
    Identity verified;
    try {
      verified = verifier.verifyBearer(auth);
    } catch (StatusException e) {
      String claimed = claimedSubject(auth);
      Identity who =
          claimed.isEmpty()
              ? Identity.ANONYMOUS
              : new Identity("", Identity.NONE, Map.of("claimed_subject", claimed));
      throw deny(who, e.status().description());
    }
    report(verified, true, "token verified");
    return chain.proceed(call.withOptions(verifiedOptions(options, verified)));
  }

  /** The options with the identity and without the token: one copy, none for the usual case. */
  private static CallOptions verifiedOptions(CallOptions options, Identity verified) {
    Map<String, String> metadata = options.metadata();
    Map<String, String> rest;
    if (metadata.size() == 1) {
      rest = Map.of();
    } else if (metadata.size() == 2) {
      // The token and one more (a traceparent, typically): an immutable map of one, which the
      // options take as it is, instead of a HashMap copied again into one.
      rest = null;
      for (Map.Entry<String, String> e : metadata.entrySet()) {
        if (!e.getKey().equals(AUTHORIZATION)) {
          rest = rest == null ? Map.of(e.getKey(), e.getValue()) : metadata;
        }
      }
      if (rest == null) {
        rest = Map.of();
      }
    } else {
      rest = new java.util.HashMap<>(metadata);
      rest.remove(AUTHORIZATION);
    }
    return new CallOptions(options.deadlineNanoTime(), rest, verified);
  }

  private Value known(Chain chain, Call call, Identity id, String auth) {
    if (id.method().equals(Identity.LOCAL) && locals.get(id.subject()) != id) {
      throw deny(
          id,
          "local identity '"
              + id.subject()
              + "' was not issued by this node's authenticator; in-process callers get one from"
              + " localCaller(name) (config: security.local_identity)");
    }
    if (auth == null) {
      report(id, true, id.method());
      return chain.proceed(call);
    }
    if (id.method().equals(Identity.WORKER)) {
      throw deny(
          id,
          id.subject()
              + " sent a bearer token on a nested call; a worker calls as itself only and"
              + " cannot act on behalf of a token (remove the authorization metadata)");
    }
    // The transport already proved who this is; a token beside it is not read, and not passed on.
    report(id, true, id.method() + " (token ignored)");
    return chain.proceed(call.withOptions(call.options().withoutMetadata(AUTHORIZATION)));
  }

  private static String claimedSubject(String auth) {
    try {
      return JwtVerifier.claimedSubject(JwtVerifier.bearer(auth));
    } catch (StatusException e) {
      return "";
    }
  }

  private static void report(Identity id, boolean allowed, String reason) {
    CallRecord.current()
        .ifPresent(
            r -> {
              r.identity(id);
              r.decide("authn", allowed, reason);
            });
  }

  private static StatusException deny(Identity id, String why) {
    report(id, false, why);
    return Status.UNAUTHENTICATED.withDescription(why).asException();
  }
}
