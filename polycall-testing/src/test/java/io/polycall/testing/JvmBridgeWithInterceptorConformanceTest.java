package io.polycall.testing;

import io.polycall.core.LoggingInterceptor;
import io.polycall.core.PolyCall;

/** The same suite with an interceptor in the chain: the chain must change no outcome. */
class JvmBridgeWithInterceptorConformanceTest extends BridgeConformanceTest {
  @Override
  protected PolyCall createNode() {
    PolyCall pc = PolyCall.builder().withInterceptor(new LoggingInterceptor()).build();
    pc.jvm().register(new JvmConformanceFunctions());
    return pc;
  }

  @Override
  protected String prefix() {
    return "jconf";
  }

  @Override
  protected String bridgeName() {
    return "jvm";
  }
}
