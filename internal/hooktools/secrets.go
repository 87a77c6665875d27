package hooktools

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
)

// ErrSecretNotFound: Juju knows no such secret (its errors.NotFound,
// `secret "secret:..." not found`), or no secret by that label.
var ErrSecretNotFound = errors.New("secret not found")

// The owners secret-add accepts (--owner).
const (
	SecretOwnerApplication = "application"
	SecretOwnerUnit        = "unit"
)

// SecretAddArgs is what secret-add creates.
type SecretAddArgs struct {
	// Owner is SecretOwnerApplication (the default when empty): only the
	// leader may create, change or remove it, and every unit of the
	// application may read it. SecretOwnerUnit: this unit's alone.
	Owner string
	// Label names the secret for its owner; Juju refuses a label the
	// owner already uses, when the hook commits.
	Label       string
	Description string
	// Content are the key values. Keys follow Juju's rule (secretKey);
	// values are any bytes.
	Content map[string]string
}

// secretKey is Juju's rule for a content key (core/secrets keyRegExp):
// lower case, starting with a letter, at least three characters, single
// hyphens between letters and digits.
var secretKey = regexp.MustCompile(`^([a-z](?:-?[a-z0-9]){2,})$`)

// SecretAdd creates a secret and returns its URI as Juju prints it
// (`secret://<model-uuid>/<id>`). Juju keeps it pending until the hook
// exits 0: a hook that fails creates nothing, and the same hook's
// SecretGet already reads it.
//
// The content never goes on the command line: secret-add reads `--file`
// itself, as a path (core/secrets ReadSecretData: os.ReadFile, so "-" is a
// file named "-", not stdin). It is written as JSON, which Juju tries
// before YAML, with every value base64-encoded under a `key#base64` key so
// Juju stores exactly the bytes given, in a 0600 file in a 0700 directory
// of its own, removed before SecretAdd returns. The values are registered
// with Secrets first, so no text the tools send can carry them.
//
// Refused before anything runs: an owner Juju does not know, no content, a
// key Juju's rule refuses, or content whose file is over Juju's 1,000,000
// bytes (ErrTooLong). Not the leader, for an application-owned
// secret: ErrNotLeader.
func (t *Tools) SecretAdd(ctx context.Context, a SecretAddArgs) (string, error) {
	owner := a.Owner
	if owner == "" {
		owner = SecretOwnerApplication
	}
	if err := checkSecretAdd(owner, a.Content); err != nil {
		return "", err
	}
	encoded := make(map[string]string, len(a.Content))
	for k, v := range a.Content {
		t.secrets.Add(v)
		encoded[k+"#base64"] = base64.StdEncoding.EncodeToString([]byte(v))
	}
	data, err := json.Marshal(encoded)
	if err != nil {
		return "", &ToolError{Tool: "secret-add", Err: fmt.Errorf("encode content: %w", err)}
	}
	// Juju bounds the file and, inside it, the base64-encoded values
	// together; the file is the longer.
	if len(data) > maxSecretContent {
		return "", &limitError{Tool: "secret-add", What: "the content file", Len: len(data), Limit: maxSecretContent}
	}
	path, cleanup, err := privateFile("secret-add", data)
	if err != nil {
		return "", err
	}
	defer cleanup()
	// "--name=value" keeps a label or description that starts with "-"
	// from being read as an option.
	args := []string{"--owner=" + owner, "--file=" + path}
	if a.Label != "" {
		args = append(args, "--label="+a.Label)
	}
	if a.Description != "" {
		args = append(args, "--description="+a.Description)
	}
	out, err := t.call(ctx, "secret-add", args, nil)
	if err != nil {
		return "", withSentinel(err)
	}
	uri := strings.TrimSpace(string(out))
	if !strings.HasPrefix(uri, "secret:") || strings.ContainsAny(uri, " \n") {
		return "", &ToolError{Tool: "secret-add", Err: fmt.Errorf("%w: not a secret URI", ErrBadOutput)}
	}
	return uri, nil
}

