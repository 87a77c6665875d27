package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/charmed-kubernetes/vsphere-integrator/internal/hooktools/hooktoolstest"
	"github.com/charmed-kubernetes/vsphere-integrator/tools/deploy"
)

// The dedicated table (`charmbench -dedicated`): what dedicated credentials
// cost the packed charm beside shared ones (docs/performance.md, "Dedicated
// credentials"). For each mode a deployment of its own, its unit the
// leader, is installed, trusted and related to the lifecycle's three
// consumer applications through dispatch, then one update-status checks
// the related units (and, in dedicated mode, grants their VMs); from there
// each event runs N times, in this order:
//
//   - update-status with nothing due;
//   - clients-relation-changed of an application already served;
//   - rotate-credentials (which shared mode refuses, after its check);
//   - a new application: clients-relation-created, then
//     clients-relation-joined of its first unit; each run a new one.
//
// The rotations come before the new applications so that each rotates the
// same three; the new applications come last so that no event before them
// has units to check that the settling update-status did not see.

// dedicatedModes are the values of consumer-credentials compared.
var dedicatedModes = []string{"shared", "dedicated"}

// The events of the table, as the rows name them.
const (
	evQuiet   = "update-status (nothing due)"
	evServed  = "clients-relation-changed (an application already served)"
	evRotate  = "action rotate-credentials"
	evCreated = "clients-relation-created (a new application)"
	evJoined  = "clients-relation-joined (the new application's first unit)"
)

// dedicatedRow is one event in one mode.
type dedicatedRow struct {
	event, mode string
	wall        time.Duration // median
	// The counts of each run, in run order. sessions are vim25 logins,
	// ssoSessions SSO admin logins.
	calls, sessions, ssoSessions, requests, ssoRequests counts
	// failed counts the runs that ended in action-fail.
	failed int
}

// dedicatedBench is one mode's deployment; newApps counts the applications
// newApp related.
type dedicatedBench struct {
	d       *deploy.Deployment
	l       *deploy.Lifecycle
	mode    string
	newApps int
}

func runDedicated(ctx context.Context, w io.Writer, charm, fake string, n int) error {
	var rows []dedicatedRow
	for _, mode := range dedicatedModes {
		r, err := measureMode(ctx, charm, fake, mode, n)
		if err != nil {
			return fmt.Errorf("%s: %w", mode, err)
		}
		rows = append(rows, r...)
	}
	writeDedicatedTable(w, rows, n)
	return nil
}

