// Package storage checks the StorageClass manifests the charm renders the
// way Kubernetes reads them: strictly, into the storage/v1 API type.
package storage

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	storagev1 "k8s.io/api/storage/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/yaml"

	"github.com/charmed-kubernetes/vsphere-integrator/internal/storageclass"
)

// datastoreNames are names vSphere accepts and YAML can trip on.
var datastoreNames = []string{
	"datastore1",
	"LocalDS_0",
	"my datastore",
	" leading and trailing ",
	"ds #1",
	"#comment",
	"ds: fast",
	"key: value # not a comment",
	`it's "quoted"`,
	"'single'",
	`"double"`,
	"東京データストア",
	"Größe ÆØÅ",
	"ds 🚀",
	"yes", "no", "on", "off", "true", "null", "~", "123", "1e3", "0x1F", "012",
	"- dash", "[brackets]", "{braces}", "*alias", "&anchor", "!tag", "%percent", "@at", "`backtick",
	"|pipe", ">folded", "?question", "a, b",
	"tab\there", "line\nbreak", "cr\rhere", "nel\u0085here", "ls\u2028here", "nul\x00here",
	strings.Repeat("long name ", 40),
}

// parse reads a manifest as kubectl does, refusing unknown and duplicate
// fields.
func parse(t *testing.T, manifest string) storagev1.StorageClass {
	t.Helper()
	var sc storagev1.StorageClass
	require.NoError(t, yaml.UnmarshalStrict([]byte(manifest), &sc), manifest)
	return sc
}

func TestStorageClassRoundTrip(t *testing.T) {
	for _, ds := range datastoreNames {
		url := "ds:///vmfs/volumes/" + ds + "/"
		tests := []struct {
			name        string
			p           storageclass.Params
			provisioner string
			parameters  map[string]string
		}{{
			name:        "csi",
			p:           storageclass.Params{Datastore: ds, DatastoreURL: url, Source: "vCenter " + ds},
			provisioner: "csi.vsphere.vmware.com",
			parameters:  map[string]string{"datastoreurl": url},
		}, {
			name:        "csi with policy",
			p:           storageclass.Params{Provisioner: storageclass.CSI, Datastore: ds, DatastoreURL: url, StoragePolicy: ds},
			provisioner: "csi.vsphere.vmware.com",
			parameters:  map[string]string{"datastoreurl": url, "storagepolicyname": ds},
		}, {
			name:        "in-tree",
			p:           storageclass.Params{Provisioner: storageclass.InTree, Datastore: ds, Source: ds},
			provisioner: "kubernetes.io/vsphere-volume",
			parameters:  map[string]string{"datastore": ds, "diskformat": "thin"},
		}}
		for _, tc := range tests {
			t.Run(tc.name+"/"+ds, func(t *testing.T) {
				out, err := storageclass.Render(tc.p)
				require.NoError(t, err)
				sc := parse(t, out)
				assert.Equal(t, "storage.k8s.io/v1", sc.APIVersion)
				assert.Equal(t, "StorageClass", sc.Kind)
				assert.Equal(t, storageclass.Name(ds), sc.Name)
				assert.Empty(t, validation.IsDNS1123Subdomain(sc.Name), "the API server takes the name")
				assert.Equal(t, tc.provisioner, sc.Provisioner)
				assert.Equal(t, tc.parameters, sc.Parameters)
				assert.Empty(t, sc.Annotations)
			})
		}
	}
}

func TestStorageClassDefault(t *testing.T) {
	out, err := storageclass.Render(storageclass.Params{Datastore: "ds 1", DatastoreURL: "ds:///vmfs/volumes/x/", Default: true, Name: "vsphere"})
	require.NoError(t, err)
	sc := parse(t, out)
	assert.Equal(t, "vsphere", sc.Name)
	assert.Equal(t, map[string]string{"storageclass.kubernetes.io/is-default-class": "true"}, sc.Annotations)
}
