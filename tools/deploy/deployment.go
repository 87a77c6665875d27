// Package deploy runs the packed charm as Juju would, hook by hook, as a
// process: `dispatch` from the unpacked archive, the fake Juju's hook tools
// first on PATH, and the govmomi simulator as vCenter over HTTPS with its own
// user and password. The end-to-end tests, `make demo` and `make bench` all
// drive a deployment through it, so they run the same thing.
package deploy

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	jujucharm "github.com/juju/charm/v12"
	"github.com/vmware/govmomi/find"
	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"

	"github.com/charmed-kubernetes/vsphere-integrator/internal/hooktools/hooktoolstest"
	"github.com/charmed-kubernetes/vsphere-integrator/internal/vsphere/vspheretest"
)

// Unit is the integrator unit every event runs as.
const Unit = "vsphere-integrator/0"

// Deployment is one unpacked charm unit, its fake Juju and its vCenter.
type Deployment struct {
	CharmDir  string // the unpacked archive
	ToolsDir  string // the fake hook tools, first on PATH
	StatePath string // the fake Juju's state
	VC        *vspheretest.Server

	// HookTimeout bounds one event's process; the charm's own deadline is
	// shorter, so hitting this is a failure of the charm.
	HookTimeout time.Duration
	// RSSWrapper, when set, is tools/charmbench/rss: events run under it so
	// that Run.MaxRSSKB is the event's own peak RSS (see that command for
	// why measuring from here would not be).
	RSSWrapper string

	logins atomic.Int64
	// ssoLogins, ssoLogouts count the SSO admin service's: it keeps no
	// session list for SessionCount to read.
	ssoLogins, ssoLogouts atomic.Int64
	work                  string
}

// Run is what one event did, as Juju and vCenter saw it.
type Run struct {
	Event    string
	ExitCode int
	Stderr   string
	Wall     time.Duration
	MaxRSSKB int64                // peak resident set of the hook process; 0 without RSSWrapper
	Calls    []hooktoolstest.Call // hook-tool calls the event made
	Requests int                  // SOAP requests vCenter served
	Sessions int                  // vCenter logins
	// SSORequests are lookup service, STS and SSO admin requests;
	// SSOSessions SSO admin logins.
	SSORequests, SSOSessions int
}

// New unpacks the charm archive into a fresh directory under work, puts
// the fake Juju's tools (the fakejuju binary) there, and starts the
// simulator with a datacenter DC0, datastore LocalDS_0 and the VM folder
// juju-kubernetes, serving SSO (lookup service, STS, SSO admin) with the
// trusted account an SSO administrator. Close stops it.
func New(charmPath, fakejuju, work string) (*Deployment, error) {
	archive, err := jujucharm.ReadCharmArchive(charmPath)
	if err != nil {
		return nil, fmt.Errorf("read charm: %w", err)
	}
	d := &Deployment{
		CharmDir:    filepath.Join(work, "charm"),
		ToolsDir:    filepath.Join(work, "tools"),
		StatePath:   filepath.Join(work, "juju-state.json"),
		HookTimeout: 3 * time.Minute,
		work:        work,
	}
	if err := archive.ExpandTo(d.CharmDir); err != nil {
		return nil, fmt.Errorf("unpack charm: %w", err)
	}
	if err := os.MkdirAll(d.ToolsDir, 0o755); err != nil {
		return nil, err
	}
	if err := hooktoolstest.InstallTools(d.ToolsDir, fakejuju); err != nil {
		return nil, err
	}
	model := simulator.VPX()
	model.Datastore = 2 // LocalDS_0 and LocalDS_1, to change datastore
	// SSO too, as a vCenter has: dedicated mode makes its users there, and
	// a deployment in shared mode never asks it anything.
	if d.VC, err = vspheretest.Start(vspheretest.Options{Model: model, SSO: true}); err != nil {
		return nil, fmt.Errorf("start vCenter simulator: %w", err)
	}
	// Today's vSphere (vcsim plays 6.5), so that a warning in the status is
	// one a step asked for.
	d.VC.Modernize()
	d.countLogins()
	if err := d.countSSOLogins(); err != nil {
		d.Close()
		return nil, err
	}
	if err := d.createFolder(context.Background(), "juju-kubernetes"); err != nil {
		d.Close()
		return nil, err
	}

	j := hooktoolstest.New(Unit)
	j.SetConfig(archive.Config().DefaultSettings())
	// Juju checks action params against the charm's actions.yaml.
	j.SetActions(archive.Actions())
	if err := j.WriteFile(d.StatePath); err != nil {
		d.Close()
		return nil, err
	}
	return d, nil
}

