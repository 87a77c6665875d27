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

// record is what every event needs to know, in one key. Its presence
// says that the node keys beside it are complete: a unit without one (new,
// or its state lost) lists the related units once.
type record struct {
	Check *checkRecord `json:"check,omitempty"`
	// Published is, per clients relation, the fingerprints of the values
	// published there.
	Published map[string]keyset `json:"published,omitempty"`
	// Apps is the remote application of each relation, for the consumer
	// warnings.
	Apps map[string]string `json:"apps,omitempty"`
	// Broken are relations that are gone, whose node keys are left to be
	// deleted a few at a time (see sweep).
	Broken []string `json:"broken,omitempty"`
	// Table is the fingerprint of the dedicated table this unit last
	// published from: when it changes, every relation is written again.
	Table string `json:"table,omitempty"`
	// Known is the dedicated table as this unit last read it (no
	// password: the secrets' URIs), nil when that was empty. A relation
	// hook of an application already served uses it rather than asking
	// leader settings: only the leader's hooks change the table, and each
	// change reaches the other units as leader-settings-changed. In shared
	// mode, a unit with none reads nothing more: nothing is left to retire.
	Known *table `json:"known,omitempty"`
}

// unitState is the unit state as a value: decoded from what state-get
// returned, changed by the event, and saved as the difference between its
// encoding and what was read (save). Unit state holds exactly that
// encoding: a key this version does not write is deleted when read.
type unitState struct {
	check   *checkRecord
	relKeys map[string]keyset // relation id → fingerprints of the values published there
	apps    map[string]string // relation id → remote application
	broken  map[string]bool
	// nodes are the related units and their addresses, kept up to date by
	// the relation hooks so that a check needs no relation-list or
	// relation-get. Complete only when full; a relation hook that read
	// only the record holds here the unit it recorded, if any.
	nodes nodeSet
	// stale are the node keys of broken relations still in unit state,
	// with their stored values: part of the value until sweep drops them.
	stale map[string]string
	// recorded: a record was read, so the node keys are complete.
	recorded bool
	// table and known are the record's Table and Known.
	table string
	known *table

	// read is what state-get returned: every key when full, else the
	// record, plus unread for each node key this event set or removed
	// without reading it (its stored value, if any, is not known).
	read map[string]string
	// full is whether every key was read (state-get); a relation hook
	// reads only the record.
	full bool
}

// unread stands in read for a key whose stored value was not read. It is no
// value save writes (those are JSON or quoted), so the key always differs.
const unread = "\x00"

// keyset is a fingerprint per relation key: enough to tell which values
// changed without keeping the values (the password among them).
type keyset map[string]string

func newUnitState() *unitState {
	return &unitState{relKeys: map[string]keyset{}, apps: map[string]string{}, broken: map[string]bool{}, nodes: nodeSet{}, stale: map[string]string{}, read: map[string]string{}}
}

// loadRecord reads only the record: what a relation hook needs. With no
// record yet it reads everything instead.
func loadRecord(ctx context.Context, tools *hooktools.Tools) (*unitState, error) {
	raw, err := tools.StateGetKey(ctx, stateRecord)
	if err != nil {
		return nil, err
	}
	if raw == "" {
		return loadState(ctx, tools)
	}
	s := newUnitState()
	s.read[stateRecord] = raw
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
// relation hook that turns out to need a check. What the event already set
// or removed stands.
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
	s.recorded = true
	if r.Check != nil && r.Check.Outcome.known() {
		s.check = r.Check
	}
	for id, ks := range r.Published {
		s.relKeys[id] = ks
	}
	for id, app := range r.Apps {
		s.apps[id] = app
	}
	for _, id := range r.Broken {
		s.broken[id] = true
	}
	s.table, s.known = r.Table, r.Known
}

// decodeNodes takes the node keys from everything state-get returned,
// keeping what the event set or removed before.
func (s *unitState) decodeNodes(raw map[string]string) {
	s.full = true
	for k, v := range raw {
		was, touched := s.read[k]
		s.read[k] = v
		if touched && was == unread {
			continue
		}
		rest, ok := strings.CutPrefix(k, stateNodePfx)
		if !ok {
			continue
		}
		rel, unit, ok := strings.Cut(rest, " ")
		switch addr, err := strconv.Unquote(v); {
		case ok && s.broken[rel]:
			s.stale[k] = v
		case ok && err == nil:
			s.nodes.set(rel, unit, addr)
		}
	}
	// A key the event touched that is not there needs no deleting.
	for k, v := range s.read {
		if v == unread {
			delete(s.read, k)
		}
	}
}

