package io.polycall.grpc.internal;

import io.grpc.Attributes;
import io.grpc.Grpc;
import io.grpc.ServerTransportFilter;
import io.polycall.Identity;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.Locale;
import java.util.Map;
import javax.naming.InvalidNameException;
import javax.naming.ldap.LdapName;
import javax.naming.ldap.Rdn;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;
import javax.security.auth.x500.X500Principal;

/**
 * Turns the client certificate TLS verified into the connection's {@link Identity}, once per
 * connection (not per call): subject = the certificate's CN (its whole DN when it has no CN),
 * method {@link Identity#MTLS}, attributes {@code dn} (RFC 2253) and {@code serial} (upper-case
 * hex, as {@code openssl x509 -serial} prints it). Connections without a verified client
 * certificate get no identity, so their calls stay {@link Identity#ANONYMOUS}.
 */
public final class TlsIdentityFilter extends ServerTransportFilter {
  @Override
  public Attributes transportReady(Attributes attrs) {
    SSLSession session = attrs.get(Grpc.TRANSPORT_ATTR_SSL_SESSION);
    if (session == null) {
      return attrs;
    }
    Certificate[] chain;
    try {
      chain = session.getPeerCertificates();
    } catch (SSLPeerUnverifiedException e) {
      return attrs;
    }
    if (chain.length == 0 || !(chain[0] instanceof X509Certificate cert)) {
      return attrs;
    }
    return attrs.toBuilder().set(Requests.IDENTITY, identityOf(cert)).build();
  }

  /** The identity a verified client certificate stands for. */
  public static Identity identityOf(X509Certificate cert) {
    String dn = cert.getSubjectX500Principal().getName(X500Principal.RFC2253);
    String cn = commonName(dn);
    return new Identity(
        cn.isEmpty() ? dn : cn,
        Identity.MTLS,
        Map.of("dn", dn, "serial", cert.getSerialNumber().toString(16).toUpperCase(Locale.ROOT)));
  }

  private static String commonName(String dn) {
    try {
      // The most specific CN: RFC 2253 lists RDNs most specific first, LdapName the reverse.
      var rdns = new LdapName(dn).getRdns();
      for (int i = rdns.size() - 1; i >= 0; i--) {
        Rdn r = rdns.get(i);
        if (r.getType().equalsIgnoreCase("CN")) {
          return String.valueOf(r.getValue());
        }
      }
    } catch (InvalidNameException e) {
      // Fall through: the caller uses the whole DN.
    }
    return "";
  }
}
