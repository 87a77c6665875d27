// Package e2e drives the packed charm (`make charm`) through a whole
// deployment's life as Juju would: dispatch run as a process per event with
// the fake Juju's hook tools on PATH, against the govmomi simulator over
// HTTPS with its own user and password. After every step it checks the
// status, the relation data as each consumer decodes it, and the hook-tool
// calls the fake Juju recorded.
package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/gcfg.v1"
	"gopkg.in/yaml.v2"
	storagev1 "k8s.io/api/storage/v1"
	"k8s.io/legacy-cloud-providers/vsphere"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/charmed-kubernetes/vsphere-integrator/internal/cloudconfig"
	"github.com/charmed-kubernetes/vsphere-integrator/internal/consumers/consumerstest"
	"github.com/charmed-kubernetes/vsphere-integrator/internal/hooktools/hooktoolstest"
	"github.com/charmed-kubernetes/vsphere-integrator/internal/relation"
	"github.com/charmed-kubernetes/vsphere-integrator/tools/deploy"
)

const repo = "../.."

// built holds the packed charm and fake Juju, built once by TestMain with
// the project's own Makefile.
var built struct{ charm, fakejuju string }

func TestMain(m *testing.M) {
	for _, target := range []string{"charm", "fakejuju"} {
		cmd := exec.Command("make", "-C", repo, target)
		if out, err := cmd.CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "make %s: %v\n%s", target, err, out)
			os.Exit(1)
		}
	}
	abs, _ := filepath.Abs(repo)
	built.charm = filepath.Join(abs, "vsphere-integrator.charm")
	built.fakejuju = filepath.Join(abs, "build/bin/fakejuju")
	os.Exit(m.Run())
}

// world is one deployment plus what every step's checks need.
type world struct {
	t         *testing.T
	ctx       context.Context
	d         *deploy.Deployment
	l         *deploy.Lifecycle
	all       []deploy.Run
	passwords []string
	charmDir  []string // the unpacked charm's files, to see nothing is left behind
}

func newWorld(t *testing.T) *world {
	d, err := deploy.New(built.charm, built.fakejuju, t.TempDir())
	require.NoError(t, err)
	t.Cleanup(d.Close)
	l, err := deploy.NewLifecycle(d)
	require.NoError(t, err)
	w := &world{t: t, ctx: context.Background(), d: d, l: l, passwords: []string{d.VC.Password()}}
	w.charmDir = listFiles(t, d.CharmDir)
	return w
}

// step runs one lifecycle step and checks what holds after every step:
// each event exited 0, within its deadline.
func (w *world) step(runs []deploy.Run, err error) []deploy.Run {
	w.t.Helper()
	require.NoError(w.t, err)
	for _, r := range runs {
		assert.Equal(w.t, 0, r.ExitCode, "%s exited non-zero: %s", r.Event, r.Stderr)
		// The charm's own bound is 2 minutes a hook and 30 s a check.
		assert.Less(w.t, r.Wall, 2*time.Minute, r.Event)
	}
	w.all = append(w.all, runs...)
	return runs
}

func (w *world) juju() *hooktoolstest.Juju {
	w.t.Helper()
	j, err := w.d.Juju()
	require.NoError(w.t, err)
	return j
}

func (w *world) status(name string, contains ...string) {
	w.t.Helper()
	j := w.juju()
	assert.Equal(w.t, name, j.Status.Name, j.Status.Message)
	for _, c := range contains {
		assert.Contains(w.t, j.Status.Message, c)
	}
}

// consumers decodes each relation as its consumer does and checks both
// decoders agree on want.
func (w *world) consumers(want relation.Data) {
	w.t.Helper()
	j := w.juju()
	for app, id := range w.l.Rels {
		bag := relation.Databag(j.CharmData(id))
		require.Len(w.t, bag, len(relation.Keys), app)
		if app == "vsphere-cloud-provider" {
			got, err := consumerstest.DecodeCloudProvider(bag)
			require.NoError(w.t, err, app)
			assert.Equal(w.t, want, got, app)
			continue
		}
		got, err := consumerstest.DecodeReactive([]consumerstest.Relation{{ID: id, Units: map[string]relation.Databag{deploy.Unit: bag}}})
		require.NoError(w.t, err, app)
		assert.Equal(w.t, want, got.Data, app)
	}
}

