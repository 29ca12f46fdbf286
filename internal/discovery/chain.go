package discovery

import (
	"strings"
)

// StepKind is one action of a node's chain attribute.
type StepKind string

// The chain steps xCAT's destiny (setdestiny) knows.
const (
	// StepBoot boots the node from its local disk.
	StepBoot StepKind = "boot"
	// StepShell leaves the discovery environment at a debug shell.
	StepShell StepKind = "shell"
	// StepStandby keeps the machine waiting in the discovery environment.
	StepStandby StepKind = "standby"
	// StepRunCmd runs a command of the discovery environment (Arg), e.g.
	// bmcsetup.
	StepRunCmd StepKind = "runcmd"
	// StepRunImage downloads and runs an image (Arg: its URL).
	StepRunImage StepKind = "runimage"
	// StepOSImage sets the node's osimage (Arg; "" means the node's
	// provmethod) and boots it; Action "reboot4deploy" also sets the node
	// status to installing or netbooting.
	StepOSImage StepKind = "osimage"
	// StepInstall, StepNetboot and StepStatelite set the node's provmethod
	// (Arg: an optional os-arch-profile or profile) and boot it.
	StepInstall   StepKind = "install"
	StepNetboot   StepKind = "netboot"
	StepStatelite StepKind = "statelite"
	// StepISCSIBoot boots the node from iSCSI.
	StepISCSIBoot StepKind = "iscsiboot"
	// StepShutdown and StepOffline power the machine off.
	StepShutdown StepKind = "shutdown"
	StepOffline  StepKind = "offline"
)

// Step is one parsed step of a chain.
type Step struct {
	Kind StepKind
	// Arg is the text after "=" (command, URL, image or target).
	Arg string
	// Action is the text after ":" in osimage=NAME:ACTION and
	// install/netboot/statelite[=TARGET]:ACTION (xCAT knows reboot4deploy
	// and noupdateinitrd).
	Action string
}

// String returns the step as written in a chain.
func (s Step) String() string {
	out := string(s.Kind)
	if s.Arg != "" {
		out += "=" + s.Arg
	}
	if s.Action != "" {
		out += ":" + s.Action
	}
	return out
}

// ParseChain parses a node's chain attribute (xCAT's chain.chain): steps
// separated by "," or ";" (destiny's nextdestiny splits on both), run in
// order. Valid steps are boot, shell, standby, runcmd=CMD, runimage=URL,
// osimage[=NAME][:ACTION], install|netboot|statelite[=TARGET][:ACTION],
// iscsiboot, shutdown and offline. Blanks around steps and empty steps are
// ignored (xCAT would stop the chain at an empty step with "Unknown state");
// an empty chain is no steps (xCAT: discovery only). Errors wrap ErrSyntax.
func ParseChain(chain string) ([]Step, error) {
	var steps []Step
	for item := range strings.FieldsFuncSeq(chain, func(r rune) bool { return r == ',' || r == ';' }) {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		st, err := parseStep(item)
		if err != nil {
			return nil, err
		}
		steps = append(steps, st)
	}
	return steps, nil
}

func parseStep(item string) (Step, error) {
	name, sep, rest := item, byte(0), ""
	if i := strings.IndexAny(item, "=:"); i >= 0 {
		name, sep, rest = item[:i], item[i], item[i+1:]
	}
	st := Step{Kind: StepKind(name)}
	switch st.Kind {
	case StepBoot, StepShell, StepStandby, StepISCSIBoot, StepShutdown, StepOffline:
		if sep != 0 {
			return Step{}, syntaxErr(item, "%s takes no argument", st.Kind)
		}
	case StepRunCmd, StepRunImage:
		if sep != '=' || strings.TrimSpace(rest) == "" {
			what := "COMMAND"
			if st.Kind == StepRunImage {
				what = "URL"
			}
			return Step{}, syntaxErr(item, "%s needs =%s", st.Kind, what)
		}
		st.Arg = rest
	case StepOSImage, StepInstall, StepNetboot, StepStatelite:
		switch sep {
		case '=':
			st.Arg, st.Action, _ = strings.Cut(rest, ":")
			if st.Kind == StepOSImage && st.Arg == "" && st.Action == "" {
				return Step{}, syntaxErr(item, "osimage= needs an image name")
			}
		case ':': // install:ACTION without a target, as destiny accepts
			st.Action = rest
		}
	default:
		return Step{}, syntaxErr(item, "unknown chain step (want boot, shell, standby, runcmd=, runimage=, osimage=, install, netboot, statelite, iscsiboot, shutdown or offline)")
	}
	return st, nil
}
