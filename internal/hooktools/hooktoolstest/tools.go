package hooktoolstest

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// result is what one tool run printed; err is a failure Juju reports as
// "ERROR <err>".
type result struct {
	stdout []byte
	stderr string
}

type handler func(j *Juju, argv []string, stdin []byte) (result, error)

// handlers are the tools this fake Juju knows, by name.
var handlers = map[string]handler{
	"config-get":              (*Juju).configGet,
	"credential-get":          (*Juju).credentialGet,
	"relation-ids":            (*Juju).relationIDs,
	"relation-list":           (*Juju).relationList,
	"relation-get":            (*Juju).relationGet,
	"relation-set":            (*Juju).relationSet,
	"status-set":              (*Juju).statusSet,
	"application-version-set": (*Juju).applicationVersionSet,
	"is-leader":               (*Juju).isLeader,
	"juju-log":                (*Juju).jujuLog,
	"state-get":               (*Juju).stateGet,
	"state-set":               (*Juju).stateSet,
	"state-delete":            (*Juju).stateDelete,
	"action-get":              (*Juju).actionGet,
	"action-set":              (*Juju).actionSet,
	"action-fail":             (*Juju).actionFail,
	"action-log":              (*Juju).actionLog,
}

// ToolNames lists the hook tools the fake answers, sorted.
func ToolNames() []string {
	return slices.Sorted(maps.Keys(handlers))
}

// Run runs one hook tool against the state, as Juju would: it records the
// call, parses argv like the real tool, changes the state and answers with
// the real tool's output, `ERROR ...` text and exit code (0, 1 for a
// failure while running, 2 for a command line Juju refuses).
func (j *Juju) Run(tool string, args []string, stdin []byte) (stdout, stderr []byte, code int) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.Calls = append(j.Calls, Call{Tool: tool, Args: slices.Clone(args), Stdin: string(stdin)})
	if f, ok := j.Faults[tool]; ok {
		return []byte(f.Stdout), []byte(f.Stderr), f.Code
	}
	h, ok := handlers[tool]
	if !ok {
		return nil, []byte(fmt.Sprintf("ERROR unknown hook tool %q\n", tool)), 1
	}
	res, err := h(j, args, stdin)
	var usage *usageError
	switch {
	case err == nil:
		return res.stdout, []byte(res.stderr), 0
	case errors.Is(err, errHelp):
		return []byte(fmt.Sprintf("Usage: %s [options]\n", tool)), nil, 0
	case errors.As(err, &usage):
		return nil, []byte(res.stderr + "ERROR " + err.Error() + "\n"), 2
	default:
		return res.stdout, []byte(res.stderr + "ERROR " + err.Error() + "\n"), 1
	}
}

// format prints v as Juju's --format does (juju/cmd output.go).
func format(name string, v any) ([]byte, error) {
	switch name {
	case "json":
		b, err := json.Marshal(v)
		if err != nil {
			return nil, err
		}
		return append(b, '\n'), nil
	case "yaml":
		return formatYAML(v)
	default: // smart
		switch v := v.(type) {
		case nil:
			return nil, nil
		case string:
			if v == "" {
				return nil, nil
			}
			return []byte(v + "\n"), nil
		case []string:
			if len(v) == 0 {
				return nil, nil
			}
			return []byte(strings.Join(v, "\n") + "\n"), nil
		case bool:
			if v {
				return []byte("True\n"), nil
			}
			return []byte("False\n"), nil
		}
		return formatYAML(v)
	}
}

func formatYAML(v any) ([]byte, error) {
	if v == nil {
		return nil, nil
	}
	b, err := yaml.Marshal(v)
	if err != nil {
		return nil, err
	}
	b = []byte(strings.TrimRight(string(b), "\n"))
	if len(b) == 0 {
		return nil, nil
	}
	return append(b, '\n'), nil
}

func printed(c *cmdline, v any) (result, error) {
	name := c.flags["format"]
	if name == "" {
		name = "smart"
	}
	out, err := format(name, v)
	return result{stdout: out}, err
}

