// Package hookenv is the hook context, parsed once from the environment Juju
// gives every hook and action.
package hookenv

import (
	"errors"
	"fmt"
	"path"
	"strings"
)

// Kind says whether an event is a hook or an action.
type Kind string

// Event kinds.
const (
	KindHook   Kind = "hook"
	KindAction Kind = "action"
)

// errNoEvent: neither JUJU_DISPATCH_PATH nor argv[0] names an event.
var errNoEvent = errors.New("cannot tell which event to run")

// Context is everything the charm needs to know about the event it runs.
type Context struct {
	Kind Kind
	// Name is the hook or action name: "install", "clients-relation-joined",
	// "verify".
	Name string

	CharmDir  string
	Unit      string
	ModelName string
	ModelUUID string
	Version   string

	// Relation events only.
	RelationEndpoint string
	RelationID       string
	RemoteUnit       string
	RemoteApp        string
	DepartingUnit    string

	// Actions only.
	ActionName string
	ActionUUID string
}

// RelationHook splits a relation hook name into endpoint and event:
// "clients-relation-joined" gives ("clients", "joined", true).
func (c Context) RelationHook() (endpoint, event string, ok bool) {
	if c.Kind != KindHook {
		return "", "", false
	}
	i := strings.LastIndex(c.Name, "-relation-")
	if i <= 0 {
		return "", "", false
	}
	return c.Name[:i], c.Name[i+len("-relation-"):], true
}

// Parse reads the context from getenv. argv0 names the event only when
// JUJU_DISPATCH_PATH is unset, which Juju (>= 2.8, the minimum the charm
// assumes) never does: it is for the binary run by hand as hooks/<name>.
func Parse(getenv func(string) string, argv0 string) (Context, error) {
	c := Context{
		CharmDir:         getenv("JUJU_CHARM_DIR"),
		Unit:             getenv("JUJU_UNIT_NAME"),
		ModelName:        getenv("JUJU_MODEL_NAME"),
		ModelUUID:        getenv("JUJU_MODEL_UUID"),
		Version:          getenv("JUJU_VERSION"),
		RelationEndpoint: getenv("JUJU_RELATION"),
		RelationID:       getenv("JUJU_RELATION_ID"),
		RemoteUnit:       getenv("JUJU_REMOTE_UNIT"),
		RemoteApp:        getenv("JUJU_REMOTE_APP"),
		DepartingUnit:    getenv("JUJU_DEPARTING_UNIT"),
		ActionUUID:       getenv("JUJU_ACTION_UUID"),
	}
	kind, name, err := event(getenv("JUJU_DISPATCH_PATH"), argv0)
	if err != nil {
		return c, err
	}
	c.Kind, c.Name = kind, name
	if kind == KindAction {
		c.ActionName = name
		if n := getenv("JUJU_ACTION_NAME"); n != "" && n != name {
			return c, fmt.Errorf("JUJU_ACTION_NAME %q disagrees with dispatch path action %q", n, name)
		}
	}
	if c.Unit == "" {
		return c, errors.New("JUJU_UNIT_NAME is not set: not run by a Juju unit agent")
	}
	if !validUnit(c.Unit) {
		return c, fmt.Errorf("JUJU_UNIT_NAME %q is not a unit name like app/0", c.Unit)
	}
	if endpoint, _, ok := c.RelationHook(); ok {
		if c.RelationEndpoint == "" {
			c.RelationEndpoint = endpoint
		}
		if c.RelationID == "" {
			return c, fmt.Errorf("relation hook %s without JUJU_RELATION_ID", c.Name)
		}
		if !strings.HasPrefix(c.RelationID, c.RelationEndpoint+":") {
			return c, fmt.Errorf("JUJU_RELATION_ID %q does not belong to endpoint %q", c.RelationID, c.RelationEndpoint)
		}
		if c.RemoteApp == "" && c.RemoteUnit != "" {
			c.RemoteApp, _, _ = strings.Cut(c.RemoteUnit, "/")
		}
	}
	return c, nil
}

// event names the event from JUJU_DISPATCH_PATH ("hooks/install",
// "actions/verify") or, when that is unset, from the name the binary was run
// as ("…/hooks/install").
func event(dispatchPath, argv0 string) (Kind, string, error) {
	p := dispatchPath
	if p == "" {
		p = argv0
	}
	dir, name := path.Split(path.Clean(strings.ReplaceAll(p, `\`, "/")))
	dir = path.Base(path.Clean(dir))
	if name == "" || name == "." || name == "/" {
		return "", "", fmt.Errorf("%w: JUJU_DISPATCH_PATH=%q, argv[0]=%q", errNoEvent, dispatchPath, argv0)
	}
	switch {
	case dispatchPath != "" && dir == "actions":
		return KindAction, name, nil
	case dispatchPath != "" && dir == "hooks":
		return KindHook, name, nil
	case dispatchPath != "":
		return "", "", fmt.Errorf("%w: JUJU_DISPATCH_PATH=%q is neither hooks/<name> nor actions/<name>", errNoEvent, dispatchPath)
	case dir == "actions":
		// Run by hand as actions/<name>, like hooks/<name> below.
		return KindAction, name, nil
	case name == "dispatch" || name == "vsphere-integrator":
		return "", "", fmt.Errorf("%w: run as %q without JUJU_DISPATCH_PATH", errNoEvent, argv0)
	default:
		return KindHook, name, nil
	}
}

func validUnit(u string) bool {
	app, num, ok := strings.Cut(u, "/")
	if !ok || app == "" || num == "" {
		return false
	}
	for _, r := range num {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}
