package charm

import (
	"context"
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/simulator"

	"github.com/charmed-kubernetes/vsphere-integrator/internal/hooktools/hooktoolstest"
	"github.com/charmed-kubernetes/vsphere-integrator/internal/identity"
	"github.com/charmed-kubernetes/vsphere-integrator/internal/relation"
	"github.com/charmed-kubernetes/vsphere-integrator/internal/vsphere"
	"github.com/charmed-kubernetes/vsphere-integrator/internal/vsphere/vspheretest"
)

// csiUser is the CSI driver's own check of a user name with its domain
// (docs/consumers.md).
var csiUser = regexp.MustCompile(`^(?:[a-zA-Z0-9.-]+\\[a-zA-Z0-9._-]+|[a-zA-Z0-9._-]+@[a-zA-Z0-9.-]+)$`)

const (
	kcp = "kubernetes-control-plane"
	vcp = "vsphere-cloud-provider"
)

// newDedicatedEnv is the leader of a trusted integrator in dedicated mode,
// against a simulator with SSO (lookup, STS and SSO admin behaving like
// vCenter's) and two datacenters, before any hook ran.
func newDedicatedEnv(t *testing.T) *env {
	t.Helper()
	m := simulator.VPX()
	m.Machine = 3
	m.Datacenter = 2
	e := newEnvWith(t, vspheretest.Options{Model: m, SSO: true})
	e.modelUUID = "6f1c2a52-0000-4000-8000-000000000001"
	e.jujuVersion = "3.6.11"
	e.trust()
	e.juju.SetLeader(true)
	e.juju.SetConfig(map[string]any{optMode: modeDedicated})
	e.hook("install")
	e.hook("config-changed")
	return e
}

// relate relates app on clients with one unit and runs its relation hooks.
func (e *env) relate(app string) string {
	e.t.Helper()
	id := e.juju.AddRelation(Endpoint, app, app+"/0")
	e.hook(Endpoint+"-relation-created", id)
	e.hook(Endpoint+"-relation-joined", id, app+"/0")
	e.hook(Endpoint+"-relation-changed", id, app+"/0")
	return id
}

// published decodes what this unit published on a relation; ok is false
// when it published nothing there.
func (e *env) published(id string) (relation.Data, bool) {
	e.t.Helper()
	raw := e.juju.CharmData(id)
	if _, ok := raw["user"]; !ok {
		return relation.Data{}, false
	}
	d, err := relation.Decode(raw)
	require.NoError(e.t, err)
	return d, true
}

// dedicatedTable is the table in leader settings.
func (e *env) dedicatedTable() *table {
	e.t.Helper()
	tbl := &table{Apps: map[string]*ident{}}
	if raw := e.juju.LeaderSettings()[leaderTable]; raw != "" {
		require.NoError(e.t, json.Unmarshal([]byte(raw), tbl))
	}
	return tbl
}

func (e *env) canLogin(d relation.Data) bool {
	return e.vc.CanLogin(context.Background(), d.User, d.Password)
}

