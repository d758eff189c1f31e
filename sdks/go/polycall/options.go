package polycall

import (
	"crypto/tls"
	"crypto/x509"
	"os"
	"time"

	"google.golang.org/grpc"
)

// An Option configures a Client (Dial and NewClient).
type Option func(*options) error

type options struct {
	tls         *tls.Config
	token       string
	timeout     time.Duration
	maxMsgBytes int
	dialOpts    []grpc.DialOption
	metadata    map[string]string
	waitReady   bool
}

// DefaultMaxMessageBytes is the largest message a Client sends or receives unless
// WithMaxMessageBytes says otherwise: the wire protocol's frame limit (64 MiB).
const DefaultMaxMessageBytes = 64 << 20

// WithTLS connects over TLS with the given configuration (Dial only). Put a client
// certificate in Certificates for mutual TLS, and the CA that signed the node's certificate in
// RootCAs when it is not a system CA. Without WithTLS or WithTLSFiles the connection is
// plaintext, which is meant for loopback and for meshes that encrypt for you.
func WithTLS(cfg *tls.Config) Option {
	return func(o *options) error {
		o.tls = cfg.Clone()
		return nil
	}
}

// WithTLSFiles connects over TLS, trusting the PEM CA certificates in caFile (the system's CAs
// when it is empty), and presenting the client certificate in certFile and its key in keyFile
// for mutual TLS when they are not empty (Dial only).
func WithTLSFiles(caFile, certFile, keyFile string) Option {
	return func(o *options) error {
		cfg := &tls.Config{MinVersion: tls.VersionTLS12}
		if caFile != "" {
			pem, err := os.ReadFile(caFile)
			if err != nil {
				return Errorf(InvalidArgument, "cannot read the CA file: %v", err)
			}
			cfg.RootCAs = x509.NewCertPool()
			if !cfg.RootCAs.AppendCertsFromPEM(pem) {
				return Errorf(InvalidArgument, "%s holds no PEM certificate", caFile)
			}
		}
		if certFile != "" || keyFile != "" {
			cert, err := tls.LoadX509KeyPair(certFile, keyFile)
			if err != nil {
				return Errorf(InvalidArgument, "cannot load the client certificate for mutual TLS: %v", err)
			}
			cfg.Certificates = []tls.Certificate{cert}
		}
		o.tls = cfg
		return nil
	}
}

// WithBearerToken sends `authorization: Bearer TOKEN` with every call. Dial refuses to send a
// token in plaintext to a host that is not on loopback: use TLS.
func WithBearerToken(token string) Option {
	return func(o *options) error {
		if token == "" {
			return Errorf(InvalidArgument, "WithBearerToken needs a token")
		}
		o.token = token
		return nil
	}
}

// WithTimeout gives every call without a deadline of its own (in its context) this one.
func WithTimeout(d time.Duration) Option {
	return func(o *options) error {
		if d <= 0 {
			return Errorf(InvalidArgument, "WithTimeout needs a positive duration, got %v", d)
		}
		o.timeout = d
		return nil
	}
}

// WithMetadata sends the key and value as gRPC metadata with every call (the function sees it
// as call metadata). Per-call metadata goes in the context:
// metadata.AppendToOutgoingContext(ctx, "k", "v").
func WithMetadata(key, value string) Option {
	return func(o *options) error {
		if o.metadata == nil {
			o.metadata = map[string]string{}
		}
		o.metadata[key] = value
		return nil
	}
}

// WithMaxMessageBytes sets the largest message sent or received (DefaultMaxMessageBytes
// otherwise); larger ones fail with RESOURCE_EXHAUSTED.
func WithMaxMessageBytes(n int) Option {
	return func(o *options) error {
		if n <= 0 {
			return Errorf(InvalidArgument, "WithMaxMessageBytes needs a positive size, got %d", n)
		}
		o.maxMsgBytes = n
		return nil
	}
}

// WithWaitForReady makes Dial wait for the node until its context ends, instead of failing with
// UNAVAILABLE when the first connection attempt fails (for a node that is still starting), and
// makes calls wait for the connection to come back instead of failing at once while it is down.
// Their contexts still bound the wait.
func WithWaitForReady() Option {
	return func(o *options) error {
		o.waitReady = true
		return nil
	}
}

// WithDialOptions passes options through to grpc.NewClient (Dial only): interceptors, keepalive,
// a custom dialer, stats handlers.
func WithDialOptions(opts ...grpc.DialOption) Option {
	return func(o *options) error {
		o.dialOpts = append(o.dialOpts, opts...)
		return nil
	}
}

func buildOptions(opts []Option) (*options, error) {
	o := &options{maxMsgBytes: DefaultMaxMessageBytes}
	for _, opt := range opts {
		if opt == nil {
			continue
		}
		if err := opt(o); err != nil {
			return nil, err
		}
	}
	return o, nil
}
