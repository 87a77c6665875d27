package hooktools

import (
	"errors"
	"fmt"
)

// Sentinels for the failures the charm reacts to. Match with errors.Is.
var (
	// ErrNotTrusted: credential-get refused because `juju trust` was not
	// granted ("permission denied").
	ErrNotTrusted = errors.New("cloud credential access not granted")
	// ErrRelationNotFound: the relation id or unit is not (or no longer)
	// known to Juju.
	ErrRelationNotFound = errors.New("relation not found")
	// ErrToolMissing: the hook tool is not on PATH (not run by Juju?).
	ErrToolMissing = errors.New("hook tool not found")
	// ErrBadOutput: the tool printed something that is not the JSON asked
	// for.
	ErrBadOutput = errors.New("hook tool printed invalid output")
	// errInvalidArgument: the call was refused before running the tool,
	// because Juju would refuse it too (a status that status-set does not
	// take, an action-set key Juju does not allow).
	// Unexported: it is the charm's bug, which nothing reacts to but the
	// message.
	errInvalidArgument = errors.New("invalid hook tool argument")
)

// ExitError is a hook tool that exited non-zero. Juju exits 2 for a
// command line it cannot parse and 1 for a failure while running.
type ExitError struct {
	Code   int
	Stderr string
}

func (e *ExitError) Error() string {
	return fmt.Sprintf("exit status %d: %s", e.Code, e.Stderr)
}

// ToolError is a hook tool call that failed: which tool, and Juju's message
// (the text after "ERROR "). It wraps one of the sentinels above when the
// message is recognised.
type ToolError struct {
	Tool    string
	Message string
	Err     error
}

func (e *ToolError) Error() string {
	if e.Message == "" {
		return fmt.Sprintf("%s: %v", e.Tool, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Tool, e.Message)
}

func (e *ToolError) Unwrap() error { return e.Err }
