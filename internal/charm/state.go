package charm

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/charmed-kubernetes/vsphere-integrator/internal/hooktools"
)

// Unit-state keys. The state is kept by the Juju controller (state-get /
// state-set, docs/juju-hook-tools.md), so it survives the unit's machine.
// Its writes are part of the hook transaction: a hook that fails commits
// none, so every record here agrees with what was published.
//
// Two kinds of key, so that a relation hook costs the same with 5,000
// related units as with 5: the record (stateRecord), small and all that a
// relation hook reads (`state-get record`), and one key per related unit
// (stateNodePfx), which relation hooks only write or delete and the other
// events read with the rest (`state-get`).
const (
	stateRecord  = "record"
	stateNodePfx = "node:" // + relation id + " " + unit
)

// Keys of earlier releases, deleted when seen: the whole state was read
// by every hook then.
var oldStateKeys = []string{"check", "status", "nodes", "nodes-known"}

var oldStatePrefixes = []string{"published:", "broken:"}

// checkRecord is what the last check concluded, kept in unit state between
// events. It holds keyed hashes, never a credential.
type checkRecord struct {
	// Inputs is credentials.Resolved.Hash of what was checked.
	Inputs string    `json:"inputs"`
	At     time.Time `json:"at"`
	// Outcome decides publishing and, with Prereq, the status.
	Outcome outcome `json:"outcome"`
	// Reason says what is wrong, in words for a person, without what the
	// charm does about it (the status adds that).
	Reason string `json:"reason,omitempty"`
	// LoginRejected: vCenter refused the user or password; hooks do not
	// try these inputs again until At + loginBackoff.
	LoginRejected bool   `json:"login-rejected,omitempty"`
	Version       string `json:"version,omitempty"`
	// Nodes is nodeSet.hash of the related units the check looked at: a
	// unit joining or leaving makes update-status check again.
	Nodes string `json:"nodes,omitempty"`
	// Prereq is what the check found of the Kubernetes prerequisites (node
	// VMs, privileges); nil when it did not get that far.
	Prereq *prereqs `json:"prereq,omitempty"`
	// Recheck: vCenter was changed since (enable-disk-uuid), so the next
	// update-status checks again.
	Recheck bool `json:"recheck,omitempty"`
}

// retryAt is when a hook may try a rejected login again.
func (r *checkRecord) retryAt() time.Time { return r.At.Add(loginBackoff) }

// record is what every event needs to know, in one key.
type record struct {
	Check *checkRecord `json:"check,omitempty"`
	// Published is, per clients relation, the fingerprints of the values
	// published there.
	Published map[string]keyset `json:"published,omitempty"`
	// Apps is the remote application of each relation, for the consumer
	// warnings.
	Apps map[string]string `json:"apps,omitempty"`
	// NodesKnown marks that the node keys are complete: without it (a unit
	// upgraded from a release that did not keep them) they are listed once.
	NodesKnown bool `json:"nodes-known,omitempty"`
	// Broken are relations that are gone, whose node keys are left to be
	// deleted a few at a time (see sweep).
	Broken []string `json:"broken,omitempty"`
}

// unitState is the decoded unit state plus what this event changes in it.
type unitState struct {
	check      *checkRecord
	relKeys    map[string]keyset // relation id → fingerprints of the values published there
	apps       map[string]string // relation id → remote application
	nodesKnown bool
	broken     map[string]bool
	// nodes are the related units and their addresses, kept up to date by
	// the relation hooks so that a check needs no relation-list or
	// relation-get; read only when full.
	nodes nodeSet
	// full is whether the node keys were read (state-get of everything);
	// a relation hook reads only the record.
	full bool
	// stale are node keys of broken relations, still to be deleted.
	stale []string
	// dirty: the record changed and is written back.
	dirty   bool
	changed map[string]string // node keys (and old keys) to write back; "" deletes
}

// keyset is a fingerprint per relation key: enough to tell which values
// changed without keeping the values (the password among them).
type keyset map[string]string

func newUnitState() *unitState {
	return &unitState{relKeys: map[string]keyset{}, apps: map[string]string{}, broken: map[string]bool{}, nodes: nodeSet{}, changed: map[string]string{}}
}

// loadRecord reads only the record: what a relation hook needs. With no
// record yet (a new unit, or one upgraded from a release that kept other
// keys) it reads everything instead.
func loadRecord(ctx context.Context, tools *hooktools.Tools) (*unitState, error) {
	raw, err := tools.StateGetKey(ctx, stateRecord)
	if err != nil {
		return nil, err
	}
	if raw == "" {
		return loadState(ctx, tools)
	}
	s := newUnitState()
	s.decodeRecord(raw)
	return s, nil
}

// loadState reads the whole unit state: the record and every node key.
func loadState(ctx context.Context, tools *hooktools.Tools) (*unitState, error) {
	raw, err := tools.StateGet(ctx)
	if err != nil {
		return nil, err
	}
	s := newUnitState()
	s.decodeRecord(raw[stateRecord])
	s.decodeNodes(raw)
	return s, nil
}

// loadNodes adds the node keys to a state that has only the record: for a
// relation hook that turns out to need a check.
func (s *unitState) loadNodes(ctx context.Context, tools *hooktools.Tools) error {
	if s.full {
		return nil
	}
	raw, err := tools.StateGet(ctx)
	if err != nil {
		return err
	}
	s.decodeNodes(raw)
	return nil
}

func (s *unitState) decodeRecord(raw string) {
	var r record
	// A record this version cannot read is no record: the next check
	// rewrites it, and publishing compares with the relations themselves.
	if raw == "" || json.Unmarshal([]byte(raw), &r) != nil {
		return
	}
	if r.Check != nil && r.Check.Outcome.known() {
		s.check = r.Check
	}
	for id, ks := range r.Published {
		s.relKeys[id] = ks
	}
	for id, app := range r.Apps {
		s.apps[id] = app
	}
	s.nodesKnown = r.NodesKnown
	for _, id := range r.Broken {
		s.broken[id] = true
	}
}

