package store

import (
	"slices"
	"sort"
	"strings"

	"drover.dev/drover/internal/inventory"
)

// memory is the in-memory copy of every object plus the boot-path indexes.
// It is not safe for concurrent use: Store guards it with its RWMutex. Its
// Get/List make it an inventory.View for Resolve while the lock is held.
type memory struct {
	rev  int64
	objs map[inventory.Type]map[string]*inventory.Object
	// sorted caches each type's objects sorted by name; a missing entry is
	// rebuilt by the next List.
	sorted map[inventory.Type][]*inventory.Object

	// members maps a group name to the nodes whose groups attribute lists
	// it (whether or not the group exists), so a group change re-indexes
	// only those nodes.
	members map[string]map[string]struct{}
	// keys holds, per node, its groups and the index keys it is filed under.
	keys map[string]*nodeKeys

	byMAC                  macIndex
	byIP, byUUID, bySerial keyIndex[string]

	// hierattrs is site.hierarchicalattrs when the nodes were last indexed:
	// it changes how every node resolves.
	hierattrs string
}

type nodeKeys struct {
	groups           []string
	macs             []string
	ip, uuid, serial string
}

// memChange is one settled change: obj is nil for a delete. attrs is the
// encoded attributes the backends write.
type memChange struct {
	op    inventory.ChangeOp
	typ   inventory.Type
	name  string
	obj   *inventory.Object
	attrs string
}

func newMemory() *memory {
	return &memory{
		objs:     make(map[inventory.Type]map[string]*inventory.Object),
		sorted:   make(map[inventory.Type][]*inventory.Object),
		members:  make(map[string]map[string]struct{}),
		keys:     make(map[string]*nodeKeys),
		byMAC:    newMACIndex(0),
		byIP:     newKeyIndex[string](0),
		byUUID:   newKeyIndex[string](0),
		bySerial: newKeyIndex[string](0),
	}
}

// Get implements inventory.View.
func (m *memory) Get(t inventory.Type, name string) (*inventory.Object, bool) {
	o, ok := m.objs[t][name]
	return o, ok
}

// List implements inventory.View. It returns the cached slice: callers
// outside the package get a copy from Store.List. It must not be called on a
// type whose cache is stale unless the caller holds the write lock.
func (m *memory) List(t inventory.Type) []*inventory.Object {
	if l, ok := m.sorted[t]; ok {
		return l
	}
	return m.rebuildSorted(t)
}

func (m *memory) listFresh(t inventory.Type) ([]*inventory.Object, bool) {
	l, ok := m.sorted[t]
	return l, ok
}

func (m *memory) rebuildSorted(t inventory.Type) []*inventory.Object {
	objs := m.objs[t]
	l := make([]*inventory.Object, 0, len(objs))
	for _, o := range objs {
		l = append(l, o)
	}
	sort.Slice(l, func(i, j int) bool { return l[i].Name < l[j].Name })
	m.sorted[t] = l
	return l
}

func (m *memory) count() int {
	n := 0
	for _, objs := range m.objs {
		n += len(objs)
	}
	return n
}

// apply applies a batch in order and re-indexes the nodes it affects. It
// returns the events for the batch: one per change, except deletes of
// objects that were not there.
func (m *memory) apply(rev int64, batch []memChange) []Event {
	events := make([]Event, 0, len(batch))
	reindex := make(map[string]struct{})
	siteTouched := false
	for _, c := range batch {
		var existed bool
		if c.obj != nil {
			existed = m.put(c.obj)
		} else {
			existed = m.del(c.typ, c.name)
		}
		if c.obj != nil || existed {
			events = append(events, Event{Rev: rev, Type: c.typ, Name: c.name, Op: c.op})
		}
		switch c.typ {
		case inventory.Node:
			m.setGroups(c.name, c.obj)
			reindex[c.name] = struct{}{}
		case inventory.Group:
			for n := range m.members[c.name] {
				reindex[n] = struct{}{}
			}
		case inventory.Site:
			siteTouched = true
		}
	}
	for n := range reindex {
		m.index(n)
	}
	if siteTouched && m.siteHierattrs() != m.hierattrs {
		m.reindexAll()
	}
	return events
}

// load fills an empty memory with objs and indexes every node.
func (m *memory) load(rev int64, objs []*inventory.Object) {
	m.rev = rev
	count := make(map[inventory.Type]int)
	for _, o := range objs {
		count[o.Type]++
	}
	for t, n := range count {
		m.objs[t] = make(map[string]*inventory.Object, n)
	}
	if n := count[inventory.Node]; n > 0 {
		m.keys = make(map[string]*nodeKeys, n)
		m.byMAC, m.byIP = newMACIndex(n), newKeyIndex[string](n)
		m.byUUID, m.bySerial = newKeyIndex[string](n), newKeyIndex[string](n)
	}
	for _, o := range objs {
		m.put(o)
		if o.Type == inventory.Node {
			m.setGroups(o.Name, o)
		}
	}
	m.reindexAll()
}

func (m *memory) reindexAll() {
	m.hierattrs = m.siteHierattrs()
	for n := range m.objs[inventory.Node] {
		m.index(n)
	}
}