// relationOption is -r/--relation: the value must name a relation of the
// unit, checked while parsing as Juju does.
func (j *Juju) relationOption() option {
	return option{names: []string{"r", "relation"}, check: func(v string) error {
		id, err := parseID(v)
		if err != nil {
			return err
		}
		if j.Relations[id] == nil {
			return errors.New("relation not found")
		}
		return nil
	}}
}

// relationFromFlags is the relation -r names, or the hook's own relation.
func (j *Juju) relationFromFlags(c *cmdline) (*Relation, error) {
	id := c.flags["r"]
	if id == "" {
		id = j.HookRelation
	}
	if r := j.relation(id); r != nil {
		return r, nil
	}
	return nil, usagef("no relation id specified")
}

func (j *Juju) configGet(argv []string, _ []byte) (result, error) {
	c, err := parseFlags([]option{formatOption(), {names: []string{"a", "all"}, isBool: true}}, argv)
	if err != nil {
		return result{}, err
	}
	var key string
	if len(c.args) > 0 {
		key, c.args = c.args[0], c.args[1:]
	}
	if err := checkEmpty(c.args); err != nil {
		return result{}, err
	}
	if key != "" {
		return printed(c, j.Config[key])
	}
	all := map[string]any{}
	for k, v := range j.Config {
		// Options without a value show only with --all.
		if v != nil || c.boolean("a") {
			all[k] = v
		}
	}
	return printed(c, all)
}

func (j *Juju) credentialGet(argv []string, _ []byte) (result, error) {
	c, err := parseFlags([]option{formatOption()}, argv)
	if err != nil {
		return result{}, err
	}
	if err := checkEmpty(c.args); err != nil {
		return result{}, err
	}
	if !j.Trusted {
		return result{}, errors.New("cannot access cloud credentials: permission denied")
	}
	if j.Credential == nil {
		return printed(c, map[string]any{})
	}
	return printed(c, j.Credential)
}

func (j *Juju) relationIDs(argv []string, _ []byte) (result, error) {
	c, err := parseFlags([]option{formatOption()}, argv)
	if err != nil {
		return result{}, err
	}
	var name string
	if r := j.relation(j.HookRelation); r != nil {
		name = r.Endpoint
	}
	if len(c.args) > 0 {
		name, c.args = c.args[0], c.args[1:]
	} else if name == "" {
		return result{}, usagef("no relation name specified")
	}
	if err := checkEmpty(c.args); err != nil {
		return result{}, err
	}
	ids := []string{}
	for id, r := range j.Relations {
		if r.Endpoint == name {
			ids = append(ids, fmt.Sprintf("%s:%d", r.Endpoint, id))
		}
	}
	// Juju sorts the strings, so "clients:10" comes before "clients:9".
	sort.Strings(ids)
	return printed(c, ids)
}

func (j *Juju) relationList(argv []string, _ []byte) (result, error) {
	c, err := parseFlags([]option{formatOption(), j.relationOption(), {names: []string{"app"}, isBool: true}}, argv)
	if err != nil {
		return result{}, err
	}
	r, err := j.relationFromFlags(c)
	if err != nil {
		return result{}, err
	}
	if err := checkEmpty(c.args); err != nil {
		return result{}, err
	}
	if c.boolean("app") {
		return printed(c, r.RemoteApp)
	}
	units := slices.Clone(r.Units)
	if units == nil {
		units = []string{}
	}
	slices.Sort(units)
	return printed(c, units)
}

// unitName is names.IsValidUnit, near enough: "app/N".
var unitName = regexp.MustCompile(`^[a-z][a-z0-9]*(?:-[a-z0-9]*[a-z][a-z0-9]*)*/[0-9]+$`)

