package testtools

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// SyncBuffer is a bytes.Buffer that a logger or a process writes while the
// test reads it.
type SyncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *SyncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *SyncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Tail returns about the last n bytes, from a line start.
func (b *SyncBuffer) Tail(n int) string {
	s := b.String()
	if len(s) <= n {
		return s
	}
	s = s[len(s)-n:]
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[i+1:]
	}
	return "...\n" + s
}

// ScratchFile is a file a fuzz target rewrites for every input, in place
// through one descriptor: a fuzzing process runs its inputs one after the
// other. (os.WriteFile truncates on open, and ext4 then flushes the file
// when it is closed: milliseconds per input instead of microseconds.)
type ScratchFile struct{ f *os.File }

// NewScratchFile creates the file, named name, in the fuzz target's
// temporary directory.
func NewScratchFile(f *testing.F, name string) *ScratchFile {
	f.Helper()
	file, err := os.Create(filepath.Join(f.TempDir(), name))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = file.Close() })
	return &ScratchFile{file}
}

// Write replaces the file's content with data and returns its path.
func (s *ScratchFile) Write(t *testing.T, data []byte) string {
	t.Helper()
	if err := s.f.Truncate(0); err != nil {
		t.Fatal(err)
	}
	if _, err := s.f.WriteAt(data, 0); err != nil {
		t.Fatal(err)
	}
	return s.f.Name()
}
