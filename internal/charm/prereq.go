package charm

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/charmed-kubernetes/vsphere-integrator/internal/vsphere"
)

// maxNamed caps the units or privileges a status message names: `juju
// status` shows one line per unit.
const maxNamed = 5

// prereqs is what a check found of the Kubernetes prerequisites, kept in the
// check record so every later event sets the same status without asking
// vCenter. Unit names, privilege ids and inventory paths only: no secret.
type prereqs struct {
	User string `json:"user,omitempty"`
	// NoDiskUUID are the units whose VM lacks disk.enableUUID.
	NoDiskUUID unitList `json:"no-disk-uuid,omitzero"`
	// NotFound are the units whose VM was not found: unknown, not failing.
	NotFound unitList `json:"not-found,omitzero"`
	// Essential are the missing privileges volumes cannot work without,
	// each with where it is missing: "Datastore.AllocateSpace on datastore
	// /DC0/datastore/ds1".
	Essential []string `json:"essential,omitempty"`
	// Missing are the other missing privilege ids.
	Missing []string `json:"missing,omitempty"`
	// Unknown are privilege ids this vCenter does not define.
	Unknown []string `json:"unknown,omitempty"`
	// PrivilegeErr is why the privileges were not checked.
	PrivilegeErr string `json:"privilege-error,omitempty"`
	// Storage sums up the storage findings (vsphere.Report.Findings) that
	// are not mere information: one entry per kind, blocks first.
	Storage []storageFinding `json:"storage,omitempty"`
}

// storageFinding is one kind of storage finding: how many, and the first
// in full (what is wrong and what to do).
type storageFinding struct {
	Kind  string `json:"kind"`
	Block bool   `json:"block,omitempty"`
	Count int    `json:"count"`
	First string `json:"first"`
}

// storageWords is each warning kind in a few words for the status line.
var storageWords = map[string]string{
	vsphere.FindingHardwareVersion: "VM hardware version below vmx-15",
	vsphere.FindingVCenterVersion:  "vCenter older than 6.7U3",
	vsphere.FindingHostVersion:     "ESXi older than 6.7U3",
	vsphere.FindingDuplicateUUID:   "node VMs sharing a BIOS UUID",
}

// summarize reduces a check's report to what status and logs need; user is
// the configured vCenter user, as the admin knows it.
func summarize(rep *vsphere.Report, user string) *prereqs {
	p := &prereqs{User: user}
	for _, n := range rep.Nodes {
		switch {
		case !n.Found:
			p.NotFound.add(n.Name)
		case n.LacksDiskUUID():
			p.NoDiskUUID.add(n.Name)
		}
	}
	priv := rep.Privileges
	if priv.Err != nil {
		p.PrivilegeErr = priv.Err.Error()
	}
	p.Unknown = priv.Unknown
	// Node VMs are grouped per privilege so that ten nodes lacking one
	// privilege make one entry, not ten.
	nodesLacking := map[string][]string{}
	var order []string
	for _, m := range priv.Missing {
		switch {
		case m.Essential && m.Kind == vsphere.ObjectNodeVM:
			if _, ok := nodesLacking[m.Privilege]; !ok {
				order = append(order, m.Privilege)
			}
			nodesLacking[m.Privilege] = append(nodesLacking[m.Privilege], m.Node)
		case m.Essential:
			p.Essential = append(p.Essential, fmt.Sprintf("%s on %s %s", m.Privilege, m.Kind, m.Object))
		default:
			if !contains(p.Missing, m.Privilege) {
				p.Missing = append(p.Missing, m.Privilege)
			}
		}
	}
	index := map[string]int{}
	for _, f := range rep.Findings() {
		if f.Severity == vsphere.Info {
			continue
		}
		i, ok := index[f.Kind]
		if !ok {
			i = len(p.Storage)
			index[f.Kind] = i
			p.Storage = append(p.Storage, storageFinding{Kind: f.Kind, Block: f.Severity == vsphere.Block, First: f.Message})
		}
		p.Storage[i].Count++
	}
	for _, id := range order {
		units := nodesLacking[id]
		what := "the node VM of "
		if len(units) > 1 {
			what = "the node VMs of "
		}
		p.Essential = append(p.Essential, id+" on "+what+named(units))
	}
	return p
}

// blocked reports whether volumes cannot work at all, or not on some node.
func (p *prereqs) blocked() bool {
	return p != nil && (len(p.Essential) > 0 || slices.ContainsFunc(p.Storage, func(f storageFinding) bool { return f.Block }))
}

