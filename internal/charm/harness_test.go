package charm

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/vmware/govmomi/find"
	"github.com/vmware/govmomi/simulator"
	"gopkg.in/yaml.v3"

	"github.com/charmed-kubernetes/vsphere-integrator/internal/hookenv"
	"github.com/charmed-kubernetes/vsphere-integrator/internal/hooktools"
	"github.com/charmed-kubernetes/vsphere-integrator/internal/hooktools/hooktoolstest"
	"github.com/charmed-kubernetes/vsphere-integrator/internal/redact"
	"github.com/charmed-kubernetes/vsphere-integrator/internal/vsphere"
	"github.com/charmed-kubernetes/vsphere-integrator/internal/vsphere/vspheretest"
)

const unit = "vsphere-integrator/0"

// env is one unit of the charm: an in-memory Juju and a vCenter simulator.
// A test builds a state, runs one event, and checks the state that comes
// out.
type env struct {
	t      testing.TB
	juju   *hooktoolstest.Juju
	vc     *vspheretest.Server
	checks atomic.Int32 // vCenter checks (sessions) opened
	// dedications counts the Dedicate calls among them.
	dedications atomic.Int32
	// jujuVersion is JUJU_VERSION for every event ("" for none).
	jujuVersion string
	// modelUUID is JUJU_MODEL_UUID.
	modelUUID string
	// passwords are every dedicated password ever kept in a secret: the
	// audit looks for them too, after their secrets are gone.
	passwords map[string]bool
	now       time.Time
	// secrets must never show on argv, in a log, status or action result.
	secrets []string
	// shown are the calls that may carry a secret because the user asked
	// for it (show-password=true).
	shown map[int]bool
	// checkTimeout, when set, replaces CheckTimeout.
	checkTimeout time.Duration
	// auditLater leaves the secret audit after each hook to the caller: a
	// benchmark runs it outside its timer.
	auditLater bool
	// key is the unit's state key, kept across events as on the unit's disk.
	key []byte
	// vcenter, when set, answers instead of the simulator: a test's own
	// vCenter, saying what the simulator cannot be made to say.
	vcenter VCenter
}

func newEnv(t testing.TB) *env {
	t.Helper()
	return newEnvWith(t, vspheretest.Options{})
}

// newEnvWith is newEnv with a simulator shaped by opts (its Model is set
// here).
func newEnvWith(t testing.TB, opts vspheretest.Options) *env {
	t.Helper()
	m := simulator.VPX()
	m.Machine = 3 // 6 VMs: DC0_H0_VM0..2, DC0_C0_RP0_VM0..2
	if opts.Model != nil {
		m = opts.Model
	}
	opts.Model = m
	e := &env{t: t, juju: hooktoolstest.New(unit), vc: vspheretest.NewServer(t, opts), now: time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC), shown: map[int]bool{}, key: []byte("0123456789abcdef0123456789abcdef")}
	e.juju.SetConfig(configDefaults(t))
	// Juju checks action params against actions.yaml before the charm runs.
	require.NoError(t, e.juju.ReadActionsYAML("../../actions.yaml"))
	// The simulator's datastore; the default datastore1 exists only on ESXi.
	e.juju.SetConfig(map[string]any{"datastore": "LocalDS_0"})
	ctx := context.Background()
	vmFolder, err := find.NewFinder(e.vc.Client()).Folder(ctx, "/DC0/vm")
	require.NoError(t, err)
	_, err = vmFolder.CreateFolder(ctx, "juju-kubernetes")
	require.NoError(t, err)
	e.addSecret(e.vc.Password())
	e.vc.Modernize() // a warning only where a test asks for one
	t.Cleanup(e.assertNoSecretsLeaked)
	return e
}

// configDefaults reads config.yaml's defaults, as Juju gives them to
// config-get before anything is set.
func configDefaults(t testing.TB) map[string]any {
	raw, err := os.ReadFile("../../config.yaml")
	require.NoError(t, err)
	var doc struct {
		Options map[string]struct {
			Default any `yaml:"default"`
		} `yaml:"options"`
	}
	require.NoError(t, yaml.Unmarshal(raw, &doc))
	out := map[string]any{}
	for k, o := range doc.Options {
		out[k] = o.Default
	}
	return out
}

func (e *env) addSecret(s string) { e.secrets = append(e.secrets, s) }

// cloud is the credential `juju trust` would give for the simulator.
func (e *env) cloud(password string) hooktoolstest.CloudSpec {
	return hooktoolstest.CloudSpec{
		Type: "vsphere", Name: "vsphere", Region: "DC0", Endpoint: e.vc.URL.Host,
		Credential: &hooktoolstest.CloudCredential{AuthType: "userpass", Attrs: map[string]string{"user": e.vc.User, "password": password}},
	}
}

