// Command charmbench prints, for each event of a steady deployment with
// three relations, the median wall time over many runs of the packed charm
// as a process, its hook-tool calls, vCenter SOAP requests and sessions and
// its peak RSS, beside the floor: a trivial binary making the same number of
// hook-tool calls. Run it with `make bench`.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"github.com/charmed-kubernetes/vsphere-integrator/internal/hooktools/hooktoolstest"
	"github.com/charmed-kubernetes/vsphere-integrator/internal/scenario"
)

func main() {
	charm := flag.String("charm", "vsphere-integrator.charm", "the packed charm")
	fake := flag.String("fakejuju", "build/bin/fakejuju", "the fake Juju binary")
	floor := flag.String("floor", "build/bin/floor", "the floor binary")
	rss := flag.String("rss", "build/bin/rss", "the peak-RSS wrapper (cmd/charmbench/rss)")
	runs := flag.Int("runs", 20, "runs per event")
	flag.Parse()
	if err := run(context.Background(), os.Stdout, *charm, *fake, *floor, *rss, *runs); err != nil {
		fmt.Fprintln(os.Stderr, "charmbench:", err)
		os.Exit(1)
	}
}

// event is one row: prepare (untimed) then the timed event.
type event struct {
	name    string
	prepare func(i int) error
	run     func(ctx context.Context) (scenario.Run, error)
}

type row struct {
	name                      string
	wall, floor               time.Duration
	calls, requests, sessions int
	rssKB, floorRSSKB         int64
}

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
	d, err := scenario.New(charm, fake, work)
	if err != nil {
		return err
	}
	defer d.Close()
	d.RSSWrapper = rss
	l, err := scenario.NewLifecycle(d)
	if err != nil {
		return err
	}
	for _, step := range []func(context.Context) ([]scenario.Run, error){l.Install, l.Trust, l.Relate} {
		if _, err := step(ctx); err != nil {
			return err
		}
	}
	worker := l.Rels["kubernetes-worker"]
	hook := func(name, rel, remote string) func(context.Context) (scenario.Run, error) {
		return func(ctx context.Context) (scenario.Run, error) { return d.Hook(ctx, name, rel, remote) }
	}
	action := func(name string, params map[string]any) func(context.Context) (scenario.Run, error) {
		return func(ctx context.Context) (scenario.Run, error) { return d.Action(ctx, name, params) }
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
			r.calls, r.requests, r.sessions = len(res.Calls), res.Requests, res.Sessions
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
	fmt.Fprintf(w, "Median of %d runs per event; the packed charm run as a process through dispatch, the fake Juju's\n", n)
	fmt.Fprintf(w, "hook tools on PATH, vcsim on loopback. Floor: a trivial binary making the same hook-tool calls.\n\n")
	fmt.Fprintf(w, "Peak RSS: the hook process and the hook tools it waited for (ru_maxrss, measured by cmd/charmbench/rss).\n\n")
	fmt.Fprintf(w, "| event | median wall | floor | hook-tool calls | SOAP requests | vCenter sessions | peak RSS | floor RSS |\n")
	fmt.Fprintf(w, "|---|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, r := range rows {
		fmt.Fprintf(w, "| %s | %s | %s | %d | %d | %d | %s | %s |\n",
			r.name, ms(r.wall), ms(r.floor), r.calls, r.requests, r.sessions, mib(r.rssKB), mib(r.floorRSSKB))
	}
	fmt.Fprintf(w, "\nvsphere-integrator.charm: %.2f MiB\n", float64(st.Size())/(1<<20))
	return nil
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
