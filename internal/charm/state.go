package charm

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/charmed-kubernetes/vsphere-integrator/internal/hooktools"
)

// Unit-state keys. The state is kept by the Juju controller (state-get /
// state-set, docs/juju-hook-tools.md), so it survives the unit's machine.
// Its writes are part of the hook transaction: a hook that fails commits
// none, so every record here agrees with what was published.
const (
	stateCheck   = "check"
	stateRelPfx  = "published:" // + relation id
	stateNodePfx = "node:"      // + relation id + " " + unit
	// stateBrokenPfx + relation id marks a relation that is gone, whose
	// node records are left to be deleted a few at a time (see sweep).
	stateBrokenPfx = "broken:"
	// stateNodesKnown marks that the node records are complete: without it
	// (a unit upgraded from a release that did not keep them) they are
	// listed once.
	stateNodesKnown = "nodes-known"
	// Keys of earlier releases, deleted when seen.
	stateOldNodes  = "nodes"
	stateOldStatus = "status"
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

// unitState is the decoded unit state plus what this event changes in it.
type unitState struct {
	check   *checkRecord
	relKeys map[string]keyset // relation id → fingerprints of the values published there
	// nodes are the related units and their addresses, kept up to date by
	// the relation hooks so that a check needs no relation-list or
	// relation-get; nodesKnown is false until first recorded.
	nodes      nodeSet
	nodesKnown bool
	// stale are node records of broken relations, still to be deleted;
	// broken the marks of those relations.
	stale   []string
	broken  map[string]bool
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
	s := &unitState{relKeys: map[string]keyset{}, nodes: nodeSet{}, broken: map[string]bool{}, changed: map[string]string{}}
	_, s.nodesKnown = raw[stateNodesKnown]
	for k := range raw {
		if id, ok := strings.CutPrefix(k, stateBrokenPfx); ok {
			s.broken[id] = true
		}
	}
	for k, v := range raw {
		switch {
		case k == stateCheck:
			var r checkRecord
			// A record this version cannot read is no record: the next check
			// rewrites it.
			if json.Unmarshal([]byte(v), &r) == nil && r.Outcome.known() {
				s.check = &r
			}
		case strings.HasPrefix(k, stateNodePfx):
			rel, unit, ok := strings.Cut(k[len(stateNodePfx):], " ")
			if s.broken[rel] {
				s.stale = append(s.stale, k)
				continue
			}
			if addr, err := strconv.Unquote(v); ok && err == nil {
				s.nodes.set(rel, unit, addr)
			}
		case strings.HasPrefix(k, stateRelPfx):
			var ks keyset
			if json.Unmarshal([]byte(v), &ks) == nil {
				s.relKeys[k[len(stateRelPfx):]] = ks
			}
		case k == stateOldNodes, k == stateOldStatus:
			s.changed[k] = ""
		}
	}
	return s, nil
}

func (s *unitState) setCheck(r checkRecord) {
	s.check = &r
	b, _ := json.Marshal(r)
	s.changed[stateCheck] = string(b)
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

func nodeKey(relID, unit string) string { return stateNodePfx + relID + " " + unit }

// setNode records a related unit's address: one key per unit, so that a
// relation hook writes the same few bytes however many units there are.
func (s *unitState) setNode(relID, unit, addr string) {
	if have, ok := s.nodes[relID][unit]; ok && have == addr {
		s.markNodesKnown()
		return
	}
	s.nodes.set(relID, unit, addr)
	s.changed[nodeKey(relID, unit)] = encodeAddr(addr)
	s.markNodesKnown()
}

// dropNode forgets a unit that left a relation.
func (s *unitState) dropNode(relID, unit string) {
	if _, ok := s.nodes[relID][unit]; !ok {
		return
	}
	delete(s.nodes[relID], unit)
	s.changed[nodeKey(relID, unit)] = ""
	if len(s.nodes[relID]) == 0 {
		delete(s.nodes, relID)
	}
}

// dropRelation forgets a broken relation's units. Deleting thousands of
// records would take a state-delete each, so the relation is marked broken
// in one write and sweep deletes its records a few at a time.
func (s *unitState) dropRelation(relID string) {
	if len(s.nodes[relID]) == 0 {
		delete(s.nodes, relID)
		return
	}
	delete(s.nodes, relID)
	s.broken[relID] = true
	s.changed[stateBrokenPfx+relID] = "1"
}

// sweepBatch bounds the stale records one event deletes.
const sweepBatch = 20

// sweep deletes up to sweepBatch node records of broken relations, and
// the marks of relations with none left.
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
			s.changed[stateBrokenPfx+rel] = ""
		}
	}
}

// setNodes replaces the record with what the relations hold now, writing
// only the difference.
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
	s.markNodesKnown()
}

func (s *unitState) markNodesKnown() {
	if !s.nodesKnown {
		s.nodesKnown = true
		s.changed[stateNodesKnown] = "1"
	}
}

// encodeAddr stores an address so that none ("", a unit Juju gave no
// address yet) is still a value: state-set with "" would delete the key.
func encodeAddr(addr string) string { return strconv.Quote(addr) }

// save writes what changed (one state-set, and a state-delete per deleted
// key), or nothing.
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
