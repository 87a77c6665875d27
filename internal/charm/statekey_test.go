//go:build unix

package charm

import (
	"bytes"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestOpenKeyReplacesWhatIsNotAKey: whatever sits at the key's path that
// is not a 32-byte regular file of the charm's, mode 0600, is neither read,
// followed nor waited on, but replaced by a fresh key file, and the event
// is told why.
func TestOpenKeyReplacesWhatIsNotAKey(t *testing.T) {
	good := bytes.Repeat([]byte("k"), keySize)
	tests := []struct {
		name  string
		setup func(t *testing.T, path string)
		why   string
		// check runs after OpenKey: what it must have left alone.
		check func(t *testing.T, path string)
	}{{
		name:  "FIFO",
		setup: func(t *testing.T, path string) { require.NoError(t, syscall.Mkfifo(path, 0o600)) },
		why:   "it is a FIFO",
	}, {
		name:  "symlink to /dev/zero",
		setup: func(t *testing.T, path string) { require.NoError(t, os.Symlink("/dev/zero", path)) },
		why:   "it is a symbolic link",
	}, {
		name: "symlink to another file, even a good key",
		setup: func(t *testing.T, path string) {
			other := filepath.Join(filepath.Dir(path), "other")
			require.NoError(t, os.WriteFile(other, good, 0o600))
			require.NoError(t, os.Symlink(other, path))
		},
		why: "it is a symbolic link",
		check: func(t *testing.T, path string) {
			b, err := os.ReadFile(filepath.Join(filepath.Dir(path), "other"))
			require.NoError(t, err)
			assert.Equal(t, good, b, "the link's target is untouched")
		},
	}, {
		name: "mode 0666",
		setup: func(t *testing.T, path string) {
			require.NoError(t, os.WriteFile(path, good, 0o600))
			require.NoError(t, os.Chmod(path, 0o666))
		},
		why: "its mode is 0666, not 0600",
	}, {
		name:  "wrong size",
		setup: func(t *testing.T, path string) { require.NoError(t, os.WriteFile(path, append(good, 'x'), 0o600)) },
		why:   "it is 33 bytes, not 32",
	}, {
		name:  "empty",
		setup: func(t *testing.T, path string) { require.NoError(t, os.WriteFile(path, nil, 0o600)) },
		why:   "it is 0 bytes, not 32",
	}, {
		name:  "directory",
		setup: func(t *testing.T, path string) { require.NoError(t, os.Mkdir(path, 0o700)) },
		why:   "it is a directory",
	}, {
		name: "another owner",
		setup: func(t *testing.T, path string) {
			if os.Geteuid() != 0 {
				t.Skip("chown to another user needs root")
			}
			require.NoError(t, os.WriteFile(path, good, 0o600))
			require.NoError(t, os.Chown(path, 65534, 65534))
		},
		why: "it is owned by uid 65534, not by the charm's uid 0",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), keyFileName)
			tt.setup(t, path)
			type result struct {
				key  []byte
				note string
				err  error
			}
			done := make(chan result, 1)
			go func() {
				k, note, err := OpenKey(path)
				done <- result{k, note, err}
			}()
			var r result
			select {
			case r = <-done:
			case <-time.After(5 * time.Second):
				// A hang guard, not a speed assertion: a blocking open
				// never returns at all.
				t.Fatal("OpenKey blocked")
			}
			require.NoError(t, r.err)
			assert.Len(t, r.key, keySize)
			assert.NotEqual(t, good, r.key, "never the content of what was there")
			assert.Contains(t, r.note, tt.why)
			assert.Contains(t, r.note, "replaced the state key file")

			fi, err := os.Lstat(path)
			require.NoError(t, err)
			assert.True(t, fi.Mode().IsRegular(), "a regular file now, not %v", fi.Mode())
			assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
			b, err := os.ReadFile(path)
			require.NoError(t, err)
			assert.Equal(t, r.key, b)
			if tt.check != nil {
				tt.check(t, path)
			}

			again, note, err := OpenKey(path)
			require.NoError(t, err)
			assert.Equal(t, r.key, again, "the fresh key is kept")
			assert.Empty(t, note)
		})
	}
}

// TestOpenKeyFirstTime: no key yet is no news.
func TestOpenKeyFirstTime(t *testing.T) {
	path := filepath.Join(t.TempDir(), keyFileName)
	k, note, err := OpenKey(path)
	require.NoError(t, err)
	assert.Len(t, k, keySize)
	assert.Empty(t, note)
}
