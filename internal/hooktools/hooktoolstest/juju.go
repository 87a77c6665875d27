// Package hooktoolstest is an in-memory Juju for tests: the state one unit
// sees (config, trust, leadership, relations and their databags, status,
// charm state, the running action, logs) and the hook tools that read and
// change it, answering as Juju's own tools do: same argv, same JSON, same
// `ERROR ...` texts and exit codes, every call recorded.
//
// The same Juju serves unit tests in process (hooktools.New(j.Runner(), nil))
// and, saved as JSON, the fakejuju binary that end-to-end tests put on PATH
// (tools/fakejuju), so both kinds of test exercise one behaviour.
//
// Behaviour copied from Juju 3.6 (juju/juju worker/uniter/runner/jujuc, the
// uniter's hook context in worker/uniter/runner/context, the uniter facade
// and state/unit_ops.go):
//   - a hook is a transaction (BeginHook, EndHook): relation settings and
//     charm state written during it are committed only if it exits 0, and
//     the charm's own reads see its pending writes; status-set, juju-log,
//     application-version-set and the action's results and logs take effect
//     at once;
//   - relation-set: an empty value deletes the key; --app needs leadership
//     ("cannot write relation settings"); --file is YAML read by yaml.v2
//     into strings;
//   - state-set stores an empty value as "" (only state-delete deletes);
//     keys over 256 bytes and values over 64 KiB are refused, and the
//     controller refuses to commit more than MaxCharmStateSize in all;
//   - entering a relation's scope writes the unit's private-address,
//     ingress-address and egress-subnets into its databag;
//   - relation-ids leaves out broken relations;
//   - status-set accepts maintenance, blocked, waiting and active only;
//   - credential-get prints params.CloudSpec, and fails with "cannot access
//     cloud credentials: permission denied" until the application is
//     trusted;
//   - action params are validated against actions.yaml, and its defaults
//     filled in, before the action runs;
//   - -r naming an unknown relation: `invalid value "clients:9" for option
//     -r: relation not found`, exit 2 like every command line Juju refuses;
//     a failure while running exits 1;
//   - leader-set writes at once, outside the hook's transaction, and only
//     on the leader; an empty value deletes the key;
//   - secret-add and secret-remove are pending until the hook commits
//     (secret-get reads the hook's own new secrets); an application's
//     secret needs the leader; the controller checks labels and
//     leadership again at the commit (leadership.go, secrets.go,
//     secrettools.go).
package hooktoolstest

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"

	jujucharm "github.com/juju/charm/v12"
)

// Default addresses of the local unit: what Juju writes into its databag on
// entering a relation's scope. They are no related unit's in the tests'
// fixtures, so that only a test meaning to share the unit's machine does.
const (
	DefaultAddress       = "10.0.0.100"
	DefaultEgressSubnets = "10.0.0.100/32"
)

