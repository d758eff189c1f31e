package io.polycall;

import java.util.List;
import java.util.Objects;

/**
 * One call as interceptors see it: the resolved function, the arguments (already checked against
 * the signature when the chain reaches the bridge), and the options.
 */
public record Call(FunctionInfo function, List<Value> args, CallOptions options) {
  public Call {
    Objects.requireNonNull(function, "function");
    Objects.requireNonNull(args, "args");
    Objects.requireNonNull(options, "options");
  }

  public Call withArgs(List<Value> newArgs) {
    return new Call(function, newArgs, options);
  }

  public Call withOptions(CallOptions newOptions) {
    return new Call(function, args, newOptions);
  }
}
