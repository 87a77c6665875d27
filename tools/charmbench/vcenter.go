package main

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The vCenter scale table (`charmbench -vcenter FILE`): FILE is the output
// of internal/vsphere's BenchmarkCheckScale, one line per case, named
// vms=<n>/nodes=<n>/read=<how>/pages=<policy>[/rtt=<delay>] with the
// metrics requests/check, rx-bytes/check, tx-bytes/check and ms/check.
// Under the table it says, for each inventory, below how many nodes
// finding the node VMs by SearchIndex.FindAllByIp (a request per node)
// costs less than reading every VM's address in the inventory, fitting a
// line through each way's measurements.

// vcCase is one benchmark line.
type vcCase struct {
	vms, nodes int
	read       string // inventory, findallbyip
	pages      string // vcsim, 100
	rtt        time.Duration
	requests   float64
	rx, tx     float64 // bytes
	ms         float64
}

func runVCenter(w io.Writer, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	cases, err := parseVCenter(f)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if len(cases) == 0 {
		return fmt.Errorf("%s: no BenchmarkCheckScale results", path)
	}
	writeVCenterTable(w, cases)
	return nil
}

func parseVCenter(r io.Reader) ([]vcCase, error) {
	var out []vcCase
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 4 || !strings.HasPrefix(fields[0], "BenchmarkCheckScale/") {
			continue
		}
		name := fields[0][len("BenchmarkCheckScale/"):]
		// The -GOMAXPROCS suffix.
		if i := strings.LastIndex(name, "-"); i > 0 {
			if _, err := strconv.Atoi(name[i+1:]); err == nil {
				name = name[:i]
			}
		}
		c := vcCase{}
		for _, part := range strings.Split(name, "/") {
			k, v, _ := strings.Cut(part, "=")
			var err error
			switch k {
			case "vms":
				c.vms, err = strconv.Atoi(v)
			case "nodes":
				c.nodes, err = strconv.Atoi(v)
			case "read":
				c.read = v
			case "pages":
				c.pages = v
			case "rtt":
				c.rtt, err = time.ParseDuration(v)
			}
			if err != nil {
				return nil, fmt.Errorf("%s: %w", fields[0], err)
			}
		}
		// Metrics come in value-unit pairs after the iteration count.
		for i := 2; i+1 < len(fields); i += 2 {
			v, err := strconv.ParseFloat(fields[i], 64)
			if err != nil {
				return nil, fmt.Errorf("%s: %q: %w", fields[0], fields[i], err)
			}
			switch fields[i+1] {
			case "requests/check":
				c.requests = v
			case "rx-bytes/check":
				c.rx = v
			case "tx-bytes/check":
				c.tx = v
			case "ms/check":
				c.ms = v
			}
		}
		out = append(out, c)
	}
	return out, sc.Err()
}

func writeVCenterTable(w io.Writer, cases []vcCase) {
	fmt.Fprintf(w, "One check (session, inventory, node VMs, privileges, logout) against vcsim over HTTPS on loopback, every VM\n")
	fmt.Fprintf(w, "reporting a guest IP; bytes received counted on the wire, TLS included. Today: the node VMs found among every\n")
	fmt.Fprintf(w, "VM's guest.ipAddress, read with the inventory. FindAllByIp: an inventory read without VMs, then\n")
	fmt.Fprintf(w, "SearchIndex.FindAllByIp per node. Pages: the check asks for 10,000 objects a page and vcsim gives one;\n")
	fmt.Fprintf(w, "vCenter is reported to page at 100 objects without maxObjects, and \"100 objects\" is a vCenter that does\n")
	fmt.Fprintf(w, "so whatever is asked (the worst case), a ContinueRetrievePropertiesEx a page.\n\n")
	fmt.Fprintf(w, "| VMs | nodes | pages | delay per request | requests today | FindAllByIp | received today | FindAllByIp | wall today | FindAllByIp |\n")
	fmt.Fprintf(w, "|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|\n")
	type key struct {
		vms, nodes int
		pages      string
		rtt        time.Duration
	}
	var keys []key
	row := map[key]map[string]vcCase{}
	for _, c := range cases {
		k := key{c.vms, c.nodes, c.pages, c.rtt}
		if row[k] == nil {
			row[k] = map[string]vcCase{}
			keys = append(keys, k)
		}
		row[k][c.read] = c
	}
	cell := func(c vcCase, ok bool, f func(vcCase) string) string {
		if !ok {
			return "—"
		}
		return f(c)
	}
	reqs := func(c vcCase) string { return fmt.Sprintf("%.0f", c.requests) }
	rx := func(c vcCase) string { return bytesCell(int(c.rx)) }
	wall := func(c vcCase) string { return fmt.Sprintf("%.0f ms", c.ms) }
	for _, k := range keys {
		inv, iok := row[k]["inventory"]
		fab, fok := row[k]["findallbyip"]
		pages, delay := "100 objects", "—"
		if k.pages == "vcsim" {
			pages = "one (vcsim)"
		}
		if k.rtt > 0 {
			delay = k.rtt.String()
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", thousands(k.vms), thousands(k.nodes), pages, delay,
			cell(inv, iok, reqs), cell(fab, fok, reqs), cell(inv, iok, rx), cell(fab, fok, rx), cell(inv, iok, wall), cell(fab, fok, wall))
	}
	fmt.Fprintln(w)
	for _, line := range crossovers(cases) {
		fmt.Fprintf(w, "- %s\n", line)
	}
	fmt.Fprintln(w)
}