// Close stops the simulator.
func (d *Deployment) Close() {
	if d.VC != nil {
		d.VC.Close()
	}
}

// countLogins wraps the simulator's per-call hook to count sessions opened.
func (d *Deployment) countLogins() {
	m := d.VC.Model.Service.Context.Map
	prev := m.Handler
	m.Handler = func(ctx *simulator.Context, method *simulator.Method) (mo.Reference, types.BaseMethodFault) {
		if method.Name == "Login" {
			d.logins.Add(1)
		}
		return prev(ctx, method)
	}
}

// countSSOLogins wraps the SSO admin service's per-call hook to count its
// logins and logouts. The service is where the simulator's own setting
// config.vpxd.sso.admin.uri says, as a client finds it.
func (d *Deployment) countSSOLogins() error {
	svc := d.VC.Model.Service.Context
	for _, o := range svc.Map.OptionManager().Setting {
		v := o.GetOptionValue()
		raw, _ := v.Value.(string)
		if v.Key != "config.vpxd.sso.admin.uri" || raw == "" {
			continue
		}
		u, err := url.Parse(raw)
		if err != nil {
			return fmt.Errorf("the simulator's SSO admin address: %w", err)
		}
		admin := svc.For(u.Path).Map
		if admin == nil {
			break
		}
		prev := admin.Handler
		admin.Handler = func(ctx *simulator.Context, m *simulator.Method) (mo.Reference, types.BaseMethodFault) {
			switch m.Name {
			case "Login":
				d.ssoLogins.Add(1)
			case "Logout":
				d.ssoLogouts.Add(1)
			}
			if prev == nil {
				return nil, nil
			}
			return prev(ctx, m)
		}
		return nil
	}
	return errors.New("the simulator serves no SSO admin service")
}

// SSOSessionsOpen is the number of SSO admin logins not logged out, what
// SessionCount is for vCenter's own sessions.
func (d *Deployment) SSOSessionsOpen() int {
	return int(d.ssoLogins.Load() - d.ssoLogouts.Load())
}

func (d *Deployment) createFolder(ctx context.Context, name string) error {
	vmFolder, err := find.NewFinder(d.VC.Client()).Folder(ctx, "/DC0/vm")
	if err != nil {
		return fmt.Errorf("simulator VM folder: %w", err)
	}
	if _, err := vmFolder.CreateFolder(ctx, name); err != nil {
		return fmt.Errorf("create folder %s: %w", name, err)
	}
	return nil
}

// Juju reads the fake Juju's state.
func (d *Deployment) Juju() (*hooktoolstest.Juju, error) {
	return hooktoolstest.ReadFile(d.StatePath)
}

// Update changes the fake Juju's state between events, as an operator's
// juju command would.
func (d *Deployment) Update(f func(j *hooktoolstest.Juju)) error {
	j, err := d.Juju()
	if err != nil {
		return err
	}
	f(j)
	return j.WriteFile(d.StatePath)
}

// Cloud is the credential `juju trust` gives for the simulator.
func (d *Deployment) Cloud(password string) hooktoolstest.CloudSpec {
	return hooktoolstest.CloudSpec{
		Type: "vsphere", Name: "vsphere", Region: "DC0", Endpoint: d.VC.URL.Host,
		Credential: &hooktoolstest.CloudCredential{AuthType: "userpass", Attrs: map[string]string{"user": d.VC.User, "password": password}},
	}
}

// Hook runs one hook. For relation hooks rel is the relation id and, for
// joined/changed/departed, remote the remote unit. Every relation hook
// names the remote application, created and broken included, as Juju's
// hook context does (JUJU_REMOTE_APP): from the remote unit, or else from
// the relation in the fake Juju's state.
func (d *Deployment) Hook(ctx context.Context, name, rel, remote string) (Run, error) {
	env := map[string]string{"JUJU_DISPATCH_PATH": "hooks/" + name, "JUJU_HOOK_NAME": name}
	if endpoint, _, ok := strings.Cut(name, "-relation-"); ok {
		env["JUJU_RELATION"], env["JUJU_RELATION_ID"] = endpoint, rel
		if remote != "" {
			env["JUJU_REMOTE_UNIT"] = remote
			env["JUJU_REMOTE_APP"], _, _ = strings.Cut(remote, "/")
		} else {
			app, err := d.remoteApp(rel)
			if err != nil {
				return Run{Event: name}, err
			}
			env["JUJU_REMOTE_APP"] = app
		}
		if strings.HasSuffix(name, "-departed") {
			env["JUJU_DEPARTING_UNIT"] = remote
		}
	}
	return d.Exec(ctx, name, nil, env)
}

