package hooktools

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/charmed-kubernetes/vsphere-integrator/internal/redact"
)

// Tools is every hook tool the charm uses, run through a Runner.
type Tools struct {
	run     Runner
	secrets *redact.Secrets
}

// New returns the hook tools run through r: Exec{} in the charm, the
// in-memory Juju of hooktoolstest in unit tests. Every text they send but
// relation data (which is where the password is meant to go) is redacted
// of the secrets in s and bounded (limits.go). The charm registers each
// secret in s as soon as it reads it, and main cleans stderr with the same
// s; nil gives the tools a set of their own.
func New(r Runner, s *redact.Secrets) *Tools {
	if s == nil {
		s = &redact.Secrets{}
	}
	return &Tools{run: r, secrets: s}
}

// Secrets are the secrets every text the tools send is cleaned of (all but
// relation data).
func (t *Tools) Secrets() *redact.Secrets { return t.secrets }

// statuses lists the workload statuses status-set accepts, in Juju's order.
var statuses = []Status{statusMaintenance, StatusBlocked, StatusWaiting, StatusActive}

// Valid reports whether status-set accepts s. "error" and "unknown" are
// Juju's to set, never the charm's.
func (s Status) Valid() bool { return slices.Contains(statuses, s) }

// ConfigGet returns all charm options (`config-get --format=json`).
func (t *Tools) ConfigGet(ctx context.Context) (map[string]any, error) {
	var v map[string]any
	if err := t.getJSON(ctx, &v, "config-get", "--format=json"); err != nil {
		return nil, err
	}
	return nonNil(v), nil
}

// CredentialGet returns the trusted cloud credential; ErrNotTrusted until
// `juju trust` is granted.
func (t *Tools) CredentialGet(ctx context.Context) (CloudSpec, error) {
	var spec CloudSpec
	err := t.getJSON(ctx, &spec, "credential-get", "--format=json")
	return spec, err
}

// RelationIDs lists the relation ids of an endpoint ("clients:3").
func (t *Tools) RelationIDs(ctx context.Context, endpoint string) ([]string, error) {
	var ids []string
	err := t.getJSON(ctx, &ids, "relation-ids", withPositional([]string{"--format=json"}, endpoint)...)
	return ids, err
}

// RelationList lists the remote units of a relation.
func (t *Tools) RelationList(ctx context.Context, relationID string) ([]string, error) {
	var units []string
	err := t.getJSON(ctx, &units, "relation-list", "-r", relationID, "--format=json")
	return units, err
}

// RelationGet returns all keys a unit (local or remote) has set on a
// relation. ErrRelationNotFound when the relation is gone or the unit has no
// settings in it.
func (t *Tools) RelationGet(ctx context.Context, relationID, unit string) (map[string]string, error) {
	var v map[string]string
	// "-" asks for every key; the unit is explicit so the answer does not
	// depend on which relation hook is running.
	args := withPositional([]string{"-r", relationID, "--format=json"}, "-", unit)
	if err := t.getJSON(ctx, &v, "relation-get", args...); err != nil {
		return nil, err
	}
	return nonNil(v), nil
}

// RelationSet writes keys into this unit's databag; an empty value deletes
// the key. Values go on stdin, as given. An empty map runs nothing.
func (t *Tools) RelationSet(ctx context.Context, relationID string, values map[string]string) error {
	if len(values) == 0 {
		return nil
	}
	stdin, err := yamlMap("relation-set", values)
	if err != nil {
		return err
	}
	_, err = t.call(ctx, "relation-set", []string{"-r", relationID, "--file", "-"}, stdin)
	return err
}

// StatusSet sets this unit's workload status. A status that is not Valid
// is refused before anything runs.
func (t *Tools) StatusSet(ctx context.Context, status Status, message string) error {
	if !status.Valid() {
		return &ToolError{
			Tool:    "status-set",
			Message: fmt.Sprintf("invalid status %q, expected one of %v", status, statuses),
			Err:     errInvalidArgument,
		}
	}
	message = t.secrets.Text(message, MaxStatus)
	_, err := t.call(ctx, "status-set", withPositional(nil, string(status), message), nil)
	return err
}