func (e *env) trust() { e.juju.Trust(e.cloud(e.vc.Password())) }

// rotate changes the password on both sides, as `juju update-credential`
// after a vCenter password change does.
func (e *env) rotate(p string) {
	e.addSecret(p)
	e.vc.SetPassword(p)
	e.juju.SetCredential(e.cloud(p))
}

// vmNames lists the simulator's VMs, sorted.
func (e *env) vmNames() []string {
	e.t.Helper()
	names, err := e.vc.VMNames(context.Background())
	require.NoError(e.t, err)
	sort.Strings(names)
	return names
}

// place gives a related unit its address, as Juju does (ingress-address
// and private-address in its databag), and, when vm is given, makes that
// VM report the address and sets its disk.enableUUID (unless "").
func (e *env) place(rel, remote, vm, ip, diskUUID string) {
	e.t.Helper()
	e.juju.SetRemoteData(rel, remote, map[string]string{"ingress-address": ip, "private-address": ip})
	if vm == "" {
		return
	}
	ctx := context.Background()
	require.NoError(e.t, e.vc.SetGuestIP(ctx, vm, ip))
	if diskUUID != "" {
		require.NoError(e.t, e.vc.SetExtraConfig(ctx, vm, vsphere.DiskUUIDOption, diskUUID))
	}
}

// countingVCenter is the real vCenter client, counting the sessions each
// call opens.
type countingVCenter struct{ e *env }

func (v countingVCenter) Check(ctx context.Context, t vsphere.Target) (*vsphere.Report, error) {
	v.e.checks.Add(1)
	return vsphere.Check(ctx, t)
}

func (v countingVCenter) TestVolume(ctx context.Context, t vsphere.Target, sizeMiB int) (*vsphere.VolumeReport, error) {
	v.e.checks.Add(1)
	return vsphere.TestVolume(ctx, t, sizeMiB)
}

func (v countingVCenter) Dedicate(ctx context.Context, t vsphere.Target, req vsphere.DedicateRequest) (*vsphere.DedicateReport, error) {
	v.e.checks.Add(1)
	v.e.dedications.Add(1)
	return vsphere.Dedicate(ctx, t, req)
}

func (v countingVCenter) Identities(ctx context.Context, t vsphere.Target, prefix string) ([]vsphere.Identity, *vsphere.DedicateReport, error) {
	v.e.checks.Add(1)
	return vsphere.Identities(ctx, t, prefix)
}

func (v countingVCenter) EnableDiskUUID(ctx context.Context, t vsphere.Target, dryRun bool) (*vsphere.DiskUUIDReport, error) {
	v.e.checks.Add(1)
	return vsphere.EnableDiskUUID(ctx, t, dryRun)
}

// hook runs one hook, which must succeed; relID/remote for relation hooks.
func (e *env) hook(name string, rel ...string) {
	e.t.Helper()
	require.NoError(e.t, e.hookErr(name, rel...), "a hook fails only when a hook tool does")
}

// hookErr runs one hook and returns its error: a hook tool that failed.
func (e *env) hookErr(name string, rel ...string) error {
	e.t.Helper()
	hc := hookenv.Context{Kind: hookenv.KindHook, Name: name, Unit: e.juju.Unit, ModelName: "k8s", ModelUUID: e.modelUUID, Version: e.jujuVersion}
	if endpoint, _, ok := hc.RelationHook(); ok {
		hc.RelationEndpoint, hc.RelationID = endpoint, rel[0]
		if len(rel) > 1 {
			hc.RemoteUnit = rel[1]
			hc.RemoteApp, _, _ = strings.Cut(rel[1], "/")
		}
	}
	return e.runErr(hc)
}

func hookenvAction(name string) hookenv.Context {
	return hookenv.Context{Kind: hookenv.KindAction, Name: name, ActionName: name, Unit: unit}
}

func (e *env) action(name string, params map[string]any) {
	e.t.Helper()
	require.NoError(e.t, e.juju.StartAction(name, params), "Juju refuses params actions.yaml does not allow")
	mark := len(e.juju.Calls)
	asked, _ := params["show-password"].(bool)
	hc := hookenvAction(name)
	hc.Unit, hc.ModelName, hc.ModelUUID, hc.Version = e.juju.Unit, "k8s", e.modelUUID, e.jujuVersion
	require.NoError(e.t, e.runErr(hc), "an action exits non-zero only when action-fail fails")
	if asked {
		for i := mark; i < len(e.juju.Calls); i++ {
			if e.juju.Calls[i].Tool == "action-set" {
				e.shown[i] = true
			}
		}
	}
	e.assertNoSecretsLeaked()
}

