package hooktoolstest

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/juju/names/v5"
	yaml "gopkg.in/yaml.v2"
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
	"leader-get":              (*Juju).leaderGet,
	"leader-set":              (*Juju).leaderSet,
	"secret-add":              (*Juju).secretAdd,
	"secret-get":              (*Juju).secretGet,
	"secret-remove":           (*Juju).secretRemove,
	"secret-ids":              (*Juju).secretIDs,
	"secret-info-get":         (*Juju).secretInfoGet,
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
		// The unit agent's jujuc server (worker/uniter/runner/jujuc
		// server.go) refuses the request; jujud prints why and exits 1.
		return nil, []byte(fmt.Sprintf("ERROR bad request: unknown command: %s\n", tool)), 1
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

// format prints v as juju/cmd v3's formatters do (output.go): JSON with a
// newline, nil included; YAML by yaml.v2, nothing for nil; smart prints
// strings and string lists bare, booleans as True/False (as pyjuju did),
// nothing for nil or "", and YAML for anything else.
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
	}
	var s string
	switch v := v.(type) {
	case nil:
		return nil, nil
	case string:
		s = v
	case []string:
		s = strings.Join(v, "\n")
	case bool:
		s = "False"
		if v {
			s = "True"
		}
	default:
		return formatYAML(v)
	}
	if s == "" {
		return nil, nil
	}
	return []byte(s + "\n"), nil
}

func formatYAML(v any) ([]byte, error) {
	if v == nil {
		return nil, nil
	}
	b, err := yaml.Marshal(v)
	if err != nil {
		return nil, err
	}
	// FormatYaml trims trailing newlines but never the first byte.
	for len(b) > 1 && b[len(b)-1] == '\n' {
		b = b[:len(b)-1]
	}
	if len(b) == 0 {
		return nil, nil
	}
	return append(b, '\n'), nil
}

// printed is Output.Write: v in the --format asked for, on stdout or in the
// file -o names.
func printed(c *cmdline, v any) (result, error) {
	name := c.flags["format"]
	if name == "" {
		name = "smart"
	}
	out, err := format(name, v)
	if err != nil {
		return result{}, err
	}
	if path := c.flags["o"]; path != "" {
		path, err := absPath(path)
		if err != nil {
			return result{}, err
		}
		return result{}, os.WriteFile(path, out, 0o644)
	}
	return result{stdout: out}, nil
}

// absPath is how juju/cmd resolves a file argument: "~" is the home
// directory (utils.NormalizePath), anything relative is relative to the
// directory the tool runs in (Context.AbsPath), and errors name the
// absolute path.
func absPath(path string) (string, error) {
	if path == "~" || strings.HasPrefix(path, "~/") {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", err
		}
		path = home + path[1:]
	}
	return filepath.Abs(path)
}

// relationOption is -r/--relation: the value must name a relation of the
// unit, checked while parsing as Juju's relationIdValue does. A broken
// relation is still one of the unit's until it is removed.
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

// remoteApp is the running relation hook's remote application
// (JUJU_REMOTE_APP), which Juju knows in every relation hook: "" outside
// them.
func (j *Juju) remoteApp() string {
	if r := j.relation(j.HookRelation); r != nil {
		return r.RemoteApp
	}
	return ""
}

func (j *Juju) configGet(argv []string, _ []byte) (result, error) {
	c, err := parseFlags(append(outputOptions(), option{names: []string{"a", "all"}, isBool: true}), argv)
	if err != nil {
		return result{}, err
	}
	var key string
	if c.args != nil {
		key = c.args[0]
		if key != "" && c.boolean("a") {
			return result{}, usagef("cannot use argument --all together with key %q", key)
		}
		if err := checkEmpty(c.args[1:]); err != nil {
			return result{}, err
		}
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
	c, err := parseFlags(outputOptions(), argv)
	if err != nil {
		return result{}, err
	}
	if err := checkEmpty(c.args); err != nil {
		return result{}, err
	}
	if !j.Trusted {
		return result{}, errors.New("cannot access cloud credentials: permission denied")
	}
	// Juju always has a spec for the model's cloud; a trusted fake without
	// one prints the empty spec, type and name still there.
	spec := CloudSpec{}
	if j.Credential != nil {
		spec = *j.Credential
	}
	return printed(c, &spec)
}

func (j *Juju) relationIDs(argv []string, _ []byte) (result, error) {
	c, err := parseFlags(outputOptions(), argv)
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
		// Juju 2.9 said "no relation name specified".
		return result{}, usagef("no endpoint name specified")
	}
	if err := checkEmpty(c.args); err != nil {
		return result{}, err
	}
	ids := []string{}
	for id, r := range j.Relations {
		// HookContext.RelationIds leaves out broken relations.
		if r.Endpoint == name && !r.Broken {
			ids = append(ids, fmt.Sprintf("%s:%d", r.Endpoint, id))
		}
	}
	// Juju sorts the strings, so "clients:10" comes before "clients:9".
	slices.Sort(ids)
	return printed(c, ids)
}

