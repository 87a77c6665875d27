package hooktoolstest

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// StateFileEnv names the environment variable that tells the fakejuju
// binary where its state lives.
const StateFileEnv = "FAKEJUJU_STATE"

// ReadFile loads a Juju saved by WriteFile.
func ReadFile(path string) (*Juju, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read fake juju state: %w", err)
	}
	j := &Juju{}
	if err := json.Unmarshal(data, j); err != nil {
		return nil, fmt.Errorf("decode fake juju state %s: %w", path, err)
	}
	return j, nil
}

// WriteFile saves the Juju as JSON. It replaces the file in one rename, so
// a reader never sees half a state.
func (j *Juju) WriteFile(path string) error {
	j.mu.Lock()
	data, err := json.MarshalIndent(j, "", "  ")
	j.mu.Unlock()
	if err != nil {
		return fmt.Errorf("encode fake juju state: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("write fake juju state: %w", err)
	}
	defer os.Remove(tmp.Name()) // no-op once renamed
	if _, err := tmp.Write(append(data, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("write fake juju state: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write fake juju state: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write fake juju state: %w", err)
	}
	return nil
}

// UpdateFile loads the state at path, lets f change it and saves it, all
// under an exclusive lock on path+".lock": each tool process reads,
// changes and writes the whole state, and a charm may run tools
// concurrently. The state is saved even when f fails (a refused tool call
// is still recorded); f's error is returned.
func UpdateFile(path string, f func(*Juju) error) error {
	unlock, err := lockFile(path + ".lock")
	if err != nil {
		return err
	}
	defer unlock()
	j, err := ReadFile(path)
	if err != nil {
		return err
	}
	ferr := f(j)
	if err := j.WriteFile(path); err != nil {
		return errors.Join(ferr, err)
	}
	return ferr
}

// BeginHookFile is BeginHook on the state file at path: a driver that runs
// the charm as a process (dispatch, as the unit agent does) calls it
// before the process starts, and EndHookFile with its exit code after.
func BeginHookFile(path string) error {
	return UpdateFile(path, (*Juju).BeginHook)
}

// EndHookFile is EndHook on the state file at path.
func EndHookFile(path string, exitCode int) error {
	return UpdateFile(path, func(j *Juju) error { return j.EndHook(exitCode) })
}

// InstallTools makes every tool of ToolNames in dir a symlink to binary
// (the fakejuju executable, which answers as the tool it is called by).
// Existing links are replaced.
func InstallTools(dir, binary string) error {
	binary, err := filepath.Abs(binary)
	if err != nil {
		return fmt.Errorf("install hook tools: %w", err)
	}
	for _, name := range ToolNames() {
		link := filepath.Join(dir, name)
		if err := os.Remove(link); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("install hook tool %s: %w", name, err)
		}
		if err := os.Symlink(binary, link); err != nil {
			return fmt.Errorf("install hook tool %s: %w", name, err)
		}
	}
	return nil
}
