package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/juju/mgo/v3/bson"

	"github.com/charmed-kubernetes/vsphere-integrator/internal/charm"
	"github.com/charmed-kubernetes/vsphere-integrator/internal/hookenv"
	"github.com/charmed-kubernetes/vsphere-integrator/internal/hooktools"
	"github.com/charmed-kubernetes/vsphere-integrator/internal/hooktools/hooktoolstest"
	"github.com/charmed-kubernetes/vsphere-integrator/internal/vsphere"
	"github.com/charmed-kubernetes/vsphere-integrator/tools/deploy"
)

// The scale table (`charmbench -scale 10,100,1000,5000`): what one
// relation hook, and a quiet update-status, cost the packed charm with
// that many related units, half kubernetes-worker units on the clients
// endpoint and half kubernetes-control-plane units on nodes (juju-info).
//
// How the state is built, each size from the one before: the unit is
// installed, trusted and related (each relation's created hook) by the
// packed charm through dispatch, as the unit agent runs it. Units then
// join, each in its own <endpoint>-relation-joined hook run by the charm's
// own code in process (internal/charm over hooktoolstest's in-memory Juju,
// in a hook transaction, with the state key the packed charm made): the
// first ones and the last ones of each size that way, the ones between
// with the one record those hooks are seen to write (see grow), so the
// state is the charm's key for key. relation-changed for each would write
// nothing more (the address is recorded already), so it is left out. An
// update-status then checks the new units, as the first one after they
// joined does, and the Juju is saved to the fake's state file: every
// measured run starts from that file.
//
// Each event then runs as the packed charm through dispatch, the fake's
// hook tools on PATH; how its time is taken apart is in measure.go. Bytes
// written are the state-set stdin plus the state-delete keys.

// scaleEvent is one event of the table: prepare changes Juju before it
// (an operator's or Juju's doing, not timed) and names the hook.
type scaleEvent struct {
	name    string
	prepare func(b *scaleBuild, j *hooktoolstest.Juju) (hook, rel, remote string)
	// relation marks the relation hooks the targets are about.
	relation bool
	// vcenter marks an event that talks to vCenter (the actions); any
	// other event that does is not the event meant.
	vcenter bool
}

// actionPrefix names an action among the events: "action verify".
const actionPrefix = "action "

// actionEvent runs an action, its params checked and its defaults filled
// in as `juju run` does.
func actionEvent(name string, params map[string]any) scaleEvent {
	label := "action " + name
	for k, v := range params {
		label += fmt.Sprintf(" %s=%v", k, v)
	}
	return scaleEvent{name: label, vcenter: true, prepare: func(_ *scaleBuild, j *hooktoolstest.Juju) (string, string, string) {
		if err := j.StartAction(name, params); err != nil {
			panic(fmt.Sprintf("action %s: %v", name, err)) // the bench's own mistake
		}
		return actionPrefix + name, "", ""
	}}
}

// scaleActions are every action: none may make a hook-tool call per
// related unit (internal/charm TestActionCallsAtScale), so each must finish
// at 5,000 units well inside the event's 2-minute deadline.
var scaleActions = []scaleEvent{
	actionEvent("verify", nil),
	actionEvent("refresh-credentials", nil),
	actionEvent("cloud-config", nil),
	actionEvent("check-prerequisites", nil),
	actionEvent("enable-disk-uuid", nil),
	actionEvent("storage-class", nil),
	actionEvent("test-volume", nil),
}

// The unit that joins and the one that leaves are the same at every size,
// names and addresses of the same length, so that any difference in what
// is written is the charm's. Juju never reuses a unit number: a
// kubernetes-worker/9000 beside 2,500 others is what a cluster that
// scaled up and down has.
const (
	joiningUnit = "kubernetes-worker/9000"
	joiningAddr = "10.200.0.1" // no unitAddr's
	leavingUnit = "kubernetes-worker/0"
)

