// Package wire reads and writes PolyCall frames on a byte stream (a Unix socket), as WIRE.md
// describes: each polycall.v1.Frame preceded by its length.
//
//	0               4                                   4 + length
//	+---------------+-----------------------------------+
//	| length (u32,  |  Frame (protobuf, `length` bytes) |
//	|  big-endian)  |                                   |
//	+---------------+-----------------------------------+
//
// The Go client talks to nodes over gRPC and does not need it; it is here for tools that speak
// the socket protocol, and it is checked against the shared vectors like every implementation.
package wire

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"io"

	"google.golang.org/protobuf/proto"

	"github.com/polycall/polycall/sdks/go/internal/canonical"
	"github.com/polycall/polycall/sdks/go/polycall"
	"github.com/polycall/polycall/sdks/go/polycallpb"
)

// MaxFrameBytes is the default limit on a frame's length (64 MiB), unless a Welcome says
// otherwise.
const MaxFrameBytes = 64 << 20

// Reader reads whole frames from a byte stream, however the bytes arrive (one at a time or many
// frames at once). It is not safe for concurrent use.
type Reader struct {
	r   io.Reader
	max uint32
	hdr [4]byte
}

// NewReader reads frames from r, refusing any longer than maxFrameBytes (MaxFrameBytes when 0).
func NewReader(r io.Reader, maxFrameBytes uint32) *Reader {
	if maxFrameBytes == 0 {
		maxFrameBytes = MaxFrameBytes
	}
	return &Reader{r: r, max: maxFrameBytes}
}

// Read returns the next frame. At a clean end of the stream (between frames) it returns io.EOF.
// A protocol error (a length of 0 or over the limit, a stream that ends inside a frame, bytes
// that are not a Frame, a Frame with no body) is a *polycall.Error with INVALID_ARGUMENT, after
// which the connection must be closed. A length over the limit is refused before its body is
// read.
func (r *Reader) Read() (*polycallpb.Frame, error) {
	if _, err := io.ReadFull(r.r, r.hdr[:]); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, io.EOF
		}
		return nil, ended(err, "inside a frame's length prefix")
	}
	n := binary.BigEndian.Uint32(r.hdr[:])
	if n == 0 {
		return nil, polycall.Errorf(polycall.InvalidArgument, "frame length 0")
	}
	if n > r.max {
		return nil, polycall.Errorf(polycall.InvalidArgument, "frame length %d is above the limit of %d bytes", n, r.max)
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(r.r, body); err != nil {
		return nil, ended(err, "inside a frame")
	}
	f := &polycallpb.Frame{}
	if err := proto.Unmarshal(body, f); err != nil {
		return nil, polycall.Errorf(polycall.InvalidArgument, "frame bytes do not parse as a polycall.v1.Frame: %v", err)
	}
	if f.GetBody() == nil {
		return nil, polycall.Errorf(polycall.InvalidArgument, "a frame with no body set (or one this version does not know)")
	}
	return f, nil
}

func ended(err error, where string) error {
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return polycall.Errorf(polycall.InvalidArgument, "the stream ended %s", where)
	}
	return err
}

// Append appends the length-prefixed encoding of f to b, fields in number order (the bytes of
// the shared vectors). It does not check strings for UTF-8: the sender does, before.
func Append(b []byte, f *polycallpb.Frame) ([]byte, error) {
	body := canonical.Marshal(f)
	if len(body) == 0 {
		return b, polycall.Errorf(polycall.InvalidArgument, "a frame needs a body")
	}
	b = binary.BigEndian.AppendUint32(b, uint32(len(body)))
	return append(b, body...), nil
}

// Write writes f to w, length prefix and frame in one Write.
func Write(w io.Writer, f *polycallpb.Frame) error {
	b, err := Append(nil, f)
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}

// Proof is a worker's answer to the hub's Challenge (WIRE.md, "Handshake"):
// HMAC-SHA256(secret, nonce || UTF-8(workerID)).
func Proof(secret, nonce []byte, workerID string) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write(nonce)
	m.Write([]byte(workerID))
	return m.Sum(nil)
}
