package xcatcmd

import (
	"errors"
	"fmt"
	"strings"
)

// The CSV dialect of tabdump and tabrestore (xCAT's tabutils.pm): a header
// line "#col,col,...", then one line per row where a defined value is
// written "value" with every " doubled, an undefined value as nothing, and
// one trailing comma removed. A quoted value may span lines.

// formatTabLine renders one row the way tabdump prints it.
func formatTabLine(vals []string) string {
	var b strings.Builder
	for _, v := range vals {
		if v == "" {
			b.WriteByte(',')
			continue
		}
		b.WriteByte('"')
		b.WriteString(strings.ReplaceAll(v, `"`, `""`))
		b.WriteString(`",`)
	}
	return strings.TrimSuffix(b.String(), ",")
}

// formatTabHeader renders the header line of a table.
func formatTabHeader(cols []string) string { return "#" + strings.Join(cols, ",") }

// errNoHeader is tabrestore's error for input without a header line.
var errNoHeader = errors.New("Data missing header line starting with #") //nolint:staticcheck // xCAT's exact text

// tabRecord is one record of a tabrestore file.
type tabRecord struct {
	line int      // line of the file the record starts on (the header is line 1)
	text string   // the record's first line, for messages
	vals []string // per header column; "" is undefined
}

// tabLineError is an error in one record of a tabrestore file.
type tabLineError struct {
	line int
	msg  string
}

func (e *tabLineError) Error() string { return e.msg }

// trimTrailingSpace removes trailing white space as Perl's s/\s+$// does.
func trimTrailingSpace(s string) string { return strings.TrimRight(s, " \t\n\r\f\v") }

// splitTabLines splits data into lines the way Perl's <$fh> reads them.
func splitTabLines(data string) []string {
	lines := strings.SplitAfter(data, "\n")
	if n := len(lines); n > 0 && lines[n-1] == "" {
		lines = lines[:n-1]
	}
	return lines
}

// perlSplitComma splits s on commas like Perl's split(/,/, s): trailing
// empty fields are dropped.
func perlSplitComma(s string) []string {
	f := strings.Split(s, ",")
	for len(f) > 0 && f[len(f)-1] == "" {
		f = f[:len(f)-1]
	}
	return f
}

// parseTabCSV parses a tabrestore file like xCAT's tabrestore: the first
// line must start with "#" (quotes are stripped from it, trailing blanks
// too), then each record is read column by column: empty, a quoted value
// ("" is a quote inside; it may continue on the next lines, joined with a
// newline, each line's trailing blanks removed) or a bare value up to the
// next comma. A record with a quote that does not open a value, an
// unmatched or unescaped quote, or more fields than the header is an error;
// parsing goes on with the next record so that every bad line is reported.
// Unlike xCAT, blank lines are skipped (xCAT inserts an empty row for them)
// and errors name the line of the file, counting the header as line 1.
func parseTabCSV(data string) (cols []string, recs []tabRecord, lineErrs []*tabLineError, err error) {
	lines := splitTabLines(data)
	if len(lines) == 0 || !strings.HasPrefix(lines[0], "#") {
		return nil, nil, nil, errNoHeader
	}
	header := strings.ReplaceAll(lines[0], `"`, "")
	header = trimTrailingSpace(strings.TrimPrefix(header, "#"))
	cols = perlSplitComma(header)
	lines = lines[1:]
	for li := 0; li < len(lines); li++ {
		line := trimTrailingSpace(lines[li])
		if line == "" {
			continue
		}
		orig, start := line, li+2
		fail := func(format string, a ...any) {
			lineErrs = append(lineErrs, &tabLineError{line: start, msg: fmt.Sprintf(format, a...)})
		}
		vals := make([]string, len(cols))
		bad := false
	cols:
		for ci := range cols {
			switch {
			case line == "" || line[0] == ',':
				line = strings.TrimPrefix(line, ",")
			case quoteBeforeComma(line):
				if line[0] != '"' {
					fail("CSV missing opening \" for record with \" characters on line %d, character %d: %s", start, strings.Index(orig, line), orig)
					bad = true
					break cols
				}
				offset := 1
				for {
					j := strings.IndexByte(line[offset:], '"')
					if j < 0 {
						if li+1 < len(lines) {
							li++
							offset = len(line)
							line = trimTrailingSpace(line + "\n" + lines[li])
							continue
						}
						fail("CSV unmatched \" in record on line %d, character %d: %s", start, strings.Index(orig, line), orig)
						bad = true
						break cols
					}
					q := offset + j
					offset = q + 1
					if offset < len(line) && line[offset] == '"' {
						offset++
						continue
					}
					if offset == len(line) || line[offset] == ',' {
						vals[ci] = strings.ReplaceAll(line[1:q], `""`, `"`)
						line = strings.TrimPrefix(line[offset:], ",")
						break
					}
					fail("CSV unescaped \" in record on line %d, character %d: %s", start, strings.Index(orig, line), orig)
					bad = true
					break cols
				}
			default:
				v, rest, found := strings.Cut(line, ",")
				vals[ci], line = v, rest
				if !found {
					line = ""
				}
			}
		}
		if bad {
			continue
		}
		if line != "" {
			fail("Too many fields on line %d: %s | %s", start, orig, line)
			continue
		}
		recs = append(recs, tabRecord{line: start, text: orig, vals: vals})
	}
	return cols, recs, lineErrs, nil
}

// quoteBeforeComma reports whether a '"' comes before the first ',' (the
// /^[^,]*"/ test of tabrestore).
func quoteBeforeComma(s string) bool {
	q := strings.IndexByte(s, '"')
	if q < 0 {
		return false
	}
	c := strings.IndexByte(s, ',')
	return c < 0 || q < c
}
