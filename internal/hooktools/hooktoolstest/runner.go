package hooktoolstest

import (
	"context"
	"fmt"

	"github.com/charmed-kubernetes/vsphere-integrator/internal/hooktools"
)

// Runner returns a hooktools.Runner over this Juju, so that
// hooktools.New(j.Runner()) is the charm's Tools running in process. It
// fails as Exec does: *hooktools.ExitError for a tool that exits non-zero,
// ErrToolMissing for a tool this fake does not have.
func (j *Juju) Runner() hooktools.Runner { return runner{j} }

type runner struct{ j *Juju }

func (r runner) Run(ctx context.Context, tool string, args []string, stdin []byte) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("interrupted: %w", err)
	}
	if _, ok := handlers[tool]; !ok {
		return nil, fmt.Errorf("%w: the fake Juju has no %q", hooktools.ErrToolMissing, tool)
	}
	stdout, stderr, code := r.j.Run(tool, args, stdin)
	if code != 0 {
		return stdout, &hooktools.ExitError{Code: code, Stderr: string(stderr)}
	}
	return stdout, nil
}