func TestDedicatedUserPerApplication(t *testing.T) {
	e := newDedicatedEnv(t)
	ctx := context.Background()
	// Another principal's permission on the datastore, which must survive.
	require.NoError(t, e.vc.AddForeignPermission(ctx, "/DC0/datastore/LocalDS_0", `VSPHERE.LOCAL\backup-admin`, "Admin"))
	a := e.relate(kcp)
	b := e.relate(vcp)

	da, ok := e.published(a)
	require.True(t, ok, "the control plane got nothing")
	db, ok := e.published(b)
	require.True(t, ok, "the cloud provider got nothing")
	assert.NotEqual(t, da.User, db.User, "each application its own user")
	for _, d := range []relation.Data{da, db} {
		assert.NotEqual(t, e.vc.User, d.User, "never the trusted user")
		assert.NotEqual(t, e.vc.Password(), d.Password, "never the trusted password")
		assert.Regexp(t, csiUser, d.User, "a user the CSI driver takes")
		assert.True(t, strings.HasPrefix(d.User, identity.UserPrefix+"k8s-"), "model in the name: %s", d.User)
		require.NoError(t, identity.Check(d.Password))
		assert.True(t, e.canLogin(d), "%s cannot log in", d.User)
		// The rest of the data is exactly the shared data.
		assert.Equal(t, "DC0", d.Datacenter)
		assert.Equal(t, "LocalDS_0", d.Datastore)
		assert.Equal(t, "juju-kubernetes", d.Folder)
	}
	assert.Contains(t, da.User, kcp)
	assert.Contains(t, db.User, vcp)
	assert.ElementsMatch(t, []string{vsphere.PrincipalKey(da.User), vsphere.PrincipalKey(db.User)}, keys(e.vc.SSOUsers()))

	name, msg := e.status()
	assert.Equal(t, "active", name)
	assert.Equal(t, "ready; dedicated vCenter users for 2 applications", msg)

	// The passwords are in application-owned secrets, nowhere else.
	tbl := e.dedicatedTable()
	require.Len(t, tbl.Apps, 2)
	for _, rec := range e.juju.Secrets() {
		assert.Equal(t, "application-vsphere-integrator", rec.Owner)
	}
	assert.Len(t, e.juju.Secrets(), 2)

	// Permissions: on the objects the providers use, in DC0 only; the
	// foreign permission is untouched.
	perms, err := e.vc.PermissionsOf(ctx, da.User)
	require.NoError(t, err)
	var paths []string
	for _, p := range perms {
		paths = append(paths, p.Path)
		assert.False(t, strings.HasPrefix(p.Path, "/DC1"), "a permission in the other datacenter: %+v", p)
	}
	assert.Contains(t, paths, "/DC0/datastore/LocalDS_0")
	assert.Contains(t, paths, "/DC0")
	foreign, err := e.vc.PermissionsOf(ctx, `backup-admin@vsphere.local`)
	require.NoError(t, err)
	require.Len(t, foreign, 1, "another principal's permission was dropped")

	// What the dedicated user can do: the check as that user finds no
	// privilege missing; it cannot power off a VM.
	tgt := vsphere.Target{Server: e.vc.URL.Host, User: da.User, Password: da.Password, Datacenter: "DC0", Datastore: "LocalDS_0", Folder: "juju-kubernetes", TLS: vsphere.TLS{Insecure: true}}
	rep, err := vsphere.Check(ctx, tgt)
	require.NoError(t, err)
	assert.Empty(t, rep.Privileges.Missing, "the dedicated user lacks a privilege it was meant to have")
	tgt.Datacenter = "DC1"
	_, err = vsphere.Check(ctx, tgt)
	var nf *vsphere.NotFoundError
	assert.ErrorAs(t, err, &nf, "the other datacenter must be invisible to the dedicated user")
}

// sibling is another unit of the same application, against the same
// vCenter: the application's leader settings and secrets as they are now,
// databags of its own, not the leader.
func (e *env) sibling(unit string) *env {
	e.t.Helper()
	o := newEnvWith(e.t, vspheretest.Options{})
	o.vc, o.jujuVersion, o.modelUUID = e.vc, e.jujuVersion, e.modelUUID
	o.juju = hooktoolstest.New(unit)
	o.juju.SetConfig(configDefaults(e.t))
	o.juju.SetConfig(map[string]any{"datastore": "LocalDS_0", optMode: modeDedicated})
	o.juju.Trust(e.cloud(e.vc.Password()))
	o.juju.SetLeaderSettings(e.juju.LeaderSettings())
	o.juju.SecretRecords = e.juju.Secrets()
	o.addSecret(e.vc.Password())
	return o
}

func keys(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = vsphere.PrincipalKey(n)
	}
	return out
}

func TestDedicatedNonLeaderPublishesTheLeadersUsers(t *testing.T) {
	e := newDedicatedEnv(t)
	a := e.relate(kcp)
	lead, _ := e.published(a)

	other := e.sibling("vsphere-integrator/1")
	id := other.juju.AddRelation(Endpoint, kcp, kcp+"/0")
	mark := other.dedications.Load()
	other.hook("install")
	other.hook(Endpoint+"-relation-joined", id, kcp+"/0")
	got, ok := other.published(id)
	require.True(t, ok)
	assert.Equal(t, lead.User, got.User)
	assert.Equal(t, lead.Password, got.Password)
	assert.Equal(t, mark, other.dedications.Load(), "a non-leader makes nothing")
	assert.Len(t, e.vc.SSOUsers(), 1)
}