// crossovers compares the two ways at each inventory, pages of 100 (what
// vCenter does), and each delay: below how many nodes FindAllByIp costs
// less, by each measure.
func crossovers(cases []vcCase) []string {
	type key struct {
		vms int
		rtt time.Duration
	}
	var keys []key
	ways := map[key]map[string][]vcCase{}
	for _, c := range cases {
		if c.pages != "100" {
			continue
		}
		k := key{c.vms, c.rtt}
		if ways[k] == nil {
			ways[k] = map[string][]vcCase{}
			keys = append(keys, k)
		}
		ways[k][c.read] = append(ways[k][c.read], c)
	}
	slices.SortFunc(keys, func(a, b key) int {
		if a.rtt != b.rtt {
			return int(a.rtt - b.rtt)
		}
		return a.vms - b.vms
	})
	var out []string
	for _, k := range keys {
		inv, fab := ways[k]["inventory"], ways[k]["findallbyip"]
		if len(inv) < 2 || len(fab) < 2 {
			continue
		}
		var parts []string
		for _, m := range []struct {
			what string
			of   func(vcCase) float64
		}{
			{"SOAP requests", func(c vcCase) float64 { return c.requests }},
			{"bytes received", func(c vcCase) float64 { return c.rx }},
			{"wall time", func(c vcCase) float64 { return c.ms }},
		} {
			parts = append(parts, m.what+" "+crossing(inv, fab, m.of))
		}
		delay := "no delay"
		if k.rtt > 0 {
			delay = k.rtt.String() + " a request"
		}
		out = append(out, fmt.Sprintf("%s VMs, pages of 100, %s: FindAllByIp costs less in %s", thousands(k.vms), delay, strings.Join(parts, "; ")))
	}
	return out
}

// crossing says where FindAllByIp stops costing less than the inventory
// read: between the two measured numbers of nodes where the difference
// changes sign, interpolated on a straight line between them.
func crossing(inv, fab []vcCase, of func(vcCase) float64) string {
	at := map[int]float64{}
	for _, c := range inv {
		at[c.nodes] = of(c)
	}
	type point struct{ nodes, diff float64 } // diff: FindAllByIp less the inventory
	var ps []point
	for _, c := range fab {
		if y, ok := at[c.nodes]; ok {
			ps = append(ps, point{float64(c.nodes), of(c) - y})
		}
	}
	if len(ps) == 0 {
		return "(not measured)"
	}
	slices.SortFunc(ps, func(a, b point) int { return int(a.nodes - b.nodes) })
	for i, p := range ps {
		if p.diff < 0 {
			continue
		}
		if i == 0 {
			if p.diff == 0 {
				return fmt.Sprintf("at none of the nodes measured (as much at %s)", thousands(int(p.nodes)))
			}
			return fmt.Sprintf("at none of the nodes measured (from %s)", thousands(int(p.nodes)))
		}
		q := ps[i-1]
		n := q.nodes + (p.nodes-q.nodes)*(-q.diff)/(p.diff-q.diff)
		return fmt.Sprintf("below about %s nodes", thousands(int(math.Round(n))))
	}
	return fmt.Sprintf("at every number of nodes measured (up to %s)", thousands(int(ps[len(ps)-1].nodes)))
}
