// Package balanced finds balanced parenthesis groups the way Perl's
// Text::Balanced extract_bracketed($text, '()', qr/[^()]*/) does, which both
// xCAT's noderange parser and its table regular expressions rely on.
package balanced

import "strings"

// Parens returns the indexes of the first parenthesis in s and of the one
// that closes it. A backslash escapes the next character inside the group.
// ok is false when there is no parenthesis, the first one is ')' or the
// group is not closed.
func Parens(s string) (open, close int, ok bool) {
	i := strings.IndexAny(s, "()")
	if i < 0 || s[i] == ')' {
		return 0, 0, false
	}
	depth := 0
	for j := i; j < len(s); j++ {
		switch s[j] {
		case '\\':
			j++
		case '(':
			depth++
		case ')':
			depth--
			if depth == 0 {
				return i, j, true
			}
		}
	}
	return 0, 0, false
}