func TestDedicatedRotation(t *testing.T) {
	e := newDedicatedEnv(t)
	a := e.relate(kcp)
	first, _ := e.published(a)

	e.now = e.now.Add(31 * 24 * time.Hour)
	e.hook("update-status")
	second, _ := e.published(a)
	require.NotEqual(t, first.User, second.User, "a rotation makes a new user, not a new password")
	assert.True(t, e.canLogin(second))
	assert.True(t, e.canLogin(first), "the previous user keeps working through the grace period")
	tbl := e.dedicatedTable()
	require.Len(t, tbl.Retiring, 1)
	assert.Equal(t, vsphere.PrincipalKey(first.User), vsphere.PrincipalKey(tbl.Retiring[0].User))

	e.now = e.now.Add(retireGrace + time.Minute)
	e.hook("update-status")
	assert.False(t, e.canLogin(first), "the previous user is deleted after the grace period")
	assert.True(t, e.canLogin(second))
	assert.Len(t, e.juju.Secrets(), 1, "the previous secret is removed")
	assert.Empty(t, e.dedicatedTable().Retiring)

	// rotate-credentials replaces it at once, on the leader only.
	e.action("rotate-credentials", nil)
	require.False(t, e.juju.Action.Failed, e.juju.Action.Message)
	third, _ := e.published(a)
	assert.NotEqual(t, second.User, third.User)
	assert.Contains(t, e.juju.Action.Results["made"], third.User)
}

func TestDedicatedRevocation(t *testing.T) {
	e := newDedicatedEnv(t)
	a := e.relate(kcp)
	b := e.relate(vcp)
	da, _ := e.published(a)
	db, _ := e.published(b)
	e.juju.BreakRelation(b)
	e.hook(Endpoint+"-relation-broken", b)
	assert.False(t, e.canLogin(db), "relation-broken deletes the application's user")
	perms, err := e.vc.PermissionsOf(context.Background(), db.User)
	require.NoError(t, err)
	assert.Empty(t, perms)
	assert.True(t, e.canLogin(da), "the other application keeps its user")
	assert.Len(t, e.juju.Secrets(), 1)
	_, msg := e.status()
	assert.Equal(t, "ready; a dedicated vCenter user for 1 application", msg)

	// The charm's removal: stop on the leader with no relation left
	// deletes everything, roles included.
	e.juju.BreakRelation(a)
	e.hook(Endpoint+"-relation-broken", a)
	e.hook("stop")
	assert.Empty(t, e.vc.SSOUsers())
	assert.Empty(t, e.juju.Secrets())
	assert.True(t, e.dedicatedTable().empty())
	roles, err := object.NewAuthorizationManager(e.vc.Client()).RoleList(context.Background())
	require.NoError(t, err)
	for _, r := range roles {
		assert.False(t, strings.HasPrefix(r.Name, vsphere.RolePrefix), "role %s left behind", r.Name)
	}
}

func TestDedicatedBackToShared(t *testing.T) {
	e := newDedicatedEnv(t)
	a := e.relate(kcp)
	ded, _ := e.published(a)
	e.juju.SetConfig(map[string]any{optMode: modeShared})
	e.hook("config-changed")
	shared, _ := e.published(a)
	assert.Equal(t, e.vc.User, shared.User, "shared again: the trusted credential")
	assert.True(t, e.canLogin(ded), "the dedicated user lives out the grace period")
	e.now = e.now.Add(retireGrace + time.Minute)
	e.hook("update-status")
	assert.False(t, e.canLogin(ded))
	assert.Empty(t, e.vc.SSOUsers())
	assert.True(t, e.dedicatedTable().empty())
}

func TestDedicatedWithoutSSORights(t *testing.T) {
	e := newDedicatedEnv(t)
	e.vc.DenySSOAdmin()
	a := e.relate(kcp)
	_, ok := e.published(a)
	assert.False(t, ok, "nothing published, never the trusted credential")
	name, msg := e.status()
	assert.Equal(t, "blocked", name)
	assert.Contains(t, msg, vsphere.RightSSOAdmin)
	assert.Contains(t, msg, "consumer-credentials=shared")
	assert.Empty(t, e.vc.SSOUsers())

	// Granted again: the operator's config-changed makes it at once.
	e.vc.AllowSSOAdmin()
	e.hook("config-changed")
	_, ok = e.published(a)
	assert.True(t, ok)
}