// blockedMessage names the missing privileges and where, or else the first
// storage problem that stops volumes.
func (p *prereqs) blockedMessage() string {
	if len(p.Essential) == 0 {
		var first string
		more := -1
		for _, f := range p.Storage {
			if f.Block {
				if first == "" {
					first = f.First
				}
				more += f.Count
			}
		}
		if more > 0 {
			first += fmt.Sprintf(" (and %d more storage problems: check-prerequisites action)", more)
		}
		return first
	}
	user := ""
	if p.User != "" {
		user = " '" + p.User + "'"
	}
	return fmt.Sprintf("vCenter user%s lacks %s: volumes cannot work until granted (check-prerequisites action for the full report)",
		user, named(p.Essential))
}

// warnings is the short tail of an active status: node VMs without
// disk.enableUUID, then other missing privileges.
func (p *prereqs) warnings() string {
	if p == nil {
		return ""
	}
	var parts []string
	switch n := p.NoDiskUUID.Total; {
	case n == 1:
		parts = append(parts, "1 node VM lacks disk.enableUUID: "+p.NoDiskUUID.String())
	case n > 1:
		parts = append(parts, fmt.Sprintf("%d node VMs lack disk.enableUUID: %s", n, p.NoDiskUUID.String()))
	}
	if len(p.Missing) > 0 {
		parts = append(parts, "missing privileges: "+named(p.Missing)+" (check-prerequisites action)")
	}
	var storage []string
	for _, f := range p.Storage {
		if w, ok := storageWords[f.Kind]; ok && !f.Block {
			if f.Count > 1 {
				w += fmt.Sprintf(" (%d)", f.Count)
			}
			storage = append(storage, w)
		}
	}
	if len(storage) > 0 {
		parts = append(parts, "for the CSI driver: "+strings.Join(storage, ", ")+" (check-prerequisites action)")
	}
	if len(parts) == 0 {
		return ""
	}
	return "; " + strings.Join(parts, "; ")
}

// logLine is the prerequisites part of the check's log line.
func (p *prereqs) logLine(rep *vsphere.Report) string {
	found := len(rep.Nodes) - p.NotFound.Total
	s := fmt.Sprintf("nodes: %d of %d VMs found, %d lack disk.enableUUID", found, len(rep.Nodes), p.NoDiskUUID.Total)
	var why []string
	for _, n := range rep.Nodes {
		if !n.Found && len(why) < 3 {
			why = append(why, n.Name+": "+n.Why)
		}
	}
	if len(why) > 0 {
		s += " (" + strings.Join(why, "; ") + ")"
	}
	switch {
	case p.PrivilegeErr != "":
		s += "; " + p.PrivilegeErr
	case len(p.Essential)+len(p.Missing) == 0:
		s += "; privileges: all present"
	default:
		s += "; privileges missing: " + strings.Join(append(append([]string(nil), p.Essential...), p.Missing...), ", ")
	}
	if len(p.Unknown) > 0 {
		s += "; not defined on this vCenter: " + strings.Join(p.Unknown, ", ")
	}
	return s
}

// unitList is some unit names and how many there are in all: the check
// record keeps only the first maxNamed, so that it stays a few hundred
// bytes with thousands of nodes (a unit-state value may not pass 64 KiB).
// check-prerequisites reports them all.
type unitList struct {
	Names []string `json:"names,omitempty"`
	Total int      `json:"total,omitempty"`
}

func (l *unitList) add(name string) {
	if len(l.Names) < maxNamed {
		l.Names = append(l.Names, name)
	}
	l.Total++
}

// remove drops the names gone matches, and reports whether it did. A
// matching unit past the names kept is not known to be in the list: the
// total keeps it until the next check.
func (l *unitList) remove(gone leaving) bool {
	kept := l.Names[:0:0]
	for _, n := range l.Names {
		if !gone.matches(n) {
			kept = append(kept, n)
		}
	}
	removed := len(l.Names) - len(kept)
	if len(kept) == 0 {
		kept = nil // encoded as no list, as the record decodes it
	}
	l.Names = kept
	l.Total -= removed
	return removed > 0
}

// leaving is what a relation-departed or -broken takes away: one unit, or
// every unit of an application.
type leaving struct{ unit, app string }

func (g leaving) matches(unit string) bool {
	return (g.unit != "" && unit == g.unit) || (g.app != "" && strings.HasPrefix(unit, g.app+"/"))
}

// namedIn reports whether text names a unit that is leaving: the unit's
// name not followed by another digit, or the application's name followed
// by "/" and a unit number.
func (g leaving) namedIn(text string) bool {
	var pat string
	switch {
	case g.unit != "":
		pat = regexp.QuoteMeta(g.unit) + `(?:[^0-9]|$)`
	case g.app != "":
		pat = regexp.QuoteMeta(g.app) + `/[0-9]`
	default:
		return false
	}
	return regexp.MustCompile(`(?:^|[^a-z0-9-])` + pat).MatchString(text)
}

