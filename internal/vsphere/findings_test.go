package vsphere_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/charmed-kubernetes/vsphere-integrator/internal/vsphere"
)

// TestFindingsFromReport: the rules of Report.Findings on reports built by
// hand, where a simulator cannot go (what could not be read, odd version
// strings), and the words an admin reads.
func TestFindingsFromReport(t *testing.T) {
	okDS := vsphere.DatastoreInfo{Name: "ds 1", Path: "/DC0/datastore/ds 1", Known: true, URL: "ds:///vmfs/volumes/abc/",
		Type: "VMFS", Capacity: 1 << 40, FreeSpace: 3 << 38, Accessible: true, MaintenanceMode: "normal"}
	modern := vsphere.Product{Version: "8.0.2", Build: "1", APIVersion: "8.0.2.0"}
	node := func(unit, vm, hw, host string) vsphere.NodeReport {
		return vsphere.NodeReport{
			Node: vsphere.Node{Name: unit}, Found: true, VM: vm, HardwareVersion: hw, Host: host, HostProduct: modern,
			DatastoreMount: vsphere.DatastoreMount{Known: true, Mounted: true, Accessible: true},
		}
	}
	report := func(nodes ...vsphere.NodeReport) *vsphere.Report {
		return &vsphere.Report{Server: "vc", Product: modern, Datastore: okDS.Path, DatastoreInfo: okDS, Nodes: nodes}
	}
	tests := []struct {
		name string
		rep  *vsphere.Report
		want []vsphere.Finding // Info findings included
	}{{
		name: "healthy: only the space",
		rep:  report(node("w/0", "/DC0/vm/a", "vmx-19", "/DC0/host/h1")),
		want: []vsphere.Finding{{
			Kind: vsphere.FindingDatastoreSpace, Severity: vsphere.Info, Object: "/DC0/datastore/ds 1",
			Message: "datastore ds 1 (VMFS): 768.0 GiB free of 1.0 TiB; URL ds:///vmfs/volumes/abc/",
		}},
	}, {
		name: "nothing concluded from what was not read",
		rep: &vsphere.Report{
			Server: "vc", Datastore: "/DC0/datastore/ds1",
			DatastoreInfo: vsphere.DatastoreInfo{Name: "ds1", Path: "/DC0/datastore/ds1"},
			Nodes: []vsphere.NodeReport{
				{Node: vsphere.Node{Name: "w/0"}, Why: "no VM reports IP 10.0.0.1"},
				{Node: vsphere.Node{Name: "w/1"}, Found: true, VM: "/DC0/vm/b", HardwareVersion: "", Host: "host-9"},
				{Node: vsphere.Node{Name: "w/2"}, Found: true, VM: "/DC0/vm/c", HardwareVersion: "vmx-unknown", Host: "host-9",
					HostProduct: vsphere.Product{Version: "eight"}},
			},
		},
	}, {
		name: "blocks before warnings, each naming its remedy",
		rep: func() *vsphere.Report {
			r := report(node("w/0", "/DC0/vm/a", "vmx-13", "/DC0/host/h1"), node("w/1", "/DC0/vm/b", "vmx-19", "/DC0/host/h2"))
			r.Nodes[1].DatastoreMount = vsphere.DatastoreMount{Known: true}
			return r
		}(),
		want: []vsphere.Finding{{
			Kind: vsphere.FindingDatastoreNotMounted, Severity: vsphere.Block, Object: "/DC0/host/h2", Units: []string{"w/1"},
			Message: "datastore ds 1 is not mounted on host /DC0/host/h2 of w/1 (VM /DC0/vm/b): volumes cannot attach there; mount it on that host, or move the VMs to a host that has it",
		}, {
			Kind: vsphere.FindingHardwareVersion, Severity: vsphere.Warn, Object: "/DC0/vm/a", Units: []string{"w/0"},
			Message: "VM /DC0/vm/a (w/0) has hardware version vmx-13 < vmx-15 needed by the vSphere CSI driver: upgrade the VM compatibility (power the VM off, then Actions > Compatibility > Upgrade VM Compatibility in the vSphere client, or govc vm.upgrade -version=15 -vm '/DC0/vm/a')",
		}, {
			Kind: vsphere.FindingDatastoreSpace, Severity: vsphere.Info, Object: "/DC0/datastore/ds 1",
			Message: "datastore ds 1 (VMFS): 768.0 GiB free of 1.0 TiB; URL ds:///vmfs/volumes/abc/",
		}},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, tc.rep.Findings())
		})
	}
}

// TestFindingsVersions: which releases fall short of 6.7 Update 3, for
// vCenter (the API version preferred, the version the fallback).
func TestFindingsVersions(t *testing.T) {
	tests := []struct {
		version, api string
		warn         bool
	}{
		{"6.5.0", "6.5", true},
		{"6.7.0", "6.7", true},
		{"6.7.0", "6.7.2", true},
		{"6.7.0", "6.7.3", false},
		{"7.0.3", "7.0.3.0", false},
		{"8.0.2", "8.0.2.0", false},
		{"6.7.0", "", true},  // no API version: the version cannot say Update 3
		{"7.0.0", "", false}, // but can say 7.0
		{"", "", false},      // nothing to go by
		{"n/a", "x.y", false},
	}
	for _, tc := range tests {
		t.Run(tc.version+"/"+tc.api, func(t *testing.T) {
			rep := &vsphere.Report{Server: "vc", Product: vsphere.Product{Version: tc.version, APIVersion: tc.api}}
			var got bool
			for _, f := range rep.Findings() {
				got = got || f.Kind == vsphere.FindingVCenterVersion
			}
			assert.Equal(t, tc.warn, got)
		})
	}
}
