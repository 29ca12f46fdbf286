package discoveryimage

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// ErrNotAr is returned when a file does not start with the ar magic.
var ErrNotAr = errors.New("not an ar archive")

const (
	arMagic     = "!<arch>\n"
	arHeaderLen = 60
)

// arMember is one member header of an ar archive (the format of .deb files).
type arMember struct {
	Name string
	Size int64
}

// arReader reads the members of a System V / GNU ar archive in order, like
// archive/tar: Next moves to the next member and Read reads its data.
type arReader struct {
	r         *bufio.Reader
	remaining int64 // unread bytes of the current member
	pad       bool  // the current member is followed by a pad byte
	started   bool
}

func newArReader(r io.Reader) *arReader {
	return &arReader{r: bufio.NewReader(r)}
}

// Next skips the rest of the current member and returns the next header;
// io.EOF at the clean end of the archive.
func (a *arReader) Next() (arMember, error) {
	if !a.started {
		a.started = true
		magic := make([]byte, len(arMagic))
		if _, err := io.ReadFull(a.r, magic); err != nil || string(magic) != arMagic {
			return arMember{}, ErrNotAr
		}
	}
	skip := a.remaining
	if a.pad {
		skip++
	}
	if skip > 0 {
		if _, err := io.CopyN(io.Discard, a.r, skip); err != nil {
			return arMember{}, fmt.Errorf("ar: truncated member: %w", io.ErrUnexpectedEOF)
		}
	}
	a.remaining, a.pad = 0, false
	var h [arHeaderLen]byte
	n, err := io.ReadFull(a.r, h[:])
	if n == 0 && errors.Is(err, io.EOF) {
		return arMember{}, io.EOF
	}
	if err != nil {
		return arMember{}, fmt.Errorf("ar: truncated header: %w", io.ErrUnexpectedEOF)
	}
	return a.parseHeader(h)
}

func (a *arReader) parseHeader(h [arHeaderLen]byte) (arMember, error) {
	if string(h[58:60]) != "`\n" {
		return arMember{}, errors.New("ar: bad header terminator")
	}
	sizeField := strings.TrimRight(string(h[48:58]), " ")
	size, err := strconv.ParseInt(sizeField, 10, 64)
	if err != nil || size < 0 {
		return arMember{}, fmt.Errorf("ar: bad member size %q", sizeField)
	}
	name := strings.TrimRight(string(h[0:16]), " ")
	if strings.HasPrefix(name, "#1/") {
		// BSD long name: the name is the first n bytes of the data.
		n, err := strconv.Atoi(name[3:])
		if err != nil || n < 0 || int64(n) > size {
			return arMember{}, fmt.Errorf("ar: bad BSD name length %q", name)
		}
		buf := make([]byte, n)
		if _, err := io.ReadFull(a.r, buf); err != nil {
			return arMember{}, fmt.Errorf("ar: truncated name: %w", io.ErrUnexpectedEOF)
		}
		name = strings.TrimRight(string(buf), "\x00")
		size -= int64(n)
		a.pad = (size+int64(n))%2 == 1
	} else {
		a.pad = size%2 == 1
		if name != "/" && name != "//" {
			name = strings.TrimSuffix(name, "/") // GNU terminates names with '/'
		}
	}
	a.remaining = size
	return arMember{Name: name, Size: size}, nil
}

// Read reads from the current member.
func (a *arReader) Read(p []byte) (int, error) {
	if a.remaining <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > a.remaining {
		p = p[:a.remaining]
	}
	n, err := a.r.Read(p)
	a.remaining -= int64(n)
	if errors.Is(err, io.EOF) && a.remaining > 0 {
		err = io.ErrUnexpectedEOF
	}
	if a.remaining == 0 && err == nil {
		return n, nil
	}
	return n, err
}
