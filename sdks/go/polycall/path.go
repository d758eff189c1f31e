package polycall

import (
	"fmt"
	"strconv"
	"strings"
)

// vpath is where a value sits inside an argument or result ("stats.mean: args[0][3].name"),
// kept as a chain of stack-allocated links and rendered only when an error names it, so that
// walking a large list costs nothing for its paths.
type vpath struct {
	parent *vpath
	text   string // the root ("value"), a suffix (".name"), or before an index (".key")
	index  int
	kind   uint8 // pathText, pathIndex, pathKey
	key    any   // the map key of a pathKey link
}

const (
	pathText uint8 = iota
	pathIndex
	pathKey
)

func rootPath(s string) *vpath { return &vpath{text: s} }

func (p *vpath) String() string {
	var links []*vpath
	for q := p; q != nil; q = q.parent {
		links = append(links, q)
	}
	var b strings.Builder
	for i := len(links) - 1; i >= 0; i-- {
		switch l := links[i]; l.kind {
		case pathIndex:
			b.WriteString(l.text + "[" + strconv.Itoa(l.index) + "]") // text: ".key" for map keys
		case pathKey:
			if s, ok := l.key.(string); ok {
				b.WriteString("[" + strconv.Quote(s) + "]")
			} else {
				fmt.Fprintf(&b, "[%v]", l.key)
			}
		default:
			b.WriteString(l.text)
		}
	}
	return b.String()
}