func (m *memory) siteHierattrs() string {
	if site, ok := m.objs[inventory.Site][inventory.SiteName]; ok {
		return site.Attrs["hierarchicalattrs"]
	}
	return ""
}

// put stores o and reports whether an object of that name was there.
func (m *memory) put(o *inventory.Object) bool {
	objs := m.objs[o.Type]
	if objs == nil {
		objs = make(map[string]*inventory.Object)
		m.objs[o.Type] = objs
	}
	_, existed := objs[o.Name]
	objs[o.Name] = o
	if l, ok := m.sorted[o.Type]; ok {
		if !existed {
			delete(m.sorted, o.Type)
		} else if i, found := slices.BinarySearchFunc(l, o.Name, byName); found {
			l[i] = o
		}
	}
	return existed
}

func byName(o *inventory.Object, name string) int { return strings.Compare(o.Name, name) }

func (m *memory) del(t inventory.Type, name string) bool {
	if _, ok := m.objs[t][name]; !ok {
		return false
	}
	delete(m.objs[t], name)
	delete(m.sorted, t)
	return true
}

// setGroups updates group membership for node name (o nil: deleted).
func (m *memory) setGroups(name string, o *inventory.Object) {
	k := m.keys[name]
	if k == nil {
		if o == nil {
			return
		}
		k = &nodeKeys{}
		m.keys[name] = k
	}
	var groups []string
	if o != nil {
		groups = o.Groups()
	}
	if slices.Equal(groups, k.groups) {
		return
	}
	for _, g := range k.groups {
		if set := m.members[g]; set != nil {
			delete(set, name)
			if len(set) == 0 {
				delete(m.members, g)
			}
		}
	}
	for _, g := range groups {
		set := m.members[g]
		if set == nil {
			set = make(map[string]struct{})
			m.members[g] = set
		}
		set[name] = struct{}{}
	}
	k.groups = groups
}

// index files node name under its resolved mac, ip, uuid and serial,
// removing the keys it held before; a missing node is removed.
func (m *memory) index(name string) {
	k := m.keys[name]
	if k != nil {
		for _, mac := range k.macs {
			m.byMAC.remove(mac, name)
		}
		removeKey(m.byIP, k.ip, name)
		removeKey(m.byUUID, k.uuid, name)
		removeKey(m.bySerial, k.serial, name)
	}
	node, ok := m.objs[inventory.Node][name]
	if !ok {
		delete(m.keys, name)
		return
	}
	if k == nil {
		k = &nodeKeys{groups: node.Groups()}
		m.keys[name] = k
	}
	// The four attributes as inventory.Resolve resolves them; resolving
	// just these skips evaluating the node's other attributes.
	attr := func(a string) string {
		v, _ := inventory.ResolveAttr(m, node, a)
		return strings.TrimSpace(v)
	}
	k.macs = splitMACs(attr("mac"), k.macs[:0])
	k.ip = attr("ip")
	k.uuid = strings.ToLower(attr("uuid"))
	k.serial = attr("serial")
	for _, mac := range k.macs {
		m.byMAC.add(mac, node)
	}
	addKey(m.byIP, k.ip, node)
	addKey(m.byUUID, k.uuid, node)
	addKey(m.bySerial, k.serial, node)
}

// addKey files o under key unless key is empty.
func addKey(ix keyIndex[string], key string, o *inventory.Object) {
	if key != "" {
		ix.add(key, o)
	}
}

func removeKey(ix keyIndex[string], key, name string) {
	if key != "" {
		ix.remove(key, name)
	}
}

// splitMACs parses xCAT's mac attribute ("mac[!ifname]|mac[!ifname]|...")
// into normalised MACs, appended to dst.
func splitMACs(v string, dst []string) []string {
	if v == "" {
		return dst
	}
	for item := range strings.SplitSeq(v, "|") {
		if i := strings.IndexByte(item, '!'); i >= 0 {
			item = item[:i]
		}
		if mac := NormalizeMAC(item); mac != "" && !slices.Contains(dst, mac) {
			dst = append(dst, mac)
		}
	}
	return dst
}

// NormalizeMAC returns mac in the form the MAC index uses: lower case with
// ':' separators. It accepts '-' separators, Cisco's aabb.ccdd.eeff and
// bare hex digits; other text is returned trimmed and lower-cased.
func NormalizeMAC(mac string) string {
	bits, ok := parseMAC(mac)
	if !ok {
		return strings.ToLower(strings.TrimSpace(mac))
	}
	return formatMAC(bits)
}

func formatMAC(bits uint64) string {
	const digits = "0123456789abcdef"
	var b [17]byte
	for i := range 6 {
		octet := byte(bits >> (40 - 8*i))
		b[i*3] = digits[octet>>4]
		b[i*3+1] = digits[octet&0xf]
		if i < 5 {
			b[i*3+2] = ':'
		}
	}
	return string(b[:])
}

