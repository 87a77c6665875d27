// Package hooktoolstest is an in-memory Juju for tests: the state one unit
// sees (config, trust, leadership, relations and their databags, status,
// charm state, the running action, logs) and the hook tools that read and
// change it, answering as Juju's own tools do: same argv, same JSON, same
// `ERROR ...` texts and exit codes, every call recorded.
//
// The same Juju serves unit tests in process (hooktools.New(j.Runner()))
// and, saved as JSON, the fakejuju binary that end-to-end tests put on PATH
// (cmd/fakejuju), so both kinds of test exercise one behaviour.
//
// Behaviour copied from Juju (juju/juju worker/uniter/runner/jujuc and the
// uniter's hook context):
//   - relation-set: an empty value deletes the key; --app needs leadership
//     ("cannot write relation settings");
//   - state-set stores an empty value as "" (only state-delete deletes);
//   - status-set accepts maintenance, blocked, waiting and active only;
//   - credential-get fails with "cannot access cloud credentials:
//     permission denied" until the application is trusted;
//   - -r naming an unknown relation: `invalid value "clients:9" for option
//     -r: relation not found`, exit 2 like every command line Juju refuses;
//   - relation-get of a unit with no settings in the relation: "... settings
//     not found"; of a unit of an application not in it: "permission
//     denied";
//   - unknown options are refused; action tools outside an action fail with
//     "not running an action".
package hooktoolstest

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/charmed-kubernetes/vsphere-integrator/internal/hooktools"
)

// Juju is everything one unit's hook tools can see or change. It is plain
// JSON so the fakejuju binary can keep it in a file between processes.
// Exported fields may be set directly to build a state; the methods lock,
// so a Juju may be shared with code running hook tools concurrently.
type Juju struct {
	mu sync.Mutex

	// Unit is the local unit, "vsphere-integrator/0".
	Unit   string         `json:"unit"`
	Config map[string]any `json:"config,omitempty"`
	// Credential is what credential-get prints once Trusted.
	Credential *hooktools.CloudSpec `json:"credential,omitempty"`
	Trusted    bool                 `json:"trusted"`
	Leader     bool                 `json:"leader"`
	// Relations by id (the number after the colon in "clients:3").
	Relations      map[int]*Relation `json:"relations,omitempty"`
	NextRelationID int               `json:"next-relation-id"`
	// Status is the unit's workload status; empty until the charm sets one.
	Status Status `json:"status"`
	// StatusHistory has every status-set, repeats included (Juju records
	// each call).
	StatusHistory      []Status          `json:"status-history,omitempty"`
	ApplicationStatus  *Status           `json:"application-status,omitempty"`
	ApplicationVersion string            `json:"application-version,omitempty"`
	State              map[string]string `json:"state,omitempty"`
	// Action is the running action; nil in a hook.
	Action *Action    `json:"action,omitempty"`
	Logs   []LogEntry `json:"logs,omitempty"`
	// Faults make a tool fail (or print something odd) instead of running.
	Faults map[string]Fault `json:"faults,omitempty"`
	// Calls is every tool run, in order, faulty and refused ones included.
	Calls []Call `json:"calls,omitempty"`

	// HookRelation ("clients:3") and RemoteUnit are the running hook's
	// context: the defaults of -r and of relation-get's unit, as
	// JUJU_RELATION_ID and JUJU_REMOTE_UNIT are for Juju's tools.
	HookRelation string `json:"hook-relation,omitempty"`
	RemoteUnit   string `json:"remote-unit,omitempty"`
}

// Relation is one relation of the local unit.
type Relation struct {
	Endpoint  string `json:"endpoint"`
	RemoteApp string `json:"remote-app"`
	// Units are the remote units in the relation now.
	Units []string `json:"units,omitempty"`
	// UnitData holds each unit's databag, the local unit's included. A
	// departed unit's databag stays readable, as in Juju, until the
	// relation goes.
	UnitData map[string]map[string]string `json:"unit-data,omitempty"`
	// AppData holds the application databags, local and remote, by
	// application name.
	AppData map[string]map[string]string `json:"app-data,omitempty"`
}

