package integration

import (
	"encoding/json"
	"maps"
	"slices"
	"strings"
)

// Names of the decoding rules, as they appear in a DecodeError.
const (
	// ConsumerReactive is the reactive requirer in
	// juju-solutions/interface-vsphere-integration (requires.py), used by
	// kubernetes-master and kubernetes-worker, over charms.reactive's
	// Endpoint.
	ConsumerReactive = "the reactive requirer (kubernetes-master, kubernetes-worker)"
	// ConsumerCloudProvider is the ops subordinate
	// charmed-kubernetes/vsphere-cloud-provider.
	ConsumerCloudProvider = "vsphere-cloud-provider"
	// ConsumerWire is the wire format itself: what this charm writes.
	ConsumerWire = "the vsphere-integration wire format"
)

// cloudProviderRequired are the keys vsphere-cloud-provider cannot do
// without (its pydantic model has them as StrictStr, the others Optional).
var cloudProviderRequired = map[string]bool{
	KeyVsphereIP: true, KeyUser: true, KeyPassword: true, KeyDatacenter: true,
}

// Databag is one unit's relation data as relation-get returns it: raw
// strings, each (when written by a vsphere-integration provider) a JSON
// document.
type Databag map[string]string

// Relation is one relation on the requirer's endpoint as the requirer sees
// it: its id as relation-ids prints it ("vsphere:3") and the databag of
// every joined remote unit by unit name. A relation without joined units
// still counts, because the reactive requirer picks its relation before it
// looks at units.
type Relation struct {
	ID    string
	Units map[string]Databag
}

// Received is what the reactive requirer ends up with.
type Received struct {
	Data Data
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
// The error is a *DecodeError naming every key that keeps it from being
// ready (ErrMissing, or ErrNotString for null) and every key it would take
// as something other than a string (ErrNotString): the requirer would
// render Python's str() of that value into its config.
func DecodeReactive(relations []Relation) (Received, error) {
	var r Received
	merged := Databag{}
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

	derr := &DecodeError{Consumer: ConsumerReactive}
	for _, key := range Keys {
		raw, ok := merged[key]
		if !ok {
			derr.add(key, ErrMissing)
			continue
		}
		if raw == "" {
			// JSONUnitDataView returns a falsy value undecoded.
			continue
		}
		s, kind := pyLoads(raw)
		switch kind {
		case kindString:
			*r.Data.field(key) = s
		case kindInvalid:
			*r.Data.field(key) = raw
			r.Verbatim = append(r.Verbatim, key)
		case kindNull:
			derr.add(key, wrapKind(kind, ", which the reactive requirer takes as absent"))
		default:
			derr.add(key, wrapKind(kind, ""))
		}
	}
	return r, derr.orNil()
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
func DecodeCloudProvider(bag Databag) (Data, error) {
	var d Data
	derr := &DecodeError{Consumer: ConsumerCloudProvider}
	for _, key := range Keys {
		required := cloudProviderRequired[key]
		raw, ok := bag[key]
		if !ok {
			if required {
				derr.add(key, ErrMissing)
			}
			continue
		}
		s, kind := pyLoads(raw)
		switch {
		case kind == kindString:
			*d.field(key) = s
		case kind == kindNull && !required:
		case kind == kindInvalid:
			derr.add(key, ErrNotJSON)
		default:
			derr.add(key, wrapKind(kind, ""))
		}
	}
	return d, derr.orNil()
}

// Decode is the strict inverse of Encode: all 7 keys present, each a JSON
// string. It is what renders "exactly what this unit publishes", so that
// a value any consumer would read differently is an error, not a guess.
func Decode(bag Databag) (Data, error) {
	var d Data
	derr := &DecodeError{Consumer: ConsumerWire}
	for _, key := range Keys {
		raw, ok := bag[key]
		if !ok || raw == "" {
			derr.add(key, ErrMissing)
			continue
		}
		s, kind := pyLoads(raw)
		switch kind {
		case kindString:
			*d.field(key) = s
		case kindInvalid:
			derr.add(key, ErrNotJSON)
		default:
			derr.add(key, wrapKind(kind, ""))
		}
	}
	return d, derr.orNil()
}

func (e *DecodeError) add(key string, err error) {
	e.Keys = append(e.Keys, &KeyError{Key: key, Err: err})
}

// orNil avoids the typed-nil trap: a nil *DecodeError in an error
// interface is not nil.
func (e *DecodeError) orNil() error {
	if len(e.Keys) == 0 {
		return nil
	}
	return e
}

func (d *Data) field(key string) *string {
	switch key {
	case KeyVsphereIP:
		return &d.VsphereIP
	case KeyUser:
		return &d.User
	case KeyPassword:
		return &d.Password
	case KeyDatacenter:
		return &d.Datacenter
	case KeyDatastore:
		return &d.Datastore
	case KeyFolder:
		return &d.Folder
	case KeyRespoolPath:
		return &d.RespoolPath
	}
	panic("integration: unknown key " + key)
}

type jsonKind int

const (
	kindInvalid jsonKind = iota
	kindString
	kindNull
	kindNumber
	kindBool
	kindArray
	kindObject
)

var kindNames = map[jsonKind]string{
	kindNull: "null", kindNumber: "number", kindBool: "boolean", kindArray: "array", kindObject: "object",
}

func wrapKind(k jsonKind, why string) error {
	return &kindError{kind: kindNames[k], why: why}
}

// kindError says what a value decoded to instead of a string; it is
// ErrNotString to errors.Is.
type kindError struct{ kind, why string }

func (e *kindError) Error() string {
	return ErrNotString.Error() + ": JSON " + e.kind + e.why
}

func (e *kindError) Unwrap() error { return ErrNotString }

// pyLoads classifies raw as Python's json.loads would, and returns the
// string when it is one. Go's decoder and Python's agree on strings except
// for a lone surrogate escape (\ud800), which Python keeps and Go turns
// into U+FFFD; neither is a value this charm writes. Python also accepts
// NaN and ±Infinity as numbers, which Go does not.
func pyLoads(raw string) (string, jsonKind) {
	t := strings.Trim(raw, " \t\n\r") // json.loads's whitespace, no more
	if !json.Valid([]byte(t)) {
		switch t {
		case "NaN", "Infinity", "-Infinity":
			return "", kindNumber
		}
		return "", kindInvalid
	}
	switch t[0] {
	case '"':
		var s string
		if err := json.Unmarshal([]byte(t), &s); err != nil {
			return "", kindInvalid
		}
		return s, kindString
	case 'n':
		return "", kindNull
	case 't', 'f':
		return "", kindBool
	case '[':
		return "", kindArray
	case '{':
		return "", kindObject
	}
	return "", kindNumber
}
