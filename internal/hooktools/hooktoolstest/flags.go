package hooktoolstest

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
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

func (c *cmdline) boolean(name string) bool { return c.flags[name] == "true" }

// usageError is a command line Juju refuses before running anything: an
// error from parsing the flags or from the command's Init, which juju/cmd
// Main reports with exit 2, where a failure while running exits 1.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, a ...any) error { return &usageError{msg: fmt.Sprintf(format, a...)} }

// errHelp is -h or --help: Juju prints the usage and exits 0.
var errHelp = errors.New("help requested")

// parseFlags parses argv as juju/gnuflag v1.0.0 does for hook tools
// (FlagSet.Parse with interspersed arguments, flags known as "options"),
// step for step, so that odd command lines get gnuflag's answer: flags and
// arguments may be interspersed, "--" ends the flags, "-" and "" are
// arguments, long flags take "--name=value" or "--name value", a short flag
// takes the rest of its group ("-rvalue", "-r=value" giving "=value") or
// the next argument, and single-letter booleans may be grouped.
func parseFlags(opts []option, argv []string) (*cmdline, error) {
	byName := map[string]*option{}
	for i := range opts {
		for _, n := range opts[i].names {
			byName[n] = &opts[i]
		}
	}
	c := &cmdline{flags: map[string]string{}}
	procArgs, procFlag := argv, ""
	for {
		// gnuflag parseOne: the next flag name, or an argument.
		var name string
		long := false
		switch {
		case procFlag != "":
			_, n := utf8.DecodeRuneInString(procFlag)
			name, procFlag = procFlag[:n], procFlag[n:]
		case len(procArgs) == 0:
			return c, nil
		default:
			a := procArgs[0]
			switch {
			case a == "-" || a == "" || a[0] != '-':
				c.args = append(c.args, a)
				procArgs = procArgs[1:]
				continue
			case a == "--":
				c.args = append(c.args, procArgs[1:]...)
				return c, nil
			case a[1] == '-':
				long = true
				i := strings.Index(a, "=")
				if i < 0 {
					name = a[2:]
				} else {
					name = a[2:i]
					if name == "" {
						return nil, usagef("empty option in argument %q", a)
					}
					procFlag = a[i:]
				}
				procArgs = procArgs[1:]
			default:
				a = a[1:]
				_, n := utf8.DecodeRuneInString(a)
				name, procFlag = a[:n], a[n:]
				procArgs = procArgs[1:]
			}
		}
		// gnuflag parseFlagArg: its value, if it takes one.
		o, ok := byName[name]
		if !ok {
			if name == "help" || name == "h" {
				return nil, errHelp
			}
			return nil, usagef("option provided but not defined: %s", withMinus(name))
		}
		if o.isBool && !strings.HasPrefix(procFlag, "=") {
			c.flags[o.names[0]] = "true"
			continue
		}
		var value string
		hasValue := false
		if procFlag != "" {
			value = procFlag
			if long {
				value = value[1:]
			}
			hasValue, procFlag = true, ""
		}
		if !hasValue && len(procArgs) > 0 {
			value, procArgs = procArgs[0], procArgs[1:]
			hasValue = true
		}
		if !hasValue {
			return nil, usagef("option needs an argument: %s", withMinus(name))
		}
		if o.isBool {
			b, err := strconv.ParseBool(value)
			if err != nil {
				return nil, usagef("invalid value %q for option %s: %v", value, withMinus(name), err)
			}
			value = strconv.FormatBool(b)
		} else if o.check != nil {
			if err := o.check(value); err != nil {
				return nil, usagef("invalid value %q for option %s: %v", value, withMinus(name), err)
			}
		}
		c.flags[o.names[0]] = value
	}
}

// withMinus is gnuflag's flagWithMinus: "--" for a name of more than one
// byte.
func withMinus(name string) string {
	if len(name) > 1 {
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

// outputOptions are the flags juju/cmd Output.AddFlags gives every tool
// that prints: --format (smart by default) and -o/--output, a file to
// write to instead of stdout.
func outputOptions() []option {
	return []option{{names: []string{"format"}, check: func(v string) error {
		if !slices.Contains(formats, v) {
			return fmt.Errorf("unknown format %q", v)
		}
		return nil
	}}, {names: []string{"o", "output"}}}
}
