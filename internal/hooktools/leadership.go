package hooktools

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// ErrNotLeader: Juju refused the call because this unit is not the
// application's leader: leader-set ("cannot write leadership settings:
// cannot write settings: not the leader") and secret-add of an
// application-owned secret ("this unit is not the leader"). Leadership can
// move at any time, so the charm must expect it even after is-leader said
// true.
var ErrNotLeader = errors.New("not the leader")

// IsLeader reports whether this unit leads its application
// (`is-leader --format=json`).
func (t *Tools) IsLeader(ctx context.Context) (bool, error) {
	var leader bool
	err := t.getJSON(ctx, &leader, "is-leader", "--format=json")
	return leader, err
}

// LeaderGet returns the application's leader settings
// (`leader-get --format=json`), which every unit may read.
func (t *Tools) LeaderGet(ctx context.Context) (map[string]string, error) {
	var v map[string]string
	if err := t.getJSON(ctx, &v, "leader-get", "--format=json"); err != nil {
		return nil, err
	}
	return nonNil(v), nil
}

// LeaderSet merges values into the leader settings; an empty value deletes
// the key, as the controller does (state.Application.UpdateLeaderSettings).
// Only the leader may write: ErrNotLeader otherwise.
//
// Unlike relation-set, leader-set takes key=value arguments only (jujuc
// leader-set.go parses them with keyvalues.Parse, and has no --file), so
// the values are on the command line: they are redacted like state values,
// since leader settings hold metadata and never a secret. Juju writes them
// at once, not at the end of the hook: a hook that then fails keeps them.
// keyvalues.Parse trims spaces around keys and values, so a key that is
// empty, holds "=" or has spaces around it is refused before anything runs;
// so is a value with spaces around it, which Juju would store trimmed. An
// empty map runs nothing.
func (t *Tools) LeaderSet(ctx context.Context, values map[string]string) error {
	if len(values) == 0 {
		return nil
	}
	args := make([]string, 0, len(values))
	for _, k := range slices.Sorted(maps.Keys(values)) {
		v := t.secrets.Clean(values[k])
		if k == "" || strings.Contains(k, "=") || strings.TrimSpace(k) != k || strings.TrimSpace(v) != v {
			return &ToolError{
				Tool:    "leader-set",
				Message: fmt.Sprintf("key %q or its value would not reach Juju as given: no empty key, no \"=\" in a key, no spaces around either", k),
				Err:     errInvalidArgument,
			}
		}
		args = append(args, k+"="+v)
	}
	_, err := t.call(ctx, "leader-set", withPositional(nil, args...), nil)
	return withSentinel(err)
}

// withSentinel adds to a failed call of the leadership and secret tools
// the sentinel its message means; call's classify knows only the tools
// that came before them. The texts are Juju's (jujuc leader-set.go and
// secret-*.go, the hook context's ErrIsNotLeader and leadership context,
// the controller's errors.NotFound).
func withSentinel(err error) error {
	var te *ToolError
	if !errors.As(err, &te) || te.Message == "" {
		return err
	}
	switch {
	case strings.Contains(te.Message, "not the leader"):
		te.Err = errors.Join(ErrNotLeader, te.Err)
	case strings.HasPrefix(te.Tool, "secret-") && strings.HasSuffix(te.Message, " not found"):
		te.Err = errors.Join(ErrSecretNotFound, te.Err)
	}
	return err
}
