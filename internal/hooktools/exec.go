package hooktools

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os/exec"
	"time"
)

// Exec is the Runner the charm uses: each tool is a process found on PATH,
// where Juju puts its hook tools first. It is the only os/exec in the
// charm.
type Exec struct{}

var _ Runner = Exec{}

// waitDelay bounds how long a cancelled tool may hold its output pipes
// open (a child it forked, say) before Run gives up on it.
const waitDelay = time.Second

// Run runs tool with args, stdin on its standard input (none when nil).
// Its errors do not repeat the tool's name: the caller's *ToolError has it.
func (Exec) Run(ctx context.Context, tool string, args []string, stdin []byte) ([]byte, error) {
	path, err := exec.LookPath(tool)
	if err != nil {
		// err names the tool: exec: "relation-get": executable file not found.
		return nil, fmt.Errorf("%w: %w", ErrToolMissing, err)
	}
	cmd := exec.CommandContext(ctx, path, args...)
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	cmd.WaitDelay = waitDelay
	err = cmd.Run()
	if err == nil {
		return stdout.Bytes(), nil
	}
	// A killed tool says nothing about Juju: report why it was killed.
	if ctxErr := ctx.Err(); ctxErr != nil {
		return nil, fmt.Errorf("interrupted: %w", ctxErr)
	}
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		return stdout.Bytes(), &ExitError{Code: exitErr.ExitCode(), Stderr: stderr.String()}
	}
	// The tool vanished between LookPath and exec.
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %w", ErrToolMissing, err)
	}
	return nil, err
}
