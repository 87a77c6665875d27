package relation

import (
	"encoding/json"
	"strings"
)

// ConsumerWire names the wire format itself (what this charm writes) in a
// DecodeError. The consumers' own decodings, which the tests emulate, are
// in internal/consumers/consumerstest.
const ConsumerWire = "the vsphere-integration wire format"

// Databag is one unit's relation data as relation-get returns it: raw
// strings, each (when written by a vsphere-integration provider) a JSON
// document.
type Databag map[string]string

// Decode is the strict inverse of Encode: all 7 keys present, each a JSON
// string. It is what renders "exactly what this unit publishes", so that
// a value any consumer would read differently is an error, not a guess.
func Decode(bag Databag) (Data, error) {
	var d Data
	derr := &DecodeError{Consumer: ConsumerWire}
	for _, key := range Keys {
		raw, ok := bag[key]
		if !ok || raw == "" {
			derr.Add(key, ErrMissing)
			continue
		}
		s, kind := Loads(raw)
		switch kind {
		case KindString:
			*d.Field(key) = s
		case KindInvalid:
			derr.Add(key, ErrNotJSON)
		default:
			derr.Add(key, kind.Err(""))
		}
	}
	return d, derr.Err()
}

// Add records what is wrong with key. It is exported, like Err, Field and
// Loads, for the consumers' decodings in consumerstest, which build their
// DecodeErrors the way Decode does.
func (e *DecodeError) Add(key string, err error) {
	e.Keys = append(e.Keys, &KeyError{Key: key, Err: err})
}

// Err returns e, or nil when no key was added. It avoids the typed-nil
// trap: a nil *DecodeError in an error interface is not nil.
func (e *DecodeError) Err() error {
	if len(e.Keys) == 0 {
		return nil
	}
	return e
}

// Field returns the field that holds key (one of Keys), so a decoder can
// fill Data key by key in the order of Keys. It panics on any other key.
func (d *Data) Field(key string) *string {
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
	panic("relation: unknown key " + key)
}

// Kind is what Python's json.loads makes of a raw value: which JSON type,
// or KindInvalid when it raises.
type Kind int

// The kinds, one per Python type json.loads returns (int and float are
// both KindNumber).
const (
	KindInvalid Kind = iota
	KindString
	KindNull
	KindNumber
	KindBool
	KindArray
	KindObject
)

var kindNames = map[Kind]string{
	KindNull: "null", KindNumber: "number", KindBool: "boolean", KindArray: "array", KindObject: "object",
}

// Err says that a value decoded to k instead of a string, followed by why
// (empty, or text that starts with its own separator). It is ErrNotString
// to errors.Is, and never carries the value.
func (k Kind) Err(why string) error {
	return &kindError{kind: kindNames[k], why: why}
}

// kindError says what a value decoded to instead of a string; it is
// ErrNotString to errors.Is.
type kindError struct{ kind, why string }

func (e *kindError) Error() string {
	return ErrNotString.Error() + ": JSON " + e.kind + e.why
}

func (e *kindError) Unwrap() error { return ErrNotString }

// Loads classifies raw as Python's json.loads would, which every consumer
// uses, and returns the string when it is one. Go's decoder and Python's
// agree on strings except for a lone surrogate escape (\ud800), which
// Python keeps and Go turns into U+FFFD; neither is a value this charm
// writes. Python also accepts NaN and ±Infinity as numbers, which Go does
// not.
func Loads(raw string) (string, Kind) {
	t := strings.Trim(raw, " \t\n\r") // json.loads's whitespace, no more
	if !json.Valid([]byte(t)) {
		switch t {
		case "NaN", "Infinity", "-Infinity":
			return "", KindNumber
		}
		return "", KindInvalid
	}
	switch t[0] {
	case '"':
		var s string
		if err := json.Unmarshal([]byte(t), &s); err != nil {
			return "", KindInvalid
		}
		return s, KindString
	case 'n':
		return "", KindNull
	case 't', 'f':
		return "", KindBool
	case '[':
		return "", KindArray
	case '{':
		return "", KindObject
	}
	return "", KindNumber
}
