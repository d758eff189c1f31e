package io.polycall.security;

import io.polycall.CallOptions;
import io.polycall.Caller;
import io.polycall.Identity;
import io.polycall.Status;
import io.polycall.Value;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Calls functions of the node as the embedding program's own identity ({@code local:NAME} in the
 * policy). Made by {@link AuthenticationInterceptor#localCaller}; every call passes through the
 * whole chain, authorization included.
 *
 * <p>Not a {@link Caller} on purpose: whatever takes a {@code Caller} (a transport serving remote
 * peers, a worker supervisor) cannot be given this one, so remote calls never run with the local
 * program's rights. Thread-safe; {@code call} blocks like {@link Caller#call}.
 */
public final class LocalCaller {
  private final Caller node;
  private final Identity identity;

  LocalCaller(Caller node, Identity identity) {
    this.node = node;
    this.identity = identity;
  }

  public Identity identity() {
    return identity;
  }

  /** Calls {@code name} as this identity; {@code options} must not carry another identity. */
  public Value call(String name, List<Value> args, CallOptions options) {
    return node.call(name, args, own(options));
  }

  public CompletableFuture<Value> callAsync(String name, List<Value> args, CallOptions options) {
    return node.callAsync(name, args, own(options));
  }

  /** Calls with plain Java arguments, converted by {@link Value#of}. */
  public Value call(String name, Object... args) {
    Value[] vs = new Value[args.length];
    for (int i = 0; i < args.length; i++) {
      vs[i] = Value.of(args[i]);
    }
    return call(name, Arrays.asList(vs), CallOptions.DEFAULT);
  }

  private CallOptions own(CallOptions options) {
    Identity given = options.identity();
    if (given != identity && given.isAuthenticated()) {
      throw Status.INVALID_ARGUMENT
          .withDescription(
              "a LocalCaller calls as "
                  + identity
                  + " only; these options carry "
                  + given
                  + " (call through the node itself to pass a transport's identity)")
          .asException();
    }
    // A token in the metadata would be ignored beside the local identity; drop it visibly here.
    return options.withIdentity(identity).withoutMetadata(AuthenticationInterceptor.AUTHORIZATION);
  }

  @Override
  public String toString() {
    return "LocalCaller[" + identity + "]";
  }
}
