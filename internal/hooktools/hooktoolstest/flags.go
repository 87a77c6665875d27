package hooktoolstest

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// option is one flag a tool accepts. The first name is the one the parsed
// result is stored under; the others are aliases (-r and --relation).
type option struct {
	names  []string
	isBool bool
	// check validates a value the way Juju's flag value does (a relation
	// id must name a known relation).
	check func(string) error
}

// cmdline is a parsed tool command line.
type cmdline struct {
	flags map[string]string
	args  []string
}

func (c *cmdline) has(name string) bool {
	_, ok := c.flags[name]
	return ok
}

func (c *cmdline) boolean(name string) bool { return c.flags[name] == "true" }

// usageError is a command line Juju refuses before running anything: it
// exits 2 (juju/cmd Main), where a failure while running exits 1.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, a ...any) error { return &usageError{msg: fmt.Sprintf(format, a...)} }

// errHelp is -h or --help: Juju prints the usage and exits 0.
var errHelp = errors.New("help requested")

// parseFlags parses argv the way juju/gnuflag does for hook tools: flags
// and arguments may be interspersed, "--" ends the flags, "-" alone is an
// argument, long flags take "--name=value" or "--name value", short flags
// "-rvalue" or "-r value", and single-letter booleans may be grouped.
// Juju's tools call flags "options" in their messages.
func parseFlags(opts []option, argv []string) (*cmdline, error) {
	byName := map[string]*option{}
	for i := range opts {
		for _, n := range opts[i].names {
			byName[n] = &opts[i]
		}
	}
	c := &cmdline{flags: map[string]string{}}
	set := func(name string, value *string, rest *[]string) error {
		o, ok := byName[name]
		if !ok {
			if name == "help" || name == "h" {
				return errHelp
			}
			return usagef("option provided but not defined: %s", withMinus(name))
		}
		if o.isBool && value == nil {
			c.flags[o.names[0]] = "true"
			return nil
		}
		if value == nil {
			if len(*rest) == 0 {
				return usagef("option needs an argument: %s", withMinus(name))
			}
			v := (*rest)[0]
			*rest = (*rest)[1:]
			value = &v
		}
		if o.isBool {
			b, err := strconv.ParseBool(*value)
			if err != nil {
				return usagef("invalid value %q for option %s: parse error", *value, withMinus(name))
			}
			c.flags[o.names[0]] = strconv.FormatBool(b)
			return nil
		}
		if o.check != nil {
			if err := o.check(*value); err != nil {
				return usagef("invalid value %q for option %s: %v", *value, withMinus(name), err)
			}
		}
		c.flags[o.names[0]] = *value
		return nil
	}
	rest := argv
	for len(rest) > 0 {
		a := rest[0]
		rest = rest[1:]
		switch {
		case a == "--":
			c.args = append(c.args, rest...)
			return c, nil
		case a == "-" || a == "" || a[0] != '-':
			c.args = append(c.args, a)
		case strings.HasPrefix(a, "--"):
			name, value, hasValue := strings.Cut(a[2:], "=")
			if hasValue && name == "" {
				return nil, usagef("empty flag in argument %q", a)
			}
			var v *string
			if hasValue {
				v = &value
			}
			if err := set(name, v, &rest); err != nil {
				return nil, err
			}
		default:
			// A group of single-letter flags; a flag that takes a value
			// takes the remainder of the group, or the next argument.
			group := []rune(a[1:])
			for i := 0; i < len(group); i++ {
				name := string(group[i])
				var v *string
				if o, ok := byName[name]; ok && !o.isBool && i+1 < len(group) {
					value := string(group[i+1:])
					v = &value
					i = len(group)
				}
				if err := set(name, v, &rest); err != nil {
					return nil, err
				}
			}
		}
	}
	return c, nil
}

func withMinus(name string) string {
	if len([]rune(name)) > 1 {
		return "--" + name
	}
	return "-" + name
}

// checkEmpty is juju/cmd CheckEmpty.
func checkEmpty(args []string) error {
	if len(args) != 0 {
		return usagef("unrecognized args: %q", args)
	}
	return nil
}

var formats = []string{"json", "smart", "yaml"}

// formatOption is the --format every printing tool has; smart is Juju's
// default.
func formatOption() option {
	return option{names: []string{"format"}, check: func(v string) error {
		for _, f := range formats {
			if f == v {
				return nil
			}
		}
		return fmt.Errorf("unknown format %q", v)
	}}
}
