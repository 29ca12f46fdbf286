package discoveryimage

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/google/go-cmp/cmp"
)

type arGot struct {
	Name string
	Data string
}

func readAllAr(b []byte) ([]arGot, error) {
	a := newArReader(bytes.NewReader(b))
	var got []arGot
	for {
		m, err := a.Next()
		if errors.Is(err, io.EOF) {
			return got, nil
		}
		if err != nil {
			return got, err
		}
		d, err := io.ReadAll(a)
		if err != nil {
			return got, err
		}
		if int64(len(d)) != m.Size {
			return got, errors.New("size mismatch")
		}
		got = append(got, arGot{m.Name, string(d)})
	}
}

var arCases = []struct {
	name    string
	in      []byte
	want    []arGot
	wantErr bool
}{
	{
		name: "deb",
		in: arFile([]arTestMember{
			{"debian-binary", []byte("2.0\n")},
			{"control.tar.xz", []byte("odd")},
			{"data.tar.xz", []byte("even")},
		}),
		want: []arGot{{"debian-binary", "2.0\n"}, {"control.tar.xz", "odd"}, {"data.tar.xz", "even"}},
	},
	{name: "empty archive", in: []byte(arMagic)},
	{
		name: "plain names without slash and empty member",
		in:   []byte(arMagic + "a               0           0     0     100644  0         `\nb               0           0     0     100644  1         `\nx\n"),
		want: []arGot{{"a", ""}, {"b", "x"}},
	},
	{
		name: "BSD long name",
		in:   []byte(arMagic + "#1/20           0           0     0     100644  23        `\nlong-member-name.txt" + "abc\n"),
		want: []arGot{{"long-member-name.txt", "abc"}},
	},
	{name: "bad magic", in: []byte("!<arch>x"), wantErr: true},
	{name: "empty input", in: nil, wantErr: true},
	{name: "truncated header", in: []byte(arMagic + "debian-binary/  0"), wantErr: true},
	{name: "bad terminator", in: []byte(arMagic + "a/              0           0     0     100644  4         xx2.0\n"), wantErr: true},
	{name: "bad size", in: []byte(arMagic + "a/              0           0     0     100644  -4        `\n"), wantErr: true},
	{name: "size not a number", in: []byte(arMagic + "a/              0           0     0     100644  4x        `\n"), wantErr: true},
	{name: "truncated member", in: []byte(arMagic + "a/              0           0     0     100644  40        `\nabc"), wantErr: true},
	{name: "BSD name longer than member", in: []byte(arMagic + "#1/20           0           0     0     100644  3         `\nabc\n"), wantErr: true},
}

func TestArReader(t *testing.T) {
	for _, tc := range arCases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := readAllAr(tc.in)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error %v", err, tc.wantErr)
			}
			if tc.wantErr {
				return
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("members (-want +got):\n%s", diff)
			}
		})
	}
}

// TestArReaderSkipsUnreadMembers checks that Next skips data not read.
func TestArReaderSkipsUnreadMembers(t *testing.T) {
	a := newArReader(bytes.NewReader(arCases[0].in))
	var names []string
	for {
		m, err := a.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, m.Name)
	}
	if diff := cmp.Diff([]string{"debian-binary", "control.tar.xz", "data.tar.xz"}, names); diff != "" {
		t.Error(diff)
	}
}

func FuzzArReader(f *testing.F) {
	for _, tc := range arCases {
		f.Add(tc.in)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got, _ := readAllAr(b)
		total := 0
		for _, m := range got {
			total += len(m.Data) + len(m.Name)
		}
		if total > len(b) {
			t.Fatalf("read %d bytes of members from %d bytes of input", total, len(b))
		}
	})
}