func (j *Juju) relationGet(argv []string, _ []byte) (result, error) {
	c, err := parseFlags([]option{formatOption(), j.relationOption(), {names: []string{"app"}, isBool: true}}, argv)
	if err != nil {
		return result{}, err
	}
	r, err := j.relationFromFlags(c)
	if err != nil {
		return result{}, err
	}
	var key string
	if len(c.args) > 0 {
		key, c.args = c.args[0], c.args[1:]
		if key == "-" {
			key = ""
		}
	}
	// Who to read: the unit given, else the hook's remote unit, else (as
	// Juju does) the remote application.
	app := c.boolean("app")
	var target string
	switch {
	case len(c.args) > 0:
		target, c.args = c.args[0], c.args[1:]
		if app && unitName.MatchString(target) {
			target, _, _ = strings.Cut(target, "/")
		}
	case app:
		target = r.RemoteApp
	case j.RemoteUnit != "":
		target = j.RemoteUnit
	default:
		target, app = r.RemoteApp, true
	}
	if err := checkEmpty(c.args); err != nil {
		return result{}, err
	}
	settings, err := j.readSettings(r, target, app)
	if err != nil {
		return result{}, err
	}
	if key == "" {
		return printed(c, maps.Clone(settings))
	}
	if v, ok := settings[key]; ok {
		return printed(c, v)
	}
	return printed(c, nil)
}

// readSettings is what the uniter answers for relation-get: the local
// databags from the hook context, the others from the controller, which
// refuses units and applications not in the relation.
func (j *Juju) readSettings(r *Relation, target string, app bool) (map[string]string, error) {
	if app {
		switch {
		case target == j.App() && j.Leader:
			return r.appDatabag(target), nil
		case target == r.RemoteApp:
			return r.appDatabag(target), nil
		default:
			return nil, errors.New("permission denied")
		}
	}
	if target == j.Unit {
		return r.databag(target), nil
	}
	if !unitName.MatchString(target) {
		return nil, fmt.Errorf("%q is not a valid unit", target)
	}
	if remoteApp, _, _ := strings.Cut(target, "/"); remoteApp != r.RemoteApp {
		return nil, errors.New("permission denied")
	}
	data, ok := r.UnitData[target]
	if !ok {
		return nil, fmt.Errorf("cannot read settings for unit %q in relation %q: unit %q: settings not found",
			target, fmt.Sprintf("%s:%s %s", j.App(), r.Endpoint, r.RemoteApp), target)
	}
	return nonNil(data), nil
}

