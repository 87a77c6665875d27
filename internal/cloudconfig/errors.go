package cloudconfig

import (
	"errors"
	"strings"
)

// Why a value cannot be rendered. Each comes wrapped in a *FieldError that
// names the field; match with errors.Is / errors.As. The exported ones are
// those the consumer tests (tests/consumer) match.
var (
	// errCarriageReturn: gcfg silently drops a carriage return from a
	// value, quoted or not, and has no escape for it.
	errCarriageReturn = errors.New("contains a carriage return, which gcfg cannot carry")
	// errNUL: gcfg rejects a NUL anywhere in the file.
	errNUL = errors.New("contains a NUL character, which gcfg cannot carry")
	// ErrInvalidUTF8: gcfg rejects invalid UTF-8, and YAML cannot carry it
	// as a string either.
	ErrInvalidUTF8 = errors.New("is not valid UTF-8")
	// errNewlineInName: a subsection name ([VirtualCenter "…"]) has no
	// escape for a newline, unlike a value.
	errNewlineInName = errors.New("contains a newline, which a gcfg subsection name cannot carry")
	// ErrEmptyServer: the vCenter server names the [VirtualCenter "…"]
	// subsection, which gcfg rejects empty, and the CPI's Secret keys;
	// no consumer can do without it.
	ErrEmptyServer = errors.New("is empty, and every consumer needs the vCenter server")
	// ErrSecretKey: the CPI Secret keys are "<server>.username" and
	// "<server>.password", and Kubernetes only accepts letters, digits,
	// '-', '_' and '.' in a Secret key, 253 characters at most.
	ErrSecretKey = errors.New("cannot form a Kubernetes Secret key (<server>.username allows only letters, digits, '-', '_' and '.', at most 253 characters)")
	// errUnknownFormat: Options.Format is none of the formats.
	errUnknownFormat = errors.New("unknown format")
)

// FieldError is a value that cannot be rendered, and which field it is
// (a relation key such as "password", or an input such as "vm-uuid"). It
// never carries the value itself: the field may be the password.
type FieldError struct {
	Field string
	Err   error
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Err.Error() }

func (e *FieldError) Unwrap() error { return e.Err }

// fieldErrors collects every unrenderable field of one render, so that one
// action run names them all; the same field and reason is reported once
// even when the value appears in several places.
type fieldErrors struct {
	errs []error
	seen map[FieldError]bool
}

func (f *fieldErrors) add(field string, err error) {
	k := FieldError{Field: field, Err: err}
	if f.seen[k] {
		return
	}
	if f.seen == nil {
		f.seen = map[FieldError]bool{}
	}
	f.seen[k] = true
	f.errs = append(f.errs, &k)
}

// err is nil, the one *FieldError, or an errors.Join of them all.
func (f *fieldErrors) err() error {
	switch len(f.errs) {
	case 0:
		return nil
	case 1:
		return f.errs[0]
	}
	return errors.Join(f.errs...)
}

// clip shortens text quoted in an error message.
func clip(s string) string {
	const max = 64
	if len(s) <= max {
		return s
	}
	return strings.ToValidUTF8(s[:max], "") + "…"
}
