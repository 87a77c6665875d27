package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const benchOutput = `goos: linux
BenchmarkCheckScale/vms=2000/nodes=10/read=inventory/pages=vcsim-2         	       3	 213290650 ns/op	       213.3 ms/check	         6.000 requests/check	    564848 rx-bytes/check	     16181 tx-bytes/check
BenchmarkCheckScale/vms=2000/nodes=10/read=inventory/pages=100-2           	       3	 355466140 ns/op	       355.5 ms/check	        26.00 requests/check	    619561 rx-bytes/check	     61873 tx-bytes/check
BenchmarkCheckScale/vms=2000/nodes=10/read=findallbyip/pages=100-2         	       3	 143035470 ns/op	       143.0 ms/check	        16.00 requests/check	    101074 rx-bytes/check	     22981 tx-bytes/check
BenchmarkCheckScale/vms=2000/nodes=10/read=inventory/pages=100/rtt=5ms-2   	       3	 509184421 ns/op	       509.2 ms/check	        26.00 requests/check	    619560 rx-bytes/check	     61961 tx-bytes/check
BenchmarkCheckScale/vms=2000/nodes=100/read=inventory/pages=100-2          	       3	 376398752 ns/op	       376.4 ms/check	        27.00 requests/check	    866827 rx-bytes/check	     72683 tx-bytes/check
BenchmarkCheckScale/vms=2000/nodes=100/read=findallbyip/pages=100-2        	       3	 285946212 ns/op	       285.9 ms/check	       107.0 requests/check	    399575 rx-bytes/check	     95715 tx-bytes/check
BenchmarkCheckScale/vms=2000/nodes=1000/read=inventory/pages=100-2                  	       3	 939466124 ns/op	       939.5 ms/check	        36.00 requests/check	   3427930 rx-bytes/check	    194696 tx-bytes/check
BenchmarkCheckScale/vms=2000/nodes=1000/read=findallbyip/pages=100-2                	       3	2057429048 ns/op	      2057 ms/check	      1016 requests/check	   3474285 rx-bytes/check	    838324 tx-bytes/check
PASS
`

func TestParseVCenter(t *testing.T) {
	cases, err := parseVCenter(strings.NewReader(benchOutput))
	require.NoError(t, err)
	require.Len(t, cases, 8)
	assert.Equal(t, vcCase{vms: 2000, nodes: 10, read: "inventory", pages: "100", rtt: 5 * time.Millisecond,
		requests: 26, rx: 619560, tx: 61961, ms: 509.2}, cases[3])
}

// TestVCenterTable: one row per inventory, nodes and pages, both ways side
// by side, a way not measured as a dash; under it where FindAllByIp stops
// costing less, interpolated between the measured numbers of nodes.
func TestVCenterTable(t *testing.T) {
	cases, err := parseVCenter(strings.NewReader(benchOutput))
	require.NoError(t, err)
	var out bytes.Buffer
	writeVCenterTable(&out, cases)
	got := out.String()
	assert.Contains(t, got, "| 2,000 | 10 | one (vcsim) | — | 6 | — | 551.6 KiB | — | 213 ms | — |\n")
	assert.Contains(t, got, "| 2,000 | 10 | 100 objects | — | 26 | 16 | 605.0 KiB | 98.7 KiB | 356 ms | 143 ms |\n")
	// Requests: 16-26 = -10 at 10, 107-27 = 80 at 100: zero at 10 + 90·10/90.
	assert.Contains(t, got, "- 2,000 VMs, pages of 100, no delay: FindAllByIp costs less in SOAP requests below about 20 nodes; bytes received below about 919 nodes; wall time below about 167 nodes\n")
	for _, line := range strings.Split(got, "\n") {
		if strings.HasPrefix(line, "|") {
			assert.Equal(t, 11, strings.Count(line, "|"), "every row has the header's columns: %s", line)
		}
	}
}

func TestCrossing(t *testing.T) {
	at := func(read string, ys ...float64) []vcCase {
		var cs []vcCase
		for i, n := range []int{10, 100, 1000} {
			cs = append(cs, vcCase{nodes: n, read: read, ms: ys[i]})
		}
		return cs
	}
	ms := func(c vcCase) float64 { return c.ms }
	assert.Equal(t, "at every number of nodes measured (up to 1,000)", crossing(at("inventory", 9, 9, 9), at("findallbyip", 1, 2, 3), ms))
	assert.Equal(t, "at none of the nodes measured (from 10)", crossing(at("inventory", 1, 1, 1), at("findallbyip", 2, 3, 4), ms))
	assert.Equal(t, "at none of the nodes measured (as much at 10)", crossing(at("inventory", 2, 2, 2), at("findallbyip", 2, 3, 4), ms))
	assert.Equal(t, "below about 550 nodes", crossing(at("inventory", 5, 5, 5), at("findallbyip", 1, 4, 6), ms))
}
