package consumer_test

import (
	"maps"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	cpiconfig "k8s.io/cloud-provider-vsphere/pkg/cloudprovider/vsphere/config"
	"k8s.io/cloud-provider-vsphere/pkg/common/credentialmanager"

	"github.com/charmed-kubernetes/vsphere-integrator/internal/consumers"
	"github.com/charmed-kubernetes/vsphere-integrator/internal/consumers/consumerstest"
	"github.com/charmed-kubernetes/vsphere-integrator/internal/relation"
)

// databag is the integrator's unit databag as a consumer reads it: the
// published keys beside Juju's own.
func databag(d relation.Data) relation.Databag {
	bag := relation.Databag{"private-address": "10.0.0.5", "ingress-address": "10.0.0.5", "egress-subnets": "10.0.0.5/32"}
	maps.Copy(bag, d.Encode())
	return bag
}

// readInTree is what the in-tree provider reads from a cloud-config.conf,
// field by field against what was published (given is vsphere_ip as
// configured: the server the check connected to).
func readInTree(s, given string, d relation.Data) consumerstest.Readback {
	var r consumerstest.Readback
	cfg, err := readVSphereConfig(s)
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
		r.Wrong = append(r.Wrong, relation.KeyVsphereIP, relation.KeyUser, relation.KeyPassword)
	}
	for server, vc := range cfg.VirtualCenter {
		port := vc.VCenterPort
		if port == "" {
			port = cfg.Global.VCenterPort
		}
		if consumerstest.Got(server, port) != want || cfg.Workspace.VCenterIP != server {
			r.Wrong = append(r.Wrong, relation.KeyVsphereIP)
		}
		r.Compare(relation.KeyUser, vc.User, d.User)
		r.Compare(relation.KeyPassword, vc.Password, d.Password)
	}
	r.Compare(relation.KeyDatacenter, cfg.Global.Datacenters, d.Datacenter)
	r.Compare(relation.KeyDatacenter, cfg.Workspace.Datacenter, d.Datacenter)
	r.Compare(relation.KeyDatastore, cfg.Workspace.DefaultDatastore, d.Datastore)
	r.Compare(relation.KeyFolder, cfg.Workspace.Folder, d.Folder)
	r.Compare(relation.KeyRespoolPath, cfg.Workspace.ResourcePoolPath, d.RespoolPath)
	return r
}

// TestGeneratedInTree: for every generated address, user and password,
// kubernetes-control-plane's writer (and kubernetes-master's before its
// quoting change) either gives the in-tree provider back exactly what was
// published, or the rules name the field and the status names the
// application.
func TestGeneratedInTree(t *testing.T) {
	for _, c := range consumerstest.Cases() {
		got, err := consumerstest.DecodeReactive([]consumerstest.Relation{{ID: "vsphere:1", Units: map[string]relation.Databag{"vsphere-integrator/0": databag(c.Published)}}})
		if err != nil {
			t.Fatalf("%q: the reactive requirer: %v", c.Given, err)
		}
		for _, w := range []struct {
			id, app string
			write   func(relation.Data) string
		}{
			{consumers.InTree, "kubernetes-control-plane", consumerstest.InTree},
			{consumers.InTreeOld, "kubernetes-master", consumerstest.InTreeUnquoted},
		} {
			r := readInTree(w.write(got.Data), c.Given, c.Published)
			if err := consumerstest.Agrees(consumers.Lookup(w.id), w.app, c.Published, r); err != nil {
				t.Errorf("vsphere_ip %q, user %q, password %q: %v", c.Given, c.Published.User, c.Published.Password, err)
			}
		}
	}
}

// readCPI is what the API server and the CPI make of vsphere-cloud-provider's
// ConfigMap and Secret: the Secret's keys by IsConfigMapKey, vsphere.conf
// by ReadCPIConfig, and the credentials by the CPI's credential manager.
func readCPI(conf string, secret map[string]string, given string, d relation.Data) consumerstest.Readback {
	var r consumerstest.Readback
	data := map[string][]byte{}
	for k, v := range secret {
		if errs := validation.IsConfigMapKey(k); len(errs) > 0 {
			r.Rejected = errorString("the API server refuses Secret key " + k)
			return r
		}
		data[k] = []byte(v)
	}
	cfg, err := cpiconfig.ReadCPIConfig([]byte(conf))
	if err != nil {
		r.Rejected = err
		return r
	}
	want, err := consumerstest.Want(given)
	if err != nil {
		r.Rejected = err
		return r
	}
	vc := cfg.VirtualCenter[d.Datacenter]
	if len(cfg.VirtualCenter) != 1 || vc == nil {
		r.Wrong = append(r.Wrong, relation.KeyDatacenter)
		return r
	}
	if consumerstest.Got(vc.VCenterIP, vc.VCenterPort) != want {
		r.Wrong = append(r.Wrong, relation.KeyVsphereIP)
	}
	indexer := cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc})
	if err := indexer.Add(&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: vc.SecretName, Namespace: vc.SecretNamespace, ResourceVersion: "1"}, Data: data}); err != nil {
		r.Rejected = err
		return r
	}
	cm := credentialmanager.NewCredentialManager(vc.SecretName, vc.SecretNamespace, "", corelisters.NewSecretLister(indexer))
	cred, err := cm.GetCredential(vc.VCenterIP)
	if err != nil {
		r.Rejected = err
		return r
	}
	r.Compare(relation.KeyUser, cred.User, d.User)
	r.Compare(relation.KeyPassword, cred.Password, d.Password)
	return r
}

type errorString string

func (e errorString) Error() string { return string(e) }

// TestGeneratedCPI: the same for vsphere-cloud-provider's CPI objects.
func TestGeneratedCPI(t *testing.T) {
	for _, c := range consumerstest.Cases() {
		got, err := consumerstest.DecodeCloudProvider(databag(c.Published))
		if err != nil {
			t.Fatalf("%q: vsphere-cloud-provider: %v", c.Given, err)
		}
		conf, secret := consumerstest.CPI(got)
		r := readCPI(conf, secret, c.Given, c.Published)
		if err := consumerstest.Agrees(consumers.Lookup(consumers.CPI), "vsphere-cloud-provider", c.Published, r); err != nil {
			t.Errorf("vsphere_ip %q, user %q, password %q: %v", c.Given, c.Published.User, c.Published.Password, err)
		}
	}
}
