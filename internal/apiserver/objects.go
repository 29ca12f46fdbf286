package apiserver

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"drover.dev/drover/internal/api"
	"drover.dev/drover/internal/inventory"
	"drover.dev/drover/internal/noderange"
)

type listInput struct {
	Type     string `path:"type" doc:"Object type: node, group, osimage, network, site, policy or boottarget"`
	Range    string `query:"range" doc:"Which objects: a noderange for nodes, a comma-separated list of names for other types; empty means all"`
	Resolved bool   `query:"resolved" default:"true" doc:"Resolve node attributes through their groups and compute group members; false returns the stored values"`
	Secrets  bool   `query:"secrets" doc:"Show secret attribute values (admin and operator only)"`
}

type objectListOutput struct{ Body api.ObjectList }

type getInput struct {
	Type     string `path:"type" doc:"Object type: node, group, osimage, network, site, policy or boottarget"`
	Name     string `path:"name" doc:"Object name"`
	Resolved bool   `query:"resolved" default:"true" doc:"Resolve node attributes through their groups and compute group members; false returns the stored values"`
	Secrets  bool   `query:"secrets" doc:"Show secret attribute values (admin and operator only)"`
}

type objectOutput struct{ Body api.Object }

type createInput struct {
	Type string `path:"type" doc:"Object type: node, group, osimage, network, site, policy or boottarget"`
	Body api.Object
}

type writeInput struct {
	Type string `path:"type" doc:"Object type: node, group, osimage, network, site, policy or boottarget"`
	Name string `path:"name" doc:"Object name"`
	Body api.Object
}

type deleteInput struct {
	Type string `path:"type" doc:"Object type: node, group, osimage, network, site, policy or boottarget"`
	Name string `path:"name" doc:"Object name"`
}

type applyInput struct{ Body api.ApplyRequest }

type applyOutput struct{ Body api.ApplyResult }

func parseType(s string) (inventory.Type, error) {
	t, err := inventory.ParseType(s)
	if err != nil {
		return "", asKind(errInvalid, err)
	}
	return t, nil
}

// notFound is xCAT's message for a missing object (lsdef, chdef, rmdef).
func notFound(t inventory.Type, name string) error {
	return newError(inventory.ErrNotFound, "Could not find an object named '%s' of type '%s'.", name, t)
}

// checkSecrets refuses a request for secret values from a viewer.
func checkSecrets(p principal, want bool) error {
	if want && !p.maySeeSecrets() {
		return p.forbid("showing secret values", api.RoleOperator)
	}
	return nil
}

// present turns a stored object into what the caller sees: resolved nodes
// and computed group members when asked, secrets masked unless shown. ix,
// when not nil, is an index over v that list requests share.
func (s *Server) present(v inventory.View, ix *inventory.Index, o *inventory.Object, resolved, secrets bool) api.Object {
	var attrs map[string]string
	switch {
	case resolved && o.Type == inventory.Node && ix != nil:
		r, ok := ix.Resolve(o.Name)
		if !ok {
			r = inventory.Resolve(v, o)
		}
		attrs = maps.Clone(map[string]string(r))
	case resolved && o.Type == inventory.Node:
		attrs = maps.Clone(map[string]string(inventory.Resolve(v, o)))
	default:
		attrs = maps.Clone(o.Attrs)
	}
	if attrs == nil {
		attrs = map[string]string{}
	}
	if resolved && o.Type == inventory.Group {
		var members []string
		var ok bool
		if ix != nil {
			members, ok = ix.GroupMembers(o.Name)
		} else {
			members, ok = inventory.GroupMembers(v, o.Name)
		}
		if ok {
			if len(members) > 0 {
				attrs["members"] = strings.Join(members, ",")
			} else {
				delete(attrs, "members")
			}
		}
	}
	if !secrets {
		maskAttrs(attrs)
	}
	return api.Object{Type: string(o.Type), Name: o.Name, Attrs: attrs}
}

