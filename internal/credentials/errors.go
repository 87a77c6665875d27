package credentials

import (
	"errors"
	"fmt"
	"strings"
)

// ErrNoCredentials: no credential field is set anywhere and `juju trust`
// was not granted. Its text is the Python charm's status, kept word for word.
var ErrNoCredentials = errors.New("missing credentials access; grant with: juju trust")

// missingError: some credential fields are set, others nowhere.
type missingError struct {
	Options []string // config option names, e.g. "password"
	Trusted bool
}

func (e *missingError) Error() string {
	var how strings.Builder
	for i, o := range e.Options {
		if i > 0 {
			how.WriteByte(' ')
		}
		fmt.Fprintf(&how, "%s=…", o)
	}
	where := "set with: juju config vsphere-integrator " + how.String()
	if !e.Trusted {
		where += ", or grant: juju trust vsphere-integrator"
	}
	return fmt.Sprintf("missing %s; %s", strings.Join(e.Options, ", "), where)
}

// configError: an option (or the cloud credential part standing in for one)
// has a value the charm cannot use. Reason never quotes a secret value.
type configError struct {
	Option string
	Reason string
}

func (e *configError) Error() string {
	if e.Option == "credentials" {
		// The Python charm's status text, with the reason added.
		return "invalid value for credentials config: " + e.Reason
	}
	return fmt.Sprintf("invalid %s config: %s", e.Option, e.Reason)
}
