package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/charmed-kubernetes/vsphere-integrator/internal/hooktools/hooktoolstest"
	"github.com/charmed-kubernetes/vsphere-integrator/tools/deploy"
)

func TestParseSizes(t *testing.T) {
	got, err := parseSizes("1000, 10,100,10")
	require.NoError(t, err)
	assert.Equal(t, []int{10, 100, 1000}, got, "sorted, each once")
	for _, bad := range []string{"", "10,x", "0", "-5"} {
		_, err := parseSizes(bad)
		assert.Error(t, err, "%q", bad)
	}
}

func TestCells(t *testing.T) {
	assert.Equal(t, "10", thousands(10))
	assert.Equal(t, "5,000", thousands(5000))
	assert.Equal(t, "1,234,567", thousands(1234567))
	assert.Equal(t, "401 B", bytesCell(401))
	assert.Equal(t, "284.4 KiB", bytesCell(291226))
	assert.Equal(t, "1.36 MiB", bytesCell(1426063))
}

// TestStateBytes: state-set counts its stdin, state-delete its keys, and
// nothing else counts.
func TestStateBytes(t *testing.T) {
	calls := []hooktoolstest.Call{
		{Tool: "state-get", Args: []string{"--format=json"}},
		{Tool: "state-set", Args: []string{"--file", "-"}, Stdin: "node:clients:0 kubernetes-worker/9000: '\"10.200.0.1\"'\n"},
		{Tool: "state-delete", Args: []string{"node:clients:0 kubernetes-worker/0"}},
		{Tool: "relation-set", Args: []string{"-r", "clients:0", "--file", "-"}, Stdin: "password: secret\n"},
	}
	assert.Equal(t, 54+34, stateBytes(calls))
}