func maskAttrs(attrs map[string]string) {
	for k, v := range attrs {
		if v != "" && inventory.IsSecret(k) {
			attrs[k] = inventory.Masked
		}
	}
}

func maskValue(attr, v string) string {
	if v != "" && inventory.IsSecret(attr) {
		return inventory.Masked
	}
	return v
}

// selectObjects returns the objects of type t that rng names: a noderange
// for nodes, a comma-separated list of names otherwise, all when empty.
func (s *Server) selectObjects(v inventory.View, ix func() *inventory.Index, t inventory.Type, rng string) ([]*inventory.Object, error) {
	if strings.TrimSpace(rng) == "" {
		return v.List(t), nil
	}
	var names []string
	if t == inventory.Node {
		opt := noderange.Options{Verify: true}
		if site, ok := v.Get(inventory.Site, inventory.SiteName); ok {
			opt.Exclude = site.Get("excludenodes") // as every xCAT noderange
		}
		res, err := noderange.Expand(ix(), rng, opt)
		if len(res.Missing) > 0 {
			return nil, newError(inventory.ErrNotFound, "Invalid nodes and/or groups in noderange: %s",
				strings.Join(res.Missing, ","))
		}
		if err != nil {
			return nil, asKind(errBadRequest, err)
		}
		names = res.Nodes
	} else {
		seen := map[string]bool{}
		for _, n := range inventory.SplitList(rng) {
			if !seen[n] {
				seen[n] = true
				names = append(names, n)
			}
		}
	}
	out := make([]*inventory.Object, 0, len(names))
	var missing []string
	for _, n := range names {
		o, ok := v.Get(t, n)
		if !ok {
			missing = append(missing, fmt.Sprintf("Could not find an object named '%s' of type '%s'.", n, t))
			continue
		}
		out = append(out, o)
	}
	if len(missing) > 0 {
		return nil, newError(inventory.ErrNotFound, "%s", strings.Join(missing, "\n"))
	}
	if t != inventory.Node {
		sortByName(out)
	}
	return out, nil
}

func sortByName(objs []*inventory.Object) {
	slices.SortFunc(objs, func(a, b *inventory.Object) int { return strings.Compare(a.Name, b.Name) })
}

func (s *Server) listObjects(ctx context.Context, in *listInput) (*objectListOutput, error) {
	p := principalFrom(ctx)
	if err := checkSecrets(p, in.Secrets); err != nil {
		return nil, s.problem(err)
	}
	t, err := parseType(in.Type)
	if err != nil {
		return nil, s.problem(err)
	}
	v := s.Store.View()
	// One index serves the noderange, the resolution of many nodes and the
	// members of many groups.
	var index *inventory.Index
	ix := func() *inventory.Index {
		if index == nil {
			index = inventory.NewIndex(v, s.schema())
		}
		return index
	}
	objs, err := s.selectObjects(v, ix, t, in.Range)
	if err != nil {
		return nil, s.problem(err)
	}
	if in.Resolved && len(objs) > 1 && (t == inventory.Node || t == inventory.Group) {
		ix()
	}
	items := make([]api.Object, len(objs))
	for i, o := range objs {
		items[i] = s.present(v, index, o, in.Resolved, in.Secrets)
	}
	return &objectListOutput{Body: api.ObjectList{Items: items}}, nil
}

func (s *Server) getObject(ctx context.Context, in *getInput) (*objectOutput, error) {
	p := principalFrom(ctx)
	if err := checkSecrets(p, in.Secrets); err != nil {
		return nil, s.problem(err)
	}
	t, err := parseType(in.Type)
	if err != nil {
		return nil, s.problem(err)
	}
	v := s.Store.View()
	o, ok := v.Get(t, in.Name)
	if !ok {
		return nil, s.problem(notFound(t, in.Name))
	}
	return &objectOutput{Body: s.present(v, nil, o, in.Resolved, in.Secrets)}, nil
}

