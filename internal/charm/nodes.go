package charm

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/charmed-kubernetes/vsphere-integrator/internal/hooktools"
	"github.com/charmed-kubernetes/vsphere-integrator/internal/vsphere"
)

// nodeSet is the related units and the address Juju gives each, by relation
// id: {"clients:3": {"kubernetes-worker/0": "10.0.0.5"}}. Addresses are no
// secret.
type nodeSet map[string]map[string]string

func (ns nodeSet) set(relID, unit, addr string) {
	if ns[relID] == nil {
		ns[relID] = map[string]string{}
	}
	ns[relID][unit] = addr
}

// list is the nodes a check looks at, one per unit, sorted by unit name. A
// unit related twice (on clients and on nodes) takes its address from the
// relation with the lowest id, so the list does not depend on map order.
func (ns nodeSet) list() []vsphere.Node {
	rels := make([]string, 0, len(ns))
	for id := range ns {
		rels = append(rels, id)
	}
	sort.Slice(rels, func(i, j int) bool { return relLess(rels[i], rels[j]) })
	type entry struct {
		app  string
		num  int
		node vsphere.Node
	}
	seen := map[string]bool{}
	var entries []entry
	for _, id := range rels {
		for u, addr := range ns[id] {
			if !seen[u] {
				seen[u] = true
				app, num := splitUnit(u)
				entries = append(entries, entry{app, num, vsphere.Node{Name: u, Address: addr}})
			}
		}
	}
	// Keys split once, not on every comparison: thousands of units.
	sort.Slice(entries, func(i, j int) bool {
		a, b := entries[i], entries[j]
		if a.app != b.app {
			return a.app < b.app
		}
		if a.num != b.num {
			return a.num < b.num
		}
		return a.node.Name < b.node.Name
	})
	out := make([]vsphere.Node, len(entries))
	for i, e := range entries {
		out[i] = e.node
	}
	return out
}

