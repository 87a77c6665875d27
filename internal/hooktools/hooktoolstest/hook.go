package hooktoolstest

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/juju/mgo/v3/bson"
)

// Errors of the hook transaction helpers: a test driving hooks in the wrong
// order.
var (
	errHookRunning = errors.New("hooktoolstest: a hook is already running")
	errNoHook      = errors.New("hooktoolstest: no hook running")
)

// HookRecord is what the running hook may still roll back: the local
// unit's and application's databags and the charm state as committed when
// the hook began. Juju keeps a hook's writes in its context and sends them
// in one CommitHookChanges call when the hook exits 0; keeping the
// committed copy instead lets the tools write in place and read their own
// pending writes, as the context's caches do.
type HookRecord struct {
	// UnitData is the local unit's databag in each relation, by id.
	UnitData map[int]map[string]string `json:"unit-data,omitempty"`
	// AppData is the local application's databag in each relation, by id;
	// nil when it had none.
	AppData map[int]map[string]string `json:"app-data,omitempty"`
	State   map[string]string         `json:"state,omitempty"`
	// SecretCreates and SecretRemovals are the hook's secret-add and
	// secret-remove calls, in order: Juju's secretsChangeRecorder, sent
	// with the hook's other changes when it exits 0, and dropped
	// otherwise. Unlike the settings above they are not written in place:
	// a secret's removal does not hide it from secret-get, nor its
	// creation make it the controller's.
	SecretCreates  []SecretRecord  `json:"secret-creates,omitempty"`
	SecretRemovals []SecretRemoval `json:"secret-removals,omitempty"`
}

// BeginHook starts a hook (or an action): until EndHook, relation settings
// and charm state written by the tools are pending. Without BeginHook
// every tool call commits at once, as if it were a hook of its own.
func (j *Juju) BeginHook() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.Hook != nil {
		return errHookRunning
	}
	h := &HookRecord{UnitData: map[int]map[string]string{}, AppData: map[int]map[string]string{}, State: maps.Clone(j.State)}
	for id, r := range j.Relations {
		h.UnitData[id] = maps.Clone(r.UnitData[j.Unit])
		h.AppData[id] = maps.Clone(r.AppData[j.App()])
	}
	j.Hook = h
	return nil
}

// EndHook ends the hook begun by BeginHook with the exit code of the hook
// process, as the unit agent's context flush does
// (worker/uniter/runner/context, HookContext.Flush):
//   - exit 0 commits the pending secrets first, then the relation settings
//     and charm state, in the controller's order (uniter facade
//     CommitHookChanges): a secret refused (a label taken, leadership lost)
//     stops the commit with Juju's error before the settings and state,
//     those created before it staying created; charm state the controller
//     refuses (over MaxCharmStateSize, or a key that grew past 256 bytes
//     when Juju escaped its dots and dollars) commits no settings or state
//     but leaves the secrets committed;
//   - any other exit commits none of them (Juju retries the hook).
//
// Status, logs, the application version, leader settings and an action's
// results and logs were sent at once and stay. An action whose process exited non-zero is
// failed with Juju's "exit status N"; one whose changes were refused, with
// "committing requested changes failed" unless it set a message.
func (j *Juju) EndHook(exitCode int) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	h := j.Hook
	if h == nil {
		return errNoHook
	}
	j.Hook = nil
	var err error
	if exitCode == 0 {
		if err = j.commitSecrets(h); err == nil {
			// The controller checks charm state only when it changed.
			if maps.Equal(h.State, j.State) {
				return nil
			}
			if err = checkCommitState(j.State, j.maxCharmStateSize()); err == nil {
				return nil
			}
		}
	}
	j.rollback(h)
	if j.Action != nil {
		j.Action.Failed = true
		switch {
		case exitCode != 0:
			j.Action.Message = fmt.Sprintf("exit status %d", exitCode)
		case j.Action.Message == "":
			j.Action.Message = "committing requested changes failed"
		}
	}
	return err
}

// rollback restores what h recorded. Relations added while the hook ran
// keep what they have (Juju wrote it, not the hook); relations removed stay
// removed.
func (j *Juju) rollback(h *HookRecord) {
	j.State = h.State
	for id, r := range j.Relations {
		bag, ok := h.UnitData[id]
		if !ok {
			continue
		}
		r.databag(j.Unit)
		r.UnitData[j.Unit] = nonNil(bag)
		if app := h.AppData[id]; app != nil {
			r.appDatabag(j.App())
			r.AppData[j.App()] = app
		} else {
			delete(r.AppData, j.App())
		}
	}
}

// The charm-state quotas: juju/juju core/quota/fixed_limits.go for keys and
// values, controller/config.go for the controller's max-charm-state-size
// default.
const (
	maxCharmStateKeySize     = 256
	MaxCharmStateValueSize   = 64 * 1024
	defaultMaxCharmStateSize = 2 * 1024 * 1024
)

func (j *Juju) maxCharmStateSize() int {
	if j.MaxCharmStateSize == 0 {
		return defaultMaxCharmStateSize
	}
	return j.MaxCharmStateSize
}

// checkTupleSize is quota.CheckTupleSize for strings, with its texts:
// state-set checks each pair as the charm sets it.
func checkTupleSize(key, value string) error {
	if len(key) > maxCharmStateKeySize {
		return fmt.Errorf("max allowed key length (%d) exceeded", maxCharmStateKeySize)
	}
	if len(value) > MaxCharmStateValueSize {
		return fmt.Errorf("max allowed value length (%d) exceeded", MaxCharmStateValueSize)
	}
	return nil
}

// mongoKeyEscaper is juju/juju mongo/utils EscapeKey: the controller
// stores charm state keys with "." and "$" replaced by their full-width
// forms, three bytes each.
var mongoKeyEscaper = strings.NewReplacer(".", "\uff0e", "$", "\uff04")

// checkCommitState is the controller's check of a unit's new charm state
// (state/unit_ops.go, unitSetStateOperation): each escaped key and value
// against the fixed limits, then the BSON size of the whole against
// max-charm-state-size (maxSize ≤ 0: no limit). An empty state is
// removed, not checked.
func checkCommitState(state map[string]string, maxSize int) error {
	if len(state) == 0 {
		return nil
	}
	escaped := make(bson.M, len(state))
	for k, v := range state {
		escaped[mongoKeyEscaper.Replace(k)] = v
	}
	// Juju walks a map: in sorted order, the fake refuses the same state
	// with the same text every time.
	for _, k := range slices.Sorted(maps.Keys(escaped)) {
		if err := checkTupleSize(k, escaped[k].(string)); err != nil {
			return fmt.Errorf("persisting charm state: %w", err)
		}
	}
	if maxSize <= 0 {
		return nil
	}
	doc, err := bson.Marshal(escaped)
	if err != nil {
		return fmt.Errorf("persisting charm state: marshaling value to BSON: %w", err)
	}
	if len(doc) > maxSize {
		return fmt.Errorf("persisting charm state: max allowed size (%d) exceeded", maxSize)
	}
	return nil
}
