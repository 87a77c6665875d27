package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestCounts(t *testing.T) {
	tests := []struct {
		c      counts
		cell   string
		varies bool
		spread string
	}{
		{c: counts{6}, cell: "6/6/6", spread: "6 in 1 run"},
		{c: counts{6, 6, 6}, cell: "6/6/6", spread: "6 in 3 runs"},
		{c: counts{10, 9, 9, 9}, cell: "9/9/10", varies: true, spread: "9 in 3 runs, 10 in 1"},
		{c: counts{7, 5, 6}, cell: "5/6/7", varies: true, spread: "5 in 1 run, 6 in 1, 7 in 1"},
		{c: counts{0, 6, 6, 6}, cell: "0/6/6", varies: true, spread: "0 in 1 run, 6 in 3"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.cell, tt.c.cell(), "%v", tt.c)
		assert.Equal(t, tt.varies, tt.c.varies(), "%v", tt.c)
		assert.Equal(t, tt.spread, tt.c.spread(), "%v", tt.c)
	}
}

// TestWriteTable: the counts are shown as least/median/most, and an event
// whose counts differed between runs is marked, with what differed said
// under the table.
func TestWriteTable(t *testing.T) {
	steady := row{name: "install", wall: 127600 * time.Microsecond, floor: 92800 * time.Microsecond,
		calls: counts{6, 6, 6}, requests: counts{6, 6, 6}, sessions: counts{1, 1, 1}, rssKB: 15053, floorRSSKB: 3788}
	varying := row{name: "config-changed (3 relations)", wall: 128800 * time.Microsecond, floor: 95300 * time.Microsecond,
		calls: counts{6, 9, 6}, requests: counts{6, 6, 0}, sessions: counts{1, 1, 1}, rssKB: 14848, floorRSSKB: 3788}

	var out bytes.Buffer
	writeTable(&out, []row{steady, varying}, 3, 4634000)
	got := out.String()
	assert.Contains(t, got, "| install | 127.6 ms | 92.8 ms | 6/6/6 | 6/6/6 | 1/1/1 | 14.7 MiB | 3.7 MiB |\n")
	assert.Contains(t, got, "| config-changed (3 relations) ‡ | 128.8 ms | 95.3 ms | 6/6/9 | 0/6/6 | 1/1/1 | 14.5 MiB | 3.7 MiB |\n")
	assert.Contains(t, got, "\n‡ The counts of these events differed between runs")
	assert.Contains(t, got, "- config-changed (3 relations): hook-tool calls 6 in 2 runs, 9 in 1; SOAP requests 0 in 1 run, 6 in 2\n")
	assert.NotContains(t, got, "- install", "a steady event has no note")
	for _, line := range strings.Split(got, "\n") {
		if strings.HasPrefix(line, "|") {
			assert.Equal(t, 9, strings.Count(line, "|"), "every row has the header's columns: %s", line)
		}
	}

	out.Reset()
	writeTable(&out, []row{steady}, 3, 4634000)
	assert.NotContains(t, out.String(), "‡", "nothing marked when every run did the same")
}
