package e2e

import (
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/gcfg.v1"

	"github.com/charmed-kubernetes/vsphere-integrator/internal/consumers"
	"github.com/charmed-kubernetes/vsphere-integrator/internal/consumers/consumerstest"
	"github.com/charmed-kubernetes/vsphere-integrator/internal/relation"
	"github.com/charmed-kubernetes/vsphere-integrator/tools/deploy"
)

// The two consumer applications of the dedicated run, one unit each.
const (
	controlPlane  = "kubernetes-control-plane"
	cloudProvider = "vsphere-cloud-provider"
)

// dedicatedWorld is a world in dedicated mode: it also remembers every
// password the charm ever kept in a Juju secret, since a removed secret is
// gone from the fake Juju, so that the final audit can look for them all.
type dedicatedWorld struct {
	*world
	// kept are the dedicated passwords seen in a secret, by the secret's
	// label (the SSO user's name without its domain, docs/dedicated.md).
	kept map[string]string
}

// keep reads the secrets the fake Juju holds now; call it after every step.
func (w *dedicatedWorld) keep() {
	w.t.Helper()
	for _, s := range w.juju().Secrets() {
		assert.Equal(w.t, "application-vsphere-integrator", s.Owner, "a dedicated credential is application-owned")
		values, err := s.Values()
		require.NoError(w.t, err, s.Label)
		pw := values["password"]
		require.NotEmpty(w.t, pw, "secret %s holds no password", s.Label)
		if _, ok := w.kept[s.Label]; !ok {
			w.passwords = append(w.passwords, pw)
		}
		w.kept[s.Label] = pw
	}
}

// secretOf is the password the secret labelled with user's local name
// holds now; ok is false when there is no such secret.
func (w *dedicatedWorld) secretOf(user string) (string, bool) {
	w.t.Helper()
	local, _, _ := strings.Cut(user, "@")
	for _, s := range w.juju().Secrets() {
		if s.Label != local {
			continue
		}
		values, err := s.Values()
		require.NoError(w.t, err, s.Label)
		return values["password"], true
	}
	return "", false
}

// published decodes app's relation as that application does: the
// reactive in-tree consumers (kubernetes-control-plane), or
// vsphere-cloud-provider's charm.
func (w *dedicatedWorld) published(app string) relation.Data {
	w.t.Helper()
	id, ok := w.l.Rels[app]
	require.True(w.t, ok, "no relation with %s", app)
	bag := relation.Databag(w.juju().CharmData(id))
	require.Len(w.t, bag, len(relation.Keys), "%s: %v", app, slices.Sorted(maps.Keys(bag)))
	if app == cloudProvider {
		got, err := consumerstest.DecodeCloudProvider(bag)
		require.NoError(w.t, err, app)
		return got
	}
	got, err := consumerstest.DecodeReactive([]consumerstest.Relation{{ID: id, Units: map[string]relation.Databag{deploy.Unit: bag}}})
	require.NoError(w.t, err, app)
	return got.Data
}

// dedicatedUser checks what app was published is a dedicated identity: not
// the trusted account, its password the one its secret holds, a user the
// CSI driver takes, rendered and read back by each consumer, and able to
// log in.
func (w *dedicatedWorld) dedicatedUser(app string) relation.Data {
	w.t.Helper()
	d := w.published(app)
	assert.Equal(w.t, w.data("LocalDS_0", d.Password), withUser(d, w.d.VC.User), "%s: the rest is the shared data", app)
	assert.NotEqual(w.t, canonical(w.d.VC.User), canonical(d.User), "%s got the trusted user", app)
	assert.NotEqual(w.t, w.l.Password, d.Password, "%s got the trusted password", app)
	assert.True(w.t, strings.HasPrefix(d.User, "juju-"), "%s: %s", app, d.User)
	assert.Contains(w.t, d.User, app, "the user names the application it serves")
	pw, ok := w.secretOf(d.User)
	assert.True(w.t, ok, "%s: no secret labelled for %s", app, d.User)
	assert.Equal(w.t, pw, d.Password, "%s: the published password is not its secret's", app)
	for _, b := range consumers.Lookup(consumers.CSI).Breaks(d) {
		assert.NotEqual(w.t, relation.KeyUser, b.Field, "%s: the CSI driver refuses the user %s: %s", app, d.User, b.What)
	}
	checkRendered(w.t, d)
	// The consumers' own writers, read back by their readers.
	if app == cloudProvider {
		user, password := readCSIWriter(w.t, consumerstest.CSI(d))
		assert.Equal(w.t, d.User, user, app)
		assert.Equal(w.t, d.Password, password, app)
	} else {
		vc := readInTree(w.t, consumerstest.InTree(d)).VirtualCenter[d.VsphereIP]
		require.NotNil(w.t, vc, app)
		assert.Equal(w.t, d.User, vc.User, app)
		assert.Equal(w.t, d.Password, vc.Password, app)
	}
	assert.True(w.t, w.d.VC.CanLogin(w.ctx, d.User, d.Password), "%s: its user %s cannot log in", app, d.User)
	return d
}

