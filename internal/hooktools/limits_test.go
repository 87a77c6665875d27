package hooktools_test

import (
	"context"
	"errors"
	"html"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/charmed-kubernetes/vsphere-integrator/internal/hooktools"
	"github.com/charmed-kubernetes/vsphere-integrator/internal/hooktools/hooktoolstest"
	"github.com/charmed-kubernetes/vsphere-integrator/internal/redact"
)

const pw = `S3cr&t<"pw">`

// soapFault is what a proxy answering Login might say: the request it
// refused, quoted, the password XML-escaped in it.
func soapFault(n int) string {
	return "ServerFaultCode: refused <Login><userName>k8s</userName><password>" +
		html.EscapeString(pw) + "</password></Login>" + strings.Repeat("é", n)
}

// TestTextIsRedactedAndBounded: every tool that carries text sends it
// without any form of a registered secret, within its bound, marked as cut;
// the in-memory Juju (which refuses what the kernel and Juju refuse) takes
// every call.
func TestTextIsRedactedAndBounded(t *testing.T) {
	ctx := context.Background()
	long := soapFault(200 * 1024)
	tests := []struct {
		tool  string
		bound int
		run   func(h *hooktools.Tools) error
	}{
		{"status-set", hooktools.MaxStatus, func(h *hooktools.Tools) error {
			return h.StatusSet(ctx, hooktools.StatusBlocked, long)
		}},
		{"juju-log", hooktools.MaxLog, func(h *hooktools.Tools) error { return h.Log(ctx, hooktools.LevelError, long) }},
		{"application-version-set", hooktools.MaxVersion, func(h *hooktools.Tools) error { return h.ApplicationVersionSet(ctx, long) }},
		{"action-fail", hooktools.MaxActionFail, func(h *hooktools.Tools) error { return h.ActionFail(ctx, long) }},
		{"action-set", len("reason=") + hooktools.MaxActionValue, func(h *hooktools.Tools) error {
			return h.ActionSet(ctx, map[string]any{"reason": long})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.tool, func(t *testing.T) {
			j := hooktoolstest.New("vsphere-integrator/0")
			require.NoError(t, j.StartAction("verify", nil))
			var s redact.Secrets
			s.Add(pw)
			require.NoError(t, tt.run(hooktools.New(j.Runner(), &s)))
			calls := j.CallsTo(tt.tool)
			require.Len(t, calls, 1)
			arg := calls[0].Args[len(calls[0].Args)-1]
			assert.LessOrEqual(t, len(arg), tt.bound)
			assert.True(t, utf8.ValidString(arg))
			assert.True(t, strings.HasSuffix(arg, redact.CutMark), "marked as cut")
			assert.Contains(t, arg, redact.Mask)
			for _, f := range redact.Forms(pw) {
				assert.NotContains(t, arg, f)
			}
		})
	}
}

// TestShortTextIsOnlyRedacted: a short message loses its secret and nothing
// else.
func TestShortTextIsOnlyRedacted(t *testing.T) {
	r := &recorder{}
	var s redact.Secrets
	s.Add(pw)
	h := hooktools.New(r, &s)
	require.NoError(t, h.StatusSet(context.Background(), hooktools.StatusBlocked, soapFault(0)))
	assert.Equal(t, []string{"blocked", "ServerFaultCode: refused <Login><userName>k8s</userName><password>[redacted]</password></Login>"}, r.calls[0].Args)
	require.NoError(t, h.Log(context.Background(), hooktools.LevelInfo, "as "+pw))
	assert.Equal(t, []string{"-l", "INFO", "as [redacted]"}, r.calls[1].Args)
}

// TestSecretsAddedLater: the charm registers a secret after New, as it
// reads it; the tools use it from then on.
func TestSecretsAddedLater(t *testing.T) {
	r := &recorder{}
	h := hooktools.New(r, nil)
	h.Secrets().Add(pw)
	require.NoError(t, h.ActionFail(context.Background(), "login "+pw+" refused"))
	assert.Equal(t, []string{"login [redacted] refused"}, r.calls[0].Args)
}

// TestActionSetShown: the one result the user asked to see keeps the
// secret; ActionSet does not.
func TestActionSetShown(t *testing.T) {
	ctx := context.Background()
	r := &recorder{}
	h := hooktools.New(r, nil)
	h.Secrets().Add(pw)
	require.NoError(t, h.ActionSet(ctx, map[string]any{"config": "password = " + pw}))
	require.NoError(t, h.ActionSetShown(ctx, map[string]any{"config": "password = " + pw}))
	assert.Equal(t, []string{"config=password = [redacted]"}, r.calls[0].Args)
	assert.Equal(t, []string{"config=password = " + pw}, r.calls[1].Args)
}

// TestActionSetSplitsLongResults: results longer than one command line
// takes go in several action-set calls, each within the kernel's limits.
func TestActionSetSplitsLongResults(t *testing.T) {
	ctx := context.Background()
	j := hooktoolstest.New("vsphere-integrator/0")
	require.NoError(t, j.StartAction("verify", nil))
	results := map[string]any{}
	for i := 0; i < 30; i++ {
		results[strings.Repeat("k", i+1)] = strings.Repeat("v", 90*1024)
	}
	require.NoError(t, hooktools.New(j.Runner(), nil).ActionSet(ctx, results))
	assert.Greater(t, len(j.CallsTo("action-set")), 1)
	assert.Len(t, j.Action.Results, 30, "every result set")
}

// TestStateSetBounds: state values are redacted, and one over MaxStateValue
// is refused before anything runs, with an error that is the charm's, not
// Juju's.
func TestStateSetBounds(t *testing.T) {
	ctx := context.Background()
	r := &recorder{}
	h := hooktools.New(r, nil)
	h.Secrets().Add(pw)
	require.NoError(t, h.StateSet(ctx, map[string]string{"record": `{"reason":"` + pw + `"}`}))
	assert.Equal(t, "record: '{\"reason\":\"[redacted]\"}'\n", r.calls[0].Stdin)

	err := h.StateSet(ctx, map[string]string{"record": strings.Repeat("x", hooktools.MaxStateValue+1), "other": "y"})
	require.ErrorIs(t, err, hooktools.ErrTooLong)
	var limit *hooktools.LimitError
	require.ErrorAs(t, err, &limit)
	assert.Equal(t, hooktools.MaxStateValue+1, limit.Len)
	var tool *hooktools.ToolError
	assert.False(t, errors.As(err, &tool), "not a hook tool's failure")
	assert.Len(t, r.calls, 1, "nothing ran")
	assert.Less(t, hooktools.MaxStateValue, hooktoolstest.MaxCharmStateValueSize)
}

// TestArgGuard: an argument the kernel would refuse is never passed, for
// any tool.
func TestArgGuard(t *testing.T) {
	r := &recorder{}
	_, err := hooktools.New(r, nil).RelationIDs(context.Background(), strings.Repeat("c", hooktools.MaxArg+1))
	require.ErrorIs(t, err, hooktools.ErrTooLong)
	assert.Empty(t, r.calls)
}

// TestActionSetListsRedactedBeforeJSON: a list of strings is encoded as
// JSON; a form of the secret inside is removed before, since JSON-escaping
// it again would make it none of its forms.
func TestActionSetListsRedactedBeforeJSON(t *testing.T) {
	r := &recorder{}
	h := hooktools.New(r, nil)
	h.Secrets().Add(pw)
	xmlForm := html.EscapeString(pw)
	require.NoError(t, h.ActionSet(context.Background(), map[string]any{
		"names": []string{"vm-" + xmlForm},
		"nodes": map[string]any{"n0": map[string]any{"vms": []any{"a " + pw}}},
	}))
	assert.Equal(t, []string{`names=["vm-[redacted]"]`, `nodes.n0.vms=["a [redacted]"]`}, r.calls[0].Args)
}
