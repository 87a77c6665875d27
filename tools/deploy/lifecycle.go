package deploy

import (
	"context"
	"fmt"
	"slices"

	"github.com/charmed-kubernetes/vsphere-integrator/internal/hooktools/hooktoolstest"
)

// Consumers are the applications related in the lifecycle, with their units.
var Consumers = []struct {
	App   string
	Units []string
}{
	{"kubernetes-master", []string{"kubernetes-master/0"}},
	{"kubernetes-worker", []string{"kubernetes-worker/0", "kubernetes-worker/1"}},
	{"vsphere-cloud-provider", []string{"vsphere-cloud-provider/0"}},
}

// Nodes are the related units: the address Juju gives each (its
// ingress-address), the node VM whose guest reports it, and whether that VM
// has disk.enableUUID set. The vsphere-cloud-provider subordinate is no
// node: its vsphere-integration endpoint has container scope, so it sits on
// the integrator's own machine and has the integrator's address (the fake
// Juju's, hooktoolstest.DefaultAddress), which the charm does not check as
// a node VM.
var Nodes = map[string]struct {
	Address, VM string
	DiskUUID    bool
}{
	"kubernetes-master/0": {"10.0.1.10", "DC0_C0_RP0_VM0", true},
	// Today's name of the control plane, for the tests that relate it
	// alone (RelateApp).
	"kubernetes-control-plane/0": {"10.0.1.20", "DC0_H0_VM1", true},
	"kubernetes-worker/0":        {"10.0.2.10", "DC0_C0_RP0_VM1", true},
	"kubernetes-worker/1":        {"10.0.2.11", "DC0_H0_VM0", false},
	"vsphere-cloud-provider/0":   {hooktoolstest.DefaultAddress, "", false},
}

// Lifecycle is one deployment's life, step by step, as an operator and
// Juju would live it. Each step changes what the operator changes, runs the
// events Juju would fire, and returns them; the caller checks or prints.
type Lifecycle struct {
	D *Deployment
	// Rels maps each consumer application to its relation id.
	Rels map[string]string
	// Password is the password vCenter currently accepts.
	Password string
}

// NewLifecycle starts from a deployed, not yet trusted unit whose operator
// set the datastore (`juju deploy --config datastore=LocalDS_0`).
func NewLifecycle(d *Deployment) (*Lifecycle, error) {
	l := &Lifecycle{D: d, Rels: map[string]string{}, Password: d.VC.Password()}
	ctx := context.Background()
	for _, n := range Nodes {
		if n.VM == "" {
			continue
		}
		if err := d.VC.SetGuestIP(ctx, n.VM, n.Address); err != nil {
			return nil, err
		}
		if n.DiskUUID {
			if err := d.VC.SetExtraConfig(ctx, n.VM, "disk.enableUUID", "TRUE"); err != nil {
				return nil, err
			}
		}
	}
	err := d.Update(func(j *hooktoolstest.Juju) {
		j.SetConfig(map[string]any{"datastore": "LocalDS_0"})
	})
	return l, err
}

// runs collects events, stopping at the first that could not run at all.
type runs struct {
	ctx context.Context
	out []Run
	err error
}

func (r *runs) hook(d *Deployment, name, rel, remote string) {
	if r.err != nil {
		return
	}
	run, err := d.Hook(r.ctx, name, rel, remote)
	r.out, r.err = append(r.out, run), err
}

func (r *runs) action(d *Deployment, name string, params map[string]any) {
	if r.err != nil {
		return
	}
	run, err := d.Action(r.ctx, name, params)
	r.out, r.err = append(r.out, run), err
}

func (r *runs) update(d *Deployment, f func(j *hooktoolstest.Juju)) {
	if r.err == nil {
		r.err = d.Update(f)
	}
}

// Install: the unit is installed and configured without `juju trust`.
func (l *Lifecycle) Install(ctx context.Context) ([]Run, error) {
	r := &runs{ctx: ctx}
	r.hook(l.D, "install", "", "")
	r.hook(l.D, "config-changed", "", "")
	r.hook(l.D, "start", "", "")
	return r.out, r.err
}

// Trust: `juju trust vsphere-integrator`, which fires config-changed.
func (l *Lifecycle) Trust(ctx context.Context) ([]Run, error) {
	r := &runs{ctx: ctx}
	r.update(l.D, func(j *hooktoolstest.Juju) { j.Trust(l.D.Cloud(l.Password)) })
	r.hook(l.D, "config-changed", "", "")
	return r.out, r.err
}

// Relate: `juju integrate` with each consumer; Juju fires created, then
// joined and changed per remote unit.
func (l *Lifecycle) Relate(ctx context.Context) ([]Run, error) {
	var out []Run
	for _, c := range Consumers {
		runs, err := l.RelateApp(ctx, c.App, c.Units...)
		out = append(out, runs...)
		if err != nil {
			return out, err
		}
	}
	return out, nil
}

