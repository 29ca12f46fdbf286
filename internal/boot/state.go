package boot

import (
	"fmt"
	"strings"
)

// StateKind is what nodeset asked a node to do at its next network boot.
type StateKind int

// State kinds, in the words of nodeset.
const (
	StateBoot     StateKind = iota // iPXE exits so the firmware boots the local disk
	StateOSImage                   // boot the kernel/initrd/cmdline of an osimage
	StateShell                     // boot the configured rescue environment
	StateDiscover                  // boot the configured discovery environment
	StateOffline                   // answer nothing
)

// String returns the nodeset word for k.
func (k StateKind) String() string {
	switch k {
	case StateOSImage:
		return "osimage"
	case StateShell:
		return "shell"
	case StateDiscover:
		return "discover"
	case StateOffline:
		return "offline"
	}
	return "boot"
}

// State is a node's parsed boot state (the currstate attribute, xCAT's
// chain.currstate, that nodeset writes).
type State struct {
	Kind    StateKind
	OSImage string // the osimage name when Kind is StateOSImage
}

// String renders s the way nodeset writes currstate ("osimage NAME", "boot", ...).
func (s State) String() string {
	if s.Kind == StateOSImage {
		return "osimage " + s.OSImage
	}
	return s.Kind.String()
}

// ParseState parses a currstate value. Accepted: "osimage NAME" (also
// "osimage=NAME" as nodeset is typed, and xCAT's "install NAME", "netboot
// NAME", "statelite NAME"), "boot", "shell", "discover", "offline". An empty
// value means StateBoot: a node nobody ran nodeset on boots its disk, as
// xCAT's xnba does for a node without bootparams.
func ParseState(s string) (State, error) {
	s = strings.TrimSpace(s)
	word, arg, found := strings.Cut(s, " ")
	if !found {
		word, arg, found = strings.Cut(s, "=")
	}
	arg = strings.TrimSpace(arg)
	switch word {
	case "":
		return State{Kind: StateBoot}, nil
	case "osimage", "install", "netboot", "statelite", "boottarget": // nodeset writes "<image provmethod> NAME"
		if arg == "" {
			return State{}, fmt.Errorf("%w: %q: missing osimage name", ErrBadState, s)
		}
		return State{Kind: StateOSImage, OSImage: arg}, nil
	}
	if found {
		return State{}, fmt.Errorf("%w: %q", ErrBadState, s)
	}
	switch word {
	case "boot":
		return State{Kind: StateBoot}, nil
	case "shell":
		return State{Kind: StateShell}, nil
	case "discover":
		return State{Kind: StateDiscover}, nil
	case "offline":
		return State{Kind: StateOffline}, nil
	}
	return State{}, fmt.Errorf("%w: %q", ErrBadState, s)
}
