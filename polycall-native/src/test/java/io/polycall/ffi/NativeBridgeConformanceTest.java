package io.polycall.ffi;

import io.polycall.core.PolyCall;
import io.polycall.testing.BridgeConformanceTest;

/** The native bridge passes the suite every bridge passes, with polycalltest.c's functions. */
class NativeBridgeConformanceTest extends BridgeConformanceTest {

  @Override
  protected PolyCall createNode() {
    PolyCall node = PolyCall.create();
    NativeBridge bridge = node.addBridge(NativeBridge.create(node.registry()));
    NativeConformanceFunctions.register(bridge, NativeConformanceFunctions.testLibrary());
    return node;
  }

  @Override
  protected String prefix() {
    return NativeConformanceFunctions.PREFIX;
  }

  @Override
  protected String bridgeName() {
    return NativeBridge.NAME;
  }
}