// Juju is everything one unit's hook tools can see or change. It is plain
// JSON so the fakejuju binary can keep it in a file between processes.
// Exported fields may be set directly to build a state; the methods lock,
// so a Juju may be shared with code running hook tools concurrently.
type Juju struct {
	mu sync.Mutex

	// Unit is the local unit, "vsphere-integrator/0".
	Unit string `json:"unit"`
	// Address is the unit's ingress address on every relation, and
	// EgressSubnets its egress subnets (comma-separated): Juju writes both
	// into the unit's databag when it enters a relation's scope. Empty
	// writes nothing, as for a unit Juju has no address for.
	Address       string         `json:"address,omitempty"`
	EgressSubnets string         `json:"egress-subnets,omitempty"`
	Config        map[string]any `json:"config,omitempty"`
	// Credential is what credential-get prints once Trusted.
	Credential *CloudSpec `json:"credential,omitempty"`
	Trusted    bool       `json:"trusted"`
	Leader     bool       `json:"leader"`
	// LeaderValues are the application's leader settings (leader-get,
	// leader-set; LeaderSettings).
	LeaderValues map[string]string `json:"leader-settings,omitempty"`
	// ModelUUID is the model's: the source of the URIs secret-add prints.
	ModelUUID string `json:"model-uuid,omitempty"`
	// SecretRecords are the committed secrets of the application and its
	// units (Secrets, AddSecret); a running hook's changes are in Hook.
	SecretRecords []SecretRecord `json:"secrets,omitempty"`
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
	// MaxCharmStateSize is the controller's max-charm-state-size: the
	// largest charm state (BSON-encoded) it commits. 0 means Juju's
	// default (2 MiB); negative disables the check.
	MaxCharmStateSize int `json:"max-charm-state-size,omitempty"`
	// CharmActions are the charm's actions.yaml (SetActions): when set,
	// StartAction validates params and fills in defaults as Juju does.
	CharmActions map[string]jujucharm.ActionSpec `json:"charm-actions,omitempty"`
	// Action is the running action; nil in a hook.
	Action *Action     `json:"action,omitempty"`
	Logs   []LogEntry  `json:"logs,omitempty"`
	Hook   *HookRecord `json:"hook,omitempty"`
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
	// Broken: the relation is dying and has no remote units left, so its
	// relation-broken hook runs (BreakRelation). relation-ids leaves it out;
	// -r still names it until RemoveRelation.
	Broken bool `json:"broken,omitempty"`
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
	// Message is action-fail's message, or why Juju failed the action.
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
// set: no config, no trust, not leader, no relations, no leader settings,
// no secrets. Its address is DefaultAddress, its model DefaultModelUUID.
func New(unit string) *Juju {
	return &Juju{Unit: unit, Address: DefaultAddress, EgressSubnets: DefaultEgressSubnets, ModelUUID: DefaultModelUUID}
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
func (j *Juju) Trust(spec CloudSpec) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.Credential = &spec
	j.Trusted = true
}

// SetCredential changes the credential without touching trust, as
// `juju update-credential` does.
func (j *Juju) SetCredential(spec CloudSpec) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.Credential = &spec
}

// SetLeader makes the unit leader or not.
func (j *Juju) SetLeader(leader bool) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.Leader = leader
}

// AddRelation relates the unit's endpoint to remoteApp with the given
// remote units joined, and returns the relation id ("clients:0"). The
// unit enters the relation's scope: its databag starts with the addresses
// Juju writes there.
func (j *Juju) AddRelation(endpoint, remoteApp string, units ...string) string {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.Relations == nil {
		j.Relations = map[int]*Relation{}
	}
	id := j.NextRelationID
	j.NextRelationID++
	r := &Relation{Endpoint: endpoint, RemoteApp: remoteApp}
	maps.Copy(r.databag(j.Unit), j.scopeSettings())
	for _, u := range units {
		r.join(u)
	}
	j.Relations[id] = r
	return fmt.Sprintf("%s:%d", endpoint, id)
}

