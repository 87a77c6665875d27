package charm

import (
	"fmt"
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
	NoDiskUUID []string `json:"no-disk-uuid,omitempty"`
	// NotFound are the units whose VM was not found: unknown, not failing.
	NotFound []string `json:"not-found,omitempty"`
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
}

// summarize reduces a check's report to what status and logs need; user is
// the configured vCenter user, as the admin knows it.
func summarize(rep *vsphere.Report, user string) *prereqs {
	p := &prereqs{User: user}
	for _, n := range rep.Nodes {
		switch {
		case !n.Found:
			p.NotFound = append(p.NotFound, n.Name)
		case n.LacksDiskUUID():
			p.NoDiskUUID = append(p.NoDiskUUID, n.Name)
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

// blocked reports whether volumes cannot work at all.
func (p *prereqs) blocked() bool { return p != nil && len(p.Essential) > 0 }

// blockedMessage names the missing privileges and where.
func (p *prereqs) blockedMessage() string {
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
	switch n := len(p.NoDiskUUID); {
	case n == 1:
		parts = append(parts, "1 node VM lacks disk.enableUUID: "+named(p.NoDiskUUID))
	case n > 1:
		parts = append(parts, fmt.Sprintf("%d node VMs lack disk.enableUUID: %s", n, named(p.NoDiskUUID)))
	}
	if len(p.Missing) > 0 {
		parts = append(parts, "missing privileges: "+named(p.Missing)+" (check-prerequisites action)")
	}
	if len(parts) == 0 {
		return ""
	}
	return "; " + strings.Join(parts, "; ")
}

// logLine is the prerequisites part of the check's log line.
func (p *prereqs) logLine(rep *vsphere.Report) string {
	found := len(rep.Nodes) - len(p.NotFound)
	s := fmt.Sprintf("nodes: %d of %d VMs found, %d lack disk.enableUUID", found, len(rep.Nodes), len(p.NoDiskUUID))
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
