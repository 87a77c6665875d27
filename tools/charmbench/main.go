// Command charmbench prints, for each event of a steady deployment with
// three relations, the median wall time over many runs of the packed charm
// as a process, the least, median and most hook-tool calls, vCenter SOAP
// requests and sessions of those runs (marking an event whose counts
// differ between runs), and its peak RSS, beside the floor: a trivial
// binary making the same number of hook-tool calls. Run it with
// `make bench`.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/charmed-kubernetes/vsphere-integrator/internal/hooktools/hooktoolstest"
	"github.com/charmed-kubernetes/vsphere-integrator/tools/deploy"
)

func main() {
	charm := flag.String("charm", "vsphere-integrator.charm", "the packed charm")
	fake := flag.String("fakejuju", "build/bin/fakejuju", "the fake Juju binary")
	floor := flag.String("floor", "build/bin/floor", "the floor binary")
	rss := flag.String("rss", "build/bin/rss", "the peak-RSS wrapper (tools/charmbench/rss)")
	runs := flag.Int("runs", 20, "runs per event")
	scale := flag.String("scale", "", "instead of the event table, the scale table at these numbers of related units (10,100,1000,5000)")
	toolclock := flag.String("toolclock", "build/bin/toolclock", "the hook-tool timer of the scale table (tools/charmbench/toolclock)")
	profile := flag.String("scale-profile", "", "with -scale: a CPU profile of the charm's code at the largest size, into this file")
	vcenter := flag.String("vcenter", "", "instead of the event table, the vCenter scale table from this file of `go test -bench CheckScale` output")
	dedicated := flag.Bool("dedicated", false, "instead of the event table, what dedicated credentials cost beside shared ones (the unit the leader)")
	flag.Parse()
	var err error
	switch {
	case *dedicated:
		err = runDedicated(context.Background(), os.Stdout, *charm, *fake, *runs)
	case *vcenter != "":
		err = runVCenter(os.Stdout, *vcenter)
	case *scale != "":
		var sizes []int
		if sizes, err = parseSizes(*scale); err == nil {
			err = runScale(context.Background(), os.Stdout, scaleOptions{
				charm: *charm, fake: *fake, floor: *floor, toolclock: *toolclock, sizes: sizes, runs: *runs, profile: *profile,
			})
		}
	default:
		err = run(context.Background(), os.Stdout, *charm, *fake, *floor, *rss, *runs)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "charmbench:", err)
		os.Exit(1)
	}
}

// event is one row: prepare (untimed) then the timed event.
type event struct {
	name    string
	prepare func(i int) error
	run     func(ctx context.Context) (deploy.Run, error)
}

type row struct {
	name string
	wall time.Duration
	// floor is the floor's median wall over the same runs.
	floor time.Duration
	// The counts of each run, in run order.
	calls, requests, sessions counts
	rssKB, floorRSSKB         int64
}

// varies reports whether any count differed between the runs.
func (r row) varies() bool { return r.calls.varies() || r.requests.varies() || r.sessions.varies() }

