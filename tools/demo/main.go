// Command demo runs the packed charm through a deployment's whole life
// against a simulated Juju and a simulated vCenter, and prints what an
// operator would see: each event, the status after it, the relation data
// (password masked) and the cloud-config the consumers would render.
//
// Run it with `make demo`, which builds the charm and the fake Juju first.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/charmed-kubernetes/vsphere-integrator/internal/hooktools/hooktoolstest"
	"github.com/charmed-kubernetes/vsphere-integrator/tools/deploy"
)

func main() {
	charm := flag.String("charm", "vsphere-integrator.charm", "the packed charm")
	fake := flag.String("fakejuju", "build/bin/fakejuju", "the fake Juju binary")
	flag.Parse()
	if err := run(context.Background(), os.Stdout, *charm, *fake); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, w io.Writer, charm, fake string) error {
	work, err := os.MkdirTemp("", "vsphere-integrator-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	d, err := deploy.New(charm, fake, work)
	if err != nil {
		return err
	}
	defer d.Close()
	l, err := deploy.NewLifecycle(d)
	if err != nil {
		return err
	}
	p := &printer{w: w, d: d, l: l}

	fmt.Fprintf(w, `vsphere-integrator demo
=======================
Juju and vCenter are SIMULATED here: Juju's hook tools are a fake that keeps
its state in a file, and vCenter is the govmomi simulator (vcsim) at
%s, user %s.
The charm is the real packed %s, unpacked and run hook by hook
through its dispatch script, as a Juju unit agent runs it.
`, d.VC.URL, d.VC.User, charm)

	steps := []struct {
		title string
		do    func(context.Context) ([]deploy.Run, error)
		rel   bool // print relation data after
	}{
		{"juju deploy vsphere-integrator --config datastore=LocalDS_0 (no trust yet)", l.Install, false},
		{"juju trust vsphere-integrator", l.Trust, false},
		{"juju integrate vsphere-integrator:clients with kubernetes-master:vsphere, kubernetes-worker:vsphere and vsphere-cloud-provider:vsphere-integration (a subordinate on the integrator's machine: no node)", l.Relate, true},
		{"update-status looks at the new node VMs; juju run vsphere-integrator/0 check-prerequisites", l.CheckNodes, false},
		{"juju run vsphere-integrator/0 enable-disk-uuid (dry run, then dry-run=false)", l.EnableDiskUUID, false},
		{"juju config vsphere-integrator datastore=LocalDS_1", func(ctx context.Context) ([]deploy.Run, error) {
			return l.SetConfig(ctx, map[string]any{"datastore": "LocalDS_1"})
		}, true},
		{"vCenter password rotated + juju update-credential (no hook fires; update-status notices)", func(ctx context.Context) ([]deploy.Run, error) {
			return l.Rotate(ctx, "Rotated-Passw0rd")
		}, true},
		{"juju update-credential with a wrong password", func(ctx context.Context) ([]deploy.Run, error) {
			return l.UpdateCredential(ctx, "Typo-Passw0rd")
		}, true},
		{"juju update-credential with the right one again", func(ctx context.Context) ([]deploy.Run, error) {
			return l.UpdateCredential(ctx, l.Password)
		}, false},
		{"vCenter stops answering (the check gives up at its 30 s deadline)", l.Hang, false},
		{"vCenter answers again", l.Recover, false},
		{`a password with " \ # ; and é`, func(ctx context.Context) ([]deploy.Run, error) {
			return l.Rotate(ctx, `Pa"ss\w#rd;é`)
		}, true},
		{"juju config vsphere-integrator consumer-credentials=dedicated: the leader makes each application a least-privilege vCenter user of its own, with a password every consumer can carry; juju run vsphere-integrator/leader list-credentials", l.Dedicate, true},
		{"juju config vsphere-integrator consumer-credentials=shared; juju run vsphere-integrator/leader purge-credentials dry-run=false", l.Share, true},
		{"juju run vsphere-integrator/0 verify / refresh-credentials / cloud-config", l.Actions, false},
		{"juju run vsphere-integrator/0 test-volume / storage-class / storage-class provisioner=in-tree", l.Storage, false},
		{"Juju refuses relation-set while the folder changes: the hook fails (Juju keeps none of it), then Juju retries it", func(ctx context.Context) ([]deploy.Run, error) {
			return l.JujuFault(ctx, "relation-set", map[string]any{"folder": "/DC0/vm/juju-kubernetes"})
		}, true},
		{"juju remove-relation vsphere-integrator vsphere-cloud-provider", func(ctx context.Context) ([]deploy.Run, error) {
			return l.RemoveRelation(ctx, "vsphere-cloud-provider")
		}, false},
		{"juju remove-application vsphere-integrator", l.Remove, false},
	}
	for i, s := range steps {
		fmt.Fprintf(w, "\n%d. %s\n", i+1, s.title)
		runs, err := s.do(ctx)
		if err != nil {
			return err
		}
		if err := p.runs(runs); err != nil {
			return err
		}
		if s.rel {
			if err := p.relations(); err != nil {
				return err
			}
		}
	}
	n, err := d.VC.SessionCount(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "\nvCenter sessions left open: %d\n", n)
	fmt.Fprint(w, onReal)
	return nil
}

// onReal closes the demo: the same commands as README's Deploy section
// (main_test.go holds them to it).
const onReal = `
On a real deployment:
  make charm
  juju deploy ./vsphere-integrator.charm --config datastore=<datastore> --config folder=<VM folder>
  juju trust vsphere-integrator
  juju integrate vsphere-integrator:clients kubernetes-control-plane:vsphere
  juju integrate vsphere-integrator:clients kubernetes-worker:vsphere
  juju status vsphere-integrator
  juju run vsphere-integrator/0 test-volume
  juju run vsphere-integrator/0 storage-class
`

type printer struct {
	w io.Writer
	d *deploy.Deployment
	l *deploy.Lifecycle
}

func (p *printer) runs(runs []deploy.Run) error {
	for _, r := range runs {
		fmt.Fprintf(p.w, "   %-40s exit %d  %6s  %2d hook-tool calls  %d vCenter session(s)\n",
			r.Event, r.ExitCode, r.Wall.Round(1e6), len(r.Calls), r.Sessions)
		if r.ExitCode != 0 {
			fmt.Fprintf(p.w, "     stderr: %s\n", strings.TrimSpace(r.Stderr))
		}
		p.action(r)
	}
	j, err := p.d.Juju()
	if err != nil {
		return err
	}
	fmt.Fprintf(p.w, "   status: %s: %s\n", j.Status.Name, j.Status.Message)
	p.cloudConfig(j)
	return nil
}

// action prints an action's outcome from the calls it made (the fake Juju
// keeps only the last action's results).
func (p *printer) action(r deploy.Run) {
	for _, c := range r.Calls {
		switch c.Tool {
		case "action-fail":
			fmt.Fprintf(p.w, "     failed: %s\n", strings.Join(c.Args, " "))
		case "action-set":
			for _, a := range c.Args {
				k, v, ok := strings.Cut(a, "=")
				switch {
				case !ok || k == "config":
				case k == "manifest":
					fmt.Fprintf(p.w, "     manifest:\n")
					for _, line := range strings.Split(strings.TrimRight(v, "\n"), "\n") {
						fmt.Fprintf(p.w, "     | %s\n", line)
					}
				default:
					fmt.Fprintf(p.w, "     %s: %s\n", k, v)
				}
			}
		}
	}
}

// cloudConfig prints the config a cloud-config action rendered.
func (p *printer) cloudConfig(j *hooktoolstest.Juju) {
	if j.Action == nil || j.Action.Name != "cloud-config" {
		return
	}
	if cfg, ok := j.Action.Results["config"].(string); ok {
		fmt.Fprintf(p.w, "   cloud-config.conf the consumers render (password hidden unless show-password=true):\n")
		for _, line := range strings.Split(strings.TrimRight(cfg, "\n"), "\n") {
			fmt.Fprintf(p.w, "     | %s\n", line)
		}
	}
}

func (p *printer) relations() error {
	j, err := p.d.Juju()
	if err != nil {
		return err
	}
	apps := make([]string, 0, len(p.l.Rels))
	for app := range p.l.Rels {
		apps = append(apps, app)
	}
	sort.Strings(apps)
	for _, app := range apps {
		id := p.l.Rels[app]
		data := j.CharmData(id)
		keys := make([]string, 0, len(data))
		for k := range data {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var kv []string
		for _, k := range keys {
			v := data[k]
			if k == "password" {
				v = `"••••••"`
			}
			kv = append(kv, k+"="+v)
		}
		fmt.Fprintf(p.w, "   %s (%s): %s\n", id, app, strings.Join(kv, " "))
	}
	return nil
}
