package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// same is n runs that each counted v.
func same(v, n int) counts {
	c := make(counts, n)
	for i := range c {
		c[i] = v
	}
	return c
}

// dedicatedRows are a run in which every claim holds: nothing in vCenter
// for the quiet and served events, one vCenter and one SSO session for the
// new application's joined hook.
func dedicatedRows() []dedicatedRow {
	row := func(event, mode string, calls, sessions, sso, requests, ssoRequests int) dedicatedRow {
		return dedicatedRow{event: event, mode: mode, wall: 120 * time.Millisecond, calls: same(calls, 3),
			sessions: same(sessions, 3), ssoSessions: same(sso, 3), requests: same(requests, 3), ssoRequests: same(ssoRequests, 3)}
	}
	rotateShared := row(evRotate, "shared", 10, 1, 0, 6, 0)
	rotateShared.failed = 3
	return []dedicatedRow{
		row(evQuiet, "shared", 5, 0, 0, 0, 0),
		row(evServed, "shared", 6, 0, 0, 0, 0),
		rotateShared,
		row(evCreated, "shared", 6, 0, 0, 0, 0),
		row(evJoined, "shared", 6, 0, 0, 0, 0),
		row(evQuiet, "dedicated", 10, 0, 0, 0, 0),
		row(evServed, "dedicated", 11, 0, 0, 0, 0),
		row(evRotate, "dedicated", 23, 2, 1, 39, 9),
		row(evCreated, "dedicated", 11, 0, 0, 0, 0),
		row(evJoined, "dedicated", 19, 1, 1, 15, 7),
	}
}

func claims(rows []dedicatedRow) string { return strings.Join(dedicatedClaims(rows), "\n") }

// TestWriteDedicatedTable: a row per event and mode with every column,
// an action refused marked with how often, a count that varied marked and
// said under the table, and the claims after it.
func TestWriteDedicatedTable(t *testing.T) {
	rows := dedicatedRows()
	rows[8].calls = counts{11, 12, 13}
	var out bytes.Buffer
	writeDedicatedTable(&out, rows, 3)
	got := out.String()

	assert.Contains(t, got, "| update-status (nothing due) | dedicated | 10/10/10 | 0/0/0 | 0/0/0 | 0/0/0 | 0/0/0 | 120.0 ms |\n")
	assert.Contains(t, got, "| action rotate-credentials (action failed in 3 of 3 runs) | shared | 10/10/10 | 1/1/1 | 0/0/0 | 6/6/6 | 0/0/0 | 120.0 ms |\n")
	assert.Contains(t, got, "| action rotate-credentials | dedicated | 23/23/23 | 2/2/2 | 1/1/1 | 39/39/39 | 9/9/9 | 120.0 ms |\n")
	assert.Contains(t, got, "| "+evCreated+" "+variesMark+" | dedicated | 11/12/13 |")
	assert.Contains(t, got, "- "+evCreated+", dedicated: hook-tool calls 11 in 1 run, 12 in 1, 13 in 1\n")
	assert.Equal(t, 1, strings.Count(got, variesMark+" |"), "only the row that varied is marked")
	var table int
	for _, line := range strings.Split(got, "\n") {
		if strings.HasPrefix(line, "|") {
			table++
			assert.Equal(t, 9, strings.Count(line, "|"), "every row has the header's columns: %s", line)
		}
	}
	assert.Equal(t, 2+len(rows), table, "header, rule and a row per event and mode")
	for _, c := range dedicatedClaims(rows) {
		assert.Contains(t, got, "- "+c+"\n")
	}
}

func TestDedicatedClaimsHold(t *testing.T) {
	got := claims(dedicatedRows())
	assert.Equal(t, 3, strings.Count(got, "**holds**"), got)
	assert.NotContains(t, got, "**fails**")
	assert.Contains(t, got, "relation-joined 1/1/1 and 1/1/1 sessions, 15 SOAP and 7 SSO requests")
}

// TestDedicatedClaimsFail: each claim fails on the measurement that breaks
// it, and only that claim.
func TestDedicatedClaimsFail(t *testing.T) {
	tests := []struct {
		name   string
		breaks func(rows []dedicatedRow)
		claim  string
	}{
		{"a quiet update-status asks SSO", func(r []dedicatedRow) { r[5].ssoRequests = counts{0, 7, 0} }, "a quiet update-status"},
		{"a quiet update-status logs in to SSO", func(r []dedicatedRow) { r[5].ssoSessions = counts{0, 0, 1} }, "a quiet update-status"},
		{"a quiet update-status opens a session shared does not", func(r []dedicatedRow) { r[5].sessions = counts{0, 1, 0} }, "a quiet update-status"},
		{"a served application's relation hook logs in", func(r []dedicatedRow) { r[6].sessions = counts{1, 1, 1} }, "already served"},
		{"a served application's relation hook asks SSO", func(r []dedicatedRow) { r[6].ssoRequests = counts{0, 0, 2} }, "already served"},
		{"a new application made twice", func(r []dedicatedRow) { r[8].sessions, r[8].ssoSessions = same(1, 3), same(1, 3) }, "a new application"},
		{"a new application never made", func(r []dedicatedRow) { r[9].sessions, r[9].ssoSessions = same(0, 3), same(0, 3) }, "a new application"},
		{"a new application without SSO", func(r []dedicatedRow) { r[9].ssoSessions = counts{1, 0, 1} }, "a new application"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rows := dedicatedRows()
			tt.breaks(rows)
			lines := dedicatedClaims(rows)
			require.Len(t, lines, 3)
			for _, l := range lines {
				if strings.Contains(l, tt.claim) {
					assert.Contains(t, l, "**fails**")
				} else {
					assert.Contains(t, l, "**holds**", "only the broken claim fails")
				}
			}
		})
	}
}

// TestDedicatedClaimsMissing: a claim without its rows is not measured,
// never held.
func TestDedicatedClaimsMissing(t *testing.T) {
	got := claims(dedicatedRows()[:5]) // shared only
	assert.Equal(t, 3, strings.Count(got, "**not measured**"), got)
	assert.NotContains(t, got, "**holds**")
}

func TestServedApps(t *testing.T) {
	apps, err := servedApps(map[string]string{"dedicated-credentials": `{"apps":{"kubernetes-worker":{"app":"kubernetes-worker"},"kubernetes-master":{}},"retiring":[{}]}`})
	require.NoError(t, err)
	assert.Equal(t, []string{"kubernetes-master", "kubernetes-worker"}, apps)
	apps, err = servedApps(nil)
	require.NoError(t, err)
	assert.Empty(t, apps)
	_, err = servedApps(map[string]string{"dedicated-credentials": "{"})
	assert.Error(t, err)
}

func TestLetters(t *testing.T) {
	for n, want := range map[int]string{1: "a", 2: "b", 26: "z", 27: "aa", 28: "ab", 52: "az", 53: "ba", 702: "zz", 703: "aaa"} {
		assert.Equal(t, want, letters(n), "%d", n)
	}
}
