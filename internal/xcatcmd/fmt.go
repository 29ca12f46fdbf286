package xcatcmd

import (
	"fmt"
	"io"
)

func fprintf(w io.Writer, format string, a ...any) {
	if len(a) == 0 {
		io.WriteString(w, format)
		return
	}
	fmt.Fprintf(w, format, a...)
}