// ApplicationVersionSet sets the version `juju status` shows.
func (t *Tools) ApplicationVersionSet(ctx context.Context, version string) error {
	version = t.secrets.Server(version, MaxVersion)
	_, err := t.call(ctx, "application-version-set", withPositional(nil, version), nil)
	return err
}

// Log writes to the unit's log with juju-log.
func (t *Tools) Log(ctx context.Context, level Level, message string) error {
	message = t.secrets.Text(message, MaxLog)
	_, err := t.call(ctx, "juju-log", withPositional([]string{"-l", string(level)}, message), nil)
	return err
}

// StateGet returns this unit's charm state kept by the controller.
func (t *Tools) StateGet(ctx context.Context) (map[string]string, error) {
	var v map[string]string
	// An empty state prints "null": Juju hands a nil map to the formatter.
	if err := t.getJSON(ctx, &v, "state-get", "--format=json"); err != nil {
		return nil, err
	}
	return nonNil(v), nil
}

// StateGetKey returns one key of it; "" when it is not set.
func (t *Tools) StateGetKey(ctx context.Context, key string) (string, error) {
	var v string
	// A key that is not set prints "" (without --strict).
	if err := t.getJSON(ctx, &v, "state-get", withPositional([]string{"--format=json"}, key)...); err != nil {
		return "", err
	}
	return v, nil
}

// StateSet writes charm state; an empty value deletes the key, although
// Juju's state-set stores "" as a value: keys to delete go
// to state-delete, one call each (keys are not secret), the rest to
// state-set on stdin. Values are redacted (state holds hashes and records,
// never a secret) and a value over MaxStateValue refuses the whole call
// before anything runs, with ErrTooLong: Juju would refuse it, and the
// fault is the charm's.
func (t *Tools) StateSet(ctx context.Context, values map[string]string) error {
	set := map[string]string{}
	var deleted []string
	for k, v := range values {
		if v == "" {
			deleted = append(deleted, k)
			continue
		}
		v = t.secrets.Clean(v)
		if len(v) > MaxStateValue {
			return &limitError{Tool: "state-set", What: fmt.Sprintf("the value of key %q", redact.Cut(k, 64)), Len: len(v), Limit: MaxStateValue}
		}
		set[k] = v
	}
	if len(set) > 0 {
		stdin, err := yamlMap("state-set", set)
		if err != nil {
			return err
		}
		if _, err := t.call(ctx, "state-set", []string{"--file", "-"}, stdin); err != nil {
			return err
		}
	}
	slices.Sort(deleted)
	for _, k := range deleted {
		if _, err := t.call(ctx, "state-delete", withPositional(nil, k), nil); err != nil {
			return err
		}
	}
	return nil
}

// ActionGet returns the running action's parameters.
func (t *Tools) ActionGet(ctx context.Context) (map[string]any, error) {
	var v map[string]any
	if err := t.getJSON(ctx, &v, "action-get", "--format=json"); err != nil {
		return nil, err
	}
	return nonNil(v), nil
}

// ActionSet sets action results; nested maps become dotted keys. It
// passes them as key=value arguments because that is all
// action-set accepts: unlike relation-set and state-set it has no --file
// (juju/juju worker/uniter/runner/jujuc/action-set.go). Values are
// therefore visible in the process list while the tool runs, and are
// redacted: ActionSetShown is for the one result a user asked to see.
func (t *Tools) ActionSet(ctx context.Context, results map[string]any) error {
	return t.actionSet(ctx, results, true)
}

// ActionSetShown is ActionSet without redaction, for results the user ran
// the action to see, a secret among them (cloud-config
// show-password=true). Still bounded.
func (t *Tools) ActionSetShown(ctx context.Context, results map[string]any) error {
	return t.actionSet(ctx, results, false)
}

