package boot

import "errors"

// Errors Decide returns (wrapped with details); callers branch with errors.Is.
var (
	// ErrBadState: the node's currstate is not a nodeset state.
	ErrBadState = errors.New("invalid boot state")
	// ErrOSImageNotFound: the state names an osimage the caller did not supply.
	ErrOSImageNotFound = errors.New("osimage not found")
	// ErrBootTargetNotFound: the osimage names a boottarget the caller did not supply.
	ErrBootTargetNotFound = errors.New("boottarget not found")
	// ErrNoKernel: the osimage or boottarget has no kernel.
	ErrNoKernel = errors.New("no kernel defined")
	// ErrNotConfigured: shell or discover was asked for but no kernel is configured for it.
	ErrNotConfigured = errors.New("boot target not configured")
	// ErrUnsupportedArch: no loader exists for the client architecture.
	ErrUnsupportedArch = errors.New("unsupported client architecture")
	// ErrUnsafeValue: a value would break the iPXE script (newline, control
	// character, "${" expansion, "||"/"&&" operators).
	ErrUnsafeValue = errors.New("unsafe value in boot script")
	// ErrBadPath: a kernel/initrd path is empty, relative with "..", or not absolute after joining.
	ErrBadPath = errors.New("invalid boot file path")
	// ErrNoServer: Settings has no server address.
	ErrNoServer = errors.New("no server address configured")
)
