package hooktoolstest

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/juju/names/v5"
	yaml "gopkg.in/yaml.v2"
)

// secretOutputOptions are the --format and -o of secret-get and
// secret-info-get, which know yaml (their default) and json only.
func secretOutputOptions() []option {
	return []option{{names: []string{"format"}, check: func(v string) error {
		if v != "yaml" && v != "json" {
			return fmt.Errorf("unknown format %q", v)
		}
		return nil
	}}, {names: []string{"o", "output"}}}
}

// printedYAML is printed with yaml for the default format.
func printedYAML(c *cmdline, v any) (result, error) {
	if c.flags["format"] == "" {
		c.flags["format"] = "yaml"
	}
	return printed(c, v)
}

// Secret content rules (juju/juju core/secrets createsecret.go).
var secretKeyRule = regexp.MustCompile(`^([a-z](?:-?[a-z0-9]){2,})$`)

const (
	maxSecretValueSize   = 1000 * 1000
	maxSecretContentSize = 1000 * 1000
)

var rotatePolicies = []string{"never", "hourly", "daily", "weekly", "monthly", "quarterly", "yearly"}

// secretAdd is jujuc secret-add.go. Init, whose failures exit 2: the
// expiry and rotation policy are checked (and then not modelled), the
// owner, the key=value arguments and --file read by the tool itself
// (core/secrets CreateSecretData, ReadSecretData). Run: no content is
// refused, then the hook context's CreateSecret needs the leader for an
// application's secret and refuses a label already pending in the hook;
// the secret is pending until the hook commits.
func (j *Juju) secretAdd(argv []string, _ []byte) (result, error) {
	c, err := parseFlags([]option{
		{names: []string{"expire"}}, {names: []string{"rotate"}},
		{names: []string{"description"}}, {names: []string{"label"}},
		{names: []string{"file"}}, {names: []string{"owner"}},
	}, argv)
	if err != nil {
		return result{}, err
	}
	if len(c.args) < 1 && c.flags["file"] == "" {
		return result{}, usagef("missing secret value or filename")
	}
	if err := checkExpire(c.flags["expire"]); err != nil {
		return result{}, err
	}
	if p := c.flags["rotate"]; p != "" && !slices.Contains(rotatePolicies, p) {
		return result{}, usagef("rotate policy %q not valid", p)
	}
	owner, ok := c.flags["owner"]
	if !ok {
		owner = OwnerApplication
	}
	if owner != OwnerApplication && owner != OwnerUnit {
		return result{}, usagef("secret owner %q not valid", owner)
	}
	content, err := secretArgs(c.args)
	if err != nil {
		return result{}, usagef("%v", err)
	}
	if path := c.flags["file"]; path != "" {
		fromFile, err := secretFile(path)
		if err != nil {
			return result{}, usagef("%v", err)
		}
		maps.Copy(content, fromFile)
	}
	if len(content) == 0 {
		return result{}, errors.New("empty secret value not valid")
	}
	tag := j.ownerTag(owner)
	if tag == j.appTag() && !j.Leader {
		return result{}, errors.New("this unit is not the leader")
	}
	s := SecretRecord{
		ID: newSecretID(), Owner: tag, Revision: 1, Content: content,
		Label: c.flags["label"], Description: c.flags["description"],
	}
	return j.secretTx(func(h *HookRecord) (result, error) {
		if s.Label != "" && slices.ContainsFunc(h.SecretCreates, func(p SecretRecord) bool { return p.Label == s.Label }) {
			return result{}, fmt.Errorf("secret with label %q already exists", s.Label)
		}
		h.SecretCreates = append(h.SecretCreates, s)
		uri := secretURI{SourceUUID: j.modelUUID(), ID: s.ID}
		return result{stdout: []byte(uri.String() + "\n")}, nil
	})
}