func (t *Tools) actionSet(ctx context.Context, results map[string]any, clean bool) error {
	if clean {
		// Strings are redacted before a list of them is encoded as JSON:
		// a form of a secret escaped again is none of its forms.
		results, _ = t.cleanValue(results).(map[string]any)
	}
	flat := map[string]string{}
	if err := flatten("", results, flat); err != nil {
		return err
	}
	if len(flat) == 0 {
		return nil
	}
	keys := make([]string, 0, len(flat))
	for k := range flat {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var args []string
	size := 0
	for _, k := range keys {
		v := flat[k]
		if clean {
			v = t.secrets.Clean(v)
		}
		// The key leads, and keys never start with "-", so no value can be
		// taken for a flag.
		arg := k + "=" + redact.Cut(v, maxActionValue)
		// Results too long for one command line go in several calls:
		// action-set merges them.
		if len(args) > 0 && size+len(arg) > maxArgv {
			if _, err := t.call(ctx, "action-set", args, nil); err != nil {
				return err
			}
			args, size = nil, 0
		}
		args = append(args, arg)
		size += len(arg) + 1
	}
	_, err := t.call(ctx, "action-set", args, nil)
	return err
}

// cleanValue is v with every string in it redacted, through the shapes
// action results take: maps and lists of strings or of any.
func (t *Tools) cleanValue(v any) any {
	switch v := v.(type) {
	case string:
		return t.secrets.Clean(v)
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, x := range v {
			out[k] = t.cleanValue(x)
		}
		return out
	case map[string]string:
		out := make(map[string]string, len(v))
		for k, x := range v {
			out[k] = t.secrets.Clean(x)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = t.cleanValue(x)
		}
		return out
	case []string:
		out := make([]string, len(v))
		for i, x := range v {
			out[i] = t.secrets.Clean(x)
		}
		return out
	}
	return v
}

// ActionFail marks the running action failed with a message.
func (t *Tools) ActionFail(ctx context.Context, message string) error {
	message = t.secrets.Text(message, maxActionFail)
	_, err := t.call(ctx, "action-fail", withPositional(nil, message), nil)
	return err
}

// call runs one tool and turns its failure into a *ToolError.
func (t *Tools) call(ctx context.Context, tool string, args []string, stdin []byte) ([]byte, error) {
	if err := checkArgs(tool, args); err != nil {
		return nil, err
	}
	out, err := t.run.Run(ctx, tool, args, stdin)
	if err == nil {
		return out, nil
	}
	var exit *ExitError
	if !errors.As(err, &exit) {
		return nil, &ToolError{Tool: tool, Err: err}
	}
	msg := jujuMessage(exit.Stderr)
	if sentinel := classify(tool, msg); sentinel != nil {
		return nil, &ToolError{Tool: tool, Message: msg, Err: errors.Join(sentinel, exit)}
	}
	return nil, &ToolError{Tool: tool, Message: msg, Err: exit}
}

// getJSON runs a tool that prints JSON and decodes it into v. The output is
// never quoted in the error: credential-get prints the password.
func (t *Tools) getJSON(ctx context.Context, v any, tool string, args ...string) error {
	out, err := t.call(ctx, tool, args, nil)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(bytes.TrimSpace(out), v); err != nil {
		return &ToolError{Tool: tool, Err: fmt.Errorf("%w: %w", ErrBadOutput, jsonFault(err))}
	}
	return nil
}

// jsonFault keeps the kind of a JSON decoding failure but not the text that
// caused it (an *json.UnmarshalTypeError quotes no value, a SyntaxError
// quotes one character, but a future Go might quote more).
func jsonFault(err error) error {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		return fmt.Errorf("invalid JSON at offset %d", syntax.Offset)
	case errors.As(err, &typ):
		return fmt.Errorf("JSON %s where %s expected", typ.Value, typ.Type)
	default:
		return errors.New("invalid JSON")
	}
}

// jujuMessage is the text of the last "ERROR ..." line Juju wrote, or the
// whole stderr when there is none (a tool that is not Juju's).
func jujuMessage(stderr string) string {
	lines := strings.Split(strings.TrimSpace(stderr), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if msg, ok := strings.CutPrefix(strings.TrimSpace(lines[i]), "ERROR "); ok {
			return strings.TrimSpace(msg)
		}
	}
	return strings.TrimSpace(stderr)
}

