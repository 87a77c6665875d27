package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/charmed-kubernetes/vsphere-integrator/internal/charm"
	"github.com/charmed-kubernetes/vsphere-integrator/internal/hookenv"
	"github.com/charmed-kubernetes/vsphere-integrator/internal/hooktools"
	"github.com/charmed-kubernetes/vsphere-integrator/internal/hooktools/hooktoolstest"
	"github.com/charmed-kubernetes/vsphere-integrator/internal/vsphere"
	"github.com/charmed-kubernetes/vsphere-integrator/tools/deploy"
)

// How the scale table takes an event apart, for each run:
//
//  1. the packed charm runs through dispatch with the fake's tools on PATH:
//     the wall, the calls, the bytes written and the state left;
//  2. it runs again with tools/charmbench/toolclock in front of each tool,
//     which times every call of that run (W, and Σ of the calls);
//  3. the floor replays the calls of 1, also through toolclock (R, and Σ
//     of its calls), and a floor making no call starts and exits (F).
//
// A call costs what toolclock saw plus the starting of toolclock itself,
// which it cannot see: (R − Σ − F) over the calls, from the replay. The
// charm's own time is W less all of its calls' cost. Every term is of the
// same run, so the fake's spread, which grows with its state file, does
// not land in the difference.
type measurer struct {
	b         *scaleBuild
	clock     *toolClock
	floor     string
	callsPath string
	runs      int
	// snap is the state file every run starts from.
	snap []byte
	// inProcessRuns of the charm's code alone, for its median.
	inProcessRuns int
}

// from resets the state to the snapshot and makes the event's change.
func (m *measurer) from(ev scaleEvent) (hook, rel, remote string, err error) {
	if err = os.WriteFile(m.b.d.StatePath, m.snap, 0o644); err != nil {
		return
	}
	err = m.b.d.Update(func(j *hooktoolstest.Juju) { hook, rel, remote = ev.prepare(m.b, j) })
	return
}

func (m *measurer) measure(ctx context.Context, ev scaleEvent) (scaleRow, error) {
	d := m.b.d
	r := scaleRow{event: ev.name, relation: ev.relation, action: ev.vcenter}
	var walls, owns, perCalls []time.Duration
	for range m.runs {
		// 1: as it is.
		hook, rel, remote, err := m.from(ev)
		if err != nil {
			return r, err
		}
		m.clock.off()
		res, err := m.run(ctx, hook, rel, remote)
		if err := ok(res, err); err != nil {
			return r, err
		}
		if failed := callsOf(res.Calls, "action-fail"); len(failed) > 0 {
			return r, fmt.Errorf("%s failed: %v", hook, failed[0].Args)
		}
		if res.Requests > 0 && !ev.vcenter {
			return r, fmt.Errorf("%s made %d SOAP requests: it checked, so it is not the event meant", hook, res.Requests)
		}
		after, err := d.Juju()
		if err != nil {
			return r, err
		}
		if after.Status.Name != "active" {
			return r, fmt.Errorf("%s left status %s: %s", hook, after.Status.Name, after.Status.Message)
		}
		r.largest, r.total = largestValue(after.State), bsonSize(after.State)
		r.calls = append(r.calls, len(res.Calls))
		r.written = append(r.written, stateBytes(res.Calls))
		walls = append(walls, res.Wall)
		if len(res.Calls) == 0 {
			owns = append(owns, res.Wall)
			continue
		}

		// 2: each call timed.
		if _, _, _, err := m.from(ev); err != nil {
			return r, err
		}
		timed, sum, err := m.timed(func() (deploy.Run, error) { return m.run(ctx, hook, rel, remote) })
		if err != nil {
			return r, err
		}
		if len(timed.Calls) != len(res.Calls) {
			return r, fmt.Errorf("%s made %d calls timed, %d not", hook, len(timed.Calls), len(res.Calls))
		}

		// 3: the same calls from the floor, and the floor alone.
		raw, err := json.Marshal(res.Calls)
		if err != nil {
			return r, err
		}
		if err := os.WriteFile(m.callsPath, raw, 0o644); err != nil {
			return r, err
		}
		if _, _, _, err := m.from(ev); err != nil {
			return r, err
		}
		replay, replaySum, err := m.timed(func() (deploy.Run, error) {
			return d.Exec(ctx, "floor replay", []string{m.floor, "replay", m.callsPath}, hookEnv(hook, rel, remote))
		})
		if err != nil {
			return r, err
		}
		empty, err := d.Exec(ctx, "floor 0", []string{m.floor, "0"}, nil)
		if err := ok(empty, err); err != nil {
			return r, err
		}
		unseen := max(replay.Wall-replaySum-empty.Wall, 0)
		tools := sum + unseen
		owns = append(owns, timed.Wall-tools)
		perCalls = append(perCalls, tools/time.Duration(len(res.Calls)))
	}
	r.wall, r.own = median(walls), median(owns)
	if len(perCalls) > 0 {
		r.perCall = median(perCalls)
	}
	_, calls, _ := r.calls.minMedMax()
	var err error
	if r.inProcess, err = m.inProcess(ctx, ev, calls); err != nil {
		return r, err
	}
	return r, nil
}

