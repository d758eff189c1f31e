/**
 * The PolyCall API: canonical types and values, signatures, {@code Status}, call options, the
 * interceptor chain contract and the {@code Bridge} SPI. It depends on nothing but the JDK.
 */
module io.polycall.api {
  exports io.polycall;
  exports io.polycall.spi;
}