// scopeSettings is what the uniter facade's EnterScope writes into the
// unit's databag (apiserver/facades/agent/uniter, EnterScope).
func (j *Juju) scopeSettings() map[string]string {
	s := map[string]string{}
	if j.Address != "" {
		s["private-address"] = j.Address
		s["ingress-address"] = j.Address
	}
	if j.EgressSubnets != "" {
		s["egress-subnets"] = j.EgressSubnets
	}
	return s
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

// BreakRelation makes a relation broken, as `juju remove-relation` does
// once its remote units have departed: call it before the relation-broken
// hook. Any remote unit still listed departs. relation-ids leaves the
// relation out, as Juju does for broken relations, while -r still names it,
// so relation-list (empty), relation-get and relation-set on it go on
// working in its broken hook. RemoveRelation after the hook forgets it.
func (j *Juju) BreakRelation(relationID string) {
	j.mu.Lock()
	defer j.mu.Unlock()
	r := j.mustRelation(relationID)
	r.Units = nil
	r.Broken = true
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

// SetLocalData replaces what the charm left in the local unit's databag in
// a relation: what an earlier charm (or an earlier revision) wrote. The
// addresses Juju writes there stay, unless data sets those keys itself.
func (j *Juju) SetLocalData(relationID string, data map[string]string) {
	j.mu.Lock()
	defer j.mu.Unlock()
	bag := j.scopeSettings()
	maps.Copy(bag, data)
	j.setUnitData(relationID, j.Unit, bag)
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

// LocalData returns a copy of the local unit's databag in a relation as
// committed: what the remote units see, Juju's address keys included (a
// running hook's writes show once it ends with exit 0). Nil when the
// relation does not exist.
func (j *Juju) LocalData(relationID string) map[string]string {
	j.mu.Lock()
	defer j.mu.Unlock()
	id, err := parseID(relationID)
	if err != nil {
		return nil
	}
	if j.Hook != nil {
		if bag, ok := j.Hook.UnitData[id]; ok && j.Relations[id] != nil {
			return maps.Clone(nonNil(bag))
		}
	}
	r := j.Relations[id]
	if r == nil {
		return nil
	}
	return maps.Clone(r.databag(j.Unit))
}

// CharmData is LocalData without the keys Juju wrote on entering scope
// (private-address, ingress-address, egress-subnets) while they still hold
// what Juju wrote: what the charm itself published. A charm that changed
// or deleted one of them still shows it.
func (j *Juju) CharmData(relationID string) map[string]string {
	data := j.LocalData(relationID)
	if data == nil {
		return nil
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	for k, v := range j.scopeSettings() {
		if data[k] == v {
			delete(data, k)
		}
	}
	return data
}

// SetActions gives the fake Juju the charm's actions (jujucharm
// ReadActionsYaml, or a charm archive's Actions()): from then on
// StartAction checks params against them, as Juju does before it runs an
// action.
func (j *Juju) SetActions(actions *jujucharm.Actions) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.CharmActions = nil
	if actions != nil {
		j.CharmActions = maps.Clone(actions.ActionSpecs)
	}
}

// ReadActionsYAML is SetActions with the charm's actions.yaml at path.
func (j *Juju) ReadActionsYAML(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("read actions: %w", err)
	}
	defer f.Close()
	actions, err := jujucharm.ReadActionsYaml(j.App(), f)
	if err != nil {
		return fmt.Errorf("read actions %s: %w", path, err)
	}
	j.SetActions(actions)
	return nil
}

// StartAction makes an action the running one, with params as Juju hands
// them to the charm: JSON values, as they come through the API. With the
// charm's actions set (SetActions), Juju's checks come first: an action
// actions.yaml does not define, or params its schema refuses (jujucharm
// ValidateParams, as `juju run` and the unit agent both check), is
// refused with Juju's error and nothing runs; the schema's defaults fill
// in the params not given.
func (j *Juju) StartAction(name string, params map[string]any) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	// A refused action leaves none running, not the one before.
	j.Action = nil
	params, err := jsonParams(params)
	if err != nil {
		return fmt.Errorf("action %q: %w", name, err)
	}
	if j.CharmActions != nil {
		spec, ok := j.CharmActions[name]
		if !ok {
			// state.Unit.PrepareActionPayload
			return fmt.Errorf("action %q not defined on unit %q", name, j.Unit)
		}
		if err := spec.ValidateParams(params); err != nil {
			return err
		}
		if params, err = spec.InsertDefaults(params); err != nil {
			return err
		}
	}
	j.Action = &Action{Name: name, Params: params}
	return nil
}

// jsonParams is params as JSON gives them back: what reaches Juju over its
// API. A nil map stays nil.
func jsonParams(params map[string]any) (map[string]any, error) {
	if params == nil {
		return nil, nil
	}
	raw, err := json.Marshal(params)
	if err != nil {
		return nil, fmt.Errorf("params: %w", err)
	}
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, fmt.Errorf("params: %w", err)
	}
	return out, nil
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

// errInvalidRelationID is relationIdValue.Set's text for an id that is not
// a number.
var errInvalidRelationID = errors.New("invalid relation id")

// parseID is Juju's relation id parsing: the number after the last colon.
func parseID(relationID string) (int, error) {
	s := relationID
	if i := strings.LastIndex(s, ":"); i >= 0 {
		s = s[i+1:]
	}
	id, err := strconv.Atoi(s)
	if err != nil {
		return 0, errInvalidRelationID
	}
	return id, nil
}

func nonNil[M ~map[K]V, K comparable, V any](m M) M {
	if m == nil {
		return M{}
	}
	return m
}
