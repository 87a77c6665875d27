package relation

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinels for what can be wrong with one relation key. Match with
// errors.Is on a *DecodeError (it unwraps to one *KeyError per key).
var (
	// ErrMissing: the key is absent (or, where the consumer treats it so,
	// empty or JSON null).
	ErrMissing = errors.New("missing")
	// ErrNotJSON: the value is not valid JSON. The reactive requirer takes
	// such a value verbatim; vsphere-cloud-provider drops it.
	ErrNotJSON = errors.New("not valid JSON")
	// ErrNotString: the value is valid JSON but not a string (a number,
	// true/false, null, an array or an object).
	ErrNotString = errors.New("not a JSON string")
)

// KeyError is what is wrong with one relation key. It never carries the
// value: the key may be the password.
type KeyError struct {
	Key string
	Err error
}

func (e *KeyError) Error() string { return e.Key + ": " + e.Err.Error() }

func (e *KeyError) Unwrap() error { return e.Err }

// DecodeError lists every key that keeps a consumer from using the relation
// data, so a status message can name them all at once rather than one per
// hook run.
type DecodeError struct {
	// Consumer names whose decoding rules were applied.
	Consumer string
	// Keys holds one entry per bad key, in the order of Keys.
	Keys []*KeyError
}

func (e *DecodeError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s cannot use the relation data", e.Consumer)
	if m := e.Missing(); len(m) > 0 {
		fmt.Fprintf(&b, "; missing: %s", strings.Join(m, ", "))
	}
	var bad []string
	for _, k := range e.Keys {
		if !errors.Is(k.Err, ErrMissing) {
			bad = append(bad, k.Error())
		}
	}
	if len(bad) > 0 {
		fmt.Fprintf(&b, "; malformed: %s", strings.Join(bad, "; "))
	}
	return b.String()
}

// Unwrap lets errors.Is(err, ErrMissing) and errors.As(err, &keyErr) see
// every key's error.
func (e *DecodeError) Unwrap() []error {
	errs := make([]error, len(e.Keys))
	for i, k := range e.Keys {
		errs[i] = k
	}
	return errs
}

// Missing returns the keys that are absent, in the order of Keys.
func (e *DecodeError) Missing() []string { return e.keys(true) }

// Malformed returns the keys that are present but unusable, in the order
// of Keys.
func (e *DecodeError) Malformed() []string { return e.keys(false) }

func (e *DecodeError) keys(missing bool) []string {
	var ks []string
	for _, k := range e.Keys {
		if errors.Is(k.Err, ErrMissing) == missing {
			ks = append(ks, k.Key)
		}
	}
	return ks
}