func TestDedicatedWithoutModifyRoles(t *testing.T) {
	e := newDedicatedEnv(t)
	require.NoError(t, e.vc.DenyPrivilege(context.Background(), "/", "Authorization.ModifyRoles"))
	a := e.relate(kcp)
	_, ok := e.published(a)
	assert.False(t, ok)
	name, msg := e.status()
	assert.Equal(t, "blocked", name)
	assert.Contains(t, msg, vsphere.RightModifyRoles)
	assert.Empty(t, e.vc.SSOUsers(), "the user made before roles failed is deleted")
	// Relation hooks do not retry a refusal on every event.
	mark := e.dedications.Load()
	e.hook(Endpoint+"-relation-changed", a, kcp+"/0")
	assert.Equal(t, mark, e.dedications.Load())
}

func TestDedicatedNeedsJuju31(t *testing.T) {
	e := newDedicatedEnv(t)
	e.jujuVersion = "2.9.42"
	a := e.relate(kcp)
	_, ok := e.published(a)
	assert.False(t, ok)
	name, msg := e.status()
	assert.Equal(t, "blocked", name)
	assert.Contains(t, msg, "Juju 3.1")
	assert.Contains(t, msg, "consumer-credentials=shared")
	e.juju.SetConfig(map[string]any{optMode: modeShared})
	e.hook("config-changed")
	_, ok = e.published(a)
	assert.True(t, ok, "shared works on Juju 2.9")
}

func TestDedicatedNewNodeVMGetsItsPermission(t *testing.T) {
	e := newDedicatedEnv(t)
	a := e.relate(kcp)
	d, _ := e.published(a)
	vm := e.vmNames()[0]
	id := e.juju.AddRelation(NodesEndpoint, "kubernetes-worker", "kubernetes-worker/0")
	e.place(id, "kubernetes-worker/0", vm, "10.1.0.7", "TRUE")
	e.hook(NodesEndpoint+"-relation-joined", id, "kubernetes-worker/0")
	e.hook("update-status")
	perms, err := e.vc.PermissionsOf(context.Background(), d.User)
	require.NoError(t, err)
	found := slices.ContainsFunc(perms, func(p vspheretest.Permission) bool { return strings.HasSuffix(p.Path, "/"+vm) })
	assert.True(t, found, "no permission on the new node VM %s: %+v", vm, perms)
}

func TestDedicatedQuietUpdateStatus(t *testing.T) {
	e := newDedicatedEnv(t)
	e.relate(kcp)
	e.hook("update-status")
	sso, sessions := e.vc.SSORequests(), e.checks.Load()
	e.now = e.now.Add(5 * time.Minute)
	e.hook("update-status")
	assert.Equal(t, sso, e.vc.SSORequests(), "a quiet update-status sends no SSO request")
	assert.Equal(t, sessions, e.checks.Load(), "a quiet update-status opens no vCenter session")
	// A relation hook of an application already served opens none either,
	// and costs the hook tools shared mode's relation hook does: no
	// leader settings, leadership or secret read.
	mark := len(e.juju.Calls)
	e.hook(Endpoint+"-relation-changed", "clients:0", kcp+"/0")
	assert.Equal(t, sessions, e.checks.Load())
	for _, c := range e.callsSince(mark) {
		assert.NotContains(t, []string{"leader-get", "is-leader", "secret-get"}, c.Tool)
	}
}

func TestDedicatedSecretLostIsReplaced(t *testing.T) {
	e := newDedicatedEnv(t)
	a := e.relate(kcp)
	old, _ := e.published(a)
	// A hook that failed after leader-set and secret-add: the table names
	// a secret Juju never committed.
	e.juju.SecretRecords = nil
	e.hook("config-changed")
	got, ok := e.published(a)
	require.True(t, ok)
	assert.NotEqual(t, old.User, got.User)
	assert.True(t, e.canLogin(got))
	assert.False(t, e.canLogin(old), "the user whose password was lost is deleted")
}