// Status is a workload status.
type Status struct {
	Name    string `json:"name"`
	Message string `json:"message"`
}

// Action is the running action.
type Action struct {
	Name    string         `json:"name"`
	Params  map[string]any `json:"params,omitempty"`
	Results map[string]any `json:"results,omitempty"`
	Failed  bool           `json:"failed,omitempty"`
	// Message is action-fail's message.
	Message string   `json:"message,omitempty"`
	Logs    []string `json:"logs,omitempty"`
}

// LogEntry is one juju-log call.
type LogEntry struct {
	Level   string `json:"level"`
	Message string `json:"message"`
}

// Call is one hook tool run.
type Call struct {
	Tool  string   `json:"tool"`
	Args  []string `json:"args"`
	Stdin string   `json:"stdin,omitempty"`
}

// Fault replaces a tool's answer: what it prints and its exit code.
type Fault struct {
	Stdout string `json:"stdout,omitempty"`
	Stderr string `json:"stderr,omitempty"`
	Code   int    `json:"code"`
}

// New returns the Juju of one unit ("vsphere-integrator/0") with nothing
// set: no config, no trust, not leader, no relations.
func New(unit string) *Juju {
	return &Juju{Unit: unit}
}

// App is the local application's name.
func (j *Juju) App() string {
	app, _, _ := strings.Cut(j.Unit, "/")
	return app
}

// SetConfig sets charm options (merged into those already set).
func (j *Juju) SetConfig(values map[string]any) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.Config == nil {
		j.Config = map[string]any{}
	}
	maps.Copy(j.Config, values)
}

// Trust grants `juju trust` with the model's cloud credential.
func (j *Juju) Trust(spec hooktools.CloudSpec) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.Credential = &spec
	j.Trusted = true
}

// SetCredential changes the credential without touching trust, as
// `juju update-credential` does.
func (j *Juju) SetCredential(spec hooktools.CloudSpec) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.Credential = &spec
}

// Untrust removes trust (`juju trust --remove`).
func (j *Juju) Untrust() {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.Trusted = false
}

// SetLeader makes the unit leader or not.
func (j *Juju) SetLeader(leader bool) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.Leader = leader
}

// AddRelation relates the unit's endpoint to remoteApp with the given
// remote units joined, and returns the relation id ("clients:0").
func (j *Juju) AddRelation(endpoint, remoteApp string, units ...string) string {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.Relations == nil {
		j.Relations = map[int]*Relation{}
	}
	id := j.NextRelationID
	j.NextRelationID++
	r := &Relation{Endpoint: endpoint, RemoteApp: remoteApp}
	r.databag(j.Unit)
	for _, u := range units {
		r.join(u)
	}
	j.Relations[id] = r
	return fmt.Sprintf("%s:%d", endpoint, id)
}

// JoinUnit adds a remote unit to a relation (relation-joined).
func (j *Juju) JoinUnit(relationID, unit string) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.mustRelation(relationID).join(unit)
}

// DepartUnit removes a remote unit from a relation (relation-departed); its
// databag stays readable, as in Juju.
func (j *Juju) DepartUnit(relationID, unit string) {
	j.mu.Lock()
	defer j.mu.Unlock()
	r := j.mustRelation(relationID)
	r.Units = slices.DeleteFunc(r.Units, func(u string) bool { return u == unit })
}

// RemoveRelation removes a relation (after relation-broken): every tool
// then answers "relation not found" for it.
func (j *Juju) RemoveRelation(relationID string) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.mustRelation(relationID)
	id, _ := parseID(relationID)
	delete(j.Relations, id)
}

// SetRemoteData replaces a unit's databag in a relation.
func (j *Juju) SetRemoteData(relationID, unit string, data map[string]string) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.setUnitData(relationID, unit, data)
}

