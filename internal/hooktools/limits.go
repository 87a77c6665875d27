package hooktools

import (
	"errors"
	"fmt"
)

// Bounds on what the charm hands a hook tool (docs/security.md, "Bounds";
// docs/juju-hook-tools.md, "Limits on a tool's command line"). Text is
// redacted first, then cut on a rune boundary and marked as cut
// (redact.Text), so no tool ever refuses a message for its length and no
// cut leaves half a secret behind.
const (
	// MaxArg is the longest single argument the kernel passes to a
	// program: MAX_ARG_STRLEN is 32 pages (131,072 bytes) with the
	// terminating NUL, and execve fails with E2BIG ("argument list too
	// long") beyond it. No argument of any tool is ever longer.
	MaxArg = 128*1024 - 1
	// maxArgv bounds the arguments of one action-set call together: the
	// kernel's ARG_MAX (a quarter of the stack limit, 2 MiB by default)
	// also counts the hook's environment. Longer results go in several
	// calls; action-set merges them.
	maxArgv = 1024 * 1024
	// MaxStatus bounds a status-set message: `juju status` prints it on
	// one line, and about 1 KiB is all anyone reads there.
	MaxStatus = 1024
	// MaxLog bounds one juju-log or action-log line.
	MaxLog = 8 * 1024
	// maxActionFail bounds an action-fail message: shown by `juju run`
	// and `juju show-operation` as the reason.
	maxActionFail = 2 * 1024
	// maxActionValue bounds one action-set value, key and "=" included
	// in MaxArg.
	maxActionValue = 96 * 1024
	// MaxVersion bounds application-version-set: a version is a few
	// dozen bytes, and `juju status` shows it in a column.
	MaxVersion = 256
	// MaxStateValue bounds one state-set value, well inside Juju's
	// 64 KiB per value (MaxCharmStateValueSize): state holds hashes and
	// short records, and a value this long is the charm's bug.
	MaxStateValue = 32 * 1024
	// maxSecretContent is Juju's bound on the file secret-add reads, and
	// on the content in it base64-encoded (core/secrets
	// maxContentSizeBytes).
	maxSecretContent = 1000 * 1000
)

// ErrTooLong: the charm asked to store a value over a bound the tools layer
// enforces (MaxStateValue) or to pass an argument over MaxArg. Refused
// before the tool runs: the fault is the charm's, not Juju's, and a retry
// of the hook cannot fix it.
var ErrTooLong = errors.New("value over the charm's bound")

// limitError is a call refused by ErrTooLong: which tool, what, how long.
// It never quotes the value.
type limitError struct {
	Tool  string
	What  string
	Len   int
	Limit int
}

func (e *limitError) Error() string {
	return fmt.Sprintf("%s: %s is %d bytes, over the charm's bound of %d (a charm bug, not Juju's)", e.Tool, e.What, e.Len, e.Limit)
}

func (e *limitError) Unwrap() error { return ErrTooLong }

// checkArgs is the last guard: an argument over MaxArg is never passed
// (execve would refuse it with E2BIG). The text tools cut before this, so
// it fires only for an argument the charm did not expect to be long.
func checkArgs(tool string, args []string) error {
	for i, a := range args {
		if len(a) > MaxArg {
			return &limitError{Tool: tool, What: fmt.Sprintf("argument %d", i+1), Len: len(a), Limit: MaxArg}
		}
	}
	return nil
}
