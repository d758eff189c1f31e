package polycall

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/polycall/polycall/sdks/go/polycallpb"
)

// Code is a PolyCall status code. The numbers are gRPC's canonical codes (OK=0 ...
// UNAUTHENTICATED=16) in every language, so a Code converts to and from codes.Code unchanged.
type Code uint32

// The status codes, with gRPC's numbers.
const (
	OK                 Code = 0
	Canceled           Code = 1
	Unknown            Code = 2
	InvalidArgument    Code = 3
	DeadlineExceeded   Code = 4
	NotFound           Code = 5
	AlreadyExists      Code = 6
	PermissionDenied   Code = 7
	ResourceExhausted  Code = 8
	FailedPrecondition Code = 9
	Aborted            Code = 10
	OutOfRange         Code = 11
	Unimplemented      Code = 12
	Internal           Code = 13
	Unavailable        Code = 14
	DataLoss           Code = 15
	Unauthenticated    Code = 16
)

var codeNames = [...]string{
	"OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND",
	"ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED",
	"OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED",
}

// String is the code's canonical name as every PolyCall language spells it: "NOT_FOUND".
func (c Code) String() string {
	if int(c) < len(codeNames) {
		return codeNames[c]
	}
	return fmt.Sprintf("CODE(%d)", uint32(c))
}

// ParseCode reads a canonical code name ("NOT_FOUND"); ok is false for anything else.
func ParseCode(name string) (c Code, ok bool) {
	for i, n := range codeNames {
		if n == name {
			return Code(i), true
		}
	}
	return Unknown, false
}

// StackFrame is one frame of a cross-language stack.
type StackFrame struct {
	Language string // "java", "c", "python", "javascript", "polycall", "go"
	Function string
	File     string
	Line     int // 0 when unknown
}

func (f StackFrame) String() string {
	where := f.File
	if f.Line > 0 {
		where = fmt.Sprintf("%s:%d", f.File, f.Line)
	}
	if where == "" {
		return fmt.Sprintf("[%s] %s", f.Language, f.Function)
	}
	return fmt.Sprintf("[%s] %s (%s)", f.Language, f.Function, where)
}

// Error is a failed call: a status code, a message saying what went wrong, and the
// cross-language stack of the failure, innermost frame first (a Python ValueError under a Java
// function shows the Python frames, then the node's). Every error the client returns for a
// failed call is an *Error; find it with errors.As, or read only the code with CodeOf.
//
// An Error also answers status.FromError and status.Code of grpc-go, and errors.Is matches
// context.DeadlineExceeded and context.Canceled for those two codes.
type Error struct {
	Code    Code
	Message string
	Frames  []StackFrame
	cause   error
}

// Errorf makes an *Error with a formatted message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Error is "CODE: message", the form every PolyCall tool prints.
func (e *Error) Error() string {
	if e.Message == "" {
		return e.Code.String()
	}
	return e.Code.String() + ": " + e.Message
}

// Unwrap returns the transport error this one was made from, if any.
func (e *Error) Unwrap() error { return e.cause }

// Is lets errors.Is(err, context.DeadlineExceeded) and errors.Is(err, context.Canceled) hold
// for the matching codes, and matches another *Error with the same code and message.
func (e *Error) Is(target error) bool {
	switch target {
	case context.DeadlineExceeded:
		return e.Code == DeadlineExceeded
	case context.Canceled:
		return e.Code == Canceled
	}
	t, ok := target.(*Error)
	return ok && t.Code == e.Code && t.Message == e.Message
}

// GRPCStatus is the gRPC status of this error, so grpc-go's status.Code and status.FromError
// understand it.
func (e *Error) GRPCStatus() *status.Status {
	return status.New(codes.Code(e.Code), e.Message)
}

// didYouMean is how a node words its suggestions, on every transport.
var didYouMean = regexp.MustCompile(`did you mean ([^?]+)\?`)

// Suggestions are the close names the node proposed in the message of a NOT_FOUND ("no function
// named math.ad; did you mean math.add?" gives [math.add]); nil when there are none.
func (e *Error) Suggestions() []string {
	m := didYouMean.FindStringSubmatch(e.Message)
	if m == nil {
		return nil
	}
	var out []string
	for _, n := range strings.Split(m[1], ",") {
		if n = strings.TrimSpace(n); n != "" {
			out = append(out, n)
		}
	}
	return out
}

// StackTrace is the message followed by one line per frame, innermost first.
func (e *Error) StackTrace() string {
	var b strings.Builder
	b.WriteString(e.Error())
	for _, f := range e.Frames {
		b.WriteString("\n    at ")
		b.WriteString(f.String())
	}
	return b.String()
}

// Proto is the polycall.v1.Status of this error.
func (e *Error) Proto() *polycallpb.Status {
	s := &polycallpb.Status{Code: int32(e.Code), Message: e.Message}
	for _, f := range e.Frames {
		s.Frames = append(s.Frames, &polycallpb.StackFrame{
			Language: f.Language, Function: f.Function, File: f.File, Line: int32(f.Line),
		})
	}
	return s
}

// ErrorFromStatus turns a polycall.v1.Status into an *Error; it returns nil for OK.
func ErrorFromStatus(s *polycallpb.Status) *Error {
	if s == nil || s.GetCode() == 0 {
		return nil
	}
	e := &Error{Code: Code(s.GetCode()), Message: s.GetMessage()}
	for _, f := range s.GetFrames() {
		e.Frames = append(e.Frames, StackFrame{
			Language: f.GetLanguage(), Function: f.GetFunction(), File: f.GetFile(), Line: int(f.GetLine()),
		})
	}
	return e
}

// CodeOf is the status code of err: OK for nil, the code of an *Error or of a gRPC status
// error anywhere in its chain, DEADLINE_EXCEEDED and CANCELLED for the context errors, UNKNOWN
// for anything else.
func CodeOf(err error) Code {
	if err == nil {
		return OK
	}
	var pe *Error
	if errors.As(err, &pe) {
		return pe.Code
	}
	var gs interface{ GRPCStatus() *status.Status }
	if errors.As(err, &gs) {
		return Code(gs.GRPCStatus().Code())
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return DeadlineExceeded
	case errors.Is(err, context.Canceled):
		return Canceled
	}
	return Unknown
}

// StatusTrailer is the gRPC trailer in which a node sends the full polycall.v1.Status of a
// failed call (the gRPC status carries only its code and message).
const StatusTrailer = "polycall-status-bin"

// fromRPC turns the error of a gRPC call into an *Error, preferring the node's own status from
// the trailer, which has the cross-language stack.
func fromRPC(err error, trailer map[string][]string) *Error {
	var pe *Error
	if errors.As(err, &pe) {
		return pe
	}
	st, _ := status.FromError(err)
	if vals := trailer[StatusTrailer]; len(vals) > 0 {
		var s polycallpb.Status
		if proto.Unmarshal([]byte(vals[len(vals)-1]), &s) == nil && s.GetCode() != 0 {
			e := ErrorFromStatus(&s)
			e.cause = err
			return e
		}
	}
	return &Error{Code: Code(st.Code()), Message: st.Message(), cause: err}
}