func withUser(d relation.Data, user string) relation.Data {
	d.User = user
	return d
}

// canonical is user@domain in lower case, whichever way it is written.
func canonical(u string) string {
	if dom, name, ok := strings.Cut(u, `\`); ok {
		u = name + "@" + dom
	}
	return strings.ToLower(u)
}

// crossed fails when one application's password is in another's databag.
func (w *dedicatedWorld) crossed(ds map[string]relation.Data) {
	w.t.Helper()
	j := w.juju()
	for app, d := range ds {
		for other, id := range w.l.Rels {
			if other == app {
				continue
			}
			for k, v := range j.CharmData(id) {
				assert.NotContains(w.t, v, d.Password, "%s's password in %s's %s", app, other, k)
			}
		}
	}
}

// settled checks what holds between steps: no vCenter or SSO admin
// session left open, no password in leader settings, and remembers the
// secrets.
func (w *dedicatedWorld) settled() {
	w.t.Helper()
	n, err := w.d.VC.SessionCount(w.ctx)
	require.NoError(w.t, err)
	assert.Zero(w.t, n, "a vCenter session left open")
	assert.Zero(w.t, w.d.SSOSessionsOpen(), "an SSO admin session left open")
	w.keep()
	for k, v := range w.juju().LeaderSettings() {
		for _, pw := range w.passwords {
			assert.NotContains(w.t, v, pw, "a password in leader settings %s", k)
		}
	}
}

// actionOK checks an action ran without action-fail.
func actionOK(t *testing.T, runs []deploy.Run) {
	t.Helper()
	for _, r := range runs {
		assert.Empty(t, callsTo([]deploy.Run{r}, "action-fail"), "%s failed", r.Event)
	}
}

func (w *dedicatedWorld) action(name string, params map[string]any) []deploy.Run {
	w.t.Helper()
	run, err := w.d.Action(w.ctx, name, params)
	runs := w.step([]deploy.Run{run}, err)
	actionOK(w.t, runs)
	return runs
}

// TestDedicatedCredentials: consumer-credentials=dedicated through a life:
// each related application gets an SSO user of its own, a rotation and a
// purge, a revocation when a relation goes, and back to shared. No
// password, the trusted one or a dedicated one, is ever anywhere but where
// it belongs.
func TestDedicatedCredentials(t *testing.T) {
	w := &dedicatedWorld{world: newWorld(t), kept: map[string]string{}}
	ctx := w.ctx
	vc := w.d.VC

	t.Log("1. install, trust, consumer-credentials=dedicated, leader: nothing to make yet")
	w.step(w.l.Install(ctx))
	w.step(w.l.Trust(ctx))
	runs := w.step(w.l.SetConfig(ctx, map[string]any{"consumer-credentials": "dedicated"}))
	runs = append(runs, w.step(w.l.Elect(ctx))...)
	w.status("active", "ready")
	assert.Zero(t, runs[len(runs)-1].SSOSessions, "no application related: no SSO session")
	assert.Empty(t, vc.SSOUsers())
	w.settled()

	t.Log("2. two applications related: a user each, neither the trusted one, both log in")
	for _, app := range []struct{ name, unit string }{{controlPlane, controlPlane + "/0"}, {cloudProvider, cloudProvider + "/0"}} {
		runs = w.step(w.l.RelateApp(ctx, app.name, app.unit))
		require.Len(t, runs, 3)
		// relation-created knows the application (JUJU_REMOTE_APP): its
		// identity is made there, in one vCenter and one SSO session.
		assert.Equal(t, 1, runs[0].Sessions, "%s: %s", app.name, runs[0].Event)
		assert.Equal(t, 1, runs[0].SSOSessions, "%s: %s", app.name, runs[0].Event)
		for _, r := range runs[1:] {
			assert.Zero(t, r.Sessions+r.SSOSessions, "%s: %s of an application already served", app.name, r.Event)
		}
		w.settled()
	}
	w.status("active", "dedicated vCenter users for 2 applications")
	first := map[string]relation.Data{}
	for _, app := range []string{controlPlane, cloudProvider} {
		first[app] = w.dedicatedUser(app)
	}
	assert.NotEqual(t, canonical(first[controlPlane].User), canonical(first[cloudProvider].User))
	assert.ElementsMatch(t, []string{canonical(first[controlPlane].User), canonical(first[cloudProvider].User)}, vc.SSOUsers())
	assert.Len(t, w.juju().Secrets(), 2)
	w.crossed(first)
	for app, d := range first {
		perms, err := vc.PermissionsOf(ctx, d.User)
		require.NoError(t, err)
		var paths []string
		for _, p := range perms {
			paths = append(paths, p.Path)
		}
		assert.Contains(t, paths, "/DC0/datastore/LocalDS_0", app)
		assert.Contains(t, paths, "/DC0", app)
	}
	runs = w.action("list-credentials", nil)
	assert.Equal(t, "2", actionResult(t, runs, "identities"))
	assert.Equal(t, "read", actionResult(t, runs, "vcenter"))
	assert.Equal(t, first[controlPlane].User, actionResult(t, runs, "current."+controlPlane+".user"))

	t.Log("3. rotate-credentials: new users published, the old ones still log in; purge deletes them at once")
	runs = w.action("rotate-credentials", nil)
	assert.Equal(t, 1, runs[0].SSOSessions)
	w.settled()
	second := map[string]relation.Data{}
	for _, app := range []string{controlPlane, cloudProvider} {
		second[app] = w.dedicatedUser(app)
		assert.NotEqual(t, canonical(first[app].User), canonical(second[app].User), "%s: a rotation makes a new user", app)
		assert.Contains(t, actionResult(t, runs, "made"), second[app].User)
		assert.Contains(t, actionResult(t, runs, "retiring"), first[app].User)
		assert.True(t, vc.CanLogin(ctx, first[app].User, first[app].Password), "%s: the old user %s stops working before its grace period", app, first[app].User)
	}
	w.crossed(second)
	assert.Len(t, vc.SSOUsers(), 4)
	assert.Len(t, w.juju().Secrets(), 4, "the retiring users' secrets stay until they are deleted")

	runs = w.action("purge-credentials", map[string]any{"dry-run": false})
	w.settled()
	deleted := actionResult(t, runs, "deleted")
	for app := range first {
		assert.Contains(t, deleted, first[app].User)
		assert.NotContains(t, deleted, second[app].User)
		assert.False(t, vc.CanLogin(ctx, first[app].User, first[app].Password), "%s: the purged user %s still logs in", app, first[app].User)
		_, ok := w.secretOf(first[app].User)
		assert.False(t, ok, "%s: the purged user's secret is left", app)
		perms, err := vc.PermissionsOf(ctx, first[app].User)
		require.NoError(t, err)
		assert.Empty(t, perms, "%s: the purged user's permissions are left", app)
		assert.Equal(t, second[app], w.dedicatedUser(app), "%s: the purge changed what is published", app)
	}
	assert.Len(t, w.juju().Secrets(), 2)

	t.Log("4. the cloud provider's relation removed: its user and secret go, the control plane keeps working")
	runs = w.step(w.l.RemoveRelation(ctx, cloudProvider))
	require.Len(t, runs, 2, "departed, then broken")
	assert.Equal(t, "clients-relation-broken", runs[1].Event)
	w.settled()
	gone := second[cloudProvider]
	assert.False(t, vc.CanLogin(ctx, gone.User, gone.Password), "the revoked user %s still logs in", gone.User)
	_, ok := w.secretOf(gone.User)
	assert.False(t, ok, "the revoked user's secret is left")
	perms, err := vc.PermissionsOf(ctx, gone.User)
	require.NoError(t, err)
	assert.Empty(t, perms, "the revoked user's permissions are left")
	assert.Equal(t, second[controlPlane], w.dedicatedUser(controlPlane))
	assert.Equal(t, []string{canonical(second[controlPlane].User)}, vc.SSOUsers())
	assert.Len(t, w.juju().Secrets(), 1)
	w.status("active", "a dedicated vCenter user for 1 application")

	t.Log("5. back to shared: the trusted credential again; purge deletes the dedicated user at once")
	w.step(w.l.SetConfig(ctx, map[string]any{"consumer-credentials": "shared"}))
	w.settled()
	shared := w.published(controlPlane)
	assert.Equal(t, w.data("LocalDS_0", w.l.Password), shared, "shared again: the trusted credential")
	checkRendered(t, shared)
	last := second[controlPlane]
	assert.True(t, vc.CanLogin(ctx, last.User, last.Password), "the dedicated user lives out its grace period")
	assert.NotContains(t, w.juju().Status.Message, "dedicated")
	w.status("active", "ready")

	runs = w.action("purge-credentials", map[string]any{"dry-run": false})
	w.settled()
	assert.Contains(t, actionResult(t, runs, "deleted"), last.User)
	assert.Equal(t, "none", actionResult(t, runs, "roles-kept"), "the roles go with the last user")
	assert.False(t, vc.CanLogin(ctx, last.User, last.Password), "the purged user %s still logs in", last.User)
	assert.Empty(t, vc.SSOUsers())
	assert.Empty(t, w.juju().Secrets())
	assert.Empty(t, w.juju().LeaderSettings()["dedicated-credentials"], "the table is empty")
	runs = w.action("list-credentials", nil)
	assert.Equal(t, "shared", actionResult(t, runs, "mode"))
	assert.Equal(t, "0", actionResult(t, runs, "identities"))
	for _, c := range callsTo(runs, "action-set") {
		for _, a := range c.Args {
			assert.False(t, strings.HasPrefix(a, "current.") || strings.HasPrefix(a, "retiring."), "list-credentials still lists %s", a)
		}
	}
	w.step(w.l.CheckNodes(ctx))
	w.status("active", "ready")
	assert.Equal(t, shared, w.published(controlPlane), "update-status after the purge keeps the trusted credential")

	t.Log("6. audit: no password, trusted or dedicated, anywhere but the relations and secrets")
	w.settled()
	// Four dedicated users were made, two and two more by the rotation,
	// and every one's password was seen in a secret.
	assert.Len(t, w.kept, 4, "dedicated passwords seen: %v", slices.Sorted(maps.Keys(w.kept)))
	assert.Len(t, w.passwords, 1+len(w.kept))
	assert.Equal(t, w.charmDir, listFiles(t, w.d.CharmDir), "the charm wrote nothing into its directory")
	noSecretsLeaked(t, w.juju(), w.all, w.passwords)
}

// readCSIWriter reads vsphere-cloud-provider's csi-vsphere.conf as the CSI
// driver's gcfg reader does (leniently: unknown keys are not errors) and
// returns its one virtual center's user and password.
func readCSIWriter(t *testing.T, conf string) (user, password string) {
	t.Helper()
	var cfg struct {
		VirtualCenter map[string]*struct {
			User     string `gcfg:"user"`
			Password string `gcfg:"password"`
		}
	}
	require.NoError(t, gcfg.FatalOnly(gcfg.ReadStringInto(&cfg, conf)), conf)
	require.Len(t, cfg.VirtualCenter, 1, conf)
	for _, vc := range cfg.VirtualCenter {
		user, password = vc.User, vc.Password
	}
	return user, password
}
