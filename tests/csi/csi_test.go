// Package csi_test reads vsphere-cloud-provider's csi-vsphere.conf with the
// vSphere CSI driver's own reader (sigs.k8s.io/vsphere-csi-driver/v3
// v3.3.1, pkg/common/config ReadConfig, which validates: the user must be
// user@domain or DOMAIN\user), over the generated addresses, users and
// passwords of internal/consumers/consumerstest.
package csi_test

import (
	"context"
	"maps"
	"strings"
	"testing"

	"sigs.k8s.io/vsphere-csi-driver/v3/pkg/common/config"

	"github.com/charmed-kubernetes/vsphere-integrator/internal/consumers"
	"github.com/charmed-kubernetes/vsphere-integrator/internal/consumers/consumerstest"
	"github.com/charmed-kubernetes/vsphere-integrator/internal/relation"
)

func readCSI(s, given string, d relation.Data) consumerstest.Readback {
	var r consumerstest.Readback
	cfg, err := config.ReadConfig(context.Background(), strings.NewReader(s))
	if err != nil {
		r.Rejected = err
		return r
	}
	want, err := consumerstest.Want(given)
	if err != nil {
		r.Rejected = err
		return r
	}
	if len(cfg.VirtualCenter) != 1 {
		r.Wrong = append(r.Wrong, relation.KeyVsphereIP)
	}
	for server, vc := range cfg.VirtualCenter {
		if consumerstest.Got(server, vc.VCenterPort) != want {
			r.Wrong = append(r.Wrong, relation.KeyVsphereIP)
		}
		r.Compare(relation.KeyUser, vc.User, d.User)
		r.Compare(relation.KeyPassword, vc.Password, d.Password)
		r.Compare(relation.KeyDatacenter, vc.Datacenters, d.Datacenter)
	}
	if cfg.Global.ClusterID != consumerstest.ClusterID {
		r.Rejected = errString("cluster-id read back as " + cfg.Global.ClusterID)
	}
	return r
}

type errString string

func (e errString) Error() string { return string(e) }

// TestGeneratedCSI: for every generated address, user and password,
// vsphere-cloud-provider's csi-vsphere.conf either gives the CSI driver
// back exactly what was published, or the rules name the field and the
// status names vsphere-cloud-provider.
func TestGeneratedCSI(t *testing.T) {
	broken := 0
	for _, c := range consumerstest.Cases() {
		bag := relation.Databag{"private-address": "10.0.0.5", "ingress-address": "10.0.0.5", "egress-subnets": "10.0.0.5/32"}
		maps.Copy(bag, c.Published.Encode())
		got, err := consumerstest.DecodeCloudProvider(bag)
		if err != nil {
			t.Fatalf("%q: vsphere-cloud-provider: %v", c.Given, err)
		}
		r := readCSI(consumerstest.CSI(got), c.Given, c.Published)
		if !r.OK() {
			broken++
		}
		if err := consumerstest.Agrees(consumers.Lookup(consumers.CSI), "vsphere-cloud-provider", c.Published, r); err != nil {
			t.Errorf("vsphere_ip %q, user %q, password %q: %v", c.Given, c.Published.User, c.Published.Password, err)
		}
	}
	// Both outcomes must occur, or the check proves nothing.
	if broken == 0 || broken == len(consumerstest.Cases()) {
		t.Errorf("%d of %d cases broken: the generator no longer covers both sides", broken, len(consumerstest.Cases()))
	}
}

// TestCSIRefusesUserWithoutDomain is the row on its own: the driver
// refuses "k8sadmin", and the status names vsphere-cloud-provider and user.
func TestCSIRefusesUserWithoutDomain(t *testing.T) {
	d := consumers.Published(relation.Data{VsphereIP: "vc.example.com", User: "k8sadmin", Password: "p", Datacenter: "DC0", Datastore: "ds", Folder: "f"})
	if _, err := config.ReadConfig(context.Background(), strings.NewReader(consumerstest.CSI(d))); err == nil || !strings.Contains(err.Error(), "username is invalid") {
		t.Fatalf("the CSI driver's reader: %v", err)
	}
	if w := consumers.Warning(d, []string{"vsphere-cloud-provider"}); !strings.Contains(w, "vsphere-cloud-provider cannot read") || !strings.Contains(w, "in user") {
		t.Errorf("status warning %q", w)
	}
}
