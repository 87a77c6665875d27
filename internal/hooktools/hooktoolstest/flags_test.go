package hooktoolstest

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseFlags(t *testing.T) {
	opts := []option{
		{names: []string{"r", "relation"}, check: func(v string) error {
			if v == "bad" {
				return errors.New("relation not found")
			}
			return nil
		}},
		{names: []string{"a", "app"}, isBool: true},
		{names: []string{"format"}},
	}
	tests := []struct {
		name      string
		argv      []string
		wantFlags map[string]string
		wantArgs  []string
		wantErr   string
		wantHelp  bool
	}{{
		name:      "flags and arguments interspersed",
		argv:      []string{"-", "-r", "clients:3", "unit/0", "--format=json"},
		wantFlags: map[string]string{"r": "clients:3", "format": "json"},
		wantArgs:  []string{"-", "unit/0"},
	}, {
		name:      "long flag with its value next",
		argv:      []string{"--relation", "3", "--format", "yaml"},
		wantFlags: map[string]string{"r": "3", "format": "yaml"},
	}, {
		name:      "short flag with its value attached, grouped after a boolean",
		argv:      []string{"-ar3"},
		wantFlags: map[string]string{"a": "true", "r": "3"},
	}, {
		name:      "double dash ends the flags",
		argv:      []string{"-a", "--", "-r", "--format=json"},
		wantFlags: map[string]string{"a": "true"},
		wantArgs:  []string{"-r", "--format=json"},
	}, {
		name:      "long boolean with a value",
		argv:      []string{"--app=false", "x"},
		wantFlags: map[string]string{"a": "false"},
		wantArgs:  []string{"x"},
	}, {
		name:      "empty argument is an argument",
		argv:      []string{"", "-a"},
		wantFlags: map[string]string{"a": "true"},
		wantArgs:  []string{""},
	}, {
		name:    "unknown long option",
		argv:    []string{"--file", "-"},
		wantErr: "option provided but not defined: --file",
	}, {
		name:    "unknown short option",
		argv:    []string{"-x"},
		wantErr: "option provided but not defined: -x",
	}, {
		name:    "missing value",
		argv:    []string{"-r"},
		wantErr: "option needs an argument: -r",
	}, {
		name:    "value refused",
		argv:    []string{"--relation=bad"},
		wantErr: `invalid value "bad" for option --relation: relation not found`,
	}, {
		name:    "boolean value refused",
		argv:    []string{"--app=sure"},
		wantErr: `invalid value "sure" for option --app: strconv.ParseBool: parsing "sure": invalid syntax`,
	}, {
		name:      "short flag with = takes the = too",
		argv:      []string{"-r=3"},
		wantFlags: map[string]string{"r": "=3"},
	}, {
		name:    "short boolean with = wants a boolean after it",
		argv:    []string{"-a=true"},
		wantErr: `invalid value "=true" for option -a: strconv.ParseBool: parsing "=true": invalid syntax`,
	}, {
		name:      "short flag taking the next argument after a group",
		argv:      []string{"-ar", "3"},
		wantFlags: map[string]string{"a": "true", "r": "3"},
	}, {
		name:      "a later value wins",
		argv:      []string{"-r", "1", "--relation=2"},
		wantFlags: map[string]string{"r": "2"},
	}, {
		name:    "empty long name",
		argv:    []string{"--=x"},
		wantErr: `empty option in argument "--=x"`,
	}, {
		name:    "a multi-byte short option is named as gnuflag does",
		argv:    []string{"-é"},
		wantErr: "option provided but not defined: --é",
	}, {
		name:     "help",
		argv:     []string{"--help"},
		wantHelp: true,
	}, {
		name:     "help in a group",
		argv:     []string{"-ah"},
		wantHelp: true,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := parseFlags(opts, tt.argv)
			switch {
			case tt.wantHelp:
				assert.ErrorIs(t, err, errHelp)
			case tt.wantErr != "":
				var usage *usageError
				require.ErrorAs(t, err, &usage)
				assert.Equal(t, tt.wantErr, usage.msg)
			default:
				require.NoError(t, err)
				if tt.wantFlags == nil {
					tt.wantFlags = map[string]string{}
				}
				assert.Equal(t, tt.wantFlags, c.flags)
				assert.Equal(t, tt.wantArgs, c.args)
			}
		})
	}
}