// RelateApp: `juju integrate` with one application on clients, its units
// at their Nodes addresses; created, then joined and changed per unit.
func (l *Lifecycle) RelateApp(ctx context.Context, app string, units ...string) ([]Run, error) {
	r := &runs{ctx: ctx}
	var id string
	r.update(l.D, func(j *hooktoolstest.Juju) {
		id = j.AddRelation("clients", app)
		for _, u := range units {
			addr := Nodes[u].Address
			j.JoinUnit(id, u)
			// Juju writes every unit's addresses into its databag.
			j.SetRemoteData(id, u, map[string]string{"ingress-address": addr, "private-address": addr, "egress-subnets": addr + "/32"})
		}
	})
	if r.err != nil {
		return r.out, r.err
	}
	l.Rels[app] = id
	r.hook(l.D, "clients-relation-created", id, "")
	for _, u := range units {
		r.hook(l.D, "clients-relation-joined", id, u)
		r.hook(l.D, "clients-relation-changed", id, u)
	}
	return r.out, r.err
}

// Elect: Juju makes this unit the leader, which fires leader-elected.
func (l *Lifecycle) Elect(ctx context.Context) ([]Run, error) {
	r := &runs{ctx: ctx}
	r.update(l.D, func(j *hooktoolstest.Juju) { j.SetLeader(true) })
	r.hook(l.D, "leader-elected", "", "")
	return r.out, r.err
}

// CheckNodes: the update-status after units joined checks their node VMs;
// the operator looks with check-prerequisites.
func (l *Lifecycle) CheckNodes(ctx context.Context) ([]Run, error) {
	r := &runs{ctx: ctx}
	r.hook(l.D, "update-status", "", "")
	r.action(l.D, "check-prerequisites", nil)
	return r.out, r.err
}

// EnableDiskUUID: the operator enables disk.enableUUID where it is missing,
// a dry run first; the next update-status checks again.
func (l *Lifecycle) EnableDiskUUID(ctx context.Context) ([]Run, error) {
	r := &runs{ctx: ctx}
	r.action(l.D, "enable-disk-uuid", nil)
	r.action(l.D, "enable-disk-uuid", map[string]any{"dry-run": false})
	r.hook(l.D, "update-status", "", "")
	return r.out, r.err
}

// SetConfig: `juju config vsphere-integrator key=value ...`.
func (l *Lifecycle) SetConfig(ctx context.Context, kv map[string]any) ([]Run, error) {
	r := &runs{ctx: ctx}
	r.update(l.D, func(j *hooktoolstest.Juju) { j.SetConfig(kv) })
	r.hook(l.D, "config-changed", "", "")
	return r.out, r.err
}

// Rotate: the vCenter password changes and the operator runs `juju
// update-credential`; no hook fires, the next update-status notices.
func (l *Lifecycle) Rotate(ctx context.Context, password string) ([]Run, error) {
	l.D.VC.SetPassword(password)
	l.Password = password
	return l.UpdateCredential(ctx, password)
}

// UpdateCredential changes only the cloud credential (a typo, say), then
// update-status runs.
func (l *Lifecycle) UpdateCredential(ctx context.Context, password string) ([]Run, error) {
	r := &runs{ctx: ctx}
	r.update(l.D, func(j *hooktoolstest.Juju) { j.SetCredential(l.D.Cloud(password)) })
	r.hook(l.D, "update-status", "", "")
	return r.out, r.err
}

// Hang: vCenter stops answering while the operator changes config.
func (l *Lifecycle) Hang(ctx context.Context) ([]Run, error) {
	l.D.VC.Hang()
	r := &runs{ctx: ctx}
	r.hook(l.D, "config-changed", "", "")
	return r.out, r.err
}

// Recover: vCenter answers again; update-status retries the failed check.
func (l *Lifecycle) Recover(ctx context.Context) ([]Run, error) {
	l.D.VC.Resume()
	r := &runs{ctx: ctx}
	r.hook(l.D, "update-status", "", "")
	return r.out, r.err
}

// Dedicate: the unit leads, `juju config vsphere-integrator
// consumer-credentials=dedicated`, then list-credentials.
func (l *Lifecycle) Dedicate(ctx context.Context) ([]Run, error) {
	r := &runs{ctx: ctx}
	r.update(l.D, func(j *hooktoolstest.Juju) {
		j.SetLeader(true)
		j.SetConfig(map[string]any{"consumer-credentials": "dedicated"})
	})
	r.hook(l.D, "config-changed", "", "")
	r.action(l.D, "list-credentials", nil)
	return r.out, r.err
}

// Share: `juju config vsphere-integrator consumer-credentials=shared`, then
// purge-credentials dry-run=false deletes the dedicated users at once
// rather than after their grace period.
func (l *Lifecycle) Share(ctx context.Context) ([]Run, error) {
	r := &runs{ctx: ctx}
	r.update(l.D, func(j *hooktoolstest.Juju) { j.SetConfig(map[string]any{"consumer-credentials": "shared"}) })
	r.hook(l.D, "config-changed", "", "")
	r.action(l.D, "purge-credentials", map[string]any{"dry-run": false})
	return r.out, r.err
}

