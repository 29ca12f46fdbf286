package inventory

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
)

// ErrInvalid is matched (errors.Is) by every validation error: *InvalidError,
// *UnknownAttrError and *UnknownTypeError.
var ErrInvalid = errors.New("invalid object")

// InvalidError is a validation failure; Msg is the whole message (xCAT's text
// where xCAT has one).
type InvalidError struct{ Msg string }

func (e *InvalidError) Error() string { return e.Msg }

// Is makes errors.Is(err, ErrInvalid) true.
func (e *InvalidError) Is(target error) bool { return target == ErrInvalid }

// Is makes errors.Is(err, ErrInvalid) true.
func (e *UnknownAttrError) Is(target error) bool { return target == ErrInvalid }

// Is makes errors.Is(err, ErrInvalid) true.
func (e *UnknownTypeError) Is(target error) bool { return target == ErrInvalid }

func invalidf(format string, args ...any) error {
	return &InvalidError{Msg: fmt.Sprintf(format, args...)}
}

// Validate checks an object before it is written:
//   - its type is known (*UnknownTypeError);
//   - its name is valid for the type (ValidName);
//   - every attribute is valid for the type (Schema.ValidateAttr), checked in
//     sorted order, the first failure returned (*UnknownAttrError), and no
//     value holds a newline;
//   - a network has net and mask (xCAT's message);
//   - a dynamic group has wherevals that parse (ParseWhere) and whose
//     regular expressions compile.
//
// Node names with '.' are refused by mkdef only: see ValidNodeName.
func Validate(s *Schema, o *Object) error {
	if s == nil {
		s = DefaultSchema()
	}
	if _, err := ParseType(string(o.Type)); err != nil {
		return err
	}
	if err := ValidName(o.Type, o.Name); err != nil {
		return err
	}
	for _, a := range o.AttrNames() {
		if err := s.ValidateAttr(o.Type, a); err != nil {
			return err
		}
		if strings.ContainsAny(o.Attrs[a], "\n\r") {
			return invalidf("%s %s: the value of attribute %s holds a newline", o.Type, o.Name, a)
		}
	}
	switch o.Type {
	case Network:
		if o.Get("net") == "" || o.Get("mask") == "" {
			return invalidf("Net or mask value should not be empty for xCAT network object '%s'.", o.Name)
		}
	case Group:
		if !isDynamic(o) {
			break
		}
		m, err := newWhereMatcher(o.Get("wherevals"))
		switch {
		case err != nil:
			return invalidf("group %s: wherevals: %v", o.Name, err)
		case len(m.conds) == 0:
			return invalidf("group %s: a dynamic group needs wherevals", o.Name)
		}
	}
	return nil
}

// ValidName checks an object name: not empty, no blanks or control
// characters, not "." or "..", no "/" (names become file names; networks,
// whose names may be IPv6 prefixes like fd59::/64, are exempt), no ","
// in node and group names (the list separator), and "clustersite" for the
// site object.
func ValidName(t Type, name string) error {
	switch {
	case name == "":
		return invalidf("%s name is empty", t)
	case t == Site && name != SiteName:
		return invalidf("the site object is named %s, not %q", SiteName, name)
	case name == "." || name == "..":
		return invalidf("%s name %q is not allowed", t, name)
	case strings.ContainsFunc(name, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }):
		return invalidf("%s name %q holds a blank or control character", t, name)
	case t != Network && strings.Contains(name, "/"):
		return invalidf("%s name %q holds a '/'", t, name)
	case (t == Node || t == Group) && strings.Contains(name, ","):
		return invalidf("%s name %q holds a ','", t, name)
	}
	return nil
}

// ValidNodeName is mkdef's check of a new node's name: xCAT refuses '.'.
func ValidNodeName(name string) error {
	if strings.Contains(name, ".") {
		return invalidf("The object name '%s' is invalid, Cannot use '.' in node name.", name)
	}
	return nil
}
