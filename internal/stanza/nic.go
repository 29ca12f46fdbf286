package stanza

import "strings"

// nicEntry is one interface of a collapsed nic attribute value.
type nicEntry struct{ nic, val string }

// expandNics splits a stored nic attribute value ("eth0!a|b,eth1!c") the way
// DBobjUtils::expandnicsattr does: entries without a nic name or a value
// are skipped, and only the first two '!'-separated fields count.
func expandNics(v string) []nicEntry {
	var out []nicEntry
	for _, e := range strings.Split(v, ",") {
		f := strings.Split(e, "!")
		if len(f) < 2 || f[0] == "" || f[1] == "" {
			continue
		}
		out = append(out, nicEntry{f[0], f[1]})
	}
	return out
}

// nicCanonical reports whether v is exactly nic!value,nic!value with
// distinct nic names without blanks and values without surrounding blanks,
// so that writing it one line per nic and reading it back gives v again.
func nicCanonical(v string) bool {
	seen := map[string]bool{}
	for _, e := range strings.Split(v, ",") {
		nic, val, ok := strings.Cut(e, "!")
		if !ok || !validNic(nic) || val == "" || trim(val) != val || strings.Contains(val, "!") || seen[nic] {
			return false
		}
		seen[nic] = true
	}
	return true
}

// validNic reports whether nic is usable as a nic name: non-empty, without
// blanks, ',', '!' or '='.
func validNic(nic string) bool {
	if nic == "" || strings.ContainsAny(nic, ",!=") {
		return false
	}
	for i := 0; i < len(nic); i++ {
		if isSpace(nic[i]) {
			return false
		}
	}
	return true
}