// run runs the event as the unit agent does: a hook, or an action
// started by the event's prepare.
func (m *measurer) run(ctx context.Context, hook, rel, remote string) (deploy.Run, error) {
	if strings.HasPrefix(hook, actionPrefix) {
		return m.b.d.Exec(ctx, hook, nil, hookEnv(hook, rel, remote))
	}
	return m.b.d.Hook(ctx, hook, rel, remote)
}

func callsOf(calls []hooktoolstest.Call, tool string) []hooktoolstest.Call {
	var out []hooktoolstest.Call
	for _, c := range calls {
		if c.Tool == tool {
			out = append(out, c)
		}
	}
	return out
}

// timed runs f with toolclock in front of the tools, and returns its run
// and the sum of its calls' times.
func (m *measurer) timed(f func() (deploy.Run, error)) (deploy.Run, time.Duration, error) {
	if err := m.clock.on(); err != nil {
		return deploy.Run{}, 0, err
	}
	defer m.clock.off()
	res, err := f()
	if err := ok(res, err); err != nil {
		return res, 0, err
	}
	sum, n, err := m.clock.total()
	if err != nil {
		return res, 0, err
	}
	if n != len(res.Calls) {
		return res, 0, fmt.Errorf("%s: toolclock timed %d calls of %d", res.Event, n, len(res.Calls))
	}
	return res, sum, nil
}

// inProcess is the median time of the charm's code alone for the event:
// run once in process over the fake (in memory) to record what each hook
// tool answered, then again and again with the tools answered from that
// recording, so that nothing but the charm's code (decoding those answers
// among it) is timed. Process start and the tools' own time are not in it.
func (m *measurer) inProcess(ctx context.Context, ev scaleEvent, calls int) (time.Duration, error) {
	hook, rel, remote, err := m.from(ev)
	if err != nil {
		return 0, err
	}
	j, err := m.b.d.Juju()
	if err != nil {
		return 0, err
	}
	hc := hookContext(m.b.d.CharmDir, hook, rel, remote)
	rec := &recorder{}
	if _, err := inProcess(ctx, j, hc, m.b.key, rec); err != nil {
		return 0, err
	}
	if len(rec.calls) != calls {
		return 0, fmt.Errorf("in process the charm made %d calls, as a process %d", len(rec.calls), calls)
	}
	var times []time.Duration
	// Labelled, so that a profile (-scale-profile) shows these runs alone
	// with -tagfocus 'event=...'.
	pprof.Do(ctx, pprof.Labels("event", ev.name), func(ctx context.Context) {
		for range m.inProcessRuns {
			start := time.Now()
			if err = runCanned(ctx, hc, m.b.key, rec.calls, ev.vcenter); err != nil {
				return
			}
			times = append(times, time.Since(start))
		}
	})
	if err != nil {
		return 0, err
	}
	return median(times), nil
}

