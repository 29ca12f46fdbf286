package xcatcmd

import (
	"context"
	"strings"
)

const tabpruneUsage = `Usage: tabprune <tablename> [-V] -a
       tabprune <tablename> [-V] -n <# of records>
       tabprune <tablename> [-V] -i <recid>
       tabprune <tablename> [-V] -p <percent>
       tabprune <tablename> [-V] -d <# of days>
       tabprune [-h|--help]
       tabprune [-v|--version]
       tables supported:eventlog,auditlog
       -d option only supported for eventlog,auditlog
`

// tabprune removes records from the eventlog or auditlog table (xCAT's
// tabprune, with its checks and messages). drover keeps neither table, so
// there is never anything to remove: -a and -i report completion (-V shows
// the empty table), -n and -p report that there is nothing to prune.
func (r *Runner) tabprune(_ context.Context, c *call) int {
	p, err := tabGetopt([]tabOpt{
		{names: []string{"h", "?", "help"}},
		{names: []string{"v", "version"}},
		{names: []string{"V"}},
		{names: []string{"p", "percent"}, value: true},
		{names: []string{"d", "days"}, value: true},
		{names: []string{"i", "recid"}, value: true},
		{names: []string{"a"}},
		{names: []string{"n", "number"}, value: true},
	}, c.req.Args)
	_, _, pOK := p.intOpt("p")
	_, _, dOK := p.intOpt("d")
	_, _, nOK := p.intOpt("n")
	if err != nil || !pOK || !dOK || !nOK {
		c.out(tabpruneUsage)
		return 1
	}
	if p.has("h") {
		c.out(tabpruneUsage)
		return 0
	}
	if p.has("v") {
		c.out(tabVersion)
		return 0
	}
	if len(p.args) > 1 {
		c.out(tabpruneUsage)
		return 1
	}
	if len(p.args) == 0 {
		c.out("Table name required.\n")
		return 1
	}
	table := strings.Join(strings.Fields(p.args[0]), "")
	if table != "eventlog" && table != "auditlog" {
		c.out("Table %s not supported, see tabprune -h for supported tables.\n", table)
		return 1
	}
	count := 0
	for _, o := range []string{"p", "i", "a", "n"} {
		if p.has(o) {
			count++
		}
	}
	if count == 0 && !p.has("d") {
		c.out("One option -p or -i or -n or -a or -d must be supplied.\n")
		return 1
	}
	if count > 1 {
		c.out("Only one option -p or -i or -n or -a maybe used at a time.\n")
		return 1
	}
	verbose := p.has("V")
	ts := r.tables()
	if verbose && (p.has("a") || p.has("i") || p.has("d")) {
		c.out("%s\n", formatTabHeader(ts.layout(table).def.Columns))
	}
	if p.has("n") || p.has("p") {
		c.out("Nothing to prune from %s.\n", table)
	}
	if !verbose {
		c.out("tabprune of %s complete.\n", table)
	}
	return 0
}
