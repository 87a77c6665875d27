package charm

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/charmed-kubernetes/vsphere-integrator/internal/hooktools"
)

// Unit-state keys. The state is kept by the Juju controller (state-get /
// state-set), so it survives the unit's machine and needs no file.
const (
	stateCheck  = "check"
	stateStatus = "status"
	stateRelPfx = "published:" // + relation id
)

// result is what a check concluded, kept in unit state between events. It
// holds hashes, never a credential.
type result struct {
	// Inputs is credentials.Resolved.Hash of what was checked.
	Inputs string `json:"inputs"`
	At     time.Time
	// Outcome decides status and publishing.
	Outcome outcome `json:"outcome"`
	Message string  `json:"message,omitempty"`
	Version string  `json:"version,omitempty"`
}

// unitState is the decoded unit state plus what this event changes in it.
type unitState struct {
	check   *result
	status  string            // "active|ready": the status last set
	relKeys map[string]keyset // relation id → fingerprints of the values published there
	changed map[string]string // keys to write back; "" deletes
}

// keyset is a fingerprint per relation key: enough to tell which values
// changed without keeping the values (the password among them).
type keyset map[string]string

func loadState(ctx context.Context, tools hooktools.Tools) (*unitState, error) {
	raw, err := tools.StateGet(ctx)
	if err != nil {
		return nil, err
	}
	s := &unitState{relKeys: map[string]keyset{}, changed: map[string]string{}, status: raw[stateStatus]}
	if v := raw[stateCheck]; v != "" {
		var r result
		// A record this version cannot read is treated as no record: the
		// next check rewrites it.
		if json.Unmarshal([]byte(v), &r) == nil {
			s.check = &r
		}
	}
	for k, v := range raw {
		if id, ok := strings.CutPrefix(k, stateRelPfx); ok {
			var ks keyset
			if json.Unmarshal([]byte(v), &ks) == nil {
				s.relKeys[id] = ks
			}
		}
	}
	return s, nil
}

func (s *unitState) setCheck(r result) {
	s.check = &r
	b, _ := json.Marshal(r)
	s.changed[stateCheck] = string(b)
}

func (s *unitState) setStatus(v string) {
	s.status = v
	s.changed[stateStatus] = v
}

func (s *unitState) setPublished(relID string, ks keyset) {
	if ks == nil {
		delete(s.relKeys, relID)
		s.changed[stateRelPfx+relID] = ""
		return
	}
	s.relKeys[relID] = ks
	b, _ := json.Marshal(ks)
	s.changed[stateRelPfx+relID] = string(b)
}

// save writes what changed in one state-set, or nothing.
func (s *unitState) save(ctx context.Context, tools hooktools.Tools) error {
	if len(s.changed) == 0 {
		return nil
	}
	if err := tools.StateSet(ctx, s.changed); err != nil {
		return err
	}
	s.changed = map[string]string{}
	return nil
}

// fingerprints returns a keyset for encoded relation values. The unit name
// salts it so that the same password gives different fingerprints on
// different units.
func fingerprints(unit string, values map[string]string) keyset {
	ks := keyset{}
	for k, v := range values {
		h := sha256.Sum256([]byte(fmt.Sprintf("%s\x00%s\x00%s", unit, k, v)))
		ks[k] = hex.EncodeToString(h[:8])
	}
	return ks
}
