/**
 * The PolyCall core: the registry, the call path with its interceptor chain, typed proxies and the
 * JVM bridge.
 */
module io.polycall.core {
  requires transitive io.polycall.api;

  exports io.polycall.core;
}
