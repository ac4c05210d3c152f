package simulator

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestUnverifiedIsListed keeps the package documentation's list of
// unverified behaviour complete: every file whose comments mark something
// unverified has an entry there.
func TestUnverifiedIsListed(t *testing.T) {
	doc, err := os.ReadFile("sim.go")
	if err != nil {
		t.Fatal(err)
	}
	_, list, ok := strings.Cut(string(doc), "// # Unverified")
	if !ok {
		t.Fatal("sim.go's package documentation has no '# Unverified' section")
	}
	list, _, _ = strings.Cut(list, "package simulator")
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") || f == "sim.go" {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(strings.ToLower(string(src)), "unverified") && !strings.Contains(list, "//   - "+f+":") {
			t.Errorf("%s marks behaviour unverified but the package documentation's list has no entry for it", f)
		}
	}
}