var scaleEvents = []scaleEvent{
	{name: "relation-joined (a new unit)", relation: true, prepare: func(b *scaleBuild, j *hooktoolstest.Juju) (string, string, string) {
		j.JoinUnit(b.clients, joiningUnit)
		j.SetRemoteData(b.clients, joiningUnit, unitData(joiningAddr))
		return "clients-relation-joined", b.clients, joiningUnit
	}},
	{name: "relation-departed (a unit leaving)", relation: true, prepare: func(b *scaleBuild, j *hooktoolstest.Juju) (string, string, string) {
		j.DepartUnit(b.clients, leavingUnit)
		return "clients-relation-departed", b.clients, leavingUnit
	}},
	{name: "update-status (nothing changed)", prepare: func(*scaleBuild, *hooktoolstest.Juju) (string, string, string) {
		return "update-status", "", ""
	}},
}

// scaleRow is one event at one size.
type scaleRow struct {
	units    int
	event    string
	relation bool
	action   bool
	// Medians over the runs.
	wall, own, perCall time.Duration
	// inProcess is the charm's code alone: the same event in process, its
	// hook tools answered from a recording (median of many runs).
	inProcess      time.Duration
	calls, written counts
	// Of the unit state the event left: its largest value and its size as
	// the controller counts it against max-charm-state-size (BSON).
	largest, total int
}

// scaleBuild is the unit and its relations, grown to any number of units.
type scaleBuild struct {
	d   *deploy.Deployment
	j   *hooktoolstest.Juju // the fake's state as the charm left it
	key []byte
	// clients and nodes are the two relations' ids.
	clients, nodes string
	units          int // related units so far
	// record is what the charm writes for a unit joining, once learnt.
	record *unitRecord
}

func unitAddr(i int) string { return fmt.Sprintf("10.%d.%d.%d", 1+i/65536, i/256%256, i%256) }

// unitData is what Juju writes into a unit's databag.
func unitData(addr string) map[string]string {
	return map[string]string{"ingress-address": addr, "private-address": addr, "egress-subnets": addr + "/32"}
}

// newScaleBuild installs, trusts and relates the unit through dispatch.
func newScaleBuild(ctx context.Context, d *deploy.Deployment) (*scaleBuild, error) {
	b := &scaleBuild{d: d}
	if err := d.Update(func(j *hooktoolstest.Juju) {
		j.SetConfig(map[string]any{"datastore": "LocalDS_0"})
		j.Trust(d.Cloud(d.VC.Password()))
	}); err != nil {
		return nil, err
	}
	for _, h := range []string{"install", "config-changed", "start"} {
		if err := ok(d.Hook(ctx, h, "", "")); err != nil {
			return nil, err
		}
	}
	if err := d.Update(func(j *hooktoolstest.Juju) {
		b.clients = j.AddRelation(charm.Endpoint, "kubernetes-worker")
		b.nodes = j.AddRelation(charm.NodesEndpoint, "kubernetes-control-plane")
	}); err != nil {
		return nil, err
	}
	if err := ok(d.Hook(ctx, charm.Endpoint+"-relation-created", b.clients, "")); err != nil {
		return nil, err
	}
	if err := ok(d.Hook(ctx, charm.NodesEndpoint+"-relation-created", b.nodes, "")); err != nil {
		return nil, err
	}
	var err error
	if b.j, err = d.Juju(); err != nil {
		return nil, err
	}
	// The key the packed charm made on install, in the unit agent's
	// directory: the state built in process must be keyed the same.
	if b.key, err = charm.LoadKey(charm.KeyPath(d.CharmDir)); err != nil {
		return nil, err
	}
	return b, nil
}

// ok turns an event that exited non-zero into an error.
func ok(r deploy.Run, err error) error {
	if err != nil {
		return err
	}
	if r.ExitCode != 0 {
		return fmt.Errorf("%s exited %d: %s", r.Event, r.ExitCode, r.Stderr)
	}
	return nil
}

// realJoins is how many units of each size join through the charm's own
// hook (the rest are written from what those hooks wrote): the first ones
// teach the record the charm keeps per unit, the last ones of each size
// check that it still keeps that record there.
const realJoins = 20

