package discoveryimage

import (
	"errors"
	"fmt"
)

// DefaultModules is the module set of a discovery image: common NIC drivers,
// af_packet (raw sockets for the DHCP client and LLDP) and the IPMI drivers
// that create /dev/ipmi0. Defaults the kernel lacks are skipped.
var DefaultModules = []string{
	"virtio_pci", "virtio_net", "e1000", "e1000e", "igb", "ixgbe", "i40e", "ice",
	"bnxt_en", "tg3", "r8169", "mlx5_core", "af_packet", "ipmi_devintf", "ipmi_si",
}

// softDeps are runtime needs without a symbol dependency: the key needs the
// listed modules loaded first when the kernel has them.
var softDeps = map[string][]string{
	"virtio_net": {"virtio_pci"},
}

// ErrModuleNotFound is matched (errors.Is) by a ModuleNotFoundError.
var ErrModuleNotFound = errors.New("module not found")

// ModuleNotFoundError is returned when a module asked for explicitly (or a
// dependency of it) is not in the kernel.
type ModuleNotFoundError struct {
	Module   string
	NeededBy string // empty for a module asked for by name
	Kernel   string
}

func (e *ModuleNotFoundError) Error() string {
	if e.NeededBy != "" {
		return fmt.Sprintf("module %s (needed by %s) not found in kernel %s", e.Module, e.NeededBy, e.Kernel)
	}
	return fmt.Sprintf("module %s not found in kernel %s", e.Module, e.Kernel)
}

// Is makes errors.Is(err, ErrModuleNotFound) true.
func (e *ModuleNotFoundError) Is(target error) bool { return target == ErrModuleNotFound }

// Skip is a default module left out of the image, and why.
type Skip struct {
	Module string `json:"module"`
	Reason string `json:"reason"`
}

// resolution is the outcome of resolveOrder.
type resolution struct {
	Order   []string // modules to load, dependencies first
	Builtin []string // asked-for modules built into the kernel
	Skipped []Skip   // default modules the kernel lacks
}

// resolveOrder orders the wanted modules and their dependencies so that
// every module comes after what it depends on. deps holds every loadable
// module of the kernel with its dependencies; builtin the built-in ones,
// which satisfy a dependency without being loaded. A wanted module that is
// missing (or whose dependency is) is an error when explicit[name], else it
// is skipped with a reason.
func resolveOrder(wanted []string, explicit map[string]bool, deps map[string][]string, builtin map[string]bool, kver string) (resolution, error) {
	var res resolution
	placed := map[string]bool{}
	seenBuiltin := map[string]bool{}
	for _, w := range wanted {
		w = canonicalName(w)
		if placed[w] || seenBuiltin[w] {
			continue
		}
		if builtin[w] {
			seenBuiltin[w] = true
			res.Builtin = append(res.Builtin, w)
			continue
		}
		var closure []string
		visiting := map[string]bool{}
		inClosure := map[string]bool{}
		var visit func(m, parent string) error
		visit = func(m, parent string) error {
			if placed[m] || inClosure[m] || builtin[m] {
				return nil
			}
			if visiting[m] {
				return fmt.Errorf("dependency cycle through module %s", m)
			}
			d, ok := deps[m]
			if !ok {
				return &ModuleNotFoundError{Module: m, NeededBy: parent, Kernel: kver}
			}
			visiting[m] = true
			for _, s := range softDeps[m] {
				if _, ok := deps[s]; ok {
					if err := visit(s, m); err != nil {
						return err
					}
				}
			}
			for _, x := range d {
				if err := visit(x, m); err != nil {
					return err
				}
			}
			visiting[m] = false
			inClosure[m] = true
			closure = append(closure, m)
			return nil
		}
		if err := visit(w, ""); err != nil {
			if explicit[w] || !errors.Is(err, ErrModuleNotFound) {
				return resolution{}, err
			}
			reason := "not in kernel " + kver
			if _, ok := deps[w]; ok {
				reason = err.Error()
			}
			res.Skipped = append(res.Skipped, Skip{Module: w, Reason: reason})
			continue
		}
		for _, m := range closure {
			placed[m] = true
		}
		res.Order = append(res.Order, closure...)
	}
	return res, nil
}
