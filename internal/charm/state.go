package charm

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/charmed-kubernetes/vsphere-integrator/internal/hooktools"
	"github.com/charmed-kubernetes/vsphere-integrator/internal/vsphere"
)

// Unit-state keys. The state is kept by the Juju controller (state-get /
// state-set), so it survives the unit's machine and needs no file.
const (
	stateCheck  = "check"
	stateStatus = "status"
	stateRelPfx = "published:" // + relation id
	stateNodes  = "nodes"
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

// unitState is the decoded unit state plus what this event changes in it.
type unitState struct {
	check   *result
	status  string            // "active|ready": the status last set
	relKeys map[string]keyset // relation id → fingerprints of the values published there
	// nodes are the related units and their addresses, kept up to date by
	// the relation hooks so that a check needs no relation-list or
	// relation-get; nodesKnown is false until first recorded (a unit
	// upgraded from a release that did not keep them).
	nodes      nodeSet
	nodesKnown bool
	changed    map[string]string // keys to write back; "" deletes
}

// nodeSet is the related units and the address Juju gives each, by relation
// id: {"clients:3": {"kubernetes-worker/0": "10.0.0.5"}}. Addresses are no
// secret.
type nodeSet map[string]map[string]string

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
	s.nodes = nodeSet{}
	if v, ok := raw[stateNodes]; ok {
		// Unreadable counts as unknown: the next event lists them again.
		s.nodesKnown = json.Unmarshal([]byte(v), &s.nodes) == nil
		if s.nodes == nil {
			s.nodes = nodeSet{}
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

// setNode records a related unit's address; false when it was recorded
// already.
func (s *unitState) setNode(relID, unit, addr string) bool {
	if have, ok := s.nodes[relID][unit]; ok && have == addr && s.nodesKnown {
		return false
	}
	if s.nodes[relID] == nil {
		s.nodes[relID] = map[string]string{}
	}
	s.nodes[relID][unit] = addr
	s.nodesChanged()
	return true
}

// dropNode forgets a unit that left a relation; dropNode(id, "") forgets
// the whole relation.
func (s *unitState) dropNode(relID, unit string) bool {
	units, ok := s.nodes[relID]
	switch {
	case !ok:
		return false
	case unit == "":
		delete(s.nodes, relID)
	default:
		if _, ok := units[unit]; !ok {
			return false
		}
		delete(units, unit)
		if len(units) == 0 {
			delete(s.nodes, relID)
		}
	}
	s.nodesChanged()
	return true
}

// setNodes replaces the record with what the relations hold now.
func (s *unitState) setNodes(ns nodeSet) {
	if s.nodesKnown && ns.hash() == s.nodes.hash() {
		return
	}
	s.nodes = ns
	s.nodesChanged()
}

func (s *unitState) nodesChanged() {
	s.nodesKnown = true
	b, _ := json.Marshal(s.nodes)
	// "{}" rather than "": an empty record still says "known".
	s.changed[stateNodes] = string(b)
}

// list is the nodes a check looks at, one per unit, sorted by unit name.
func (ns nodeSet) list() []vsphere.Node {
	seen := map[string]bool{}
	var out []vsphere.Node
	for _, units := range ns {
		for u, addr := range units {
			if !seen[u] {
				seen[u] = true
				out = append(out, vsphere.Node{Name: u, Address: addr})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return unitLess(out[i].Name, out[j].Name) })
	return out
}

// hash identifies the set of units and addresses; "" for none.
func (ns nodeSet) hash() string {
	nodes := ns.list()
	if len(nodes) == 0 {
		return ""
	}
	h := sha256.New()
	for _, n := range nodes {
		fmt.Fprintf(h, "%s\x00%s\n", n.Name, n.Address)
	}
	return hex.EncodeToString(h.Sum(nil)[:8])
}

// unitLess orders unit names by application, then number: worker/2 before
// worker/10.
func unitLess(a, b string) bool {
	appA, numA, _ := strings.Cut(a, "/")
	appB, numB, _ := strings.Cut(b, "/")
	if appA != appB {
		return appA < appB
	}
	if len(numA) != len(numB) {
		return len(numA) < len(numB)
	}
	return numA < numB
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