// remoteApp is the remote application of relation rel ("clients:3") in
// the fake Juju's state.
func (d *Deployment) remoteApp(rel string) (string, error) {
	j, err := d.Juju()
	if err != nil {
		return "", err
	}
	_, num, _ := strings.Cut(rel, ":")
	id, err := strconv.Atoi(num)
	if err != nil {
		return "", fmt.Errorf("relation id %q: %w", rel, err)
	}
	r, ok := j.Relations[id]
	if !ok {
		return "", fmt.Errorf("relation %s is not in the fake Juju's state", rel)
	}
	return r.RemoteApp, nil
}

// Action runs one action with params; params actions.yaml refuses are
// refused, as `juju run` does, and the action does not run.
func (d *Deployment) Action(ctx context.Context, name string, params map[string]any) (Run, error) {
	var refused error
	if err := d.Update(func(j *hooktoolstest.Juju) { refused = j.StartAction(name, params) }); err != nil {
		return Run{}, err
	}
	if refused != nil {
		return Run{}, refused
	}
	return d.Exec(ctx, "action "+name, nil, map[string]string{
		"JUJU_DISPATCH_PATH": "actions/" + name, "JUJU_ACTION_NAME": name, "JUJU_ACTION_UUID": "1",
	})
}

// Exec runs argv (the charm's dispatch when nil) in the charm directory with
// the hook environment plus extra, and returns what it did.
func (d *Deployment) Exec(ctx context.Context, event string, argv []string, extra map[string]string) (Run, error) {
	before, err := d.Juju()
	if err != nil {
		return Run{}, err
	}
	calls := len(before.Calls)
	reqs, logins := d.VC.Requests(), d.logins.Load()
	ssoReqs, ssoLogins := d.VC.SSORequests(), d.ssoLogins.Load()

	ctx, cancel := context.WithTimeout(ctx, d.HookTimeout)
	defer cancel()
	if argv == nil {
		argv = []string{filepath.Join(d.CharmDir, "dispatch")}
	}
	rssOut := ""
	if d.RSSWrapper != "" {
		rssOut = filepath.Join(d.work, "rss")
		argv = append([]string{d.RSSWrapper}, argv...)
		extra = maps.Clone(extra)
		if extra == nil {
			extra = map[string]string{}
		}
		extra["RSS_OUT"] = rssOut
	}
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir = d.CharmDir
	cmd.Env = d.env(extra)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	// The process is one hook: as the unit agent does, its relation
	// settings and charm state are committed only if it exits 0.
	if err := hooktoolstest.BeginHookFile(d.StatePath); err != nil {
		return Run{}, err
	}
	start := time.Now()
	err = cmd.Run()
	r := Run{Event: event, Wall: time.Since(start), Stderr: stderr.String()}
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		r.ExitCode = exit.ExitCode()
	case err != nil:
		return r, errors.Join(fmt.Errorf("run %s: %w", event, err), hooktoolstest.EndHookFile(d.StatePath, 1))
	}
	if err := hooktoolstest.EndHookFile(d.StatePath, r.ExitCode); err != nil {
		return r, fmt.Errorf("commit %s: %w", event, err)
	}
	if rssOut != "" {
		raw, err := os.ReadFile(rssOut)
		if err != nil {
			return r, fmt.Errorf("peak RSS of %s: %w", event, err)
		}
		if r.MaxRSSKB, err = strconv.ParseInt(string(raw), 10, 64); err != nil {
			return r, fmt.Errorf("peak RSS of %s: %w", event, err)
		}
	}
	after, err := d.Juju()
	if err != nil {
		return r, err
	}
	r.Calls = slices.Clone(after.Calls[calls:])
	r.Requests, r.Sessions = d.VC.Requests()-reqs, int(d.logins.Load()-logins)
	r.SSORequests, r.SSOSessions = d.VC.SSORequests()-ssoReqs, int(d.ssoLogins.Load()-ssoLogins)
	return r, nil
}

// env is the environment the unit agent gives a hook.
func (d *Deployment) env(extra map[string]string) []string {
	env := map[string]string{
		"PATH":            d.ToolsDir + string(os.PathListSeparator) + os.Getenv("PATH"),
		"HOME":            d.work,
		"JUJU_CHARM_DIR":  d.CharmDir,
		"JUJU_UNIT_NAME":  Unit,
		"JUJU_MODEL_NAME": "kubernetes",
		"JUJU_MODEL_UUID": "6f3b2a1c-0d4e-4f5a-8b9c-1d2e3f4a5b6c",
		"JUJU_VERSION":    "3.6.4",
		"FAKEJUJU_STATE":  d.StatePath,
	}
	for k, v := range extra {
		env[k] = v
	}
	out := make([]string, 0, len(env))
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	slices.Sort(out)
	return out
}
