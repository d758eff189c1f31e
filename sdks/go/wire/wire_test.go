package wire_test

import (
	"bytes"
	"io"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/polycall/polycall/sdks/go/polycall"
	"github.com/polycall/polycall/sdks/go/polycallpb"
	"github.com/polycall/polycall/sdks/go/wire"
)

func TestFramesWrittenBackToBackAreReadOneByOne(t *testing.T) {
	var buf bytes.Buffer
	frames := []*polycallpb.Frame{
		{Body: &polycallpb.Frame_Ping{Ping: &polycallpb.Ping{Nonce: 1}}},
		{Body: &polycallpb.Frame_Call{Call: &polycallpb.Call{CallId: 7, Function: "math.add"}}},
		{Body: &polycallpb.Frame_Pong{Pong: &polycallpb.Pong{}}},
	}
	for _, f := range frames {
		if err := wire.Write(&buf, f); err != nil {
			t.Fatal(err)
		}
	}
	r := wire.NewReader(&buf, 0)
	for _, want := range frames {
		got, err := r.Read()
		if err != nil || !proto.Equal(got, want) {
			t.Fatalf("got %v %v, want %v", got, err, want)
		}
	}
	if _, err := r.Read(); err != io.EOF {
		t.Fatalf("at the end: %v", err)
	}
}

func TestAFrameOverTheReadersLimitIsRefusedBeforeItsBodyIsRead(t *testing.T) {
	b, _ := wire.Append(nil, &polycallpb.Frame{Body: &polycallpb.Frame_Call{Call: &polycallpb.Call{Function: "a.rather.long.name"}}})
	// Only the length prefix is there: a reader that tried to read the body would see EOF.
	_, err := wire.NewReader(bytes.NewReader(b[:4]), 8).Read()
	if polycall.CodeOf(err) != polycall.InvalidArgument {
		t.Fatalf("got %v", err)
	}
}

func TestAnEmptyFrameCannotBeWritten(t *testing.T) {
	if err := wire.Write(io.Discard, &polycallpb.Frame{}); polycall.CodeOf(err) != polycall.InvalidArgument {
		t.Fatalf("got %v", err)
	}
}