// SetLocalData replaces the local unit's databag in a relation: what an
// earlier charm (or an earlier revision) left there.
func (j *Juju) SetLocalData(relationID string, data map[string]string) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.setUnitData(relationID, j.Unit, data)
}

func (j *Juju) setUnitData(relationID, unit string, data map[string]string) {
	r := j.mustRelation(relationID)
	if r.UnitData == nil {
		r.UnitData = map[string]map[string]string{}
	}
	r.UnitData[unit] = maps.Clone(nonNil(data))
}

// SetRemoteAppData replaces the remote application's databag.
func (j *Juju) SetRemoteAppData(relationID string, data map[string]string) {
	j.mu.Lock()
	defer j.mu.Unlock()
	r := j.mustRelation(relationID)
	if r.AppData == nil {
		r.AppData = map[string]map[string]string{}
	}
	r.AppData[r.RemoteApp] = maps.Clone(nonNil(data))
}

// LocalData returns a copy of the local unit's databag in a relation: what
// the remote units see. Nil when the relation does not exist.
func (j *Juju) LocalData(relationID string) map[string]string {
	j.mu.Lock()
	defer j.mu.Unlock()
	r := j.relation(relationID)
	if r == nil {
		return nil
	}
	return maps.Clone(r.databag(j.Unit))
}

// StartAction makes an action the running one.
func (j *Juju) StartAction(name string, params map[string]any) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.Action = &Action{Name: name, Params: params}
}

// InjectFault makes every later call of tool answer f instead of running;
// the zero Fault removes it.
func (j *Juju) InjectFault(tool string, f Fault) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if f == (Fault{}) {
		delete(j.Faults, tool)
		return
	}
	if j.Faults == nil {
		j.Faults = map[string]Fault{}
	}
	j.Faults[tool] = f
}

// CallsTo returns the calls of one tool, in order.
func (j *Juju) CallsTo(tool string) []Call {
	j.mu.Lock()
	defer j.mu.Unlock()
	var calls []Call
	for _, c := range j.Calls {
		if c.Tool == tool {
			calls = append(calls, c)
		}
	}
	return calls
}

// relation finds a relation by "endpoint:id" (or bare id) as Juju does:
// only the number counts.
func (j *Juju) relation(relationID string) *Relation {
	id, err := parseID(relationID)
	if err != nil {
		return nil
	}
	return j.Relations[id]
}

// mustRelation is for the test helpers: a test naming a relation it never
// added is a bug in the test.
func (j *Juju) mustRelation(relationID string) *Relation {
	r := j.relation(relationID)
	if r == nil {
		panic(fmt.Sprintf("hooktoolstest: no relation %q", relationID))
	}
	return r
}

func (r *Relation) join(unit string) {
	if !slices.Contains(r.Units, unit) {
		r.Units = append(r.Units, unit)
	}
	r.databag(unit)
}

// databag returns a unit's databag, creating it empty.
func (r *Relation) databag(unit string) map[string]string {
	if r.UnitData == nil {
		r.UnitData = map[string]map[string]string{}
	}
	if r.UnitData[unit] == nil {
		r.UnitData[unit] = map[string]string{}
	}
	return r.UnitData[unit]
}

// appDatabag returns an application's databag, creating it empty.
func (r *Relation) appDatabag(app string) map[string]string {
	if r.AppData == nil {
		r.AppData = map[string]map[string]string{}
	}
	if r.AppData[app] == nil {
		r.AppData[app] = map[string]string{}
	}
	return r.AppData[app]
}

// parseID is Juju's relation id parsing: the number after the last colon.
func parseID(relationID string) (int, error) {
	s := relationID
	if i := strings.LastIndex(s, ":"); i >= 0 {
		s = s[i+1:]
	}
	id, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("invalid relation id")
	}
	return id, nil
}

func nonNil[M ~map[K]V, K comparable, V any](m M) M {
	if m == nil {
		return M{}
	}
	return m
}
