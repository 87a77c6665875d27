package hooktoolstest

import (
	"encoding/base64"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/juju/names/v5"
)

// SecretRecord is one secret as the controller keeps it. Revisions are not
// modelled: without secret-set every secret stays at revision 1.
type SecretRecord struct {
	// ID is the secret's xid; "secret:<ID>" is its URI.
	ID string `json:"id"`
	// Owner is the owner's tag: "application-<app>" or "unit-<app>-<n>".
	Owner       string `json:"owner"`
	Label       string `json:"label,omitempty"`
	Description string `json:"description,omitempty"`
	Revision    int    `json:"revision"`
	// Content is the content as Juju keeps it, every value
	// base64-encoded (core/secrets SecretValue); Values decodes it.
	Content map[string]string `json:"content"`
}

// URI is the secret's URI in its short form, which every secret tool
// takes.
func (s SecretRecord) URI() string { return secretURI{ID: s.ID}.String() }

// Values is the content as secret-get prints it (SecretValue.Values),
// failing as Juju does on a value that is not base64, which secret-add
// takes as given under a `key#base64` key.
func (s SecretRecord) Values() (map[string]string, error) {
	out := make(map[string]string, len(s.Content))
	for k, v := range s.Content {
		b, err := base64.StdEncoding.DecodeString(v)
		if err != nil {
			return nil, err
		}
		out[k] = string(b)
	}
	return out, nil
}

// SecretRemoval is one secret-remove of the running hook: nil Revisions
// removes every revision.
type SecretRemoval struct {
	ID        string `json:"id"`
	Revisions []int  `json:"revisions,omitempty"`
}

// The owners secret-add knows (--owner).
const (
	OwnerApplication = "application"
	OwnerUnit        = "unit"
)

func (j *Juju) appTag() string  { return names.NewApplicationTag(j.App()).String() }
func (j *Juju) unitTag() string { return names.NewUnitTag(j.Unit).String() }

// ownerTag is the tag of secret-add's --owner.
func (j *Juju) ownerTag(owner string) string {
	if owner == OwnerUnit {
		return j.unitTag()
	}
	return j.appTag()
}

// AddSecret stores a secret as a hook that ran before left it (this
// unit's, or the leader's for the application), and returns its URI
// ("secret:<id>"). owner is OwnerApplication, OwnerUnit (this unit) or any
// owner tag; content is given as secret-get prints it.
func (j *Juju) AddSecret(owner, label string, content map[string]string) string {
	j.mu.Lock()
	defer j.mu.Unlock()
	tag := owner
	if owner == OwnerApplication || owner == OwnerUnit {
		tag = j.ownerTag(owner)
	}
	s := SecretRecord{ID: newSecretID(), Owner: tag, Label: label, Revision: 1, Content: encodeContent(content)}
	j.SecretRecords = append(j.SecretRecords, s)
	return s.URI()
}

// Secrets returns a copy of the committed secrets, oldest first: what the
// controller holds, a running hook's pending creations and removals not
// included.
func (j *Juju) Secrets() []SecretRecord {
	j.mu.Lock()
	defer j.mu.Unlock()
	out := make([]SecretRecord, len(j.SecretRecords))
	for i, s := range j.SecretRecords {
		s.Content = maps.Clone(s.Content)
		out[i] = s
	}
	return out
}

func encodeContent(content map[string]string) map[string]string {
	out := make(map[string]string, len(content))
	for k, v := range content {
		out[k] = base64.StdEncoding.EncodeToString([]byte(v))
	}
	return out
}

// secretTx runs f on the running hook's record of secret changes, or,
// outside a hook, on one of its own that it commits at once, as if the
// call were a hook of its own: a refused commit is then the call's error.
func (j *Juju) secretTx(f func(h *HookRecord) (result, error)) (result, error) {
	h := j.Hook
	if h == nil {
		h = &HookRecord{}
	}
	res, err := f(h)
	if err != nil || j.Hook != nil {
		return res, err
	}
	if err := j.commitSecrets(h); err != nil {
		return result{}, err
	}
	return res, nil
}

// committed finds a committed secret by id.
func (j *Juju) committed(id string) (SecretRecord, bool) {
	i := slices.IndexFunc(j.SecretRecords, func(s SecretRecord) bool { return s.ID == id })
	if i < 0 {
		return SecretRecord{}, false
	}
	return j.SecretRecords[i], true
}

