package cli

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
)

func TestCopyUntilEscape(t *testing.T) {
	for _, tt := range []struct {
		in, sent string
		escaped  bool
	}{
		{"ls\n\x05c.ignored", "ls\n", true},
		{"abc", "abc", false},
		{"\x05x\x05c", "\x05x\x05c", false},
		{"\x05\x05c.", "\x05", true},
		{"a\x05cb", "a\x05cb", false},
	} {
		var out bytes.Buffer
		err := copyUntilEscape(&out, strings.NewReader(tt.in))
		if out.String() != tt.sent || errors.Is(err, errEscaped) != tt.escaped || (!tt.escaped && err != io.EOF) {
			t.Errorf("%q: sent %q, err %v; want %q, escaped %v", tt.in, out.String(), err, tt.sent, tt.escaped)
		}
	}
}
