package cloudconfig

import (
	"strings"
	"unicode/utf8"
)

// The quoting rules below are gopkg.in/gcfg.v1's scanner (v1.2.3), the
// parser of every INI consumer here:
//
//   - a value is read up to an unquoted ';', '#' or newline, so every value
//     is written in double quotes;
//   - inside a quoted value the only escapes are \\ \" \n \t, and a raw
//     newline ends the file's line with "string not terminated";
//   - a carriage return is stripped from a value wherever it is, with no
//     escape to keep it, so a value with one cannot be carried;
//   - a subsection name ([Section "name"]) allows only \\ and \", so a
//     newline in it cannot be carried, but a raw tab or carriage return
//     can, and it must not be empty;
//   - NUL and invalid UTF-8 are errors anywhere in the file.

// ini builds one gcfg file and collects every field that cannot go in it.
type ini struct {
	b    strings.Builder
	errs fieldErrors
}

// section writes a [Name] header.
func (w *ini) section(name string) {
	w.b.WriteString("[" + name + "]\n")
}

// subsection writes a [Name "sub"] header, sub coming from field.
func (w *ini) subsection(name, field, sub string) {
	w.b.WriteString("[" + name + " ")
	w.b.WriteString(w.quoteName(field, sub))
	w.b.WriteString("]\n")
}

// raw writes a variable whose value is a constant of ours, unquoted where
// the consumer's own layout has it unquoted.
func (w *ini) raw(name, value string) {
	w.b.WriteString(name + " = " + value + "\n")
}

// value writes name = "v", v coming from field.
func (w *ini) value(name, field, v string) {
	w.b.WriteString(name + " = ")
	w.b.WriteString(w.quoteValue(field, v))
	w.b.WriteByte('\n')
}

func (w *ini) blank() { w.b.WriteByte('\n') }

func (w *ini) result() (string, error) {
	if err := w.errs.err(); err != nil {
		return "", err
	}
	return w.b.String(), nil
}

func (w *ini) quoteValue(field, v string) string {
	if !utf8.ValidString(v) {
		w.errs.add(field, ErrInvalidUTF8)
		return `""`
	}
	var b strings.Builder
	b.Grow(len(v) + 2)
	b.WriteByte('"')
	for _, r := range v {
		switch r {
		case 0:
			w.errs.add(field, errNUL)
		case '\r':
			w.errs.add(field, errCarriageReturn)
		case '\n':
			b.WriteString(`\n`)
		case '\t':
			// A raw tab would do inside quotes; the escape shows it.
			b.WriteString(`\t`)
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

func (w *ini) quoteName(field, v string) string {
	switch {
	case v == "":
		w.errs.add(field, ErrEmptyServer)
		return `""`
	case !utf8.ValidString(v):
		w.errs.add(field, ErrInvalidUTF8)
		return `""`
	}
	var b strings.Builder
	b.Grow(len(v) + 2)
	b.WriteByte('"')
	for _, r := range v {
		switch r {
		case 0:
			w.errs.add(field, errNUL)
		case '\n':
			w.errs.add(field, errNewlineInName)
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}