// checkExpire is secret-add's --expire: an RFC 3339 time, with or without
// its zone, or a positive duration.
func checkExpire(spec string) error {
	if spec == "" {
		return nil
	}
	if _, err := time.Parse(time.RFC3339, spec); err == nil {
		return nil
	}
	if _, err := time.Parse("2006-01-02T15:04:05", spec); err == nil {
		return nil
	}
	d, err := time.ParseDuration(spec)
	if err != nil {
		return usagef("expire time or duration %q not valid", spec)
	}
	if d <= 0 {
		return usagef("negative expire duration %q not valid", spec)
	}
	return nil
}

// secretArgs is CreateSecretData: key=value, key#base64=value (already
// encoded) and key#file=path arguments, base64-encoded and checked.
func secretArgs(args []string) (map[string]string, error) {
	data := map[string]string{}
	for _, a := range args {
		// Base64 padding is not taken for the "=".
		idx := strings.Index(strings.TrimRight(a, "="), "=")
		if idx < 1 {
			return nil, fmt.Errorf("key value %q not valid", a)
		}
		key, value := a[:idx], a[idx+1:]
		if k, ok := strings.CutSuffix(key, "#file"); ok {
			path := normalizePath(value)
			if fi, err := os.Stat(path); err == nil && fi.Size() > maxSecretValueSize {
				return nil, fmt.Errorf("secret content in file %q too large: %d bytes", path, fi.Size())
			}
			b, err := os.ReadFile(value)
			if err != nil {
				return nil, fmt.Errorf("reading content for secret key %q: %w", k, err)
			}
			key, value = k, string(b)
		}
		data[key] = value
	}
	return encodeSecretData(data)
}