// grow relates units until there are n, then runs the update-status that
// checks them and saves the state file.
//
// A joined hook in process costs a state-get of every key and a commit
// check of the whole state, so 5,000 of them take about a minute. Instead
// the charm's own joined hooks learn what one unit joining writes (one
// key and value, naming the relation, the unit and its address), units
// are then added with that record written directly, and the last
// realJoins units of each size join through the charm again, each of
// their writes compared with what the record predicts: a charm that wrote
// anything else, or something else, stops the benchmark.
func (b *scaleBuild) grow(ctx context.Context, n int) error {
	for ; b.units < n; b.units++ {
		rel, endpoint, u := b.clients, charm.Endpoint, fmt.Sprintf("kubernetes-worker/%d", b.units/2)
		if b.units%2 == 1 {
			rel, endpoint, u = b.nodes, charm.NodesEndpoint, fmt.Sprintf("kubernetes-control-plane/%d", b.units/2)
		}
		addr := unitAddr(b.units)
		b.j.JoinUnit(rel, u)
		b.j.SetRemoteData(rel, u, unitData(addr))
		if b.record != nil && b.units >= realJoins && b.units < n-realJoins {
			k, v := b.record.of(rel, u, addr)
			b.j.State[k] = v
			continue
		}
		before := maps.Clone(b.j.State)
		if err := b.hook(ctx, endpoint+"-relation-joined", rel, u); err != nil {
			return err
		}
		if err := b.learn(before, rel, u, addr); err != nil {
			return fmt.Errorf("%s joining %s: %w", u, rel, err)
		}
	}
	if err := b.hook(ctx, "update-status", "", ""); err != nil {
		return err
	}
	if b.j.Status.Name != "active" {
		return fmt.Errorf("%d units: status %s: %s", n, b.j.Status.Name, b.j.Status.Message)
	}
	return b.j.WriteFile(b.d.StatePath)
}

// unitRecord is the unit-state key and value the charm writes for a unit
// joining, with the relation, unit and address replaced by placeholders.
type unitRecord struct{ key, value string }

func (r *unitRecord) of(rel, unit, addr string) (string, string) {
	sub := strings.NewReplacer("{rel}", rel, "{unit}", unit, "{addr}", addr)
	return sub.Replace(r.key), sub.Replace(r.value)
}

// learn compares what a joined hook wrote with the record, or learns the
// record from it: one key set, none deleted. The first hook also marks the
// records complete (a second key), so it teaches nothing.
func (b *scaleBuild) learn(before map[string]string, rel, unit, addr string) error {
	var set []string
	for k, v := range b.j.State {
		if w, ok := before[k]; !ok || w != v {
			set = append(set, k)
		}
	}
	for k := range before {
		if _, ok := b.j.State[k]; !ok {
			return fmt.Errorf("the hook deleted %q", k)
		}
	}
	if len(set) != 1 {
		if b.record == nil && len(before) > 0 && len(set) > 1 {
			return nil // the first joined hook: nodes-known with it
		}
		return fmt.Errorf("the hook wrote %d keys (%v), not the one per unit the build writes", len(set), set)
	}
	k, v := set[0], b.j.State[set[0]]
	if b.record == nil {
		gen := strings.NewReplacer(rel, "{rel}", unit, "{unit}", addr, "{addr}")
		b.record = &unitRecord{key: gen.Replace(k), value: gen.Replace(v)}
		if !strings.Contains(b.record.key, "{unit}") {
			return fmt.Errorf("the record %q=%q does not name the unit", k, v)
		}
		return nil
	}
	if wk, wv := b.record.of(rel, unit, addr); wk != k || wv != v {
		return fmt.Errorf("the hook wrote %q=%q where the build writes %q=%q", k, v, wk, wv)
	}
	return nil
}

// hookContext is the context the unit agent gives a hook, or an action
// ("action <name>").
func hookContext(charmDir, name, rel, remote string) hookenv.Context {
	if action, ok := strings.CutPrefix(name, actionPrefix); ok {
		return hookenv.Context{Kind: hookenv.KindAction, Name: action, ActionName: action, CharmDir: charmDir, Unit: deploy.Unit, ModelName: "kubernetes"}
	}
	hc := hookenv.Context{Kind: hookenv.KindHook, Name: name, CharmDir: charmDir, Unit: deploy.Unit, ModelName: "kubernetes"}
	if endpoint, event, ok := hc.RelationHook(); ok {
		hc.RelationEndpoint, hc.RelationID = endpoint, rel
		hc.RemoteUnit = remote
		hc.RemoteApp, _, _ = strings.Cut(remote, "/")
		if event == "departed" {
			hc.DepartingUnit = remote
		}
	}
	return hc
}