func TestDedicatedVCenterDownKeepsWhatIsPublished(t *testing.T) {
	e := newDedicatedEnv(t)
	a := e.relate(kcp)
	before, _ := e.published(a)
	e.checkTimeout = 2 * time.Second
	e.vc.Hang()
	e.now = e.now.Add(31 * 24 * time.Hour) // a rotation is due
	e.hook("update-status")
	e.vc.Resume()
	after, ok := e.published(a)
	require.True(t, ok)
	assert.Equal(t, before.User, after.User)
	assert.Equal(t, before.Password, after.Password)
	assert.NotEqual(t, e.vc.User, after.User)
}

func TestPurgeAndListCredentials(t *testing.T) {
	e := newDedicatedEnv(t)
	ctx := context.Background()
	a := e.relate(kcp)
	d, _ := e.published(a)
	// A user this application made that the table does not name (a hook
	// that failed between making and recording it), and one another
	// integrator made.
	tgt := vsphere.Target{Server: e.vc.URL.Host, User: e.vc.User, Password: e.vc.Password(), Datacenter: "DC0", Datastore: "LocalDS_0", Folder: "juju-kubernetes", TLS: vsphere.TLS{Insecure: true}}
	ours := vsphere.NewUser{Name: identity.UserPrefix + "k8s-orphan-1", Password: "Orphan-Passw0rd!", Description: "vsphere-integrator vsphere-integrator in Juju model k8s (" + e.modelUUID + "), for application orphan"}
	theirs := vsphere.NewUser{Name: identity.UserPrefix + "other-app-1", Password: "Other-Passw0rd!", Description: "vsphere-integrator vsphere-integrator in Juju model other (x), for application app"}
	e.addSecret(ours.Password)
	e.addSecret(theirs.Password)
	_, err := vsphere.Dedicate(ctx, tgt, vsphere.DedicateRequest{Make: []vsphere.NewUser{ours, theirs}})
	require.NoError(t, err)

	e.action("list-credentials", nil)
	require.False(t, e.juju.Action.Failed, e.juju.Action.Message)
	res := e.juju.Action.Results
	assert.Equal(t, d.User, res["current"].(map[string]any)[kcp].(map[string]any)["user"])
	assert.Contains(t, res["current"].(map[string]any)[kcp].(map[string]any)["roles"], vsphere.RolePrefix)
	assert.Contains(t, res["current"].(map[string]any)[kcp].(map[string]any)["objects"], "/DC0/datastore/LocalDS_0")

	e.action("purge-credentials", nil) // dry run
	require.False(t, e.juju.Action.Failed, e.juju.Action.Message)
	assert.Contains(t, e.juju.Action.Results["would-delete"], ours.Name)
	assert.NotContains(t, e.juju.Action.Results["would-delete"], theirs.Name)
	assert.NotContains(t, e.juju.Action.Results["would-delete"], d.User)
	assert.Len(t, e.vc.SSOUsers(), 3, "a dry run deletes nothing")

	e.action("purge-credentials", map[string]any{"dry-run": false})
	require.False(t, e.juju.Action.Failed, e.juju.Action.Message)
	assert.Contains(t, e.juju.Action.Results["deleted"], ours.Name)
	assert.ElementsMatch(t, keys([]string{d.User, theirs.Name + "@vsphere.local"}), keys(e.vc.SSOUsers()))
	assert.True(t, e.canLogin(d))

	// Not on a non-leader.
	e.juju.SetLeader(false)
	e.action("purge-credentials", map[string]any{"dry-run": false})
	assert.True(t, e.juju.Action.Failed)
	assert.Contains(t, e.juju.Action.Message, "leader")
}

