// Command fakejuju answers as Juju's hook tools for end-to-end tests: run
// as relation-get, status-set, ... (through a symlink of that name) it
// loads the unit's state from the JSON file $FAKEJUJU_STATE, runs the tool
// against it with hooktoolstest.Juju.Run (the same code unit tests use in
// process), saves the state with the call recorded, and prints and exits as
// the real tool would.
//
//	fakejuju install DIR        symlink every hook tool in DIR to this binary
//	fakejuju tools              list the hook tools it answers
//	fakejuju begin-hook         start a hook: writes are pending until it ends
//	fakejuju end-hook EXITCODE  end it: commit if EXITCODE is 0, else roll back
//
// A test writes the initial state with hooktoolstest.Juju.WriteFile, puts
// DIR first on PATH with FAKEJUJU_STATE set, runs the charm, and reads the
// state back with hooktoolstest.ReadFile. JUJU_RELATION_ID and
// JUJU_REMOTE_UNIT, as Juju sets them for relation hooks, give the default
// relation and unit. A driver that runs hooks as processes brackets each
// with begin-hook and end-hook (or hooktoolstest.BeginHookFile and
// EndHookFile) so that a failed hook commits nothing, as in Juju.
package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"

	"github.com/charmed-kubernetes/vsphere-integrator/internal/hooktools/hooktoolstest"
)

func main() {
	os.Exit(run(os.Args, os.Stdin, os.Stdout, os.Stderr))
}

func run(argv []string, stdin io.Reader, stdout, stderr io.Writer) int {
	tool := filepath.Base(argv[0])
	if slices.Contains(hooktoolstest.ToolNames(), tool) {
		return runTool(tool, argv[1:], stdin, stdout, stderr)
	}
	switch {
	case len(argv) == 3 && argv[1] == "install":
		self, err := os.Executable()
		if err == nil {
			err = hooktoolstest.InstallTools(argv[2], self)
		}
		if err != nil {
			fmt.Fprintf(stderr, "fakejuju: %v\n", err)
			return 1
		}
		return 0
	case len(argv) == 2 && argv[1] == "tools":
		for _, name := range hooktoolstest.ToolNames() {
			fmt.Fprintln(stdout, name)
		}
		return 0
	case len(argv) == 2 && argv[1] == "begin-hook":
		return hookCommand(stderr, hooktoolstest.BeginHookFile)
	case len(argv) == 3 && argv[1] == "end-hook":
		code, err := strconv.Atoi(argv[2])
		if err != nil {
			fmt.Fprintf(stderr, "fakejuju: end-hook: exit code %q is not a number\n", argv[2])
			return 2
		}
		return hookCommand(stderr, func(path string) error { return hooktoolstest.EndHookFile(path, code) })
	}
	fmt.Fprintf(stderr, "usage: fakejuju install DIR | tools | begin-hook | end-hook EXITCODE\n"+
		"or run through a symlink named like a hook tool, with $%s set\n", hooktoolstest.StateFileEnv)
	return 2
}

// hookCommand runs begin-hook or end-hook on the state file. A refused
// commit (charm state over the controller's limit) exits 1 with Juju's
// error, as the hook then fails in Juju.
func hookCommand(stderr io.Writer, f func(path string) error) int {
	path := os.Getenv(hooktoolstest.StateFileEnv)
	if path == "" {
		fmt.Fprintf(stderr, "fakejuju: $%s is not set\n", hooktoolstest.StateFileEnv)
		return 1
	}
	if err := f(path); err != nil {
		fmt.Fprintf(stderr, "fakejuju: %v\n", err)
		return 1
	}
	return 0
}

// runTool runs one hook tool against the state file. Failures of the fake
// itself are reported the way Juju reports its own, "ERROR ..." and exit 1,
// so the charm sees an ordinary tool failure.
func runTool(tool string, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	path := os.Getenv(hooktoolstest.StateFileEnv)
	if path == "" {
		fmt.Fprintf(stderr, "ERROR fakejuju: $%s is not set\n", hooktoolstest.StateFileEnv)
		return 1
	}
	// Read stdin only for `--file -`: other tools must not block on a
	// terminal or an open pipe they were handed.
	var in []byte
	if readsStdin(args) {
		var err error
		if in, err = io.ReadAll(stdin); err != nil {
			fmt.Fprintf(stderr, "ERROR fakejuju: read stdin: %v\n", err)
			return 1
		}
	}
	var out, errOut []byte
	code := 0
	err := hooktoolstest.UpdateFile(path, func(j *hooktoolstest.Juju) error {
		j.HookRelation = os.Getenv("JUJU_RELATION_ID")
		j.RemoteUnit = os.Getenv("JUJU_REMOTE_UNIT")
		if j.Unit == "" {
			j.Unit = os.Getenv("JUJU_UNIT_NAME")
		}
		out, errOut, code = j.Run(tool, args, in)
		return nil
	})
	if err != nil {
		fmt.Fprintf(stderr, "ERROR fakejuju: %v\n", err)
		return 1
	}
	_, _ = stdout.Write(out)
	_, _ = stderr.Write(errOut)
	return code
}

// readsStdin reports whether args ask for settings on stdin (`--file -`).
func readsStdin(args []string) bool {
	for i, a := range args {
		if a == "--" {
			return false
		}
		if a == "--file=-" || a == "--file" && i+1 < len(args) && args[i+1] == "-" {
			return true
		}
	}
	return false
}
