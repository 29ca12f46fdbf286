package inventory

// Resolve returns a node's attributes as xCAT shows them (lsdef, nodels,
// the boot services): the node's own non-empty values win; every other
// attribute comes from the first group in the node's groups order that has
// it; each value is then passed through xCAT's table regular expressions
// (/re/repl/, |re|expr|, |expr|) evaluated for the node name, and a result
// that is empty counts as unset. Group objects are never resolved.
//
// TODO(inventory helper): implement inheritance and regex evaluation.
func Resolve(v View, node *Object) map[string]string {
	out := make(map[string]string, len(node.Attrs))
	for k, val := range node.Attrs {
		out[k] = val
	}
	return out
}
