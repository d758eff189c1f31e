package io.polycall.testing;

import io.polycall.core.PolyCall;

class JvmBridgeConformanceTest extends BridgeConformanceTest {
  @Override
  protected PolyCall createNode() {
    PolyCall pc = PolyCall.create();
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