// splitUnit splits "kubernetes-worker/12" into its application and number
// (-1 when it has none), so that worker/2 sorts before worker/10.
func splitUnit(unit string) (string, int) {
	app, n, _ := strings.Cut(unit, "/")
	num, err := strconv.Atoi(n)
	if err != nil {
		num = -1
	}
	return app, num
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

// relLess orders relation ids by endpoint, then number.
func relLess(a, b string) bool {
	epA, _, _ := strings.Cut(a, ":")
	epB, _, _ := strings.Cut(b, ":")
	if epA != epB {
		return epA < epB
	}
	return relNum(a) < relNum(b)
}

func relNum(id string) int {
	_, n, _ := strings.Cut(id, ":")
	v, err := strconv.Atoi(n)
	if err != nil {
		return int(^uint(0) >> 1)
	}
	return v
}

// trackNodes keeps the record of related units current, as the plan
// says. A relation-joined or -changed hook reads its remote unit's
// address, one relation-get. The units are listed again when the plan asks
// (the prerequisite actions), which reads only the addresses of units the
// record lacks, and in full (an address per unit) only on upgrade-charm or
// when there is no record yet, so that no other event pays a relation-get
// per unit. recheck reports that a unit leaving is named in the status in
// a way only a new check can restate (see leave).
func (c *Charm) trackNodes(ctx context.Context, st *unitState, p plan) (recheck bool, err error) {
	if p.member == unitDeparted || p.member == relationBroken {
		recheck = leave(st, p)
	}
	switch {
	case !st.recorded || p.nodes == nodesReread:
		return recheck, c.resyncNodes(ctx, st, false)
	case p.nodes == nodesRelisted:
		return recheck, c.resyncNodes(ctx, st, true)
	case p.member != relationCreated && p.member != unitJoined:
		return recheck, nil
	}
	if p.recordApp {
		st.setApp(p.rel.id, p.rel.app)
	}
	if p.member == relationCreated || p.rel.unit == "" {
		return recheck, nil
	}
	addr, err := c.remoteAddress(ctx, p.rel.id, p.rel.unit)
	if err != nil {
		return false, err
	}
	st.setNode(p.rel.id, p.rel.unit, addr)
	return recheck, nil
}

// leave forgets what a relation-departed (a unit) or relation-broken (a
// relation and its units) takes away, so that the status this event sets
// names neither: the unit's key is deleted (one state-delete, nothing
// read), a broken relation is dropped from the record (its keys are swept
// by later update-status hooks, see dropRelation), and the units leaving
// are dropped from the node VMs the last check named. When the status
// names one in a message that cannot be taken apart (a privilege missing
// on its VM, a datastore its host lacks), it reports recheck: this event
// checks again, so the status is true now rather than at the next
// update-status.
func leave(st *unitState, p plan) (recheck bool) {
	var gone leaving
	id := p.rel.id
	if p.member == unitDeparted {
		if gone.unit = p.rel.unit; gone.unit == "" {
			return false
		}
	} else {
		gone.app = st.apps[id]
		if gone.app == "" {
			gone.app = p.rel.app
		}
		// The same application still related on another relation keeps
		// its units (a nodes relation's application is not recorded: the
		// next update-status, which checks because the units changed,
		// names them again if so).
		for other, app := range st.apps {
			if other != id && app == gone.app {
				gone.app = ""
			}
		}
	}
	if rec := st.check; rec != nil && rec.Prereq != nil {
		pr := *rec.Prereq
		pruned, named := pr.forget(gone)
		recheck = named
		if pruned {
			v := *rec
			v.Prereq = &pr
			st.setCheck(v)
		}
	}
	if p.member == unitDeparted {
		st.removeNode(id, gone.unit)
	} else {
		st.dropRelation(id)
	}
	return recheck
}

// resyncNodes lists every related unit: a relation-ids per endpoint and a
// relation-list per relation. With reuse, a unit the record holds with an
// address keeps it (the relation hooks record every address Juju gives, in
// the same transaction as the rest of the state, see docs/juju-hook-tools.md),
// so the calls grow with the relations and the units the record lacks, not
// with the units: 5,000 relation-gets would not fit in an action's deadline.
// Without reuse every address is read again.
func (c *Charm) resyncNodes(ctx context.Context, st *unitState, reuse bool) error {
	if err := st.loadNodes(ctx, c.tools); err != nil {
		return err
	}
	ns := nodeSet{}
	for _, endpoint := range []string{Endpoint, NodesEndpoint} {
		ids, err := c.relationIDs(ctx, endpoint)
		if err != nil {
			return err
		}
		for _, id := range ids {
			units, err := c.tools.RelationList(ctx, id)
			if errors.Is(err, hooktools.ErrRelationNotFound) {
				continue
			}
			if err != nil {
				return err
			}
			for _, u := range units {
				addr, known := st.nodes[id][u]
				if !reuse || !known || addr == "" {
					if addr, err = c.remoteAddress(ctx, id, u); err != nil {
						return err
					}
				}
				ns.set(id, u, addr)
				if endpoint == Endpoint {
					app, _, _ := strings.Cut(u, "/")
					st.setApp(id, app)
				}
			}
		}
	}
	st.setNodes(ns)
	return nil
}

// nodesToCheck is the recorded units less those on this unit's own machine
// (a subordinate such as vsphere-cloud-provider, whose address is ours):
// they are not Kubernetes nodes. Only a clients relation can hold one (a
// unit on nodes is a principal; if it shares our machine, that machine is a
// node). Our address is in our own databag, where Juju writes it on
// entering scope: one relation-get, on the lowest clients relation with
// units, and only when a check runs.
func (c *Charm) nodesToCheck(ctx context.Context, st *unitState) ([]vsphere.Node, error) {
	var rels []string
	for id, units := range st.nodes {
		if len(units) > 0 && strings.HasPrefix(id, Endpoint+":") {
			rels = append(rels, id)
		}
	}
	sort.Slice(rels, func(i, j int) bool { return relLess(rels[i], rels[j]) })
	own := map[string]bool{}
	for _, id := range rels {
		data, err := c.tools.RelationGet(ctx, id, c.hc.Unit)
		if errors.Is(err, hooktools.ErrRelationNotFound) {
			continue // going away: try the next
		}
		if err != nil {
			return nil, err
		}
		for _, k := range addressKeys {
			if v := unquoteAddr(data[k]); v != "" {
				own[v] = true
			}
		}
		break
	}
	var out []vsphere.Node
	for _, n := range st.nodes.list() {
		if n.Address == "" || !own[n.Address] {
			out = append(out, n)
		}
	}
	return out, nil
}

// addressKeys are where Juju puts a unit's address in its databag, the
// preferred first.
var addressKeys = []string{"ingress-address", "private-address"}

// remoteAddress is the address Juju gives a remote unit on a relation:
// ingress-address, else private-address; "" when it has none (yet).
func (c *Charm) remoteAddress(ctx context.Context, id, unit string) (string, error) {
	data, err := c.tools.RelationGet(ctx, id, unit)
	if errors.Is(err, hooktools.ErrRelationNotFound) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	for _, k := range addressKeys {
		if v := unquoteAddr(data[k]); v != "" {
			return v, nil
		}
	}
	return "", nil
}

// unquoteAddr trims an address. Juju writes addresses raw; a charm that
// re-set one JSON-encoded would leave quotes around it.
func unquoteAddr(v string) string {
	v = strings.TrimSpace(v)
	var unquoted string
	if strings.HasPrefix(v, `"`) && json.Unmarshal([]byte(v), &unquoted) == nil {
		v = strings.TrimSpace(unquoted)
	}
	return v
}

// relationIDs lists an endpoint's relations once per event.
func (c *Charm) relationIDs(ctx context.Context, endpoint string) ([]string, error) {
	if ids, ok := c.relIDs[endpoint]; ok {
		return ids, nil
	}
	ids, err := c.tools.RelationIDs(ctx, endpoint)
	if err != nil {
		return nil, err
	}
	if ids == nil {
		ids = []string{}
	}
	c.relIDs[endpoint] = ids
	return ids, nil
}