// touch notes that the event sets or removes key without having read it.
func (s *unitState) touch(key string) {
	if _, ok := s.read[key]; !ok && !s.full {
		s.read[key] = unread
	}
}

func (s *unitState) setCheck(r checkRecord) { s.check = &r }

func (s *unitState) setPublished(relID string, ks keyset) {
	if ks == nil {
		delete(s.relKeys, relID)
	} else {
		s.relKeys[relID] = ks
	}
}

// setApp records a relation's remote application.
func (s *unitState) setApp(relID, app string) {
	if app != "" {
		s.apps[relID] = app
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
// Without the node keys read, the key is written whether or not it
// changed.
func (s *unitState) setNode(relID, unit, addr string) {
	s.touch(nodeKey(relID, unit))
	s.nodes.set(relID, unit, addr)
}

// removeNode forgets a unit that left: one state-delete, nothing read.
func (s *unitState) removeNode(relID, unit string) {
	s.touch(nodeKey(relID, unit))
	delete(s.nodes[relID], unit)
}

// dropRelation forgets a broken relation. Deleting its thousands of node
// keys would take a state-delete each, so the relation is marked broken in
// the record and sweep deletes its keys a few at a time.
func (s *unitState) dropRelation(relID string) {
	for u := range s.nodes[relID] {
		if v, ok := s.read[nodeKey(relID, u)]; ok && v != unread {
			s.stale[nodeKey(relID, u)] = v
		}
	}
	delete(s.relKeys, relID)
	delete(s.apps, relID)
	delete(s.nodes, relID)
	s.broken[relID] = true
}

// setNodes replaces the related units with what the relations hold now.
// s must be full.
func (s *unitState) setNodes(ns nodeSet) { s.nodes = ns }

// sweepBatch bounds the stale node keys one event deletes.
const sweepBatch = 20

// maxBroken bounds the broken relations the record lists before an event
// other than update-status sweeps them (about 20 bytes each in the record).
const maxBroken = 64

// sweep deletes up to sweepBatch node keys of broken relations, and
// forgets the relations with none left. s must be full.
func (s *unitState) sweep() {
	keys := make([]string, 0, len(s.stale))
	for k := range s.stale {
		keys = append(keys, k)
	}
	sort.Strings(keys) // a stable order, batch after batch
	for _, k := range keys[:min(len(keys), sweepBatch)] {
		delete(s.stale, k)
	}
	left := map[string]bool{}
	for k := range s.stale {
		rel, _, _ := strings.Cut(k[len(stateNodePfx):], " ")
		left[rel] = true
	}
	for rel := range s.broken {
		if !left[rel] {
			delete(s.broken, rel)
		}
	}
}

// encodeAddr stores an address so that none ("", a unit Juju gave no
// address yet) is still a value: state-set with "" would delete the key.
func encodeAddr(addr string) string { return strconv.Quote(addr) }

// encode is the state as unit-state keys: the record, a key per related
// unit known, and the node keys of broken relations not swept yet.
func (s *unitState) encode() (map[string]string, error) {
	r := record{Check: s.check, Published: s.relKeys, Apps: s.apps, Table: s.table, Known: s.known}
	for id := range s.broken {
		r.Broken = append(r.Broken, id)
	}
	sort.Strings(r.Broken)
	b, err := json.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("encode unit state record: %w", err)
	}
	out := map[string]string{stateRecord: string(b)}
	for rel, units := range s.nodes {
		for u, addr := range units {
			out[nodeKey(rel, u)] = encodeAddr(addr)
		}
	}
	for k, v := range s.stale {
		out[k] = v
	}
	return out, nil
}

// save writes the difference between the state and what was read: one
// state-set of the keys whose value differs, and a state-delete per key
// that is gone; nothing when they agree.
func (s *unitState) save(ctx context.Context, tools *hooktools.Tools) error {
	next, err := s.encode()
	if err != nil {
		return err
	}
	diff := map[string]string{}
	for k, v := range next {
		if was, ok := s.read[k]; !ok || was != v {
			diff[k] = v
		}
	}
	for k := range s.read {
		if _, ok := next[k]; !ok {
			diff[k] = "" // StateSet deletes it
		}
	}
	if len(diff) == 0 {
		return nil
	}
	if err := tools.StateSet(ctx, diff); err != nil {
		return err
	}
	s.read = next
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