// recorded is one hook-tool call and its answer.
type recorded struct {
	tool string
	args []string
	out  []byte
	err  error
}

// recorder is a hooktools.Runner that keeps every answer of r.
type recorder struct {
	r     hooktools.Runner
	calls []recorded
}

func (rec *recorder) Run(ctx context.Context, tool string, args []string, stdin []byte) ([]byte, error) {
	out, err := rec.r.Run(ctx, tool, args, stdin)
	rec.calls = append(rec.calls, recorded{tool: tool, args: slices.Clone(args), out: slices.Clone(out), err: err})
	return out, err
}

// canned answers each call from a recording, in order; a call other than
// the one recorded is an error, so the charm walks the recorded path. With
// loose, only the tool must match: an event that talks to vCenter says how
// long that took in its arguments.
type canned struct {
	calls []recorded
	next  int
	loose bool
}

func (c *canned) Run(_ context.Context, tool string, args []string, _ []byte) ([]byte, error) {
	if c.next >= len(c.calls) || c.calls[c.next].tool != tool || (!c.loose && !slices.Equal(c.calls[c.next].args, args)) {
		return nil, fmt.Errorf("canned: call %d is %s %v, not the recorded one", c.next, tool, args)
	}
	r := c.calls[c.next]
	c.next++
	return r.out, r.err
}

func runCanned(ctx context.Context, hc hookenv.Context, key []byte, calls []recorded, loose bool) error {
	c := &canned{calls: calls, loose: loose}
	if err := charm.New(hooktools.New(c, nil), hc, vsphere.Client{}, charm.Options{Key: key, Stderr: io.Discard}).Run(ctx); err != nil {
		return err
	}
	if c.next != len(calls) {
		return fmt.Errorf("canned: %d calls of %d recorded", c.next, len(calls))
	}
	return nil
}

// toolClock puts tools/charmbench/toolclock in front of the fake's tools
// when on, and reads what it timed.
type toolClock struct {
	d               *deploy.Deployment
	real, dir, file string
}

// installClock links every tool name in dir to toolclock and tells it,
// beside the fake's state file, where the fakejuju binary is and where to
// write.
func installClock(d *deploy.Deployment, toolclock, fake, dir string) (*toolClock, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	if err := hooktoolstest.InstallTools(dir, toolclock); err != nil {
		return nil, err
	}
	c := &toolClock{d: d, real: d.ToolsDir, dir: dir, file: filepath.Join(filepath.Dir(dir), "toolclock.log")}
	cfg := fake + "\n" + c.file + "\n"
	if err := os.WriteFile(d.StatePath+".toolclock", []byte(cfg), 0o644); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *toolClock) on() error {
	c.d.ToolsDir = c.dir
	return os.WriteFile(c.file, nil, 0o644)
}

func (c *toolClock) off() { c.d.ToolsDir = c.real }

// total is the sum of the times written since on, and how many.
func (c *toolClock) total() (time.Duration, int, error) {
	raw, err := os.ReadFile(c.file)
	if err != nil {
		return 0, 0, err
	}
	var sum time.Duration
	n := 0
	for _, line := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
		if line == "" {
			continue
		}
		_, ns, ok := strings.Cut(line, " ")
		v, err := strconv.ParseInt(ns, 10, 64)
		if !ok || err != nil {
			return 0, 0, fmt.Errorf("toolclock wrote %q", line)
		}
		sum += time.Duration(v)
		n++
	}
	return sum, n, nil
}

// startProfile starts a CPU profile into path; stop ends and writes it.
func startProfile(path string) (stop func(), err error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		return nil, errors.Join(err, f.Close())
	}
	return func() {
		pprof.StopCPUProfile()
		_ = f.Close()
	}, nil
}
