package x500

import (
	"reflect"
	"testing"
)

func TestSplitUnquoted(t *testing.T) {
	for _, tc := range []struct {
		in   string
		sep  byte
		want []string
	}{
		{"CN=a, O=b", ',', []string{"CN=a", " O=b"}},
		{`CN="a, b", O=c`, ',', []string{`CN="a, b"`, " O=c"}},
		{`CN=a\, b, O=c`, ',', []string{`CN=a\, b`, " O=c"}},
		{"CN=a+OU=b", '+', []string{"CN=a", "OU=b"}},
		{"", ',', []string{""}},
	} {
		if got := SplitUnquoted(tc.in, tc.sep); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("SplitUnquoted(%q, %q) = %q, want %q", tc.in, tc.sep, got, tc.want)
		}
	}
}
