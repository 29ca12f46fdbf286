// Command gen writes the benchmark inventory as an xCAT stanza file: N nodes
// cn000001... spread over G groups grp0001... (plus all), each with a MAC,
// an IP, a serial and a BMC, and the G group objects with mgt and a BMC
// password. Usage: go run ./bench/gen -nodes 100000 -groups 1000 > inv.stanza
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
)

func main() {
	nodes := flag.Int("nodes", 100000, "number of nodes")
	groups := flag.Int("groups", 1000, "number of groups")
	flag.Parse()
	w := bufio.NewWriterSize(os.Stdout, 1<<20)
	defer w.Flush()
	fmt.Fprintln(w, "# <xCAT data object stanza file>")
	for g := 1; g <= *groups; g++ {
		fmt.Fprintf(w, "\ngrp%04d:\n    objtype=group\n    mgt=ipmi\n    bmcusername=admin\n    bmcpassword=pw%04d\n    netboot=xnba\n", g, g)
	}
	for i := 1; i <= *nodes; i++ {
		g := (i-1)%*groups + 1
		fmt.Fprintf(w, "\ncn%06d:\n    objtype=node\n    groups=grp%04d,all\n    mac=52:54:%02x:%02x:%02x:%02x\n    ip=198.%d.%d.%d\n    serial=SN%06d\n    bmc=198.19.%d.%d\n",
			i, g, byte(i>>24), byte(i>>16), byte(i>>8), byte(i), 18+(i>>16)&1, byte(i>>8), byte(i), i, byte(i>>8), byte(i))
	}
}
