package charm

import (
	"context"
	"errors"
	"sort"
	"strings"

	"github.com/charmed-kubernetes/vsphere-integrator/internal/hooktools"
)

// publish writes on the clients relations that where names (p's own
// relation for publishThisRelation) the values valuesFor gives for each
// (nothing where it gives nil), only the keys whose value differs from what
// is there. What is there comes from unit state when
// this unit wrote it, else from relation-get (a relation the Python charm,
// or a lost state, left behind). It returns the keys written on at least
// one relation and the relations written to.
func (c *Charm) publish(ctx context.Context, st *unitState, p plan, where publishScope, valuesFor func(relID string) (map[string]string, error)) (keys, written []string, err error) {
	var rels []string
	switch where {
	case publishNone:
		return nil, nil, nil
	case publishThisRelation:
		rels = []string{p.rel.id}
	case publishAll:
		if rels, err = c.relationIDs(ctx, Endpoint); err != nil {
			return nil, nil, err
		}
	}
	changed := map[string]bool{}
	for _, id := range rels {
		values, err := valuesFor(id)
		if err != nil {
			return nil, nil, err
		}
		if values == nil {
			continue
		}
		want := fingerprints(c.key, values)
		have, known := st.relKeys[id]
		switch {
		case known:
		case p.fresh && id == p.rel.id:
			have = keyset{} // a new relation: none of our keys there yet
		default:
			cur, err := c.tools.RelationGet(ctx, id, c.hc.Unit)
			if errors.Is(err, hooktools.ErrRelationNotFound) {
				continue // going away under us; relation-broken cleans up
			}
			if err != nil {
				return nil, nil, err
			}
			have = fingerprints(c.key, cur)
		}
		diff := map[string]string{}
		for k, v := range values {
			if have[k] != want[k] {
				diff[k] = v
				changed[k] = true
			}
		}
		if len(diff) > 0 {
			if err := c.tools.RelationSet(ctx, id, diff); err != nil {
				if errors.Is(err, hooktools.ErrRelationNotFound) {
					continue
				}
				return nil, nil, err
			}
			written = append(written, id)
		}
		if !known || len(diff) > 0 {
			st.setPublished(id, want)
		}
	}
	if where == publishAll {
		// Records of relations that no longer exist (broken while the unit
		// was down) are dropped so state does not grow.
		live := map[string]bool{}
		for _, id := range rels {
			live[id] = true
		}
		for id := range st.relKeys {
			if !live[id] {
				st.setPublished(id, nil)
			}
		}
		for id := range st.apps {
			if strings.HasPrefix(id, Endpoint+":") && !live[id] {
				delete(st.apps, id)
			}
		}
	}
	for k := range changed {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys, written, nil
}
