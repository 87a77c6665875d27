package charm

import (
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
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

// LoadKey reads the state key at path, creating a random one (readable by
// its owner only) when there is none or it is unreadable. A new key only
// makes the next event check and compare once more: nothing in unit state
// can be read without it, so nothing is lost.
func LoadKey(path string) ([]byte, error) {
	if path == "" {
		return nil, errors.New("no place for the state key: JUJU_CHARM_DIR is not set")
	}
	if key, err := os.ReadFile(path); err == nil && len(key) == keySize {
		return key, nil
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("read state key: %w", err)
	}
	key := make([]byte, keySize)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("make state key: %w", err)
	}
	// Written aside (CreateTemp makes it 0600) and renamed, so that two
	// events never see half a key.
	tmp, err := os.CreateTemp(filepath.Dir(path), keyFileName+".*")
	if err != nil {
		return nil, fmt.Errorf("write state key: %w", err)
	}
	defer os.Remove(tmp.Name())
	_, werr := tmp.Write(key)
	if err := errors.Join(werr, tmp.Close()); err != nil {
		return nil, fmt.Errorf("write state key: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return nil, fmt.Errorf("write state key: %w", err)
	}
	return key, nil
}

// FallbackKey is the key to use when LoadKey fails: stable, so that events
// still tell what changed, but made of the model's and unit's names, which
// are no secret.
func FallbackKey(modelUUID, unit string) []byte {
	k := sha256.Sum256([]byte("vsphere-integrator fallback state key\x00" + modelUUID + "\x00" + unit))
	return k[:]
}
