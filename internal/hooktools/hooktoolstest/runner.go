package hooktoolstest

import (
	"context"
	"fmt"
	"io/fs"
	"syscall"

	"github.com/charmed-kubernetes/vsphere-integrator/internal/hooktools"
)

// The kernel's limits on a program's arguments (Linux fs/exec.c): one
// argument of maxArgStrlen bytes or more (its NUL included) or arguments
// and environment over argMax together make execve fail with E2BIG,
// "argument list too long", before the tool runs. argMax is a quarter of
// the default 8 MiB stack limit; the fake counts the arguments only.
const (
	maxArgStrlen = 32 * 4096
	argMax       = 2 * 1024 * 1024
)

// Runner returns a hooktools.Runner over this Juju, so that
// hooktools.New(j.Runner(), nil) is the charm's Tools running in process. It
// fails as Exec does: *hooktools.ExitError for a tool that exits non-zero,
// ErrToolMissing for a tool this fake does not have, and the kernel's E2BIG
// (as os/exec reports it, nothing recorded: the tool never ran) for
// arguments execve would refuse.
func (j *Juju) Runner() hooktools.Runner { return runner{j} }

type runner struct{ j *Juju }

func (r runner) Run(ctx context.Context, tool string, args []string, stdin []byte) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("interrupted: %w", err)
	}
	if _, ok := handlers[tool]; !ok {
		return nil, fmt.Errorf("%w: the fake Juju has no %q", hooktools.ErrToolMissing, tool)
	}
	if err := execLimits(tool, args); err != nil {
		return nil, err
	}
	stdout, stderr, code := r.j.Run(tool, args, stdin)
	if code != 0 {
		return stdout, &hooktools.ExitError{Code: code, Stderr: string(stderr)}
	}
	return stdout, nil
}

// execLimits is execve's check of argv, failing as os/exec does:
// "fork/exec /path/to/tool: argument list too long".
func execLimits(tool string, args []string) error {
	total := len(tool) + 1
	for _, a := range args {
		if len(a)+1 > maxArgStrlen {
			return &fs.PathError{Op: "fork/exec", Path: tool, Err: syscall.E2BIG}
		}
		total += len(a) + 1
	}
	if total > argMax {
		return &fs.PathError{Op: "fork/exec", Path: tool, Err: syscall.E2BIG}
	}
	return nil
}