func (j *Juju) relationList(argv []string, _ []byte) (result, error) {
	c, err := parseFlags(append(outputOptions(), j.relationOption(), option{names: []string{"app"}, isBool: true}), argv)
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

func (j *Juju) relationGet(argv []string, _ []byte) (result, error) {
	c, err := parseFlags(append(outputOptions(), j.relationOption(), option{names: []string{"app"}, isBool: true}), argv)
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
	target, app, err := j.unitOrApp(c)
	if err != nil {
		return result{}, err
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

// unitOrApp is relation-get's determineUnitOrAppName: whose settings to
// read. The unit given (an application with --app, a unit standing for
// its application), else the hook's remote unit, else its remote
// application.
func (j *Juju) unitOrApp(c *cmdline) (target string, app bool, err error) {
	app = c.boolean("app")
	if len(c.args) > 0 {
		given := c.args[0]
		c.args = c.args[1:]
		switch {
		case app && names.IsValidApplication(given):
			return given, true, nil
		case app && names.IsValidUnit(given):
			name, _ := names.UnitApplication(given)
			return name, true, nil
		case app:
			// Juju goes on with no name, which no databag has.
			return "", true, nil
		case names.IsValidUnit(given):
			return given, false, nil
		case names.IsValidApplication(given):
			return "", false, usagef("expected unit name, got application name %q", given)
		default:
			return "", false, usagef("invalid unit name %q", given)
		}
	}
	if !app && j.RemoteUnit != "" {
		return j.RemoteUnit, false, nil
	}
	if remote := j.remoteApp(); remote != "" {
		return remote, true, nil
	}
	return "", false, usagef("no unit or application specified")
}

// readSettings is what the uniter answers for relation-get: the local
// databags from the hook context (pending writes included), the others
// from the controller, which refuses units and applications not in the
// relation.
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

// keyValues is juju/utils/v3 keyvalues.Parse with empty values allowed:
// empty arguments are skipped, keys and values trimmed.
func keyValues(args []string) (map[string]string, error) {
	kvs := map[string]string{}
	for _, a := range args {
		if a == "" {
			continue
		}
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

// settingsFile reads --file as relation-set and state-set do: the file
// (stdin for "-"; no file for "") is a YAML map decoded by yaml.v2 into
// map[string]string, Juju's readSettings. Scalars keep their text
// (1.50, 0755, yes, true stay as written), null reads as "", and a
// repeated key keeps its last value (yaml.v3 would refuse it); a nested
// map or list is an error. The key=value arguments override the file.
func settingsFile(c *cmdline, stdin []byte, overrides map[string]string) (map[string]string, error) {
	path := c.flags["file"]
	if path == "" {
		return overrides, nil
	}
	data := stdin
	if path != "-" {
		abs, err := absPath(path)
		if err != nil {
			return nil, err
		}
		if data, err = os.ReadFile(abs); err != nil {
			return nil, err
		}
	}
	settings := map[string]string{}
	// Juju passes the map itself, not a pointer: a null document empties
	// it rather than failing.
	if err := yaml.Unmarshal(data, settings); err != nil {
		return nil, err
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
	if c.flags["format"] != "" {
		// Juju's own text, without a newline.
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
	c, err := parseFlags(outputOptions(), argv)
	if err != nil {
		return result{}, err
	}
	if err := checkEmpty(c.args); err != nil {
		return result{}, err
	}
	return printed(c, j.Leader)
}

// logLevels are loggo's level names (loggo.ParseLevel, any case).
// UNSPECIFIED parses, but loggo drops what is logged at it.
var logLevels = map[string]string{
	"UNSPECIFIED": "",
	"TRACE":       "TRACE", "DEBUG": "DEBUG", "INFO": "INFO",
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
	if c.flags["format"] != "" {
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
	if level == "" {
		return res, nil
	}
	prefix := ""
	if r := j.relation(j.HookRelation); r != nil {
		prefix = j.HookRelation + ": "
	}
	j.Logs = append(j.Logs, LogEntry{Level: level, Message: prefix + strings.Join(c.args, " ")})
	return res, nil
}

func (j *Juju) stateGet(argv []string, _ []byte) (result, error) {
	c, err := parseFlags(append(outputOptions(), option{names: []string{"strict"}, isBool: true}), argv)
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
	before := maps.Clone(j.State)
	if j.State == nil {
		j.State = map[string]string{}
	}
	// The hook context checks each pair as it sets it, so a refused pair
	// leaves the ones set before it (Juju walks a map; the fake walks in
	// sorted order). Unlike relation-set, an empty value is stored:
	// deleting is state-delete's job.
	for _, k := range slices.Sorted(maps.Keys(values)) {
		if err := checkTupleSize(k, values[k]); err != nil {
			return result{}, err
		}
		j.State[k] = values[k]
	}
	if j.Hook == nil && !maps.Equal(before, j.State) {
		// No hook running: this call is its own commit, checked (as the
		// controller does) only when it changes the state.
		if err := checkCommitState(j.State, j.maxCharmStateSize()); err != nil {
			j.State = before
			return result{}, err
		}
	}
	return result{}, nil
}

func (j *Juju) stateDelete(argv []string, _ []byte) (result, error) {
	c, err := parseFlags(nil, argv)
	if err != nil {
		return result{}, err
	}
	if c.args == nil {
		return result{}, nil
	}
	if err := checkEmpty(c.args[1:]); err != nil {
		return result{}, err
	}
	if c.args[0] != "" {
		delete(j.State, c.args[0])
	}
	return result{}, nil
}

var errNoAction = errors.New("not running an action")

func (j *Juju) actionGet(argv []string, _ []byte) (result, error) {
	c, err := parseFlags(outputOptions(), argv)
	if err != nil {
		return result{}, err
	}
	var path []string
	if len(c.args) > 0 {
		if err := checkEmpty(c.args[1:]); err != nil {
			return result{}, err
		}
		path = strings.Split(c.args[0], ".")
	}
	if j.Action == nil {
		return result{}, errNoAction
	}
	if len(path) == 0 {
		// Juju prints {} for an action without params.
		return printed(c, nonNil(j.Action.Params))
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

// actionKey and reservedActionKeys are action-set's rules (juju/charm
// GetActionNameRule, jujuc action-set.go).
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
				return result{}, usagef("key %q must start and end with lowercase alphanumeric, and contain only lowercase alphanumeric, hyphens and periods", p)
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
