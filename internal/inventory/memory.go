package inventory

import (
	"context"
	"fmt"
	"sort"
	"sync"
)

// Memory is an in-memory inventory: a View that can also apply changes. It
// backs tests and dry runs; the store keeps its own copy.
type Memory struct {
	mu   sync.RWMutex
	objs map[Type]map[string]*Object
}

// NewMemory returns a Memory holding copies of objs.
func NewMemory(objs ...Object) *Memory {
	m := &Memory{objs: map[Type]map[string]*Object{}}
	for _, o := range objs {
		c := o.Clone()
		m.put(&c)
	}
	return m
}

func (m *Memory) put(o *Object) {
	byName := m.objs[o.Type]
	if byName == nil {
		byName = map[string]*Object{}
		m.objs[o.Type] = byName
	}
	byName[o.Name] = o
}

// Get implements View.
func (m *Memory) Get(t Type, name string) (*Object, bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	o, ok := m.objs[t][name]
	return o, ok
}

// List implements View.
func (m *Memory) List(t Type) []*Object {
	m.mu.RLock()
	out := make([]*Object, 0, len(m.objs[t]))
	for _, o := range m.objs[t] {
		out = append(out, o)
	}
	m.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// View returns m itself, so a Memory can stand in for a store.
func (m *Memory) View() View { return m }

// Apply applies all changes or none: a Create of an existing object fails
// with an error wrapping ErrExists and leaves m unchanged.
func (m *Memory) Apply(_ context.Context, changes []Change) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	seen := map[Type]map[string]bool{}
	for _, c := range changes {
		if c.Op != Create {
			continue
		}
		_, exists := m.objs[c.Object.Type][c.Object.Name]
		if exists || seen[c.Object.Type][c.Object.Name] {
			return fmt.Errorf("%s %q: %w", c.Object.Type, c.Object.Name, ErrExists)
		}
		if seen[c.Object.Type] == nil {
			seen[c.Object.Type] = map[string]bool{}
		}
		seen[c.Object.Type][c.Object.Name] = true
	}
	for _, c := range changes {
		switch c.Op {
		case Put, Create:
			o := c.Object.Clone()
			for k, v := range o.Attrs {
				if v == "" {
					delete(o.Attrs, k)
				}
			}
			m.put(&o)
		case Delete:
			delete(m.objs[c.Object.Type], c.Object.Name)
		default:
			return fmt.Errorf("unknown change op %d", c.Op)
		}
	}
	return nil
}