// hook runs one hook of the charm in process, in a hook transaction.
func (b *scaleBuild) hook(ctx context.Context, name, rel, remote string) error {
	_, err := inProcess(ctx, b.j, hookContext(b.d.CharmDir, name, rel, remote), b.key, nil)
	return err
}

// inProcess runs the charm's code for one event over j in a hook
// transaction; with record, the runner j's tools go through is wrapped by
// it (see recorder).
func inProcess(ctx context.Context, j *hooktoolstest.Juju, hc hookenv.Context, key []byte, record *recorder) (hooktools.Runner, error) {
	// As fakejuju takes them from JUJU_RELATION_ID and JUJU_REMOTE_UNIT.
	j.HookRelation, j.RemoteUnit = hc.RelationID, hc.RemoteUnit
	defer func() { j.HookRelation, j.RemoteUnit = "", "" }()
	if err := j.BeginHook(); err != nil {
		return nil, err
	}
	runner := j.Runner()
	if record != nil {
		record.r = runner
		runner = record
	}
	var stderr bytes.Buffer
	err := charm.New(hooktools.New(runner, nil), hc, vsphere.Client{}, charm.Options{Key: key, Stderr: &stderr}).Run(ctx)
	code := 0
	if err != nil {
		code = 1
	}
	if cerr := j.EndHook(code); cerr != nil && err == nil {
		err = cerr
	}
	// The record of calls would grow with every hook.
	forget(j)
	if err != nil {
		return nil, fmt.Errorf("%s (%s %s): %w: %s", hc.Name, hc.RelationID, hc.RemoteUnit, err, stderr.String())
	}
	return runner, nil
}

// hookEnv is what Deployment.Hook (or Deployment.Action) adds to a hook's
// environment, for the charm and for the floor replaying its calls.
func hookEnv(name, rel, remote string) map[string]string {
	if action, ok := strings.CutPrefix(name, actionPrefix); ok {
		return map[string]string{"JUJU_DISPATCH_PATH": "actions/" + action, "JUJU_ACTION_NAME": action, "JUJU_ACTION_UUID": "1"}
	}
	env := map[string]string{}
	if endpoint, _, ok := strings.Cut(name, "-relation-"); ok {
		env["JUJU_RELATION"], env["JUJU_RELATION_ID"] = endpoint, rel
		if remote != "" {
			env["JUJU_REMOTE_UNIT"] = remote
			env["JUJU_REMOTE_APP"], _, _ = strings.Cut(remote, "/")
		}
	}
	return env
}

// scaleOptions are the binaries and settings of the scale table.
type scaleOptions struct {
	charm, fake, floor, toolclock string
	sizes                         []int
	runs                          int
	// profile, when set, gets a CPU profile of the charm's code at the
	// largest size, its hook tools answered from a recording.
	profile string
}

func runScale(ctx context.Context, w io.Writer, o scaleOptions) error {
	work, err := os.MkdirTemp("", "vsphere-integrator-scale-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	for _, p := range []*string{&o.floor, &o.toolclock, &o.fake} {
		if *p, err = filepath.Abs(*p); err != nil {
			return err
		}
	}
	d, err := deploy.New(o.charm, o.fake, work)
	if err != nil {
		return err
	}
	defer d.Close()
	clock, err := installClock(d, o.toolclock, o.fake, filepath.Join(work, "clock-tools"))
	if err != nil {
		return err
	}
	b, err := newScaleBuild(ctx, d)
	if err != nil {
		return err
	}
	m := &measurer{b: b, clock: clock, floor: o.floor, callsPath: filepath.Join(work, "calls.json"), runs: o.runs}
	var rows []scaleRow
	for i, n := range o.sizes {
		start := time.Now()
		if err := b.grow(ctx, n); err != nil {
			return err
		}
		built := time.Since(start)
		if m.snap, err = os.ReadFile(d.StatePath); err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "charmbench: %s units built in %s; the fake's state file is %s\n", thousands(n), built.Round(time.Millisecond), bytesCell(len(m.snap)))
		if o.profile != "" && i == len(o.sizes)-1 {
			// Enough samples of a few milliseconds' work.
			m.inProcessRuns = 500
			stop, err := startProfile(o.profile)
			if err != nil {
				return err
			}
			defer stop()
		}
		for _, ev := range slices.Concat(scaleEvents, scaleActions) {
			m.inProcessRuns = 30
			if ev.vcenter {
				// Each run is a vCenter session: a few are a median.
				m.inProcessRuns = 5
			}
			r, err := m.measure(ctx, ev)
			if err != nil {
				return fmt.Errorf("%d units, %s: %w", n, ev.name, err)
			}
			r.units = n
			rows = append(rows, r)
		}
		// The next size grows from the state as built, not as an event
		// left it.
		if err := os.WriteFile(d.StatePath, m.snap, 0o644); err != nil {
			return err
		}
	}
	writeScaleTable(w, rows, o.runs)
	return nil
}