// desired turns a request body into an object of type t named name,
// checking that the body's own type and name (if given) agree. Empty values
// are dropped (xCAT treats them as unset).
func desired(t inventory.Type, name string, body api.Object) (inventory.Object, error) {
	if body.Type != "" && body.Type != string(t) {
		return inventory.Object{}, newError(errBadRequest, "object type %q in the body does not match %q in the path", body.Type, t)
	}
	if body.Name != "" && body.Name != name {
		return inventory.Object{}, newError(errBadRequest, "object name %q in the body does not match %q in the path", body.Name, name)
	}
	if name == "" {
		return inventory.Object{}, newError(errInvalid, "missing object name")
	}
	o := inventory.Object{Type: t, Name: name, Attrs: make(map[string]string, len(body.Attrs))}
	for k, val := range body.Attrs {
		if val != "" {
			o.Attrs[k] = val
		}
	}
	return o, nil
}

// keepSecrets replaces secret attributes sent as the masked value with the
// stored value (or drops them when none is stored), so that a masked dump
// can be written back without destroying passwords.
func keepSecrets(v inventory.View, o *inventory.Object) {
	var stored map[string]string
	if cur, ok := v.Get(o.Type, o.Name); ok {
		stored = cur.Attrs
	}
	for k, val := range o.Attrs {
		if val != inventory.Masked || !inventory.IsSecret(k) {
			continue
		}
		if old := stored[k]; old != "" {
			o.Attrs[k] = old
		} else {
			delete(o.Attrs, k)
		}
	}
}

func (s *Server) validate(o *inventory.Object) error {
	if err := inventory.Validate(s.schema(), o); err != nil {
		return asKind(errInvalid, err)
	}
	return nil
}

// write validates o and applies it with op, then answers with the stored
// (unresolved) object, secrets masked.
func (s *Server) write(ctx context.Context, op inventory.ChangeOp, o inventory.Object) (*objectOutput, error) {
	keepSecrets(s.Store.View(), &o)
	if err := s.validate(&o); err != nil {
		return nil, s.problem(err)
	}
	if err := s.Store.Apply(ctx, []inventory.Change{{Op: op, Object: o}}); err != nil {
		if op == inventory.Create && statusOf(err) == 409 {
			return nil, s.problem(&kindError{kind: inventory.ErrExists, cause: err,
				msg: fmt.Sprintf("A definition for '%s' already exists.", o.Name)})
		}
		return nil, s.problem(err)
	}
	v := s.Store.View()
	stored, ok := v.Get(o.Type, o.Name)
	if !ok {
		stored = &o
	}
	return &objectOutput{Body: s.present(v, nil, stored, false, false)}, nil
}

func (s *Server) createObject(ctx context.Context, in *createInput) (*objectOutput, error) {
	t, err := parseType(in.Type)
	if err != nil {
		return nil, s.problem(err)
	}
	o, err := desired(t, in.Body.Name, in.Body)
	if err != nil {
		return nil, s.problem(err)
	}
	return s.write(ctx, inventory.Create, o)
}

func (s *Server) putObject(ctx context.Context, in *writeInput) (*objectOutput, error) {
	t, err := parseType(in.Type)
	if err != nil {
		return nil, s.problem(err)
	}
	o, err := desired(t, in.Name, in.Body)
	if err != nil {
		return nil, s.problem(err)
	}
	return s.write(ctx, inventory.Put, o)
}

func (s *Server) patchObject(ctx context.Context, in *writeInput) (*objectOutput, error) {
	t, err := parseType(in.Type)
	if err != nil {
		return nil, s.problem(err)
	}
	if _, err := desired(t, in.Name, api.Object{Type: in.Body.Type, Name: in.Body.Name}); err != nil {
		return nil, s.problem(err)
	}
	cur, ok := s.Store.View().Get(t, in.Name)
	if !ok {
		return nil, s.problem(notFound(t, in.Name))
	}
	o := cur.Clone()
	for k, val := range in.Body.Attrs {
		switch {
		case val == "":
			delete(o.Attrs, k)
		case val == inventory.Masked && inventory.IsSecret(k):
			// keep the stored value
		default:
			o.Attrs[k] = val
		}
	}
	// Removing an attribute the type does not have is an error too, as
	// with xCAT's chdef; write validates the rest.
	for _, k := range slices.Sorted(maps.Keys(in.Body.Attrs)) {
		if in.Body.Attrs[k] != "" {
			continue
		}
		if err := s.schema().ValidateAttr(t, k); err != nil {
			return nil, s.problem(err)
		}
	}
	return s.write(ctx, inventory.Put, o)
}