func (w *world) data(datastore, password string) relation.Data {
	return relation.Data{
		VsphereIP: w.d.VC.URL.Host, User: w.d.VC.User, Password: password,
		Datacenter: "DC0", Datastore: datastore, Folder: "juju-kubernetes",
	}
}

func callsTo(runs []deploy.Run, tool string) []hooktoolstest.Call {
	var out []hooktoolstest.Call
	for _, r := range runs {
		for _, c := range r.Calls {
			if c.Tool == tool {
				out = append(out, c)
			}
		}
	}
	return out
}

func sessions(runs []deploy.Run) int {
	n := 0
	for _, r := range runs {
		n += r.Sessions
	}
	return n
}

// readInTree parses an in-tree cloud-config.conf as the Kubernetes in-tree
// provider does (gcfg into VSphereConfig; unknown keys are errors).
func readInTree(t *testing.T, text string) vsphere.VSphereConfig {
	t.Helper()
	var cfg vsphere.VSphereConfig
	require.NoError(t, gcfg.ReadStringInto(&cfg, text), text)
	return cfg
}

// checkRendered renders every consumer config from d and parses each back
// with the consumer's own parser.
func checkRendered(t *testing.T, d relation.Data) {
	t.Helper()
	text, err := cloudconfig.InTree(d, "4228c3f5-1111-2222-3333-444455556666")
	require.NoError(t, err)
	cfg := readInTree(t, text)
	vc, ok := cfg.VirtualCenter[d.VsphereIP]
	require.True(t, ok, "VirtualCenter section for %s", d.VsphereIP)
	assert.Equal(t, d.User, vc.User)
	assert.Equal(t, d.Password, vc.Password)
	assert.Equal(t, d.Datacenter, cfg.Global.Datacenters)
	assert.Equal(t, d.VsphereIP, cfg.Workspace.VCenterIP)
	assert.Equal(t, d.Datastore, cfg.Workspace.DefaultDatastore)
	assert.Equal(t, d.Folder, cfg.Workspace.Folder)
	assert.Equal(t, d.RespoolPath, cfg.Workspace.ResourcePoolPath)

	csi, err := cloudconfig.CSI(d, "6f3b2a1c-0d4e-4f5a-8b9c-1d2e3f4a5b6c")
	require.NoError(t, err)
	var csiCfg struct {
		Global struct {
			ClusterID string `gcfg:"cluster-id"`
		}
		VirtualCenter map[string]*struct {
			InsecureFlag bool   `gcfg:"insecure-flag"`
			User         string `gcfg:"user"`
			Password     string `gcfg:"password"`
			Port         string `gcfg:"port"`
			Datacenters  string `gcfg:"datacenters"`
		}
	}
	// The CSI driver reads leniently: unknown keys are not errors.
	require.NoError(t, gcfg.FatalOnly(gcfg.ReadStringInto(&csiCfg, csi)), csi)
	require.Len(t, csiCfg.VirtualCenter, 1)
	for _, v := range csiCfg.VirtualCenter {
		assert.Equal(t, d.User, v.User)
		assert.Equal(t, d.Password, v.Password)
		assert.Equal(t, d.Datacenter, v.Datacenters)
	}

	cpi, err := cloudconfig.CPI(d)
	require.NoError(t, err)
	var password string
	for k, v := range cpi.Secret {
		if strings.HasSuffix(k, ".password") {
			password = v
		}
	}
	assert.Equal(t, d.Password, password)
	var back struct {
		VCenter map[string]struct {
			Datacenters []string `yaml:"datacenters"`
		} `yaml:"vcenter"`
	}
	require.NoError(t, yaml.Unmarshal([]byte(cpi.VsphereConf), &back), cpi.VsphereConf)
	assert.Len(t, back.VCenter, 1)
}