// listed reports whether the controller lists s among the unit's secrets
// (apiserver common/secrets getSecretMetadata): the unit's own, and the
// application's on the leader only.
func (j *Juju) listed(s SecretRecord) bool {
	return s.Owner == j.unitTag() || s.Owner == j.appTag() && j.Leader
}

// readable reports whether the controller gives the unit s's content
// (secretsmanager getSecretContent, CanRead): the unit's own secrets and
// every secret of its application, leader or not.
func (j *Juju) readable(s SecretRecord) bool {
	return s.Owner == j.unitTag() || s.Owner == j.appTag()
}

// secretMetadata is the hook context's SecretMetadata: the secrets the
// controller lists for the unit, with the hook's creations added and its
// removals taken out, by id.
func (j *Juju) secretMetadata(h *HookRecord) map[string]SecretRecord {
	out := map[string]SecretRecord{}
	for _, s := range h.SecretCreates {
		out[s.ID] = s
	}
	for _, s := range j.SecretRecords {
		removed := slices.ContainsFunc(h.SecretRemovals, func(r SecretRemoval) bool { return r.ID == s.ID })
		if j.listed(s) && !removed {
			out[s.ID] = s
		}
	}
	return out
}

// commitSecrets is the secrets' part of the uniter facade's
// CommitHookChanges, in its order and outside its transaction: every
// creation is tried, the ones refused are reported together ("creating
// secrets: ...") and stop the commit there, those that succeeded staying
// created; then every removal, where a secret the controller does not know
// is no error.
func (j *Juju) commitSecrets(h *HookRecord) error {
	var errs []string
	for _, c := range h.SecretCreates {
		if err := j.createSecret(c); err != nil {
			errs = append(errs, err.Error())
			continue
		}
		j.SecretRecords = append(j.SecretRecords, c)
	}
	if errs != nil {
		return fmt.Errorf("creating secrets: %s", strings.Join(errs, "\n"))
	}
	for _, r := range h.SecretRemovals {
		s, ok := j.committed(r.ID)
		if !ok {
			continue
		}
		if err := j.canManage(s); err != nil {
			errs = append(errs, err.Error())
			continue
		}
		if r.Revisions == nil || slices.Contains(r.Revisions, s.Revision) {
			j.SecretRecords = slices.DeleteFunc(j.SecretRecords, func(x SecretRecord) bool { return x.ID == s.ID })
		}
	}
	if errs != nil {
		return fmt.Errorf("removing secrets: %s", strings.Join(errs, "\n"))
	}
	return nil
}

// createSecret is the controller's check of a new secret
// (secretsmanager createSecret, state CreateSecret): an application's
// secret needs the leader, and its label must be free.
func (j *Juju) createSecret(c SecretRecord) error {
	if c.Owner == j.appTag() && !j.Leader {
		return j.notLeaderOf()
	}
	if c.Label != "" && j.labelTaken(c.Owner, c.Label) {
		// CreateSecrets turns state's LabelExists into this.
		return fmt.Errorf("secret with label %q already exists", c.Label)
	}
	return nil
}

// labelTaken is state's uniqueSecretOwnerLabelOps: a label is taken for
// an owner by a secret of the same owner, for the application by a secret
// of one of its units, and for a unit by one of its application.
func (j *Juju) labelTaken(owner, label string) bool {
	app := j.appTag()
	return slices.ContainsFunc(j.SecretRecords, func(s SecretRecord) bool {
		return s.Label == label &&
			(s.Owner == owner ||
				owner == app && j.unitOfApp(s.Owner) ||
				s.Owner == app && j.unitOfApp(owner))
	})
}

// unitOfApp reports whether tag is a unit of the local application.
func (j *Juju) unitOfApp(tag string) bool {
	t, err := names.ParseUnitTag(tag)
	if err != nil {
		return false
	}
	app, err := names.UnitApplication(t.Id())
	return err == nil && app == j.App()
}

// canManage is the controller's check of a removal (common/secrets
// CanManage): the owner unit, or the leader for the application's secret.
func (j *Juju) canManage(s SecretRecord) error {
	switch {
	case s.Owner == j.unitTag():
		return nil
	case s.Owner == j.appTag() && j.Leader:
		return nil
	case s.Owner == j.appTag():
		return j.notLeaderOf()
	}
	return errPermissionDenied
}

// errPermissionDenied is the controller's ErrPerm.
var errPermissionDenied = errors.New("permission denied")
