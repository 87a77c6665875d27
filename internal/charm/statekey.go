package charm

import (
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// keySize is the length of the unit's state key: as long as the HMAC-SHA256
// output, so the key is never the weak part.
const keySize = 32

// keyFileName is the state key's file, in the unit agent's directory
// (the parent of JUJU_CHARM_DIR): an upgrade replaces the charm directory,
// not its parent, and the agent's directory is root's.
const keyFileName = ".vsphere-integrator-state.key"

// KeyPath is where the unit keeps its state key; "" when the charm
// directory is unknown.
func KeyPath(charmDir string) string {
	if charmDir == "" {
		return ""
	}
	return filepath.Join(filepath.Dir(filepath.Clean(charmDir)), keyFileName)
}

// LoadKey is OpenKey without the note.
func LoadKey(path string) ([]byte, error) {
	key, _, err := OpenKey(path)
	return key, err
}

// OpenKey reads the state key at path, creating a random one (readable by
// its owner only) when there is none. A file that is not exactly a key the
// charm made (docs/security.md, "The state key"): a symbolic link, a FIFO,
// a directory or a device, a file of another size, another owner or a mode
// other than 0600, is never read, followed or waited on: it is replaced
// with a fresh key, and replaced says why, for the event to log. A new key
// only makes the next event check and compare once more: nothing in unit
// state can be read without it, so nothing is lost.
func OpenKey(path string) (key []byte, replaced string, err error) {
	if path == "" {
		return nil, "", errors.New("no place for the state key: JUJU_CHARM_DIR is not set")
	}
	key, why, err := readKey(path)
	switch {
	case err != nil:
		return nil, "", fmt.Errorf("read state key: %w", err)
	case why == "":
		return key, "", nil
	case why == whyMissing:
		return newKey(path, false)
	}
	key, _, err = newKey(path, why == whyDirectory)
	if err != nil {
		return nil, "", fmt.Errorf("replace state key (%s): %w", why, err)
	}
	return key, "replaced the state key file " + path + ": " + why, nil
}

const (
	whyMissing   = "missing"
	whyDirectory = "it is a directory"
)

// readKey reads the key if, and only if, the file is exactly what the
// charm writes; otherwise why says what it is instead. err is an I/O
// failure that replacing the file would not cure.
func readKey(path string) (key []byte, why string, err error) {
	f, why, err := openNoFollow(path)
	if f == nil {
		return nil, why, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, "", err
	}
	if why := unfit(fi); why != "" {
		return nil, why, nil
	}
	// Bounded, though the size was checked: the file may grow meanwhile.
	buf, err := io.ReadAll(io.LimitReader(f, keySize+1))
	if err != nil {
		return nil, "", err
	}
	if len(buf) != keySize {
		return nil, fmt.Sprintf("it holds %d bytes, not %d", len(buf), keySize), nil
	}
	return buf, "", nil
}

// kind names a file mode that is not a regular file.
func kind(m fs.FileMode) string {
	switch {
	case m&fs.ModeDir != 0:
		return whyDirectory
	case m&fs.ModeSymlink != 0:
		return "it is a symbolic link"
	case m&fs.ModeNamedPipe != 0:
		return "it is a FIFO"
	case m&fs.ModeSocket != 0:
		return "it is a socket"
	case m&fs.ModeDevice != 0:
		return "it is a device"
	}
	return fmt.Sprintf("it is not a regular file (%v)", m.Type())
}

// newKey writes a fresh key aside (CreateTemp makes it 0600) and renames it
// over path, so that two events never see half a key, and a symbolic link
// at path is itself replaced, never its target. An empty directory there
// is removed first: rename cannot replace it.
func newKey(path string, dir bool) ([]byte, string, error) {
	key := make([]byte, keySize)
	if _, err := rand.Read(key); err != nil {
		return nil, "", fmt.Errorf("make state key: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), keyFileName+".*")
	if err != nil {
		return nil, "", fmt.Errorf("write state key: %w", err)
	}
	defer os.Remove(tmp.Name())
	_, werr := tmp.Write(key)
	if err := errors.Join(werr, tmp.Sync(), tmp.Close()); err != nil {
		return nil, "", fmt.Errorf("write state key: %w", err)
	}
	if dir {
		if err := os.Remove(path); err != nil {
			return nil, "", fmt.Errorf("remove the directory in the state key's place: %w", err)
		}
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return nil, "", fmt.Errorf("write state key: %w", err)
	}
	return key, "", nil
}

// FallbackKey is the key to use when LoadKey fails: stable, so that events
// still tell what changed, but made of the model's and unit's names, which
// are no secret.
func FallbackKey(modelUUID, unit string) []byte {
	k := sha256.Sum256([]byte("vsphere-integrator fallback state key\x00" + modelUUID + "\x00" + unit))
	return k[:]
}