// stateBytes is what the calls wrote to unit state: state-set's stdin and
// the keys state-delete deleted.
func stateBytes(calls []hooktoolstest.Call) int {
	n := 0
	for _, c := range calls {
		switch c.Tool {
		case "state-set":
			n += len(c.Stdin)
		case "state-delete":
			for _, a := range c.Args {
				n += len(a)
			}
		}
	}
	return n
}

func largestValue(state map[string]string) int {
	n := 0
	for _, v := range state {
		n = max(n, len(v))
	}
	return n
}

// bsonSize is the unit state's size as the controller checks it against
// max-charm-state-size: one BSON document, keys with "." and "$" escaped
// as Mongo needs them (hooktoolstest's checkCommitState does the same).
func bsonSize(state map[string]string) int {
	esc := strings.NewReplacer(".", "\uff0e", "$", "\uff04")
	doc := bson.M{}
	for k, v := range state {
		doc[esc.Replace(k)] = v
	}
	raw, err := bson.Marshal(doc)
	if err != nil {
		return -1
	}
	return len(raw)
}

// Juju's limits the targets are checked against (docs/juju-hook-tools.md,
// "Charm state"), and the issue's own.
const (
	maxStateValue = 16 << 10 // the bound on any one value
	maxStateTotal = 2 << 20  // max-charm-state-size's default
	maxCalls      = 6        // hook-tool calls per relation hook
	maxOwnRatio   = 1.5      // own time at the largest size / at the smallest
	// maxActionWall: an action at the largest size within a tenth of the
	// event's 2-minute deadline (cmd/vsphere-integrator eventDeadline).
	maxActionWall = 12 * time.Second
)

func writeScaleTable(w io.Writer, rows []scaleRow, runs int) {
	fmt.Fprintf(w, "Median of %d runs per event and size: the packed charm run as a process through dispatch, the fake Juju's\n", runs)
	fmt.Fprintf(w, "hook tools on PATH; the units split between clients (kubernetes-worker) and nodes (kubernetes-control-plane).\n")
	fmt.Fprintf(w, "Charm's own: the wall less its hook-tool calls, each timed in the same run (tools/charmbench/toolclock).\n")
	fmt.Fprintf(w, "Charm's code: the same event in process, its hook tools answered from a recording (no process start, no tools).\n")
	fmt.Fprintf(w, "Counts are the least/median/most of the runs; the unit state as the controller counts it (BSON).\n\n")
	fmt.Fprintf(w, "| related units | event | median wall | charm's own | charm's code | fake's cost per call | hook-tool calls | bytes written to unit state | largest unit-state value | unit state |\n")
	fmt.Fprintf(w, "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, r := range rows {
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n",
			thousands(r.units), r.event, ms(r.wall), ms(r.own), ms(r.inProcess), ms(r.perCall), r.calls.cell(), r.written.cell(), bytesCell(r.largest), bytesCell(r.total))
	}
	fmt.Fprintln(w)
	for _, t := range scaleTargets(rows) {
		fmt.Fprintf(w, "- %s\n", t)
	}
	fmt.Fprintln(w)
}