// classify names the failure the charm reacts to, from Juju's message.
// The texts are Juju's own (juju/juju worker/uniter/runner/jujuc and the
// uniter facade):
//   - credential-get without trust: "cannot access cloud credentials:
//     permission denied";
//   - -r naming a relation the unit is not in: `invalid value "clients:9"
//     for option -r: relation not found` ("unknown relation id" before
//     Juju 2.7);
//   - relation-get of a unit with no settings in the relation: `cannot read
//     settings for unit "a/9" in relation "...": unit "a/9": settings not
//     found`, and of a unit of an application not in the relation:
//     "permission denied".
func classify(tool, msg string) error {
	switch {
	case tool == "credential-get" && strings.Contains(msg, "permission denied"):
		return ErrNotTrusted
	case !strings.HasPrefix(tool, "relation-"):
		return nil
	case strings.Contains(msg, "relation not found"),
		strings.Contains(msg, "unknown relation id"),
		strings.Contains(msg, "settings not found"),
		tool == "relation-get" && strings.Contains(msg, "permission denied"):
		return ErrRelationNotFound
	}
	return nil
}

// withPositional appends positional arguments after flags, behind "--" when
// one of them starts with "-": Juju's flag parser takes such an argument
// (a status message like "-x not found") for an option, anywhere on the
// line. A lone "-" is an argument, not an option.
func withPositional(flags []string, positional ...string) []string {
	args := slices.Clone(flags)
	for _, p := range positional {
		if len(p) > 1 && p[0] == '-' {
			args = append(args, "--")
			break
		}
	}
	return append(args, positional...)
}

// yamlMap encodes values as the YAML map `--file -` reads. Every value is
// emitted as a string (quoted when YAML would read it as something else),
// so Juju stores exactly the bytes given.
func yamlMap(tool string, values map[string]string) ([]byte, error) {
	out, err := yaml.Marshal(values)
	if err != nil {
		return nil, &ToolError{Tool: tool, Err: fmt.Errorf("encode values: %w", err)}
	}
	return out, nil
}

// actionKey is Juju's rule for each dot-separated part of an action-set
// key (juju/charm GetActionNameRule).
var actionKey = regexp.MustCompile(`^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$`)

// reservedActionKeys are set by Juju itself; action-set refuses them.
var reservedActionKeys = []string{"stdout", "stdout-encoding", "stderr", "stderr-encoding"}

// flatten turns nested maps into action-set's dotted keys. Strings go as
// they are, other values as JSON (numbers, booleans, lists).
func flatten(prefix string, in map[string]any, out map[string]string) error {
	for k, v := range in {
		if !actionKey.MatchString(k) || slices.Contains(reservedActionKeys, k) {
			return &ToolError{
				Tool:    "action-set",
				Message: fmt.Sprintf("key %q must start and end with lowercase alphanumeric, contain only lowercase alphanumeric and hyphens, and not be one of %v", k, reservedActionKeys),
				Err:     errInvalidArgument,
			}
		}
		key := k
		if prefix != "" {
			key = prefix + "." + k
		}
		switch v := v.(type) {
		case map[string]any:
			if err := flatten(key, v, out); err != nil {
				return err
			}
		case map[string]string:
			m := make(map[string]any, len(v))
			for k2, v2 := range v {
				m[k2] = v2
			}
			if err := flatten(key, m, out); err != nil {
				return err
			}
		case string:
			out[key] = v
		default:
			b, err := json.Marshal(v)
			if err != nil {
				return &ToolError{Tool: "action-set", Err: fmt.Errorf("encode result %q: %w: %w", key, errInvalidArgument, err)}
			}
			out[key] = string(b)
		}
	}
	return nil
}

func nonNil[M ~map[K]V, K comparable, V any](m M) M {
	if m == nil {
		return M{}
	}
	return m
}