func run(ctx context.Context, w io.Writer, charm, fake, floor, rss string, n int) error {
	work, err := os.MkdirTemp("", "vsphere-integrator-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	// Events run in the charm's directory.
	if floor, err = filepath.Abs(floor); err != nil {
		return err
	}
	if rss, err = filepath.Abs(rss); err != nil {
		return err
	}
	d, err := deploy.New(charm, fake, work)
	if err != nil {
		return err
	}
	defer d.Close()
	d.RSSWrapper = rss
	l, err := deploy.NewLifecycle(d)
	if err != nil {
		return err
	}
	for _, step := range []func(context.Context) ([]deploy.Run, error){l.Install, l.Trust, l.Relate} {
		if _, err := step(ctx); err != nil {
			return err
		}
	}
	worker := l.Rels["kubernetes-worker"]
	hook := func(name, rel, remote string) func(context.Context) (deploy.Run, error) {
		return func(ctx context.Context) (deploy.Run, error) { return d.Hook(ctx, name, rel, remote) }
	}
	action := func(name string, params map[string]any) func(context.Context) (deploy.Run, error) {
		return func(ctx context.Context) (deploy.Run, error) { return d.Action(ctx, name, params) }
	}
	passwords := []string{"Bench-Passw0rd-A", "Bench-Passw0rd-B"}
	events := []event{
		{name: "install", run: hook("install", "", "")},
		{name: "config-changed (3 relations)", run: hook("config-changed", "", "")},
		{name: "relation-joined", run: hook("clients-relation-joined", worker, "kubernetes-worker/1")},
		{name: "relation-changed", run: hook("clients-relation-changed", worker, "kubernetes-worker/1")},
		{name: "update-status (nothing changed)", run: hook("update-status", "", "")},
		{name: "update-status (after rotation)", prepare: func(i int) error {
			p := passwords[i%2]
			d.VC.SetPassword(p)
			l.Password = p
			return d.Update(func(j *hooktoolstest.Juju) { j.SetCredential(d.Cloud(p)) })
		}, run: hook("update-status", "", "")},
		{name: "action verify", run: action("verify", nil)},
		{name: "action refresh-credentials", run: action("refresh-credentials", nil)},
		{name: "action cloud-config", run: action("cloud-config", map[string]any{"format": "in-tree"})},
		{name: "action check-prerequisites", run: action("check-prerequisites", nil)},
		{name: "action enable-disk-uuid (dry run)", run: action("enable-disk-uuid", nil)},
	}

	var rows []row
	for _, ev := range events {
		r := row{name: ev.name}
		var walls, floors []time.Duration
		for i := 0; i < n; i++ {
			if ev.prepare != nil {
				if err := ev.prepare(i); err != nil {
					return err
				}
			}
			// The fake Juju keeps every call in its state file; start each
			// run from a short one so the tools' cost stays that of Juju's.
			if err := d.Update(forget); err != nil {
				return err
			}
			res, err := ev.run(ctx)
			if err != nil {
				return err
			}
			if res.ExitCode != 0 {
				return fmt.Errorf("%s exited %d: %s", ev.name, res.ExitCode, res.Stderr)
			}
			walls = append(walls, res.Wall)
			r.calls = append(r.calls, len(res.Calls))
			r.requests = append(r.requests, res.Requests)
			r.sessions = append(r.sessions, res.Sessions)
			r.rssKB = max(r.rssKB, res.MaxRSSKB)
			fl, err := d.Exec(ctx, "floor", []string{floor, strconv.Itoa(len(res.Calls))}, nil)
			if err != nil {
				return err
			}
			if err := d.Update(forget); err != nil {
				return err
			}
			floors = append(floors, fl.Wall)
			r.floorRSSKB = max(r.floorRSSKB, fl.MaxRSSKB)
		}
		r.wall, r.floor = median(walls), median(floors)
		rows = append(rows, r)
	}

	st, err := os.Stat(charm)
	if err != nil {
		return err
	}
	writeTable(w, rows, n, st.Size())
	return nil
}

// variesMark flags a row whose counts differed between runs.
const variesMark = "‡"

// writeTable prints the Markdown table and, under it, what differed
// between runs for each event marked.
func writeTable(w io.Writer, rows []row, n int, charmSize int64) {
	fmt.Fprintf(w, "Median of %d runs per event; the packed charm run as a process through dispatch, the fake Juju's\n", n)
	fmt.Fprintf(w, "hook tools on PATH, vcsim on loopback. Floor: a trivial binary making the same hook-tool calls.\n")
	fmt.Fprintf(w, "Counts are the least/median/most of the runs.\n\n")
	fmt.Fprintf(w, "Peak RSS: the hook process and the hook tools it waited for (ru_maxrss, measured by tools/charmbench/rss).\n\n")
	fmt.Fprintf(w, "| event | median wall | floor | hook-tool calls | SOAP requests | vCenter sessions | peak RSS | floor RSS |\n")
	fmt.Fprintf(w, "|---|---:|---:|---:|---:|---:|---:|---:|\n")
	var varied []row
	for _, r := range rows {
		name := r.name
		if r.varies() {
			name += " " + variesMark
			varied = append(varied, r)
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s | %s |\n",
			name, ms(r.wall), ms(r.floor), r.calls.cell(), r.requests.cell(), r.sessions.cell(), mib(r.rssKB), mib(r.floorRSSKB))
	}
	if len(varied) > 0 {
		fmt.Fprintf(w, "\n%s The counts of these events differed between runs, so the same event did not always do the same work:\n", variesMark)
		for _, r := range varied {
			var parts []string
			for _, c := range []struct {
				what string
				c    counts
			}{{"hook-tool calls", r.calls}, {"SOAP requests", r.requests}, {"vCenter sessions", r.sessions}} {
				if c.c.varies() {
					parts = append(parts, c.what+" "+c.c.spread())
				}
			}
			fmt.Fprintf(w, "- %s: %s\n", r.name, strings.Join(parts, "; "))
		}
	}
	fmt.Fprintf(w, "\nvsphere-integrator.charm: %.2f MiB\n", float64(charmSize)/(1<<20))
}

// counts are one count of each run.
type counts []int

// minMedMax is the least, the median (the upper one of an even number of
// runs, as for wall times) and the most.
func (c counts) minMedMax() (lo, med, hi int) {
	s := slices.Clone(c)
	slices.Sort(s)
	return s[0], s[len(s)/2], s[len(s)-1]
}

func (c counts) varies() bool {
	lo, _, hi := c.minMedMax()
	return lo != hi
}

// cell is "least/median/most".
func (c counts) cell() string {
	lo, med, hi := c.minMedMax()
	return fmt.Sprintf("%d/%d/%d", lo, med, hi)
}

// spread says how often each count came: "9 in 18 runs, 10 in 2".
func (c counts) spread() string {
	seen := map[int]int{}
	for _, v := range c {
		seen[v]++
	}
	var parts []string
	for i, v := range slices.Sorted(maps.Keys(seen)) {
		runs := "runs"
		if seen[v] == 1 {
			runs = "run"
		}
		if i > 0 {
			parts = append(parts, fmt.Sprintf("%d in %d", v, seen[v]))
			continue
		}
		parts = append(parts, fmt.Sprintf("%d in %d %s", v, seen[v], runs))
	}
	return strings.Join(parts, ", ")
}

func forget(j *hooktoolstest.Juju) {
	j.Calls, j.Logs, j.StatusHistory = nil, nil, nil
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

func mib(kb int64) string { return fmt.Sprintf("%.1f MiB", float64(kb)/1024) }

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond)) }