func TestLifecycle(t *testing.T) {
	w := newWorld(t)
	ctx := w.ctx

	t.Log("1. install and config-changed without trust: blocked, nothing published")
	runs := w.step(w.l.Install(ctx))
	w.status("blocked", "missing credentials access; grant with: juju trust")
	assert.Empty(t, callsTo(runs, "relation-set"))
	assert.Zero(t, sessions(runs), "no credentials, no vCenter session")

	t.Log("2. juju trust: active ready, one session")
	runs = w.step(w.l.Trust(ctx))
	w.status("active", "ready")
	assert.Equal(t, 1, sessions(runs))
	assert.Equal(t, "8.0.2", w.juju().ApplicationVersion)

	t.Log("3. relate three consumers: all 7 keys on each, no vCenter session")
	runs = w.step(w.l.Relate(ctx))
	assert.Zero(t, sessions(runs), "relation events with unchanged inputs open no session")
	for _, r := range runs {
		assert.LessOrEqual(t, len(r.Calls), 6, "%s: %v", r.Event, toolNames(r.Calls))
	}
	w.status("active", "ready")
	w.consumers(w.data("LocalDS_0", w.l.Password))
	checkRendered(t, w.data("LocalDS_0", w.l.Password))

	t.Log("3b. the next update-status looks at the new node VMs: one lacks disk.enableUUID")
	runs = w.step(w.l.CheckNodes(ctx))
	assert.Equal(t, 1, runs[0].Sessions, "update-status checks again: units joined since the last check")
	assert.Empty(t, callsTo(runs, "relation-set"), "new units change no relation value")
	w.status("active", "ready; 1 node VM lacks disk.enableUUID: kubernetes-worker/1")
	report := strings.Join(callsTo(runs[1:2], "action-set")[0].Args, "\n")
	assert.Contains(t, report, "nodes.kubernetes-worker-1.disk-enableuuid=not set")
	assert.Contains(t, report, "nodes.kubernetes-worker-0.disk-enableuuid=TRUE")
	assert.Contains(t, report, "nodes.kubernetes-worker-1.vm=/DC0/vm/DC0_H0_VM0")
	assert.Contains(t, report, "nodes.kubernetes-master-0.vm=/DC0/vm/DC0_C0_RP0_VM0")
	assert.NotContains(t, report, "nodes.vsphere-cloud-provider-0", "the subordinate on the integrator's machine is no node")

	t.Log("3c. enable-disk-uuid: a dry run changes nothing, then the VM gets it")
	vm := deploy.Nodes["kubernetes-worker/1"].VM
	runs = w.step(w.l.EnableDiskUUID(ctx))
	for _, r := range runs {
		assert.Empty(t, callsTo([]deploy.Run{r}, "action-fail"), r.Event)
	}
	dry := strings.Join(callsTo(runs[:1], "action-set")[0].Args, "\n")
	assert.Contains(t, dry, "units.kubernetes-worker-1.result=would set disk.enableUUID = TRUE")
	real := strings.Join(callsTo(runs[1:2], "action-set")[0].Args, "\n")
	assert.Contains(t, real, "power cycle")
	assert.Contains(t, real, "units.kubernetes-worker-1.was=not set", "the dry run changed nothing")
	v, ok, err := w.d.VC.ExtraConfig(ctx, vm, "disk.enableUUID")
	require.NoError(t, err)
	assert.True(t, ok && strings.EqualFold(v, "TRUE"), "the simulator's VM config shows the option: %q", v)
	w.status("active", "ready")
	// The simulator listens on a port of its own, which no consumer can
	// carry (docs/consumers.md): the status names the two that render from
	// this relation, and never kubernetes-worker, which renders nothing.
	assert.Equal(t, "ready; kubernetes-master, vsphere-cloud-provider cannot read: a port or path in vsphere_ip (see README, What consumers render)",
		w.juju().Status.Message, "no prerequisite warning is left once the VM has disk.enableUUID")

	t.Log("4. datastore changed: republished to all three, only the datastore key")
	runs = w.step(w.l.SetConfig(ctx, map[string]any{"datastore": "LocalDS_1"}))
	sets := callsTo(runs, "relation-set")
	require.Len(t, sets, 3)
	for _, c := range sets {
		assert.Equal(t, "datastore: '\"LocalDS_1\"'\n", c.Stdin)
	}
	assert.Equal(t, 1, sessions(runs))
	// Config, credential and state reads, the relation list, our own
	// address for telling a subordinate from a node, a relation-set per
	// relation, the log line, the status (set every event: Juju sends it
	// outside the hook transaction, so no cached copy can be trusted) and
	// one state write.
	assert.LessOrEqual(t, len(runs[0].Calls), 11, "config-changed with three relations: %v", toolNames(runs[0].Calls))
	w.consumers(w.data("LocalDS_1", w.l.Password))

	t.Log("5. cloud credential rotated: update-status republishes the new password")
	w.passwords = append(w.passwords, "Rotated-Passw0rd")
	runs = w.step(w.l.Rotate(ctx, "Rotated-Passw0rd"))
	w.status("active", "ready")
	require.Len(t, callsTo(runs, "relation-set"), 3)
	w.consumers(w.data("LocalDS_1", "Rotated-Passw0rd"))

	t.Log("6. rotated to a wrong password: blocked naming the user, consumers keep the last good values")
	w.passwords = append(w.passwords, "Typo-Passw0rd")
	runs = w.step(w.l.UpdateCredential(ctx, "Typo-Passw0rd"))
	w.status("blocked", "rejected login", w.d.VC.User)
	assert.Empty(t, callsTo(runs, "relation-set"))
	w.consumers(w.data("LocalDS_1", "Rotated-Passw0rd"))
	w.step(w.l.UpdateCredential(ctx, w.l.Password))
	w.status("active", "ready")

	t.Log("7. vCenter stops answering: waiting within the deadline; back: ready")
	runs = w.step(w.l.Hang(ctx))
	w.status("waiting", "will retry")
	assert.Less(t, runs[0].Wall, 45*time.Second, "the check gives up at 30 s")
	w.consumers(w.data("LocalDS_1", "Rotated-Passw0rd"))
	w.step(w.l.Recover(ctx))
	w.status("active", "ready")

	t.Log(`8. a password with " \ # ; and é end to end`)
	tricky := `Pa"ss\w#rd;é`
	w.passwords = append(w.passwords, tricky)
	w.step(w.l.Rotate(ctx, tricky))
	w.status("active", "ready")
	j := w.juju()
	for app, id := range w.l.Rels {
		// What Python's json.dumps gives for it (python3 -c 'import json;
		// print(json.dumps("Pa\"ss\\w#rd;\u00e9"))').
		assert.Equal(t, `"Pa\"ss\\w#rd;\u00e9"`, j.LocalData(id)["password"], app)
	}
	w.consumers(w.data("LocalDS_1", tricky))
	checkRendered(t, w.data("LocalDS_1", tricky))

	t.Log("9. actions: verify, refresh-credentials, cloud-config")
	runs = w.step(w.l.Actions(ctx))
	for _, r := range runs {
		assert.Empty(t, callsTo([]deploy.Run{r}, "action-fail"), r.Event)
	}
	verify := callsTo(runs[:1], "action-set")
	require.Len(t, verify, 1)
	assert.Contains(t, verify[0].Args, "datastore=/DC0/datastore/LocalDS_1")
	assert.Equal(t, 1, runs[0].Sessions)
	assert.Empty(t, callsTo(runs[:1], "relation-set"), "verify publishes nothing")
	assert.Contains(t, callsTo(runs[1:2], "action-set")[0].Args, "changed=none")
	cfg, _ := w.juju().Action.Results["config"].(string)
	parsed := readInTree(t, cfg)
	assert.Equal(t, cloudconfig.PasswordMarker, parsed.VirtualCenter[w.d.VC.URL.Host].Password)
	assert.Equal(t, "LocalDS_1", parsed.Workspace.DefaultDatastore)

	t.Log("9b. storage: a test volume made and deleted, StorageClasses that Kubernetes reads")
	runs = w.step(w.l.Storage(ctx))
	for _, r := range runs {
		assert.Empty(t, callsTo([]deploy.Run{r}, "action-fail"), r.Event)
	}
	vol := strings.Join(callsTo(runs[:1], "action-set")[0].Args, "\n")
	assert.Contains(t, vol, "left-behind=nothing")
	assert.Contains(t, vol, "path=[LocalDS_1] kubevols/vsphere-integrator-test-")
	files, err := w.d.VC.DatastoreFiles(ctx, "/DC0/datastore/LocalDS_1", "kubevols")
	require.NoError(t, err)
	assert.Empty(t, files, "no disk left behind")
	for i, provisioner := range []string{"csi.vsphere.vmware.com", "kubernetes.io/vsphere-volume"} {
		sc := readStorageClass(t, actionResult(t, runs[1+i:2+i], "manifest"))
		assert.Equal(t, provisioner, sc.Provisioner)
		if i == 0 {
			assert.Equal(t, actionResult(t, runs[1:2], "datastore-url"), sc.Parameters["datastoreurl"])
		} else {
			assert.Equal(t, "LocalDS_1", sc.Parameters["datastore"])
		}
	}

	t.Log("9c. Juju refuses relation-set during config-changed: the hook fails, nothing is kept; the retry publishes")
	runs, err = w.l.JujuFault(ctx, "relation-set", map[string]any{"folder": "/DC0/vm/juju-kubernetes"})
	require.NoError(t, err)
	require.Len(t, runs, 2)
	assert.Equal(t, 1, runs[0].ExitCode, "a failed hook tool fails the hook so that Juju retries it")
	assert.Contains(t, runs[0].Stderr, "connection is shut down")
	w.all = append(w.all, runs[0]) // its stderr is checked for secrets too
	w.step(runs[1:], nil)
	w.status("active", "ready")
	assert.Len(t, callsTo(runs[1:], "relation-set"), 3, "the retry writes what the failed hook could not")
	for _, id := range w.l.Rels {
		assert.Equal(t, `"/DC0/vm/juju-kubernetes"`, w.juju().CharmData(id)["folder"])
	}

	t.Log("10. relation departed and broken, then the application removed: nothing left behind")
	w.step(w.l.RemoveRelation(ctx, "vsphere-cloud-provider"))
	runs = w.step(w.l.Remove(ctx))
	for _, r := range runs {
		assert.Zero(t, r.Sessions, r.Event)
	}
	for k := range w.juju().State {
		assert.False(t, strings.HasPrefix(k, "published:"), "state for a relation that is gone: %s", k)
	}
	assert.Equal(t, w.charmDir, listFiles(t, w.d.CharmDir), "the charm wrote nothing into its directory")

	// After the whole run.
	n, err := w.d.VC.SessionCount(ctx)
	require.NoError(t, err)
	assert.Zero(t, n, "no vCenter session left open")
	noSecretsLeaked(t, w.juju(), w.all, w.passwords)
}