// secretFile is ReadSecretData: the file (a path: "-" is a file of that
// name, not stdin) as JSON, or else YAML by yaml.v2, into strings.
func secretFile(name string) (map[string]string, error) {
	path := normalizePath(name)
	if fi, err := os.Stat(path); err == nil && fi.Size() > maxSecretContentSize {
		return nil, fmt.Errorf("secret content in file %q too large: %d bytes", path, fi.Size())
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	attrs := map[string]string{}
	if err := json.Unmarshal(data, &attrs); err != nil {
		if err := yaml.Unmarshal(data, &attrs); err != nil {
			return nil, err
		}
	}
	return encodeSecretData(attrs)
}

// normalizePath is juju/utils NormalizePath: "~" expanded, the path
// cleaned, a relative path left relative (to where the tool runs).
func normalizePath(path string) string {
	if path == "~" || strings.HasPrefix(path, "~/") {
		if home, err := os.UserHomeDir(); err == nil {
			path = home + path[1:]
		}
	}
	return filepath.Clean(path)
}

// encodeSecretData is core/secrets encodeBase64: values encoded unless
// their key ends in #base64, keys checked against Juju's rule, and each
// value and the whole bounded. Keys are checked in sorted order, where
// Juju walks a map.
func encodeSecretData(in map[string]string) (map[string]string, error) {
	out := make(map[string]string, len(in))
	size := 0
	for _, key := range slices.Sorted(maps.Keys(in)) {
		value := in[key]
		if k, ok := strings.CutSuffix(key, "#base64"); ok {
			key = k
		} else {
			value = base64.StdEncoding.EncodeToString([]byte(value))
		}
		if !secretKeyRule.MatchString(key) {
			return nil, fmt.Errorf("key %q not valid", key)
		}
		if len(value) > maxSecretValueSize {
			return nil, fmt.Errorf("base64 encoded secret content for key %q too large: %d bytes", key, len(value))
		}
		out[key] = value
		size += len(value)
	}
	if size > maxSecretContentSize {
		return nil, fmt.Errorf("base64 encoded secret content too large: %d bytes", size)
	}
	return out, nil
}

// secretGet is jujuc secret-get.go over the hook context's GetSecret and
// the controller's getSecretContent: the hook's own pending creations
// first, by URI or label; else a label names the unit's own secret, or
// one of its application's; else the URI's secret, which the owner unit
// and every unit of the owner application may read. What is not modelled:
// revisions (--peek and --refresh change nothing) and the label a URI
// with --label would give the secret.
func (j *Juju) secretGet(argv []string, _ []byte) (result, error) {
	c, err := parseFlags(append(secretOutputOptions(),
		option{names: []string{"label"}},
		option{names: []string{"peek"}, isBool: true},
		option{names: []string{"refresh"}, isBool: true}), argv)
	if err != nil {
		return result{}, err
	}
	uri, args, err := secretURIArg(c.args)
	if err != nil {
		return result{}, err
	}
	label := c.flags["label"]
	if uri == nil && label == "" {
		return result{}, usagef("require either a secret URI or label")
	}
	if c.boolean("peek") && c.boolean("refresh") {
		return result{}, usagef("specify one of --peek or --refresh but not both")
	}
	var key string
	if len(args) > 0 {
		key = args[0]
		if err := checkEmpty(args[1:]); err != nil {
			return result{}, err
		}
	}
	content, err := j.secretContent(uri, label)
	if err != nil {
		return result{}, err
	}
	if key == "" {
		values, err := SecretRecord{Content: content}.Values()
		if err != nil {
			return result{}, err
		}
		return printedYAML(c, values)
	}
	// SecretValue.KeyValue: "#base64" asks for the stored form.
	k, encoded := strings.CutSuffix(key, "#base64")
	v, ok := content[k]
	if !ok {
		return result{}, fmt.Errorf("secret key value %q not found", k)
	}
	if !encoded {
		b, err := base64.StdEncoding.DecodeString(v)
		if err != nil {
			return result{}, err
		}
		v = string(b)
	}
	return printedYAML(c, v)
}

// secretURIArg is secret-get's and secret-info-get's optional URI
// argument; the rest of the arguments follow.
func secretURIArg(args []string) (*secretURI, []string, error) {
	if len(args) == 0 {
		return nil, args, nil
	}
	u, err := parseSecretURI(args[0])
	if err != nil {
		return nil, nil, usagef("secret URI %q not valid", args[0])
	}
	return &u, args[1:], nil
}

// secretContent finds a secret's stored content as GetSecret does.
func (j *Juju) secretContent(uri *secretURI, label string) (map[string]string, error) {
	h := j.Hook
	if h == nil {
		h = &HookRecord{}
	}
	for i, p := range h.SecretCreates {
		if uri != nil && p.ID == uri.ID {
			if label != "" {
				h.SecretCreates[i].Label = label
			}
			return p.Content, nil
		}
		if label != "" && p.Label == label {
			return p.Content, nil
		}
	}
	if uri == nil {
		// The context's lookupOwnedSecretURIByLabel, then the
		// controller's owner label, then its consumer label.
		for _, s := range j.SecretRecords {
			if s.Label == label && j.readable(s) {
				uri = &secretURI{ID: s.ID}
				break
			}
		}
		if uri == nil {
			return nil, fmt.Errorf("consumer label %q not found", label)
		}
	}
	s, ok := j.committed(uri.ID)
	if !ok {
		return nil, fmt.Errorf("secret %q not found", uri.String())
	}
	if !j.readable(s) {
		return nil, errPermissionDenied
	}
	return s.Content, nil
}

// secretRemove is jujuc secret-remove.go: the hook context records the
// removal, to be applied when the hook commits, where a secret the
// controller does not know is no error. Its leadership check applies only
// to an application's secret the unit lists, which only the leader does.
func (j *Juju) secretRemove(argv []string, _ []byte) (result, error) {
	c, err := parseFlags([]option{{names: []string{"revision"}, check: func(v string) error {
		// gnuflag's IntVar.
		_, err := strconv.ParseInt(v, 0, 64)
		return err
	}}}, argv)
	if err != nil {
		return result{}, err
	}
	if len(c.args) < 1 {
		return result{}, usagef("missing secret URI")
	}
	uri, err := parseSecretURI(c.args[0])
	if err != nil {
		return result{}, usagef("%v", err)
	}
	if err := checkEmpty(c.args[1:]); err != nil {
		return result{}, err
	}
	var revisions []int
	if r, _ := strconv.ParseInt(c.flags["revision"], 0, 64); r > 0 {
		revisions = []int{int(r)}
	}
	return j.secretTx(func(h *HookRecord) (result, error) {
		// secretsChangeRecorder.remove
		h.SecretCreates = slices.DeleteFunc(h.SecretCreates, func(p SecretRecord) bool { return p.ID == uri.ID })
		i := slices.IndexFunc(h.SecretRemovals, func(r SecretRemoval) bool { return r.ID == uri.ID })
		switch {
		case i < 0:
			h.SecretRemovals = append(h.SecretRemovals, SecretRemoval{ID: uri.ID, Revisions: revisions})
		case h.SecretRemovals[i].Revisions == nil:
			// Every revision goes already.
		case revisions == nil:
			h.SecretRemovals[i].Revisions = nil
		default:
			h.SecretRemovals[i].Revisions = append(h.SecretRemovals[i].Revisions, revisions...)
		}
		return result{}, nil
	})
}

// secretIDs is jujuc secret-ids.go: the ids (not URIs) of the secrets the
// hook context's SecretMetadata lists; none prints null in JSON. Juju
// walks a map; the fake sorts.
func (j *Juju) secretIDs(argv []string, _ []byte) (result, error) {
	c, err := parseFlags(outputOptions(), argv)
	if err != nil {
		return result{}, err
	}
	if err := checkEmpty(c.args); err != nil {
		return result{}, err
	}
	h := j.Hook
	if h == nil {
		h = &HookRecord{}
	}
	var ids []string
	for id := range j.secretMetadata(h) {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return printed(c, ids)
}

// secretInfo is secret-info-get's metadataDisplay, without what the fake
// does not model (rotation, expiry, access grants).
type secretInfo struct {
	Revision    int    `json:"revision" yaml:"revision"`
	Label       string `json:"label" yaml:"label"`
	Owner       string `json:"owner" yaml:"owner"`
	Description string `json:"description,omitempty" yaml:"description,omitempty"`
}

// secretInfoGet is jujuc secret-info-get.go: one secret of those
// SecretMetadata lists, by URI or by label, keyed by its id.
func (j *Juju) secretInfoGet(argv []string, _ []byte) (result, error) {
	c, err := parseFlags(append(secretOutputOptions(), option{names: []string{"label"}}), argv)
	if err != nil {
		return result{}, err
	}
	uri, args, err := secretURIArg(c.args)
	if err != nil {
		return result{}, err
	}
	label := c.flags["label"]
	switch {
	case uri == nil && label == "":
		return result{}, usagef("require either a secret URI or label")
	case uri != nil && label != "":
		return result{}, usagef("specify either a secret URI or label but not both")
	}
	if err := checkEmpty(args); err != nil {
		return result{}, err
	}
	h := j.Hook
	if h == nil {
		h = &HookRecord{}
	}
	all := j.secretMetadata(h)
	want := label
	if uri != nil {
		want = uri.ID
	}
	for _, id := range slices.Sorted(maps.Keys(all)) {
		s := all[id]
		if uri != nil && id == uri.ID || uri == nil && s.Label == label {
			owner := ""
			if t, err := names.ParseTag(s.Owner); err == nil {
				owner = t.Kind()
			}
			return printedYAML(c, map[string]secretInfo{id: {Revision: s.Revision, Label: s.Label, Owner: owner, Description: s.Description}})
		}
	}
	return result{}, fmt.Errorf("secret %q not found", want)
}
