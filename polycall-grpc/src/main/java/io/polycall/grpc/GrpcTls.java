package io.polycall.grpc;

import java.nio.file.Path;
import java.util.Objects;

/**
 * TLS settings of a gRPC server: its certificate chain and key (PEM files), and for mutual TLS the
 * CA bundle that client certificates must chain to.
 *
 * <p>With a {@code clientCa}, a client that presents a certificate must present one the CA signed,
 * and its calls run as that certificate's identity (subject = CN, method {@code mtls}); with {@code
 * requireClientAuth} a client without a certificate cannot connect at all. Without a {@code
 * clientCa} the server does not ask for client certificates.
 *
 * @param certChain PEM certificate chain of the server, leaf first
 * @param privateKey PEM private key (PKCS#8) of the leaf
 * @param clientCa PEM CA certificates for client certificates, or null
 * @param requireClientAuth refuse connections without a valid client certificate (needs clientCa)
 */
public record GrpcTls(Path certChain, Path privateKey, Path clientCa, boolean requireClientAuth) {
  public GrpcTls {
    Objects.requireNonNull(certChain, "certChain");
    Objects.requireNonNull(privateKey, "privateKey");
    if (requireClientAuth && clientCa == null) {
      throw new IllegalArgumentException(
          "requireClientAuth needs clientCa: the CA that client certificates must chain to");
    }
  }

  /** Server-only TLS: clients check the server, the server does not ask for certificates. */
  public static GrpcTls of(Path certChain, Path privateKey) {
    return new GrpcTls(certChain, privateKey, null, false);
  }

  /** Mutual TLS: every client must present a certificate signed by {@code clientCa}. */
  public static GrpcTls mutual(Path certChain, Path privateKey, Path clientCa) {
    return new GrpcTls(certChain, privateKey, clientCa, true);
  }
}