// keyValues is juju/utils keyvalues.Parse with empty values allowed.
func keyValues(args []string) (map[string]string, error) {
	kvs := map[string]string{}
	for _, a := range args {
		k, v, ok := strings.Cut(a, "=")
		if !ok {
			return nil, usagef("expected \"key=value\", got %q", a)
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if k == "" {
			return nil, usagef("expected \"key=value\", got \"%s=%s\"", k, v)
		}
		if _, dup := kvs[k]; dup {
			return nil, usagef("key %q specified more than once", k)
		}
		kvs[k] = v
	}
	return kvs, nil
}

// settingsFile reads --file: a YAML map of strings, "-" being stdin; the
// key=value arguments override it.
func settingsFile(c *cmdline, stdin []byte, overrides map[string]string) (map[string]string, error) {
	settings := map[string]string{}
	if path, ok := c.flags["file"]; ok {
		data := stdin
		if path != "-" {
			var err error
			if data, err = os.ReadFile(path); err != nil {
				return nil, err
			}
		}
		if err := yaml.Unmarshal(data, &settings); err != nil {
			return nil, err
		}
		if settings == nil {
			settings = map[string]string{}
		}
	}
	maps.Copy(settings, overrides)
	return settings, nil
}

func (j *Juju) relationSet(argv []string, stdin []byte) (result, error) {
	c, err := parseFlags([]option{
		j.relationOption(),
		{names: []string{"file"}},
		{names: []string{"format"}},
		{names: []string{"app"}, isBool: true},
	}, argv)
	if err != nil {
		return result{}, err
	}
	r, err := j.relationFromFlags(c)
	if err != nil {
		return result{}, err
	}
	overrides, err := keyValues(c.args)
	if err != nil {
		return result{}, err
	}
	var res result
	if c.has("format") {
		res.stderr = `--format flag deprecated for command "relation-set"`
	}
	settings, err := settingsFile(c, stdin, overrides)
	if err != nil {
		return res, err
	}
	bag := r.databag(j.Unit)
	if c.boolean("app") {
		if !j.Leader {
			return res, errors.New("cannot write relation settings")
		}
		bag = r.appDatabag(j.App())
	}
	for k, v := range settings {
		if v == "" {
			delete(bag, k)
		} else {
			bag[k] = v
		}
	}
	return res, nil
}

var validStatus = []string{"maintenance", "blocked", "waiting", "active"}

func (j *Juju) statusSet(argv []string, _ []byte) (result, error) {
	c, err := parseFlags([]option{{names: []string{"application"}, isBool: true}}, argv)
	if err != nil {
		return result{}, err
	}
	if len(c.args) < 1 {
		return result{}, usagef("invalid args, require <status> [message]")
	}
	if !slices.Contains(validStatus, c.args[0]) {
		return result{}, usagef("invalid status %q, expected one of %v", c.args[0], validStatus)
	}
	s := Status{Name: c.args[0]}
	if len(c.args) > 1 {
		s.Message = c.args[1]
		if err := checkEmpty(c.args[2:]); err != nil {
			return result{}, err
		}
	}
	if c.boolean("application") {
		if !j.Leader {
			return result{}, errors.New("this unit is not the leader")
		}
		j.ApplicationStatus = &s
		return result{}, nil
	}
	j.Status = s
	j.StatusHistory = append(j.StatusHistory, s)
	return result{}, nil
}

func (j *Juju) applicationVersionSet(argv []string, _ []byte) (result, error) {
	c, err := parseFlags(nil, argv)
	if err != nil {
		return result{}, err
	}
	if len(c.args) < 1 {
		return result{}, usagef("no version specified")
	}
	if err := checkEmpty(c.args[1:]); err != nil {
		return result{}, err
	}
	j.ApplicationVersion = c.args[0]
	return result{}, nil
}

func (j *Juju) isLeader(argv []string, _ []byte) (result, error) {
	c, err := parseFlags([]option{formatOption()}, argv)
	if err != nil {
		return result{}, err
	}
	if err := checkEmpty(c.args); err != nil {
		return result{}, err
	}
	return printed(c, j.Leader)
}

// logLevels are loggo's level names.
var logLevels = map[string]string{
	"TRACE": "TRACE", "DEBUG": "DEBUG", "INFO": "INFO",
	"WARN": "WARNING", "WARNING": "WARNING", "ERROR": "ERROR", "CRITICAL": "CRITICAL",
}

func (j *Juju) jujuLog(argv []string, _ []byte) (result, error) {
	c, err := parseFlags([]option{
		{names: []string{"debug"}, isBool: true},
		{names: []string{"l", "log-level"}},
		{names: []string{"format"}},
	}, argv)
	if err != nil {
		return result{}, err
	}
	if c.args == nil {
		return result{}, usagef("no message specified")
	}
	var res result
	if c.has("format") {
		res.stderr = `--format flag deprecated for command "juju-log"`
	}
	level := "INFO"
	if c.boolean("debug") {
		level = "DEBUG"
	} else if l, ok := c.flags["l"]; ok && l != "" {
		if known, ok := logLevels[strings.ToUpper(l)]; ok {
			level = known
		} else {
			// Juju logs the bad level and goes on at INFO.
			j.Logs = append(j.Logs, LogEntry{Level: "WARNING", Message: fmt.Sprintf("Specified log level of %q is not valid", l)})
		}
	}
	prefix := ""
	if r := j.relation(j.HookRelation); r != nil {
		prefix = j.HookRelation + ": "
	}
	j.Logs = append(j.Logs, LogEntry{Level: level, Message: prefix + strings.Join(c.args, " ")})
	return res, nil
}

func (j *Juju) stateGet(argv []string, _ []byte) (result, error) {
	c, err := parseFlags([]option{formatOption(), {names: []string{"strict"}, isBool: true}}, argv)
	if err != nil {
		return result{}, err
	}
	var key string
	if len(c.args) > 0 {
		key, c.args = c.args[0], c.args[1:]
		if key == "-" {
			key = ""
		}
	}
	if err := checkEmpty(c.args); err != nil {
		return result{}, err
	}
	if key == "" {
		if len(j.State) == 0 {
			// Juju hands the formatter a nil map: JSON "null".
			return printed(c, map[string]string(nil))
		}
		return printed(c, maps.Clone(j.State))
	}
	v, ok := j.State[key]
	if !ok && c.boolean("strict") {
		return result{}, fmt.Errorf("%q not found", key)
	}
	return printed(c, v)
}

func (j *Juju) stateSet(argv []string, stdin []byte) (result, error) {
	c, err := parseFlags([]option{{names: []string{"file"}}}, argv)
	if err != nil {
		return result{}, err
	}
	overrides, err := keyValues(c.args)
	if err != nil {
		return result{}, err
	}
	values, err := settingsFile(c, stdin, overrides)
	if err != nil {
		return result{}, err
	}
	if j.State == nil {
		j.State = map[string]string{}
	}
	// Unlike relation-set, an empty value is stored: deleting is
	// state-delete's job.
	maps.Copy(j.State, values)
	return result{}, nil
}

func (j *Juju) stateDelete(argv []string, _ []byte) (result, error) {
	c, err := parseFlags(nil, argv)
	if err != nil {
		return result{}, err
	}
	if len(c.args) == 0 {
		return result{}, nil
	}
	if err := checkEmpty(c.args[1:]); err != nil {
		return result{}, err
	}
	delete(j.State, c.args[0])
	return result{}, nil
}

var errNoAction = errors.New("not running an action")

func (j *Juju) actionGet(argv []string, _ []byte) (result, error) {
	c, err := parseFlags([]option{formatOption()}, argv)
	if err != nil {
		return result{}, err
	}
	var path []string
	if len(c.args) > 0 {
		path, c.args = strings.Split(c.args[0], "."), c.args[1:]
	}
	if err := checkEmpty(c.args); err != nil {
		return result{}, err
	}
	if j.Action == nil {
		return result{}, errNoAction
	}
	var v any = j.Action.Params
	for _, k := range path {
		m, ok := v.(map[string]any)
		if !ok {
			v = nil
			break
		}
		v = m[k]
	}
	return printed(c, v)
}

// actionKey and reservedActionKeys are action-set's rules.
var (
	actionKey          = regexp.MustCompile(`^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$`)
	reservedActionKeys = []string{"stdout", "stdout-encoding", "stderr", "stderr-encoding"}
)

func (j *Juju) actionSet(argv []string, _ []byte) (result, error) {
	c, err := parseFlags(nil, argv)
	if err != nil {
		return result{}, err
	}
	type pair struct {
		path  []string
		value string
	}
	var pairs []pair
	for _, a := range c.args {
		k, v, ok := strings.Cut(a, "=")
		if !ok {
			return result{}, usagef("argument %q must be of the form key...=value", a)
		}
		path := strings.Split(k, ".")
		for _, p := range path {
			if !actionKey.MatchString(p) {
				return result{}, usagef("key %q must start and end with lowercase alphanumeric, and contain only lowercase alphanumeric and hyphens", p)
			}
			if slices.Contains(reservedActionKeys, p) {
				return result{}, usagef("cannot set reserved action key %q", p)
			}
		}
		pairs = append(pairs, pair{path, v})
	}
	if j.Action == nil {
		return result{}, errNoAction
	}
	if j.Action.Results == nil {
		j.Action.Results = map[string]any{}
	}
	for _, p := range pairs {
		m := j.Action.Results
		for _, k := range p.path[:len(p.path)-1] {
			next, ok := m[k].(map[string]any)
			if !ok {
				next = map[string]any{}
				m[k] = next
			}
			m = next
		}
		m[p.path[len(p.path)-1]] = p.value
	}
	return result{}, nil
}

func (j *Juju) actionFail(argv []string, _ []byte) (result, error) {
	c, err := parseFlags(nil, argv)
	if err != nil {
		return result{}, err
	}
	msg := "action failed without reason given, check action for errors"
	if len(c.args) > 0 {
		msg = c.args[0]
		if err := checkEmpty(c.args[1:]); err != nil {
			return result{}, err
		}
	}
	if j.Action == nil {
		return result{}, errNoAction
	}
	j.Action.Failed = true
	j.Action.Message = msg
	return result{}, nil
}

func (j *Juju) actionLog(argv []string, _ []byte) (result, error) {
	c, err := parseFlags(nil, argv)
	if err != nil {
		return result{}, err
	}
	if c.args == nil {
		return result{}, usagef("no message specified")
	}
	if j.Action == nil {
		return result{}, errNoAction
	}
	j.Action.Logs = append(j.Action.Logs, strings.Join(c.args, " "))
	return result{}, nil
}