// TestSwitchFromPythonCharm: a unit starting from relation data left by the
// Python charm (same values, Python's encoding) changes no relation value.
func TestSwitchFromPythonCharm(t *testing.T) {
	w := newWorld(t)
	left := w.l.PythonData("LocalDS_0")
	runs := w.step(w.l.PythonSwitch(w.ctx, left))
	w.status("active", "ready")
	assert.Empty(t, callsTo(runs, "relation-set"), "nothing rewritten")
	j := w.juju()
	for app, id := range w.l.Rels {
		assert.Equal(t, left, j.CharmData(id), app)
	}
	noSecretsLeaked(t, j, w.all, w.passwords)
}

func noSecretsLeaked(t *testing.T, j *hooktoolstest.Juju, runs []deploy.Run, passwords []string) {
	t.Helper()
	var places []string
	for _, c := range j.Calls {
		places = append(places, strings.Join(c.Args, " "))
	}
	for _, l := range j.Logs {
		places = append(places, l.Message)
	}
	for _, s := range j.StatusHistory {
		places = append(places, s.Message)
	}
	for _, r := range runs {
		places = append(places, r.Stderr)
	}
	for _, p := range places {
		for _, pw := range passwords {
			if strings.Contains(p, pw) {
				t.Errorf("a password leaked into %q", p)
			}
		}
	}
}

func listFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	require.NoError(t, filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		out = append(out, fmt.Sprintf("%s %v %d", rel, info.Mode(), info.Size()))
		return nil
	}))
	sort.Strings(out)
	return out
}

func toolNames(calls []hooktoolstest.Call) []string {
	var out []string
	for _, c := range calls {
		out = append(out, c.Tool)
	}
	return out
}

// actionResult is one result key as the action's action-set call gave it.
func actionResult(t *testing.T, runs []deploy.Run, key string) string {
	t.Helper()
	sets := callsTo(runs, "action-set")
	require.NotEmpty(t, sets)
	for _, c := range sets {
		for _, a := range c.Args {
			if v, ok := strings.CutPrefix(a, key+"="); ok {
				return v
			}
		}
	}
	t.Fatalf("no %s in the action results", key)
	return ""
}

// readStorageClass parses a manifest strictly, as kubectl apply would.
func readStorageClass(t *testing.T, manifest string) storagev1.StorageClass {
	t.Helper()
	var sc storagev1.StorageClass
	require.NoError(t, sigsyaml.UnmarshalStrict([]byte(manifest), &sc), manifest)
	assert.Equal(t, "StorageClass", sc.Kind)
	return sc
}

// TestCloudProviderDeployment is the deployment Charmed Kubernetes uses
// since 1.29 (overlays/vsphere-cloud-provider.yaml): the only clients unit
// is the vsphere-cloud-provider subordinate on the integrator's machine,
// and the Kubernetes nodes come through nodes (juju-info). The nodes are
// checked, the subordinate is not, and the nodes' hooks open no session.
func TestCloudProviderDeployment(t *testing.T) {
	w := newWorld(t)
	ctx := w.ctx
	w.step(w.l.Install(ctx))
	w.step(w.l.Trust(ctx))
	var cpi, nodes string
	require.NoError(t, w.d.Update(func(j *hooktoolstest.Juju) {
		cpi = j.AddRelation("clients", "vsphere-cloud-provider", "vsphere-cloud-provider/0")
		// The subordinate is on this unit's machine: its address is ours.
		j.SetRemoteData(cpi, "vsphere-cloud-provider/0", map[string]string{"ingress-address": hooktoolstest.DefaultAddress, "private-address": hooktoolstest.DefaultAddress})
		nodes = j.AddRelation("nodes", "kubernetes-worker")
	}))
	w.l.Rels["vsphere-cloud-provider"] = cpi
	var runs []deploy.Run
	run := func(name, rel, remote string) {
		r, err := w.d.Hook(ctx, name, rel, remote)
		runs = append(runs, w.step([]deploy.Run{r}, err)...)
	}
	run("clients-relation-created", cpi, "")
	run("clients-relation-joined", cpi, "vsphere-cloud-provider/0")
	run("nodes-relation-created", nodes, "")
	for _, u := range []string{"kubernetes-worker/0", "kubernetes-worker/1"} {
		n := deploy.Nodes[u]
		require.NoError(t, w.d.Update(func(j *hooktoolstest.Juju) {
			j.JoinUnit(nodes, u)
			j.SetRemoteData(nodes, u, map[string]string{"ingress-address": n.Address, "private-address": n.Address})
		}))
		run("nodes-relation-joined", nodes, u)
	}
	assert.Zero(t, sessions(runs), "relation hooks with unchanged inputs open no session")
	assert.Empty(t, w.juju().CharmData(nodes), "nothing of ours on juju-info")
	w.consumers(w.data("LocalDS_0", w.l.Password))

	runs = w.step(w.l.CheckNodes(ctx))
	assert.Equal(t, 1, runs[0].Sessions, "update-status looks at the nodes that joined")
	w.status("active", "ready; 1 node VM lacks disk.enableUUID: kubernetes-worker/1")
	report := strings.Join(callsTo(runs[1:2], "action-set")[0].Args, "\n")
	assert.Contains(t, report, "nodes.kubernetes-worker-0.vm=")
	assert.Contains(t, report, "nodes.kubernetes-worker-1.disk-enableuuid=not set")
	assert.NotContains(t, report, "nodes.vsphere-cloud-provider-0", "the subordinate on this machine is no node")
	noSecretsLeaked(t, w.juju(), w.all, w.passwords)
}