// Actions runs verify, refresh-credentials and cloud-config (in-tree).
func (l *Lifecycle) Actions(ctx context.Context) ([]Run, error) {
	r := &runs{ctx: ctx}
	r.action(l.D, "verify", nil)
	r.action(l.D, "refresh-credentials", nil)
	r.action(l.D, "cloud-config", map[string]any{"format": "in-tree", "vm-uuid": "4228c3f5-1111-2222-3333-444455556666"})
	return r.out, r.err
}

// RemoveRelation: `juju remove-relation` with one consumer: departed per
// unit in the relation, then broken while the relation is still there to
// read, then gone.
func (l *Lifecycle) RemoveRelation(ctx context.Context, app string) ([]Run, error) {
	r := &runs{ctx: ctx}
	id := l.Rels[app]
	units, err := l.units(id)
	if err != nil {
		return nil, err
	}
	for _, u := range units {
		r.update(l.D, func(j *hooktoolstest.Juju) { j.DepartUnit(id, u) })
		r.hook(l.D, "clients-relation-departed", id, u)
	}
	r.update(l.D, func(j *hooktoolstest.Juju) { j.BreakRelation(id) })
	r.hook(l.D, "clients-relation-broken", id, "")
	r.update(l.D, func(j *hooktoolstest.Juju) { j.RemoveRelation(id) })
	delete(l.Rels, app)
	return r.out, r.err
}

// Remove: `juju remove-application`: the remaining relations go, then stop
// and remove.
func (l *Lifecycle) Remove(ctx context.Context) ([]Run, error) {
	var out []Run
	for _, c := range Consumers {
		if _, ok := l.Rels[c.App]; !ok {
			continue
		}
		runs, err := l.RemoveRelation(ctx, c.App)
		out = append(out, runs...)
		if err != nil {
			return out, err
		}
	}
	r := &runs{ctx: ctx}
	r.hook(l.D, "stop", "", "")
	r.hook(l.D, "remove", "", "")
	return append(out, r.out...), r.err
}

// PythonSwitch: a unit whose relations carry what the Python charm
// published (same values, json.dumps encoding) is switched to this charm
// (`juju refresh --switch`), which fires upgrade-charm.
func (l *Lifecycle) PythonSwitch(ctx context.Context, left map[string]string) ([]Run, error) {
	r := &runs{ctx: ctx}
	r.update(l.D, func(j *hooktoolstest.Juju) {
		j.Trust(l.D.Cloud(l.Password))
		for _, c := range Consumers {
			id := j.AddRelation("clients", c.App, c.Units...)
			l.Rels[c.App] = id
			j.SetLocalData(id, left)
		}
	})
	r.hook(l.D, "upgrade-charm", "", "")
	r.hook(l.D, "config-changed", "", "")
	return r.out, r.err
}

// PythonData is what the Python charm published for this deployment with
// the given datastore: json.dumps of each value, written out by hand (the
// values are plain ASCII, so json.dumps only adds the quotes) rather than
// with this charm's encoder, which is what is under test.
func (l *Lifecycle) PythonData(datastore string) map[string]string {
	q := func(s string) string { return `"` + s + `"` }
	return map[string]string{
		"vsphere_ip": q(l.D.VC.URL.Host), "user": q(l.D.VC.User), "password": q(l.Password),
		"datacenter": q("DC0"), "datastore": q(datastore), "folder": q("juju-kubernetes"), "respool_path": q(""),
	}
}

// Storage: the operator proves storage works: a test volume made and
// deleted, then a StorageClass for each provisioner.
func (l *Lifecycle) Storage(ctx context.Context) ([]Run, error) {
	r := &runs{ctx: ctx}
	r.action(l.D, "test-volume", nil)
	r.action(l.D, "storage-class", nil)
	r.action(l.D, "storage-class", map[string]any{"provisioner": "in-tree"})
	return r.out, r.err
}

// JujuFault: the operator changes config while Juju refuses a hook tool;
// the hook fails and Juju commits none of it. Then the fault clears and
// Juju retries the same hook.
func (l *Lifecycle) JujuFault(ctx context.Context, tool string, kv map[string]any) ([]Run, error) {
	r := &runs{ctx: ctx}
	r.update(l.D, func(j *hooktoolstest.Juju) {
		j.SetConfig(kv)
		j.InjectFault(tool, hooktoolstest.Fault{Stderr: "ERROR connection is shut down\n", Code: 1})
	})
	r.hook(l.D, "config-changed", "", "")
	r.update(l.D, func(j *hooktoolstest.Juju) { j.InjectFault(tool, hooktoolstest.Fault{}) })
	r.hook(l.D, "config-changed", "", "")
	return r.out, r.err
}

// units are the remote units in relation id now, as the fake Juju has them.
func (l *Lifecycle) units(id string) ([]string, error) {
	j, err := l.D.Juju()
	if err != nil {
		return nil, err
	}
	for n, rel := range j.Relations {
		if fmt.Sprintf("%s:%d", rel.Endpoint, n) == id {
			return slices.Clone(rel.Units), nil
		}
	}
	return nil, fmt.Errorf("relation %s is not in the fake Juju's state", id)
}