// forget drops the units leaving from the node VMs the status names
// (pruned), and reports whether one is still named in a message that
// cannot be taken apart: a missing privilege or a storage problem, which
// only a new check can restate (named).
func (p *prereqs) forget(gone leaving) (pruned, named bool) {
	a := p.NoDiskUUID.remove(gone)
	b := p.NotFound.remove(gone)
	for _, e := range p.Essential {
		named = named || gone.namedIn(e)
	}
	for _, f := range p.Storage {
		named = named || gone.namedIn(f.First)
	}
	return a || b, named
}

// String lists the names kept, then how many more.
func (l unitList) String() string {
	s := strings.Join(l.Names, ", ")
	if more := l.Total - len(l.Names); more > 0 {
		s += fmt.Sprintf(" and %d more", more)
	}
	return s
}

// named lists at most maxNamed names, then how many more.
func named(names []string) string {
	if len(names) <= maxNamed {
		return strings.Join(names, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(names[:maxNamed], ", "), len(names)-maxNamed)
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// actionKey turns a unit name into an action result key: "/" is not
// allowed there, and "app-N" stays unique since an application name cannot
// end in a number-only segment.
func actionKey(unit string) string { return strings.ReplaceAll(unit, "/", "-") }

// diskUUIDText is a VM's disk.enableUUID for people.
func diskUUIDText(d vsphere.DiskUUID) string {
	switch {
	case !d.Known:
		return "unknown"
	case d.Value == "":
		return "not set"
	default:
		return d.Value
	}
}

// prereqResults is the check-prerequisites action's report: per related
// unit its VM, and per object checked the privileges missing there.
func prereqResults(rep *vsphere.Report) map[string]any {
	nodes := map[string]any{}
	for _, n := range rep.Nodes {
		r := map[string]any{"unit": n.Name, "address": n.Address}
		switch {
		case !n.Found:
			r["vm"] = "unknown"
			r["result"] = "VM not found: " + n.Why
		default:
			r["vm"] = n.VM
			r["uuid"] = n.UUID
			r["power-state"] = n.PowerState
			r["disk-enableuuid"] = diskUUIDText(n.DiskUUID)
			if n.HardwareVersion != "" {
				r["hardware-version"] = n.HardwareVersion
			}
			if n.Host != "" {
				r["host"] = n.Host
			}
			switch {
			case !n.DiskUUID.Known:
				r["result"] = n.Why
			case n.DiskUUID.Enabled:
				r["result"] = "ok"
			default:
				r["result"] = "lacks disk.enableUUID: run enable-disk-uuid, then power cycle the VM"
			}
		}
		nodes[actionKey(n.Name)] = r
	}

	priv := rep.Privileges
	objects := map[string]any{}
	missing := map[string][]string{} // subject key → privileges
	keys := subjectKeys(priv.Checked)
	for _, m := range priv.Missing {
		label := m.Privilege
		if m.Essential {
			label += " (essential)"
		}
		k := keys[m.Subject]
		missing[k] = append(missing[k], label)
	}
	for _, sub := range priv.Checked {
		k := keys[sub]
		what := sub.Kind + " " + sub.Object
		if sub.Node != "" {
			what += " (" + sub.Node + ")"
		}
		switch {
		case priv.Err != nil:
			objects[k] = what + ": not checked"
		case len(missing[k]) == 0:
			objects[k] = what + ": ok"
		default:
			objects[k] = what + ": missing " + strings.Join(missing[k], ", ")
		}
	}
	privileges := map[string]any{"user": priv.User, "objects": objects, "missing": strconv.Itoa(len(priv.Missing))}
	if priv.Err != nil {
		privileges["error"] = priv.Err.Error()
	}
	if len(priv.Unknown) > 0 {
		privileges["not-defined"] = strings.Join(priv.Unknown, ", ")
	}
	out := map[string]any{"privileges": privileges, "soap-requests": strconv.Itoa(rep.Requests)}
	storage := map[string]any{}
	for i, f := range rep.Findings() {
		storage[fmt.Sprintf("%s-%d", f.Severity, i+1)] = f.Message
	}
	if len(storage) > 0 {
		out["storage"] = storage
	}
	if len(nodes) > 0 {
		out["nodes"] = nodes
	} else {
		out["nodes"] = "none related"
	}
	return out
}

// subjectKeys gives each checked object an action result key: its kind
// ("datastore", "vm-folder"), numbered when there are several of a kind,
// or "node-vm-<unit>".
func subjectKeys(subjects []vsphere.Subject) map[vsphere.Subject]string {
	count := map[string]int{}
	for _, s := range subjects {
		count[s.Kind]++
	}
	seen := map[string]int{}
	keys := map[vsphere.Subject]string{}
	for _, s := range subjects {
		base := strings.ToLower(strings.ReplaceAll(s.Kind, " ", "-"))
		switch {
		case s.Node != "":
			keys[s] = base + "-" + actionKey(s.Node)
		case count[s.Kind] > 1:
			seen[s.Kind]++
			keys[s] = base + "-" + strconv.Itoa(seen[s.Kind])
		default:
			keys[s] = base
		}
	}
	return keys
}