// checkSecretAdd refuses what Juju would refuse at once (jujuc
// secret-add.go Init and Run, core/secrets encodeBase64), without quoting
// any value.
func checkSecretAdd(owner string, content map[string]string) error {
	invalid := func(msg string) error {
		return &ToolError{Tool: "secret-add", Message: msg, Err: errInvalidArgument}
	}
	if owner != SecretOwnerApplication && owner != SecretOwnerUnit {
		return invalid(fmt.Sprintf("secret owner %q not valid", owner))
	}
	if len(content) == 0 {
		return invalid("empty secret value not valid")
	}
	for _, k := range slices.Sorted(maps.Keys(content)) {
		if !secretKey.MatchString(k) {
			return invalid(fmt.Sprintf("key %q not valid", k))
		}
	}
	return nil
}

// privateFile writes data to a file only this user can read, in a
// directory of its own so no other process can swap the file, and returns
// its absolute path (the hook tool may run in another directory: Juju's
// unit agent reads it) and the function that removes both.
func privateFile(tool string, data []byte) (string, func(), error) {
	dir, err := os.MkdirTemp("", "hooktools-")
	if err != nil {
		return "", nil, &ToolError{Tool: tool, Err: fmt.Errorf("private file: %w", err)}
	}
	cleanup := func() { _ = os.RemoveAll(dir) }
	// MkdirTemp makes the directory 0700 already; say so, whatever umask.
	if err := os.Chmod(dir, 0o700); err != nil {
		cleanup()
		return "", nil, &ToolError{Tool: tool, Err: fmt.Errorf("private file: %w", err)}
	}
	path, err := filepath.Abs(filepath.Join(dir, "content.json"))
	if err == nil {
		err = os.WriteFile(path, data, 0o600)
	}
	if err != nil {
		cleanup()
		return "", nil, &ToolError{Tool: tool, Err: fmt.Errorf("private file: %w", err)}
	}
	return path, cleanup, nil
}

// SecretGet returns the content of a secret by URI, in any form Juju
// parses (`secret-get URI --format=json`): the owner's and, for an
// application-owned secret, every unit of the application may read it,
// a secret created earlier in the same hook included. Every value is
// registered with Secrets before SecretGet returns. ErrSecretNotFound when
// Juju knows no such secret.
func (t *Tools) SecretGet(ctx context.Context, uri string) (map[string]string, error) {
	var v map[string]string
	// The URI leads, so it is never taken for an option: a URI starts
	// with "secret:" or a letter or digit of the id.
	if err := t.getJSON(ctx, &v, "secret-get", withPositional([]string{"--format=json"}, uri)...); err != nil {
		return nil, withSentinel(err)
	}
	for _, value := range v {
		t.secrets.Add(value)
	}
	return nonNil(v), nil
}

// SecretRemove removes a secret and all its revisions. Juju only records
// the removal, and applies it when the hook exits 0 (jujuc
// secret-remove.go, the hook context's RemoveSecret). A secret Juju does
// not know is not an error, then or at the commit, which ignores "not
// found"; ErrSecretNotFound is matched still, in case a later Juju checks
// at once. The leader alone may remove an application-owned secret, but
// a unit that is not the leader does not see the application's secrets,
// so Juju refuses only at the commit, failing the hook: check IsLeader
// first. ErrNotLeader if a leader lost leadership during the hook.
func (t *Tools) SecretRemove(ctx context.Context, uri string) error {
	_, err := t.call(ctx, "secret-remove", withPositional(nil, uri), nil)
	return withSentinel(err)
}

// SecretIDs lists the secrets this unit owns and, on the leader, those
// of its application, with the ones created or removed in this hook
// counted (`secret-ids --format=json`). Juju prints bare ids, not URIs:
// compare them with SecretID of a URI. Sorted; empty, never nil.
func (t *Tools) SecretIDs(ctx context.Context) ([]string, error) {
	var ids []string
	// No secret prints "null": Juju hands the formatter a nil list.
	if err := t.getJSON(ctx, &ids, "secret-ids", "--format=json"); err != nil {
		return nil, withSentinel(err)
	}
	slices.Sort(ids)
	if ids == nil {
		ids = []string{}
	}
	return ids, nil
}

// SecretID is the id part of a secret URI in any form Juju prints or
// parses ("secret://<model-uuid>/<id>", "secret:<id>", "<id>"): what
// SecretIDs lists.
func SecretID(uri string) string {
	s := strings.TrimPrefix(uri, "secret:")
	if i := strings.LastIndex(s, "/"); i >= 0 {
		s = s[i+1:]
	}
	return s
}