// TestREADMEDedicatedActionResults: every result key the dedicated
// credentials' actions set is named in the README's row for that action.
func TestREADMEDedicatedActionResults(t *testing.T) {
	rows := readmeRows(t)
	e := newDedicatedEnv(t)
	e.relate(kcp)
	for _, tc := range []struct {
		action string
		params map[string]any
	}{
		{"rotate-credentials", nil},
		{"list-credentials", nil},
		{"purge-credentials", nil},
		{"purge-credentials", map[string]any{"dry-run": false}},
	} {
		e.action(tc.action, tc.params)
		a := e.juju.Action
		require.False(t, a.Failed, a.Message)
		row, ok := rows[tc.action]
		require.True(t, ok, "README has no row for %s", tc.action)
		for k := range a.Results {
			assert.Contains(t, row, "`"+k, "README's %s row does not name result %q", tc.action, k)
		}
	}
	// With no identity left, purge would delete the roles too.
	e.juju.SetConfig(map[string]any{optMode: modeShared})
	e.hook("config-changed")
	e.action("purge-credentials", nil)
	for k := range e.juju.Action.Results {
		assert.Contains(t, rows["purge-credentials"], "`"+k)
	}
	e.action("purge-credentials", map[string]any{"dry-run": false})
	for k := range e.juju.Action.Results {
		assert.Contains(t, rows["purge-credentials"], "`"+k)
	}
}

func TestDedicatedSurvivesUpgradeAndLeaderChange(t *testing.T) {
	e := newDedicatedEnv(t)
	a := e.relate(kcp)
	before, _ := e.published(a)
	mark := e.dedications.Load()
	e.hook("upgrade-charm")
	after, _ := e.published(a)
	assert.Equal(t, before, after, "upgrade-charm keeps the user and its password")
	assert.Equal(t, mark+1, e.dedications.Load(), "upgrade-charm applies the roles and permissions again, once")
	assert.Len(t, e.vc.SSOUsers(), 1)

	// Unit 1 becomes the leader: it carries on with the same user.
	next := e.sibling("vsphere-integrator/1")
	id := next.juju.AddRelation(Endpoint, kcp, kcp+"/0")
	next.juju.SetLeader(true)
	next.hook(Endpoint+"-relation-joined", id, kcp+"/0")
	next.hook("leader-elected")
	got, ok := next.published(id)
	require.True(t, ok)
	assert.Equal(t, before, got)
	assert.Len(t, e.vc.SSOUsers(), 1, "a new leader makes no new user")
}

func TestDedicatedOptionsBlockedWhenUnusable(t *testing.T) {
	for _, tc := range []struct {
		cfg  map[string]any
		want string
	}{
		{map[string]any{optMode: "dedicatd"}, `consumer-credentials must be "shared" or "dedicated"`},
		{map[string]any{optMode: modeDedicated, optRotate: -1}, "rotate-credentials-days must be a whole number of days from 0 (never) to 3650"},
		{map[string]any{optMode: modeDedicated, optRotate: 100000}, "rotate-credentials-days must be"},
	} {
		e := newEnv(t)
		e.trust()
		id := e.juju.AddRelation(Endpoint, kcp, kcp+"/0")
		e.juju.SetConfig(tc.cfg)
		e.hook("config-changed")
		e.hook(Endpoint+"-relation-joined", id, kcp+"/0")
		name, msg := e.status()
		assert.Equal(t, "blocked", name)
		assert.Contains(t, msg, tc.want)
		_, ok := e.published(id)
		assert.False(t, ok, "nothing is published while an option is unusable")
	}
	// A bad rotate-credentials-days does not matter in shared mode.
	e := newEnv(t)
	e.trust()
	e.juju.SetConfig(map[string]any{optRotate: -1})
	e.hook("config-changed")
	name, _ := e.status()
	assert.Equal(t, "active", name)
}

func TestMajorMinor(t *testing.T) {
	for v, want := range map[string][2]int{"3.6.11": {3, 6}, "2.9-rc1": {2, 9}, "3.1.0": {3, 1}, "4.0": {4, 0}} {
		got, ok := majorMinor(v)
		assert.True(t, ok, v)
		assert.Equal(t, want, got, v)
	}
	for _, v := range []string{"", "3", "x.y"} {
		_, ok := majorMinor(v)
		assert.False(t, ok, v)
	}
	_, err := parseMode(map[string]any{optMode: modeDedicated}, "3.0.3")
	assert.ErrorContains(t, err, "Juju 3.1 or later (this agent is 3.0.3)")
	_, err = parseMode(map[string]any{optMode: modeDedicated}, "3.1.0")
	assert.NoError(t, err)
}