func measureMode(ctx context.Context, charm, fake, mode string, n int) ([]dedicatedRow, error) {
	work, err := os.MkdirTemp("", "vsphere-integrator-dedicated-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(work)
	d, err := deploy.New(charm, fake, work)
	if err != nil {
		return nil, err
	}
	defer d.Close()
	b := &dedicatedBench{d: d, mode: mode}
	if err := b.settle(ctx); err != nil {
		return nil, err
	}

	served := b.l.Rels["kubernetes-worker"]
	hook := func(name, rel, remote string) func(context.Context) (deploy.Run, error) {
		return func(ctx context.Context) (deploy.Run, error) { return d.Hook(ctx, name, rel, remote) }
	}
	var rows []dedicatedRow
	for _, ev := range []struct {
		name string
		run  func(context.Context) (deploy.Run, error)
	}{
		{evQuiet, hook("update-status", "", "")},
		{evServed, hook("clients-relation-changed", served, "kubernetes-worker/1")},
		{evRotate, func(ctx context.Context) (deploy.Run, error) { return d.Action(ctx, "rotate-credentials", nil) }},
	} {
		r := dedicatedRow{event: ev.name, mode: mode}
		var walls []time.Duration
		for range n {
			if err := b.measure(ctx, &r, &walls, ev.run); err != nil {
				return nil, fmt.Errorf("%s: %w", ev.name, err)
			}
		}
		r.wall = median(walls)
		rows = append(rows, r)
	}

	// A new application each run: created, then joined of its unit.
	created, joined := dedicatedRow{event: evCreated, mode: mode}, dedicatedRow{event: evJoined, mode: mode}
	var cWalls, jWalls []time.Duration
	for range n {
		rel, unit, err := b.newApp()
		if err != nil {
			return nil, err
		}
		if err := b.measure(ctx, &created, &cWalls, hook("clients-relation-created", rel, "")); err != nil {
			return nil, fmt.Errorf("%s: %w", evCreated, err)
		}
		if err := b.measure(ctx, &joined, &jWalls, hook("clients-relation-joined", rel, unit)); err != nil {
			return nil, fmt.Errorf("%s: %w", evJoined, err)
		}
	}
	created.wall, joined.wall = median(cWalls), median(jWalls)
	return append(rows, created, joined), nil
}

// settle makes the unit leader in the mode, installs, trusts and relates
// it, and runs the update-status that checks the related units; in
// dedicated mode every consumer application must then have its identity.
func (b *dedicatedBench) settle(ctx context.Context) error {
	var err error
	if b.l, err = deploy.NewLifecycle(b.d); err != nil {
		return err
	}
	if err := b.d.Update(func(j *hooktoolstest.Juju) {
		j.SetLeader(true)
		j.SetConfig(map[string]any{"consumer-credentials": b.mode})
	}); err != nil {
		return err
	}
	steps := []func(context.Context) ([]deploy.Run, error){b.l.Install, b.l.Trust, b.l.Relate, b.l.CheckNodes}
	for _, step := range steps {
		runs, err := step(ctx)
		if err != nil {
			return err
		}
		for _, r := range runs {
			if err := ok(r, nil); err != nil {
				return err
			}
		}
	}
	j, err := b.d.Juju()
	if err != nil {
		return err
	}
	if j.Status.Name != "active" {
		return fmt.Errorf("settled in status %s: %s", j.Status.Name, j.Status.Message)
	}
	if b.mode != "dedicated" {
		return nil
	}
	apps, err := servedApps(j.LeaderSettings())
	if err != nil {
		return err
	}
	for _, c := range deploy.Consumers {
		if !slices.Contains(apps, c.App) {
			return fmt.Errorf("settled with identities for %v, none for %s", apps, c.App)
		}
	}
	return nil
}

// servedApps are the applications the leader's table of dedicated
// identities serves (internal/charm dedicated.go keeps it in leader
// settings under dedicated-credentials).
func servedApps(leader map[string]string) ([]string, error) {
	var t struct {
		Apps map[string]json.RawMessage `json:"apps"`
	}
	if raw := leader["dedicated-credentials"]; raw != "" {
		if err := json.Unmarshal([]byte(raw), &t); err != nil {
			return nil, fmt.Errorf("leader settings dedicated-credentials: %w", err)
		}
	}
	var apps []string
	for app := range t.Apps {
		apps = append(apps, app)
	}
	slices.Sort(apps)
	return apps, nil
}

// newApp relates a new consumer application with one unit, as `juju
// integrate` does before Juju fires its hooks.
func (b *dedicatedBench) newApp() (rel, unit string, err error) {
	b.newApps++
	app := "bench-consumer-" + letters(b.newApps)
	unit = app + "/0"
	addr := fmt.Sprintf("10.0.3.%d", b.newApps)
	err = b.d.Update(func(j *hooktoolstest.Juju) {
		rel = j.AddRelation("clients", app)
		j.JoinUnit(rel, unit)
		j.SetRemoteData(rel, unit, map[string]string{"ingress-address": addr, "private-address": addr, "egress-subnets": addr + "/32"})
	})
	return rel, unit, err
}

// letters spells n ≥ 1 in letters (1 a, 26 z, 27 aa): Juju refuses an
// application name whose part after a hyphen is all digits.
func letters(n int) string {
	s := ""
	for ; n > 0; n /= 26 {
		n--
		s = string(rune('a'+n%26)) + s
	}
	return s
}

// measure runs one event and adds its counts to r.
func (b *dedicatedBench) measure(ctx context.Context, r *dedicatedRow, walls *[]time.Duration, run func(context.Context) (deploy.Run, error)) error {
	// As in the event table: the fake's record of calls starts short.
	if err := b.d.Update(forget); err != nil {
		return err
	}
	res, err := run(ctx)
	if err := ok(res, err); err != nil {
		return err
	}
	*walls = append(*walls, res.Wall)
	r.calls = append(r.calls, len(res.Calls))
	r.sessions = append(r.sessions, res.Sessions)
	r.requests = append(r.requests, res.Requests)
	r.ssoRequests = append(r.ssoRequests, res.SSORequests)
	r.ssoSessions = append(r.ssoSessions, res.SSOSessions)
	if len(callsOf(res.Calls, "action-fail")) > 0 {
		r.failed++
	}
	return nil
}

// writeDedicatedTable prints the table, then each claim of the issue and
// whether these runs bear it out.
func writeDedicatedTable(w io.Writer, rows []dedicatedRow, n int) {
	fmt.Fprintf(w, "Each event %d times in each mode, the unit the leader with three consumer applications related; the packed\n", n)
	fmt.Fprintf(w, "charm run as a process through dispatch, vcsim with SSO on loopback. Counts are the least/median/most of the\n")
	fmt.Fprintf(w, "runs; sessions are vim25 logins, SSO sessions SSO admin logins; SSO requests are lookup service, STS and SSO\n")
	fmt.Fprintf(w, "admin requests. Each run of the new-application rows relates one application more than the last.\n\n")
	fmt.Fprintf(w, "| event | mode | hook-tool calls | vCenter sessions | SSO sessions | SOAP requests | SSO requests | median wall |\n")
	fmt.Fprintf(w, "|---|---|---:|---:|---:|---:|---:|---:|\n")
	var varied []dedicatedRow
	for _, r := range rows {
		name := r.event
		if r.failed > 0 {
			name += fmt.Sprintf(" (action failed in %d of %d runs)", r.failed, len(r.calls))
		}
		if r.varies() {
			name += " " + variesMark
			varied = append(varied, r)
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s | %s |\n",
			name, r.mode, r.calls.cell(), r.sessions.cell(), r.ssoSessions.cell(), r.requests.cell(), r.ssoRequests.cell(), ms(r.wall))
	}
	if len(varied) > 0 {
		fmt.Fprintf(w, "\n%s The counts of these events differed between runs:\n", variesMark)
		for _, r := range varied {
			var parts []string
			for _, c := range []struct {
				what string
				c    counts
			}{{"hook-tool calls", r.calls}, {"vCenter sessions", r.sessions}, {"SSO sessions", r.ssoSessions}, {"SOAP requests", r.requests}, {"SSO requests", r.ssoRequests}} {
				if c.c.varies() {
					parts = append(parts, c.what+" "+c.c.spread())
				}
			}
			fmt.Fprintf(w, "- %s, %s: %s\n", r.event, r.mode, strings.Join(parts, "; "))
		}
	}
	fmt.Fprintln(w)
	for _, c := range dedicatedClaims(rows) {
		fmt.Fprintf(w, "- %s\n", c)
	}
}

func (r dedicatedRow) varies() bool {
	return r.calls.varies() || r.sessions.varies() || r.ssoSessions.varies() || r.requests.varies() || r.ssoRequests.varies()
}

// dedicatedClaims says, for each claim of the "Cost", whether the
// runs bear it out, with the numbers; a claim whose rows are missing says
// so rather than holding.
func dedicatedClaims(rows []dedicatedRow) []string {
	find := func(event, mode string) (dedicatedRow, bool) {
		i := slices.IndexFunc(rows, func(r dedicatedRow) bool { return r.event == event && r.mode == mode })
		if i < 0 {
			return dedicatedRow{}, false
		}
		return rows[i], true
	}
	verdict := func(ok bool) string {
		if ok {
			return "**holds**"
		}
		return "**fails**"
	}
	var out []string

	sh, ok1 := find(evQuiet, "shared")
	de, ok2 := find(evQuiet, "dedicated")
	if ok1 && ok2 {
		_, _, ssoMost := de.ssoRequests.minMedMax()
		_, _, deMost := de.sessions.minMedMax()
		shLeast, _, _ := sh.sessions.minMedMax()
		_, _, ssoLogins := de.ssoSessions.minMedMax()
		out = append(out, fmt.Sprintf("a quiet update-status in dedicated mode makes no SSO request and no more vCenter sessions than in shared: %s (SSO requests %s, SSO sessions %s; vCenter sessions %s dedicated, %s shared)",
			verdict(ssoMost == 0 && ssoLogins == 0 && deMost <= shLeast), de.ssoRequests.cell(), de.ssoSessions.cell(), de.sessions.cell(), sh.sessions.cell()))
	} else {
		out = append(out, "a quiet update-status: **not measured**")
	}

	if de, ok := find(evServed, "dedicated"); ok {
		_, _, s := de.sessions.minMedMax()
		_, _, ss := de.ssoSessions.minMedMax()
		_, _, sr := de.ssoRequests.minMedMax()
		out = append(out, fmt.Sprintf("a relation hook of an application already served opens no session in dedicated mode: %s (vCenter sessions %s, SSO sessions %s, SSO requests %s)",
			verdict(s == 0 && ss == 0 && sr == 0), de.sessions.cell(), de.ssoSessions.cell(), de.ssoRequests.cell()))
	} else {
		out = append(out, "a relation hook of an application already served: **not measured**")
	}

	created, ok1 := find(evCreated, "dedicated")
	joined, ok2 := find(evJoined, "dedicated")
	if ok1 && ok2 && len(created.sessions) == len(joined.sessions) {
		// Per new application, its two hooks together: one vCenter and one
		// SSO session, the identity made once.
		once := true
		for i := range created.sessions {
			once = once && created.sessions[i]+joined.sessions[i] == 1 && created.ssoSessions[i]+joined.ssoSessions[i] == 1
		}
		_, cr, _ := created.requests.minMedMax()
		_, cs, _ := created.ssoRequests.minMedMax()
		_, jr, _ := joined.requests.minMedMax()
		_, js, _ := joined.ssoRequests.minMedMax()
		out = append(out, fmt.Sprintf("a new application costs its relation hooks one vCenter and one SSO session, once: %s (relation-created %s and %s sessions, %d SOAP and %d SSO requests; relation-joined %s and %s sessions, %d SOAP and %d SSO requests; medians)",
			verdict(once), created.sessions.cell(), created.ssoSessions.cell(), cr, cs, joined.sessions.cell(), joined.ssoSessions.cell(), jr, js))
	} else {
		out = append(out, "a new application: **not measured**")
	}
	return out
}
