package consumerstest

import (
	"maps"
	"slices"
	"strings"

	"github.com/charmed-kubernetes/vsphere-integrator/internal/relation"
)

// Names of the consumers' decoding rules, as they appear in an
// *relation.DecodeError.
const (
	// ConsumerReactive is the reactive requirer in
	// juju-solutions/interface-vsphere-integration (requires.py), used by
	// kubernetes-master and kubernetes-worker, over charms.reactive's
	// Endpoint.
	ConsumerReactive = "the reactive requirer (kubernetes-master, kubernetes-worker)"
	// ConsumerCloudProvider is the ops subordinate
	// charmed-kubernetes/vsphere-cloud-provider.
	ConsumerCloudProvider = "vsphere-cloud-provider"
)

// cloudProviderRequired are the keys vsphere-cloud-provider cannot do
// without (its pydantic model has them as StrictStr, the others Optional).
var cloudProviderRequired = map[string]bool{
	relation.KeyVsphereIP: true, relation.KeyUser: true, relation.KeyPassword: true, relation.KeyDatacenter: true,
}

// Relation is one relation on the requirer's endpoint as the requirer sees
// it: its id as relation-ids prints it ("vsphere:3") and the databag of
// every joined remote unit by unit name. A relation without joined units
// still counts, because the reactive requirer picks its relation before it
// looks at units.
type Relation struct {
	ID    string
	Units map[string]relation.Databag
}

// Received is what the reactive requirer ends up with.
type Received struct {
	Data relation.Data
	// RelationID is the one relation the requirer read; it ignores every
	// other.
	RelationID string
	// Source names, for each key found, the unit whose value won the merge.
	Source map[string]string
	// Verbatim lists the keys whose value was not JSON and which the
	// requirer therefore took as it stood. A value this charm wrote never
	// lands here; one that does came from another writer.
	Verbatim []string
}

// DecodeReactive decodes relation data as the reactive requirer does:
//
//   - it reads only relations[0] of its endpoint: the relation ids sorted
//     as strings, so "vsphere:10" comes before "vsphere:9";
//   - it merges the databags of that relation's joined units, sorted by
//     unit name (again as strings), the first unit that has a key winning;
//   - it decodes each value with json.loads and, when that fails, takes
//     the raw string (charms.reactive's JSONUnitDataView); an empty value
//     is taken as it is;
//   - it is ready when none of the 7 keys is None: absent, or JSON null.
//
// The error is a *relation.DecodeError naming every key that keeps it
// from being ready (ErrMissing, or ErrNotString for null) and every key it
// would take as something other than a string (ErrNotString): the
// requirer would render Python's str() of that value into its config.
func DecodeReactive(relations []Relation) (Received, error) {
	var r Received
	merged := relation.Databag{}
	r.Source = map[string]string{}
	if len(relations) > 0 {
		first := slices.MinFunc(relations, func(a, b Relation) int { return strings.Compare(a.ID, b.ID) })
		r.RelationID = first.ID
		for _, unit := range slices.Sorted(maps.Keys(first.Units)) {
			for k, v := range first.Units[unit] {
				if _, taken := merged[k]; !taken {
					merged[k] = v
					r.Source[k] = unit
				}
			}
		}
	}

	derr := &relation.DecodeError{Consumer: ConsumerReactive}
	for _, key := range relation.Keys {
		raw, ok := merged[key]
		if !ok {
			derr.Add(key, relation.ErrMissing)
			continue
		}
		if raw == "" {
			// JSONUnitDataView returns a falsy value undecoded.
			continue
		}
		s, kind := relation.Loads(raw)
		switch kind {
		case relation.KindString:
			*r.Data.Field(key) = s
		case relation.KindInvalid:
			*r.Data.Field(key) = raw
			r.Verbatim = append(r.Verbatim, key)
		case relation.KindNull:
			derr.Add(key, kind.Err(", which the reactive requirer takes as absent"))
		default:
			derr.Add(key, kind.Err(""))
		}
	}
	return r, derr.Err()
}

// DecodeCloudProvider decodes one databag (its principal's integrator
// unit) as vsphere-cloud-provider does: vsphere_ip, user, password and
// datacenter must be present and JSON strings; datastore, folder and
// respool_path may be absent (or null) but, when present, must be JSON
// strings too. It hands the whole databag to a pydantic model with extra
// keys allowed, so other keys (ingress-address and the like) are kept and
// unused, and a value is decoded whatever it is: an empty one is not JSON
// (docs/relation.md). Juju never gives an empty value, as relation-set
// takes one for a deletion.
func DecodeCloudProvider(bag relation.Databag) (relation.Data, error) {
	var d relation.Data
	derr := &relation.DecodeError{Consumer: ConsumerCloudProvider}
	for _, key := range relation.Keys {
		required := cloudProviderRequired[key]
		raw, ok := bag[key]
		if !ok {
			if required {
				derr.Add(key, relation.ErrMissing)
			}
			continue
		}
		s, kind := relation.Loads(raw)
		switch {
		case kind == relation.KindString:
			*d.Field(key) = s
		case kind == relation.KindNull && !required:
		case kind == relation.KindInvalid:
			derr.Add(key, relation.ErrNotJSON)
		default:
			derr.Add(key, kind.Err(""))
		}
	}
	return d, derr.Err()
}
