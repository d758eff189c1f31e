package io.polycall;

/**
 * What a running function may know of its call: its options (deadline, metadata), whether it was
 * cancelled, and a {@link Caller} for nested calls, which pass through the same interceptor chain
 * as any other call. Thread-safe.
 */
public interface CallContext {

  CallOptions options();

  /** True once the caller cancelled or the deadline passed; long functions should check it. */
  boolean isCancelled();

  /** For nested calls made by the running function. */
  Caller caller();

  /** A context with no deadline that is never cancelled; for tests and direct invocation. */
  static CallContext detached(Caller caller) {
    return new CallContext() {
      @Override
      public CallOptions options() {
        return CallOptions.DEFAULT;
      }

      @Override
      public boolean isCancelled() {
        return Thread.currentThread().isInterrupted();
      }

      @Override
      public Caller caller() {
        return caller;
      }
    };
  }
}