// scaleTargets says, for each target of the issue, whether it holds and
// with what numbers.
func scaleTargets(rows []scaleRow) []string {
	if len(rows) == 0 {
		return nil
	}
	sizes := []int{}
	for _, r := range rows {
		if !slices.Contains(sizes, r.units) {
			sizes = append(sizes, r.units)
		}
	}
	slices.Sort(sizes)
	lo, hi := sizes[0], sizes[len(sizes)-1]
	verdict := func(ok bool) string {
		if ok {
			return "**holds**"
		}
		return "**fails**"
	}
	var events []string
	byEvent := map[string]map[int]scaleRow{}
	for _, r := range rows {
		if !r.relation {
			continue
		}
		if byEvent[r.event] == nil {
			byEvent[r.event] = map[int]scaleRow{}
			events = append(events, r.event)
		}
		byEvent[r.event][r.units] = r
	}
	var out []string
	for _, ev := range events {
		at := byEvent[ev]
		var calls, written []string
		callsOK, writtenOK := true, true
		first := at[lo]
		for _, n := range sizes {
			r := at[n]
			_, c, _ := r.calls.minMedMax()
			_, wr, _ := r.written.minMedMax()
			_, c0, _ := first.calls.minMedMax()
			_, w0, _ := first.written.minMedMax()
			callsOK = callsOK && !r.calls.varies() && c == c0 && c <= maxCalls
			writtenOK = writtenOK && !r.written.varies() && wr == w0
			calls = append(calls, strconv.Itoa(c))
			written = append(written, strconv.Itoa(wr))
		}
		ratio := float64(at[hi].own) / float64(at[lo].own)
		code := float64(at[hi].inProcess) / float64(at[lo].inProcess)
		out = append(out,
			fmt.Sprintf("%s: hook-tool calls the same at every size and ≤ %d: %s (%s)", ev, maxCalls, verdict(callsOK), strings.Join(calls, ", ")),
			fmt.Sprintf("%s: charm's own time at %s units within %.1f× its time at %s: %s (%s against %s, %.2f×; its code alone %s against %s, %.1f×)",
				ev, thousands(hi), maxOwnRatio, thousands(lo), verdict(ratio <= maxOwnRatio), ms(at[hi].own), ms(at[lo].own), ratio,
				ms(at[hi].inProcess), ms(at[lo].inProcess), code),
			fmt.Sprintf("%s: bytes written to unit state independent of the units: %s (%s)", ev, verdict(writtenOK), strings.Join(written, ", ")))
	}
	var actions []string
	byAction := map[string]map[int]scaleRow{}
	for _, r := range rows {
		if !r.action {
			continue
		}
		if byAction[r.event] == nil {
			byAction[r.event] = map[int]scaleRow{}
			actions = append(actions, r.event)
		}
		byAction[r.event][r.units] = r
	}
	for _, ev := range actions {
		at := byAction[ev]
		var calls []string
		same := true
		_, c0, _ := at[lo].calls.minMedMax()
		for _, n := range sizes {
			_, c, _ := at[n].calls.minMedMax()
			same = same && !at[n].calls.varies() && c == c0
			calls = append(calls, strconv.Itoa(c))
		}
		out = append(out,
			fmt.Sprintf("%s: hook-tool calls the same at every size: %s (%s); wall at %s units within %s: %s (%s)",
				ev, verdict(same), strings.Join(calls, ", "), thousands(hi), maxActionWall, verdict(at[hi].wall <= maxActionWall), ms(at[hi].wall)))
	}
	largest, total := 0, 0
	for _, r := range rows {
		if r.units == hi {
			largest, total = max(largest, r.largest), max(total, r.total)
		}
	}
	out = append(out,
		fmt.Sprintf("no unit-state value over 16 KiB at %s units: %s (largest %s)", thousands(hi), verdict(largest <= maxStateValue), bytesCell(largest)),
		fmt.Sprintf("unit state within max-charm-state-size (2 MiB by default) at %s units: %s (%s, %.0f%% of it; about %.0f B a unit, so 2 MiB holds about %s)",
			thousands(hi), verdict(total <= maxStateTotal), bytesCell(total), 100*float64(total)/maxStateTotal,
			float64(total)/float64(hi), thousands(int(math.Round(maxStateTotal*float64(hi)/float64(total)/1000))*1000)))
	return out
}

// parseSizes reads "10,100,1000".
func parseSizes(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("-scale: %q is not a number of units", f)
		}
		out = append(out, n)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// thousands writes 5000 as 5,000.
func thousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func bytesCell(n int) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.2f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	default:
		return fmt.Sprintf("%d B", n)
	}
}
