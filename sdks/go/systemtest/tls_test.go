package systemtest

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/polycall/polycall/sdks/go/polycall"
)

// writePKI writes a CA, a certificate for the node (127.0.0.1) and one for the client, with
// their PKCS#8 keys, as PEM files in dir.
func writePKI(t *testing.T, dir string) {
	t.Helper()
	newKey := func() *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	write := func(name, kind string, der []byte) {
		if err := os.WriteFile(filepath.Join(dir, name), pem.EncodeToMemory(&pem.Block{Type: kind, Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	caKey := newKey()
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "polycall go systemtest CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	write("ca.crt", "CERTIFICATE", caDER)
	leaf := func(name string, serial int64, usage x509.ExtKeyUsage) {
		k := newKey()
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: name},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
			KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage},
			IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &k.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		pkcs8, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		write(name+".crt", "CERTIFICATE", der)
		write(name+".key", "PRIVATE KEY", pkcs8)
	}
	leaf("node", 2, x509.ExtKeyUsageServerAuth)
	leaf("client", 3, x509.ExtKeyUsageClientAuth)
}

const tlsConfig = `interceptors: []
jvm:
  - class: io.polycall.server.examples.MathFunctions
native:
  - library: c
    functions:
      - "posix.sleep(seconds: u32) -> u32 [symbol=sleep]"
grpc:
  listen: 127.0.0.1:0
  tls:
    cert: node.crt
    key: node.key
    client_ca: ca.crt
`

// One node with mutual TLS required, for the TLS tests only (the others share a plaintext one);
// at the end it is killed under a call.
func TestMutualTLSAgainstTheNode(t *testing.T) {
	dir := t.TempDir()
	writePKI(t, dir)
	config := filepath.Join(dir, "tls.yaml")
	if err := os.WriteFile(config, []byte(tlsConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	n, err := startNode(config)
	if err != nil {
		t.Fatal(err)
	}
	defer n.stop()
	file := func(name string) string { return filepath.Join(dir, name) }
	dial := func(opts ...polycall.Option) (*polycall.Client, error) {
		c, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		return polycall.Dial(c, n.grpc, opts...)
	}

	t.Run("a client with a certificate the node trusts calls", func(t *testing.T) {
		c, err := dial(polycall.WithTLSFiles(file("ca.crt"), file("client.crt"), file("client.key")))
		if err != nil {
			t.Fatalf("%v\n%s", err, n.log())
		}
		defer c.Close()
		if v, err := c.Call(ctx(t), "math.add", 20, 22); err != nil || v.String() != "42" {
			t.Fatalf("%v %v", v, err)
		}
	})
	t.Run("a client without a certificate cannot call", func(t *testing.T) {
		c, err := dial(polycall.WithTLSFiles(file("ca.crt"), "", ""))
		if err == nil {
			// With TLS 1.3 the client's side of the handshake completes before the node checks
			// for a certificate: then the first call fails instead of the dial.
			defer c.Close()
			_, err = c.Call(ctx(t), "math.add", 1, 2)
		}
		wantCode(t, err, polycall.Unavailable)
	})
	t.Run("a plaintext client cannot call", func(t *testing.T) {
		_, err := dial()
		wantCode(t, err, polycall.Unavailable)
	})
	t.Run("a client that does not trust the node's CA cannot call", func(t *testing.T) {
		_, err := dial(polycall.WithTLSFiles("", file("client.crt"), file("client.key")))
		wantCode(t, err, polycall.Unavailable)
	})
	t.Run("a node that dies mid-call fails the call with UNAVAILABLE", func(t *testing.T) {
		c, err := dial(polycall.WithTLSFiles(file("ca.crt"), file("client.crt"), file("client.key")))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		errc := make(chan error, 1)
		go func() {
			_, err := c.Call(ctx(t), "posix.sleep", uint32(20))
			errc <- err
		}()
		time.Sleep(500 * time.Millisecond) // the call is (most likely) running; if not, it fails the same way
		_ = syscall.Kill(-n.cmd.Process.Pid, syscall.SIGKILL)
		wantCode(t, <-errc, polycall.Unavailable)
	})
}