func (s *unitState) decodeNodes(raw map[string]string) {
	s.full = true
	for k, v := range raw {
		if rest, ok := strings.CutPrefix(k, stateNodePfx); ok {
			rel, unit, ok := strings.Cut(rest, " ")
			if s.broken[rel] {
				s.stale = append(s.stale, k)
				continue
			}
			if addr, err := strconv.Unquote(v); ok && err == nil {
				if _, live := s.nodes[rel][unit]; !live {
					s.nodes.set(rel, unit, addr)
				}
			}
			continue
		}
		if slices.Contains(oldStateKeys, k) || slices.ContainsFunc(oldStatePrefixes, func(p string) bool { return strings.HasPrefix(k, p) }) {
			s.changed[k] = ""
		}
	}
	sort.Strings(s.stale) // sweep deletes in a stable order
}

func (s *unitState) setCheck(r checkRecord) {
	s.check = &r
	s.dirty = true
}

func (s *unitState) setPublished(relID string, ks keyset) {
	if ks == nil {
		delete(s.relKeys, relID)
	} else {
		s.relKeys[relID] = ks
	}
	s.dirty = true
}

// setApp records a relation's remote application.
func (s *unitState) setApp(relID, app string) {
	if app != "" && s.apps[relID] != app {
		s.apps[relID] = app
		s.dirty = true
	}
}

// clientApps lists the applications related on clients, sorted.
func (s *unitState) clientApps() []string {
	var out []string
	for id, app := range s.apps {
		if strings.HasPrefix(id, Endpoint+":") && !slices.Contains(out, app) {
			out = append(out, app)
		}
	}
	sort.Strings(out)
	return out
}

func nodeKey(relID, unit string) string { return stateNodePfx + relID + " " + unit }

// setNode records a related unit's address: one key per unit, so that a
// relation hook writes the same few bytes however many units there are.
// Without the node keys read, it writes the key whether or not it changed.
func (s *unitState) setNode(relID, unit, addr string) {
	if have, ok := s.nodes[relID][unit]; ok && have == addr {
		return
	}
	s.nodes.set(relID, unit, addr)
	s.changed[nodeKey(relID, unit)] = encodeAddr(addr)
}

// dropRelation forgets a broken relation. Deleting its thousands of node
// keys would take a state-delete each, so the relation is marked broken in
// the record and sweep deletes its keys a few at a time.
func (s *unitState) dropRelation(relID string) {
	delete(s.relKeys, relID)
	delete(s.apps, relID)
	delete(s.nodes, relID)
	s.broken[relID] = true
	s.dirty = true
}

// setNodes replaces the node keys with what the relations hold now,
// writing only the difference. s must be full.
func (s *unitState) setNodes(ns nodeSet) {
	for rel, units := range s.nodes {
		for u := range units {
			if _, ok := ns[rel][u]; !ok {
				s.changed[nodeKey(rel, u)] = ""
			}
		}
	}
	for rel, units := range ns {
		for u, addr := range units {
			if have, ok := s.nodes[rel][u]; !ok || have != addr {
				s.changed[nodeKey(rel, u)] = encodeAddr(addr)
			}
		}
	}
	s.nodes = ns
	if !s.nodesKnown {
		s.nodesKnown, s.dirty = true, true
	}
}

// sweepBatch bounds the stale node keys one event deletes.
const sweepBatch = 20

// sweep deletes up to sweepBatch node keys of broken relations, and
// forgets the relations with none left. s must be full.
func (s *unitState) sweep() {
	n := min(len(s.stale), sweepBatch)
	for _, k := range s.stale[:n] {
		s.changed[k] = ""
	}
	s.stale = s.stale[n:]
	left := map[string]bool{}
	for _, k := range s.stale {
		rel, _, _ := strings.Cut(k[len(stateNodePfx):], " ")
		left[rel] = true
	}
	for rel := range s.broken {
		if !left[rel] {
			delete(s.broken, rel)
			s.dirty = true
		}
	}
}

// encodeAddr stores an address so that none ("", a unit Juju gave no
// address yet) is still a value: state-set with "" would delete the key.
func encodeAddr(addr string) string { return strconv.Quote(addr) }

// save writes what changed (one state-set, and a state-delete per deleted
// key), or nothing.
func (s *unitState) save(ctx context.Context, tools *hooktools.Tools) error {
	if s.dirty {
		r := record{Check: s.check, Published: s.relKeys, Apps: s.apps, NodesKnown: s.nodesKnown}
		for id := range s.broken {
			r.Broken = append(r.Broken, id)
		}
		sort.Strings(r.Broken)
		b, err := json.Marshal(r)
		if err != nil {
			return fmt.Errorf("encode unit state record: %w", err)
		}
		s.changed[stateRecord] = string(b)
	}
	if len(s.changed) == 0 {
		return nil
	}
	if err := tools.StateSet(ctx, s.changed); err != nil {
		return err
	}
	s.changed, s.dirty = map[string]string{}, false
	return nil
}

// fingerprints returns a keyset for encoded relation values, keyed with
// the unit's state key so that state-get output cannot be used to test
// password guesses.
func fingerprints(key []byte, values map[string]string) keyset {
	ks := keyset{}
	for k, v := range values {
		m := hmac.New(sha256.New, key)
		m.Write([]byte(k))
		m.Write([]byte{0})
		m.Write([]byte(v))
		ks[k] = hex.EncodeToString(m.Sum(nil)[:8])
	}
	return ks
}