// runErr runs one event inside a hook transaction, as the unit agent does:
// what it wrote to relations and unit state is kept only if it succeeded.
func (e *env) runErr(hc hookenv.Context) error {
	e.t.Helper()
	var vc VCenter = countingVCenter{e}
	if e.vcenter != nil {
		vc = e.vcenter
	}
	c := New(hooktools.New(e.juju.Runner(), nil), hc, vc, Options{
		Now:          func() time.Time { return e.now },
		CheckTimeout: e.checkTimeout,
		Stderr:       io.Discard, // the status and juju-log are what the tests check
		Key:          e.key,
	})
	require.NoError(e.t, e.juju.BeginHook())
	err := c.Run(context.Background())
	code := 0
	if err != nil {
		code = 1
	}
	if cerr := e.juju.EndHook(code); cerr != nil && err == nil {
		err = fmt.Errorf("juju refused the hook's changes: %w", cerr)
	}
	if hc.Kind == hookenv.KindHook && !e.auditLater {
		e.assertNoSecretsLeaked() // actions check after marking what was asked for
	}
	return err
}

// calls returns the calls made since mark (len of Calls before the event).
func (e *env) callsSince(mark int) []hooktoolstest.Call {
	return append([]hooktoolstest.Call(nil), e.juju.Calls[mark:]...)
}

// status is the unit's status, less the warning that only the simulator's
// own port causes (see withoutSimulatorPort); e.juju.Status keeps it.
func (e *env) status() (string, string) {
	return e.juju.Status.Name, withoutSimulatorPort(e.juju.Status.Message)
}

// assertNoSecretsLeaked looks for every form of every secret (redact.Forms:
// raw, JSON-, XML-, HTML- and URL-escaped, base64) everywhere the charm's
// text reaches: every hook tool's argv (but the results the user asked to
// see), what state-set was given, unit state, the status and its history,
// juju-log, the application version, and the running action's results,
// logs and fail message.
func (e *env) assertNoSecretsLeaked() {
	e.t.Helper()
	j := e.juju
	var places []string
	for i, c := range j.Calls {
		if !e.shown[i] {
			places = append(places, strings.Join(c.Args, " "))
		}
		if c.Tool == "state-set" {
			places = append(places, c.Stdin)
		}
	}
	for _, l := range j.Logs {
		places = append(places, l.Message)
	}
	for _, s := range append(j.StatusHistory, j.Status) {
		places = append(places, s.Message)
	}
	places = append(places, j.ApplicationVersion)
	if j.Action != nil {
		places = append(places, j.Action.Message)
		places = append(places, j.Action.Logs...)
		if show, _ := j.Action.Params["show-password"].(bool); !show {
			places = append(places, flatten(j.Action.Results)...)
		}
	}
	for k, v := range j.State {
		places = append(places, k, v)
	}
	for k, v := range j.LeaderSettings() {
		places = append(places, k, v)
	}
	if b, _ := j.Config["credentials"].(string); b != "" {
		e.secrets = append(e.secrets, b)
	}
	// A value that is JSON (the state record, a list in an action result)
	// is looked into too: a form of a secret JSON-encoded again is no
	// longer any of its forms, but decodes to one.
	for _, p := range places {
		places = append(places, jsonStrings(p)...)
	}
	// Every dedicated password kept in a secret is a secret too.
	if e.passwords == nil {
		e.passwords = map[string]bool{}
	}
	for _, rec := range j.Secrets() {
		if v, err := rec.Values(); err == nil && v["password"] != "" {
			e.passwords[v["password"]] = true
		}
	}
	var secrets redact.Secrets
	secrets.Add(e.secrets...)
	for p := range e.passwords {
		secrets.Add(p)
	}
	for _, p := range places {
		if secrets.Leaks(p) {
			e.t.Fatalf("a form of a secret leaked into %q", redact.Cut(p, 4096))
		}
	}
}

// jsonStrings are the strings inside text when it is JSON (nil when not).
func jsonStrings(text string) []string {
	t := strings.TrimSpace(text)
	if t == "" || (t[0] != '{' && t[0] != '[' && t[0] != '"') {
		return nil
	}
	var v any
	if json.Unmarshal([]byte(t), &v) != nil {
		return nil
	}
	var out []string
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case string:
			out = append(out, v)
			out = append(out, jsonStrings(v)...)
		case []any:
			for _, x := range v {
				walk(x)
			}
		case map[string]any:
			for k, x := range v {
				out = append(out, k)
				walk(x)
			}
		}
	}
	walk(v)
	return out
}

func flatten(m map[string]any) []string {
	var out []string
	for k, v := range m {
		switch v := v.(type) {
		case map[string]any:
			out = append(out, flatten(v)...)
		case string:
			out = append(out, k, v)
		}
	}
	return out
}