// TestLearn: the build learns the one record a joined hook writes, then
// stops at a hook that writes another, or more, or deletes.
func TestLearn(t *testing.T) {
	b := &scaleBuild{j: hooktoolstest.New("vsphere-integrator/0")}
	b.j.State = map[string]string{"check": "{}"}
	set := func(kv ...string) map[string]string {
		before := map[string]string{}
		for k, v := range b.j.State {
			before[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			b.j.State[kv[i]] = kv[i+1]
		}
		return before
	}
	// The first joined hook marks the records complete too.
	require.NoError(t, b.learn(set("nodes-known", "1", "node:clients:0 kubernetes-worker/0", `"10.1.0.0"`), "clients:0", "kubernetes-worker/0", "10.1.0.0"))
	assert.Nil(t, b.record)
	require.NoError(t, b.learn(set("node:nodes:1 kubernetes-control-plane/0", `"10.1.0.1"`), "nodes:1", "kubernetes-control-plane/0", "10.1.0.1"))
	require.NotNil(t, b.record)
	k, v := b.record.of("clients:0", "kubernetes-worker/7", "10.1.0.14")
	assert.Equal(t, "node:clients:0 kubernetes-worker/7", k)
	assert.Equal(t, `"10.1.0.14"`, v)

	require.NoError(t, b.learn(set("node:clients:0 kubernetes-worker/1", `"10.1.0.2"`), "clients:0", "kubernetes-worker/1", "10.1.0.2"))
	assert.ErrorContains(t, b.learn(set("node:clients:0 kubernetes-worker/2", `{"addr":"10.1.0.4"}`), "clients:0", "kubernetes-worker/2", "10.1.0.4"),
		"where the build writes", "a record of another form")
	assert.ErrorContains(t, b.learn(set("node:clients:0 kubernetes-worker/3", `"10.1.0.6"`, "check", "{ }"), "clients:0", "kubernetes-worker/3", "10.1.0.6"),
		"wrote 2 keys", "a joined hook that writes more than its unit's record")
	before := set()
	delete(b.j.State, "check")
	assert.ErrorContains(t, b.learn(before, "clients:0", "kubernetes-worker/4", "10.1.0.8"), `deleted "check"`)
}

func scaleRows(ev string, relation bool, own map[int]time.Duration, calls, written int) []scaleRow {
	var rows []scaleRow
	for _, n := range []int{10, 5000} {
		rows = append(rows, scaleRow{units: n, event: ev, relation: relation, own: own[n], inProcess: own[n] / 4,
			calls: counts{calls, calls, calls}, written: counts{written, written, written}, largest: 401, total: 291226})
	}
	return rows
}

// TestScaleTargets: each target says holds or fails with its numbers;
// update-status is no relation hook and has no targets of its own.
func TestScaleTargets(t *testing.T) {
	rows := append(scaleRows("relation-joined (a new unit)", true, map[int]time.Duration{10: 7500 * time.Microsecond, 5000: 19200 * time.Microsecond}, 6, 54),
		scaleRows("update-status (nothing changed)", false, map[int]time.Duration{10: time.Millisecond, 5000: time.Second}, 9, 0)...)
	got := strings.Join(scaleTargets(rows), "\n")
	assert.Contains(t, got, "relation-joined (a new unit): hook-tool calls the same at every size and ≤ 6: **holds** (6, 6)")
	assert.Contains(t, got, "relation-joined (a new unit): charm's own time at 5,000 units within 1.5× its time at 10: **fails** (19.2 ms against 7.5 ms, 2.56×")
	assert.Contains(t, got, "relation-joined (a new unit): bytes written to unit state independent of the units: **holds** (54, 54)")
	assert.Contains(t, got, "no unit-state value over 16 KiB at 5,000 units: **holds** (largest 401 B)")
	assert.Contains(t, got, "within max-charm-state-size (2 MiB by default) at 5,000 units: **holds** (284.4 KiB, 14% of it; about 58 B a unit, so 2 MiB holds about 36,000)")
	assert.NotContains(t, got, "update-status")

	rows[1].calls = counts{6, 7, 7}
	rows[1].written = counts{54, 56, 56}
	got = strings.Join(scaleTargets(rows), "\n")
	assert.Contains(t, got, "≤ 6: **fails** (6, 7)")
	assert.Contains(t, got, "independent of the units: **fails** (54, 56)")

	var out bytes.Buffer
	writeScaleTable(&out, rows, 5)
	for _, line := range strings.Split(out.String(), "\n") {
		if strings.HasPrefix(line, "|") {
			assert.Equal(t, 11, strings.Count(line, "|"), "every row has the header's columns: %s", line)
		}
	}
}

func TestToolClockTotal(t *testing.T) {
	dir := t.TempDir()
	d := &deploy.Deployment{ToolsDir: "fake-tools"}
	c := &toolClock{d: d, real: d.ToolsDir, dir: "clock-tools", file: filepath.Join(dir, "toolclock.log")}
	require.NoError(t, c.on())
	assert.Equal(t, "clock-tools", d.ToolsDir, "on: toolclock first on PATH")
	c.off()
	assert.Equal(t, "fake-tools", d.ToolsDir, "off: the fake's tools")
	require.NoError(t, os.WriteFile(c.file, []byte("state-get 1500000\nstate-set 2500000\n"), 0o644))
	sum, n, err := c.total()
	require.NoError(t, err)
	assert.Equal(t, 4*time.Millisecond, sum)
	assert.Equal(t, 2, n)
	require.NoError(t, c.on(), "on starts a new count")
	_, n, err = c.total()
	require.NoError(t, err)
	assert.Zero(t, n)
	require.NoError(t, os.WriteFile(c.file, []byte("state-get soon\n"), 0o644))
	_, _, err = c.total()
	assert.Error(t, err)
}

// TestScaleTargetsActions: each action's calls must not change with the
// units, and its wall at the largest size must stay within a tenth of the
// event's deadline.
func TestScaleTargetsActions(t *testing.T) {
	row := func(n, calls int, wall time.Duration) scaleRow {
		return scaleRow{units: n, event: "action check-prerequisites", action: true, wall: wall, calls: counts{calls, calls, calls}}
	}
	got := strings.Join(scaleTargets([]scaleRow{row(10, 11, 200*time.Millisecond), row(5000, 11, 3*time.Second)}), "\n")
	assert.Contains(t, got, "action check-prerequisites: hook-tool calls the same at every size: **holds** (11, 11); wall at 5,000 units within 12s: **holds** (3000.0 ms)")
	got = strings.Join(scaleTargets([]scaleRow{row(10, 11, 200*time.Millisecond), row(5000, 5011, 500*time.Second)}), "\n")
	assert.Contains(t, got, "action check-prerequisites: hook-tool calls the same at every size: **fails** (11, 5011); wall at 5,000 units within 12s: **fails** (500000.0 ms)")
}