func (s *Server) deleteObject(ctx context.Context, in *deleteInput) (*struct{}, error) {
	t, err := parseType(in.Type)
	if err != nil {
		return nil, s.problem(err)
	}
	if _, ok := s.Store.View().Get(t, in.Name); !ok {
		return nil, s.problem(notFound(t, in.Name))
	}
	ch := inventory.Change{Op: inventory.Delete, Object: inventory.Object{Type: t, Name: in.Name}}
	if err := s.Store.Apply(ctx, []inventory.Change{ch}); err != nil {
		return nil, s.problem(err)
	}
	return nil, nil
}

func (s *Server) apply(ctx context.Context, in *applyInput) (*applyOutput, error) {
	req := in.Body
	p := principalFrom(ctx)
	if req.Prune && !p.atLeast(api.RoleAdmin) {
		return nil, s.problem(p.forbid("apply with prune (it deletes objects)", api.RoleAdmin))
	}
	v := s.Store.View()
	var problems []string
	objs := make([]inventory.Object, 0, len(req.Objects))
	seen := map[inventory.Type]map[string]bool{}
	var types []inventory.Type
	for i, body := range req.Objects {
		t, err := inventory.ParseType(body.Type)
		if err != nil {
			problems = append(problems, fmt.Sprintf("objects[%d] %q: %v", i, body.Name, err))
			continue
		}
		o, err := desired(t, body.Name, body)
		if err != nil {
			problems = append(problems, fmt.Sprintf("objects[%d] (%s): %v", i, t, err))
			continue
		}
		if seen[t] == nil {
			seen[t] = map[string]bool{}
			types = append(types, t)
		}
		if seen[t][o.Name] {
			problems = append(problems, fmt.Sprintf("%s %s: defined more than once", t, o.Name))
			continue
		}
		seen[t][o.Name] = true
		keepSecrets(v, &o)
		if err := s.resolveSecretRefs(ctx, &o); err != nil {
			problems = append(problems, fmt.Sprintf("%s %s: %v", t, o.Name, err))
			continue
		}
		if err := inventory.Validate(s.schema(), &o); err != nil {
			problems = append(problems, fmt.Sprintf("%s %s: %v", t, o.Name, err))
			continue
		}
		objs = append(objs, o)
	}
	if len(req.PruneTypes) > 0 {
		types = types[:0]
		for _, name := range req.PruneTypes {
			t, err := inventory.ParseType(name)
			if err != nil {
				problems = append(problems, fmt.Sprintf("pruneTypes: %v", err))
				continue
			}
			types = append(types, t)
		}
	}
	if len(problems) > 0 {
		return nil, s.problem(newError(errInvalid, "%s", strings.Join(problems, "\n")))
	}
	changes := inventory.Plan(v, objs, req.Prune, types)
	diffs := inventory.DiffChanges(v, changes)
	if !req.DryRun && len(changes) > 0 {
		if err := s.Store.Apply(ctx, changes); err != nil {
			return nil, s.problem(err)
		}
	}
	res := api.ApplyResult{Changes: make([]api.ObjectChange, len(diffs))}
	for i, d := range diffs {
		ch := api.ObjectChange{Op: d.Op.String(), Type: string(d.Type), Name: d.Name}
		for _, a := range d.Attrs {
			ch.Attrs = append(ch.Attrs, api.AttrChange{Attr: a.Attr, Old: maskValue(a.Attr, a.Old), New: maskValue(a.Attr, a.New)})
		}
		res.Changes[i] = ch
	}
	return &applyOutput{Body: res}, nil
}
