package charm

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/charmed-kubernetes/vsphere-integrator/internal/hookenv"
)

// eventFields are what a hook context says about the event, rather than
// about the unit: only plan.go reads them.
var eventFields = map[string]bool{
	"Name": true, "Kind": true, "ActionName": true, "RelationHook": true,
	"RelationEndpoint": true, "RelationID": true, "RemoteUnit": true, "RemoteApp": true, "DepartingUnit": true,
}

// TestOnlyThePlanReadsTheEvent: no production file but plan.go reads the
// event from the hook context (hc.Name, c.hc.RelationHook(), ...), so that
// what an event does is decided in one table.
func TestOnlyThePlanReadsTheEvent(t *testing.T) {
	files, err := filepath.Glob("*.go")
	require.NoError(t, err)
	fset := token.NewFileSet()
	var found []string
	checked := 0
	for _, name := range files {
		if name == "plan.go" || strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		require.NoError(t, err)
		checked++
		found = append(found, eventReads(fset, f)...)
	}
	require.Greater(t, checked, 5, "the package's files were read")
	assert.Empty(t, found, "only plan.go reads the event")
}

// eventReads lists where f reads an event field of a hookenv.Context
// named hc (a variable, or a field as in c.hc).
func eventReads(fset *token.FileSet, f *ast.File) []string {
	var out []string
	ast.Inspect(f, func(n ast.Node) bool {
		sel, ok := n.(*ast.SelectorExpr)
		if !ok || !eventFields[sel.Sel.Name] {
			return true
		}
		switch x := sel.X.(type) {
		case *ast.Ident:
			ok = x.Name == "hc"
		case *ast.SelectorExpr:
			ok = x.Sel.Name == "hc"
		default:
			ok = false
		}
		if ok {
			out = append(out, fset.Position(sel.Pos()).String()+": ."+sel.Sel.Name)
		}
		return true
	})
	return out
}

func TestEventReadsFound(t *testing.T) {
	src := `package charm
func (c *Charm) f(hc hookenv.Context) bool {
	_, _, ok := c.hc.RelationHook()
	return hc.Name == "update-status" || ok || c.hc.Unit == ""
}`
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "x.go", src, 0)
	require.NoError(t, err)
	got := eventReads(fset, f)
	require.Len(t, got, 2, "%v", got)
	assert.Contains(t, got[0], ".RelationHook")
	assert.Contains(t, got[1], ".Name")
}

// TestPlanFor: what each kind of event is decided to do.
func TestPlanFor(t *testing.T) {
	hook := func(name string) hookenv.Context {
		return hookenv.Context{Kind: hookenv.KindHook, Name: name, Unit: unit}
	}
	rel := func(name, id, remote string) hookenv.Context {
		hc := hook(name)
		hc.RelationID, hc.RemoteUnit = id, remote
		hc.RemoteApp, _, _ = strings.Cut(remote, "/")
		return hc
	}

	p := planFor(hook("update-status"))
	assert.True(t, p.sweep && p.check == checkIfStale && p.publish == publishAll && p.read == readAll && !p.quiet)
	assert.NotNil(t, p.run)
	assert.Equal(t, "update-status", p.event)

	p = planFor(hook("upgrade-charm"))
	assert.True(t, p.versionAlways && p.nodes == nodesReread && p.check == checkOnEvent && !p.sweep)

	for _, name := range []string{"install", "config-changed", "leader-elected"} {
		assert.Equal(t, checkOnEvent, planFor(hook(name)).check, name)
	}
	for _, name := range []string{"start", "stop", "remove", "leader-settings-changed"} {
		p := planFor(hook(name))
		assert.True(t, p.run != nil && p.check == checkIfChanged && p.publish == publishAll, name)
	}

	p = planFor(rel("clients-relation-created", "clients:3", ""))
	assert.True(t, p.fresh && p.recordApp && p.quiet && p.read == readRecord && p.publish == publishThisRelation && p.member == relationCreated)
	assert.Equal(t, "clients:3", p.rel.id)

	p = planFor(rel("clients-relation-changed", "clients:3", "kubernetes-worker/1"))
	assert.True(t, !p.fresh && p.member == unitJoined && p.publish == publishThisRelation)
	assert.Equal(t, relationFacts{id: "clients:3", unit: "kubernetes-worker/1", app: "kubernetes-worker"}, p.rel)

	p = planFor(rel("nodes-relation-joined", "nodes:4", "kubernetes-control-plane/0"))
	assert.True(t, !p.recordApp && p.publish == publishNone && p.member == unitJoined && p.read == readRecord)

	hc := rel("clients-relation-departed", "clients:3", "kubernetes-worker/1")
	hc.DepartingUnit = "kubernetes-worker/2"
	p = planFor(hc)
	assert.True(t, p.member == unitDeparted && p.publish == publishNone && p.run != nil)
	assert.Equal(t, "kubernetes-worker/2", p.rel.unit, "JUJU_DEPARTING_UNIT names who leaves")

	p = planFor(rel("nodes-relation-broken", "nodes:4", ""))
	assert.True(t, p.member == relationBroken && p.publish == publishNone && p.run != nil)

	for _, name := range []string{"other-relation-joined", "secret-changed", "pre-series-upgrade", "clients-relation-other"} {
		p := planFor(rel(name, "other:1", "x/0"))
		assert.Nil(t, p.run, "%s changes nothing", name)
	}

	p = planFor(hookenvAction("check-prerequisites"))
	assert.True(t, p.action && p.check == checkNow && p.nodes == nodesRelisted && p.publish == publishAll && p.read == readAll)
	p = planFor(hookenvAction("refresh-credentials"))
	assert.True(t, p.action && p.check == checkNow && p.nodes == nodesRecorded)
	p = planFor(hookenvAction("no-such-action"))
	assert.True(t, p.action && p.run != nil, "an unknown action fails saying so")
}

// TestEveryActionPlanned: each action actions.yaml declares has a plan.
func TestEveryActionPlanned(t *testing.T) {
	raw, err := os.ReadFile("../../actions.yaml")
	require.NoError(t, err)
	var actions map[string]any
	require.NoError(t, yaml.Unmarshal(raw, &actions))
	require.NotEmpty(t, actions)
	for name := range actions {
		_, ok := plans[hookenv.KindAction][name]
		assert.True(t, ok, name)
	}
	assert.Len(t, plans[hookenv.KindAction], len(actions))
}
