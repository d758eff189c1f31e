package io.polycall.testing;

import java.io.IOException;
import java.io.Writer;
import java.math.BigInteger;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * Certificates for TLS tests, made fresh per run: a CA, a server certificate for 127.0.0.1 and
 * localhost, and client certificates, written as PEM files (keys as PKCS#8). Shared by the TLS
 * tests of every module (gRPC, peers, the served node).
 */
public final class TestCerts {
  public record Issued(Path cert, Path key, X509Certificate x509, KeyPair keys) {}

  private final Path dir;
  private long serial = 0x1000;

  public TestCerts(Path dir) {
    this.dir = dir;
  }

  private static KeyPair keyPair() throws Exception {
    KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
    g.initialize(new ECGenParameterSpec("secp256r1"));
    return g.generateKeyPair();
  }

  /** A self-signed CA. */
  public Issued ca(String name) throws Exception {
    KeyPair kp = keyPair();
    X500Name subject = new X500Name("CN=" + name);
    X509v3CertificateBuilder b = builder(subject, subject, kp);
    b.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
    b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
    return write(name, sign(b, kp.getPrivate()), kp);
  }

  /** A server certificate for 127.0.0.1 and localhost, signed by {@code ca}. */
  public Issued server(Issued ca) throws Exception {
    KeyPair kp = keyPair();
    X509v3CertificateBuilder b = builder(issuer(ca), new X500Name("CN=localhost"), kp);
    b.addExtension(
        Extension.subjectAlternativeName,
        false,
        new GeneralNames(
            new GeneralName[] {
              new GeneralName(GeneralName.dNSName, "localhost"),
              new GeneralName(
                  GeneralName.iPAddress, InetAddress.getLoopbackAddress().getHostAddress())
            }));
    b.addExtension(
        Extension.extendedKeyUsage, false, new ExtendedKeyUsage(KeyPurposeId.id_kp_serverAuth));
    return write("server", sign(b, ca.keys().getPrivate()), kp);
  }

  /** A client certificate with subject {@code dn} (e.g. "CN=alice,O=Example"), by {@code ca}. */
  public Issued client(Issued ca, String file, String dn) throws Exception {
    KeyPair kp = keyPair();
    X509v3CertificateBuilder b = builder(issuer(ca), new X500Name(dn), kp);
    b.addExtension(
        Extension.extendedKeyUsage, false, new ExtendedKeyUsage(KeyPurposeId.id_kp_clientAuth));
    return write(file, sign(b, ca.keys().getPrivate()), kp);
  }

  private static X500Name issuer(Issued ca) {
    return X500Name.getInstance(ca.x509().getSubjectX500Principal().getEncoded());
  }

  private X509v3CertificateBuilder builder(X500Name issuer, X500Name subject, KeyPair kp) {
    Instant now = Instant.now();
    return new JcaX509v3CertificateBuilder(
        issuer,
        BigInteger.valueOf(serial++),
        Date.from(now.minus(Duration.ofHours(1))),
        Date.from(now.plus(Duration.ofDays(1))),
        subject,
        kp.getPublic());
  }

  private static X509Certificate sign(X509v3CertificateBuilder b, PrivateKey key) throws Exception {
    ContentSigner signer = new JcaContentSignerBuilder("SHA256withECDSA").build(key);
    return new JcaX509CertificateConverter().getCertificate(b.build(signer));
  }

  private Issued write(String name, X509Certificate cert, KeyPair kp) throws IOException {
    Path c = dir.resolve(name + ".crt");
    Path k = dir.resolve(name + ".key");
    try (Writer w = Files.newBufferedWriter(c);
        JcaPEMWriter pem = new JcaPEMWriter(w)) {
      pem.writeObject(cert);
    }
    try (Writer w = Files.newBufferedWriter(k);
        JcaPEMWriter pem = new JcaPEMWriter(w)) {
      pem.writeObject(new JcaPKCS8Generator(kp.getPrivate(), null));
    }
    return new Issued(c, k, cert, kp);
  }
}