// parseMAC parses a 48-bit MAC written aa:bb:cc:dd:ee:ff, aa-bb-cc-dd-ee-ff,
// aabb.ccdd.eeff or aabbccddeeff (any case, surrounding blanks ignored)
// without allocating.
func parseMAC(mac string) (uint64, bool) {
	mac = strings.TrimSpace(mac)
	var sepEvery int // a separator after every sepEvery digits, 0 for none
	var sep byte
	switch len(mac) {
	case 12:
	case 17:
		sepEvery, sep = 2, mac[2]
		if sep != ':' && sep != '-' {
			return 0, false
		}
	case 14:
		sepEvery, sep = 4, '.'
	default:
		return 0, false
	}
	var bits uint64
	n := 0
	for i := 0; i < len(mac); i++ {
		c := mac[i]
		if sepEvery > 0 && i%(sepEvery+1) == sepEvery {
			if c != sep {
				return 0, false
			}
			continue
		}
		var d byte
		switch {
		case c >= '0' && c <= '9':
			d = c - '0'
		case c >= 'a' && c <= 'f':
			d = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			d = c - 'A' + 10
		default:
			return 0, false
		}
		bits = bits<<4 | uint64(d)
		n++
	}
	return bits, n == 12
}

// keyIndex maps a key to the node filed under it. Several nodes sharing a
// key is a configuration error, but the index stays correct when either of
// them changes: dup then holds all of them sorted by name, and one holds the
// first, which answers lookups. Values are the memory's node objects, so a
// node is re-filed whenever its object changes.
type keyIndex[K comparable] struct {
	one map[K]*inventory.Object
	dup map[K][]*inventory.Object
}

func newKeyIndex[K comparable](size int) keyIndex[K] {
	return keyIndex[K]{one: make(map[K]*inventory.Object, size), dup: make(map[K][]*inventory.Object)}
}

func (ix keyIndex[K]) add(key K, o *inventory.Object) {
	cur, ok := ix.one[key]
	if !ok || cur.Name == o.Name && ix.dup[key] == nil {
		ix.one[key] = o
		return
	}
	nodes := ix.dup[key]
	if nodes == nil {
		nodes = []*inventory.Object{cur}
	}
	if i, found := slices.BinarySearchFunc(nodes, o.Name, byName); found {
		nodes = slices.Clone(nodes)
		nodes[i] = o
	} else {
		nodes = slices.Insert(nodes, i, o)
	}
	ix.dup[key] = nodes
	ix.one[key] = nodes[0]
}

func (ix keyIndex[K]) remove(key K, name string) {
	nodes, isDup := ix.dup[key]
	if !isDup {
		if cur, ok := ix.one[key]; ok && cur.Name == name {
			delete(ix.one, key)
		}
		return
	}
	i, found := slices.BinarySearchFunc(nodes, name, byName)
	if !found {
		return
	}
	nodes = slices.Delete(slices.Clone(nodes), i, i+1)
	if len(nodes) == 1 {
		delete(ix.dup, key)
	} else {
		ix.dup[key] = nodes
	}
	ix.one[key] = nodes[0]
}

func (ix keyIndex[K]) first(key K) (*inventory.Object, bool) {
	o, ok := ix.one[key]
	return o, ok
}

// macIndex files MACs as 48-bit numbers (cheap to hash and compare), and
// any mac value that is not a MAC as text.
type macIndex struct {
	bits keyIndex[uint64]
	text keyIndex[string]
}

func newMACIndex(size int) macIndex {
	return macIndex{bits: newKeyIndex[uint64](size), text: newKeyIndex[string](0)}
}

// add files o under mac, which splitMACs normalised.
func (ix macIndex) add(mac string, o *inventory.Object) {
	if bits, ok := parseMAC(mac); ok {
		ix.bits.add(bits, o)
	} else {
		ix.text.add(mac, o)
	}
}

func (ix macIndex) remove(mac, name string) {
	if bits, ok := parseMAC(mac); ok {
		ix.bits.remove(bits, name)
	} else {
		ix.text.remove(mac, name)
	}
}

// lookup finds the node for a MAC in any accepted spelling.
func (ix macIndex) lookup(mac string) (*inventory.Object, bool) {
	if bits, ok := parseMAC(mac); ok {
		return ix.bits.first(bits)
	}
	mac = strings.ToLower(strings.TrimSpace(mac))
	if mac == "" {
		return nil, false
	}
	return ix.text.first(mac)
}

// diffEvents returns the events that turn old into new: puts for objects
// added or changed, deletes for objects gone; by type, then name.
func diffEvents(rev int64, old, new *memory) []Event {
	var events []Event
	for _, t := range inventory.Types() {
		start := len(events)
		for name, o := range new.objs[t] {
			if p, ok := old.objs[t][name]; !ok || !p.Equal(o) {
				events = append(events, Event{Rev: rev, Type: t, Name: name, Op: inventory.Put})
			}
		}
		for name := range old.objs[t] {
			if _, ok := new.objs[t][name]; !ok {
				events = append(events, Event{Rev: rev, Type: t, Name: name, Op: inventory.Delete})
			}
		}
		part := events[start:]
		sort.Slice(part, func(i, j int) bool { return part[i].Name < part[j].Name })
	}
	return events
}
