package consumerstest

import (
	"errors"
	"slices"
	"testing"

	"github.com/charmed-kubernetes/vsphere-integrator/internal/integration"
)

// sample, withRelationKeys, without, with and checkDecodeErr are also in
// internal/integration's tests, for Decode.
func sample() integration.Data {
	return integration.Data{
		VsphereIP: "vc.example.com", User: "k8s@vsphere.local", Password: `a"b\c#d;e`,
		Datacenter: "DC0", Datastore: "ds1", Folder: "juju-kubernetes", RespoolPath: "",
	}
}

func withRelationKeys(b integration.Databag) integration.Databag {
	// Juju adds these to every unit databag; all consumers must ignore them.
	b["ingress-address"] = "10.1.1.1"
	b["private-address"] = "10.1.1.1"
	b["egress-subnets"] = "10.1.1.1/32"
	return b
}

func without(b integration.Databag, keys ...string) integration.Databag {
	c := integration.Databag{}
	for k, v := range b {
		if !slices.Contains(keys, k) {
			c[k] = v
		}
	}
	return c
}

func with(b integration.Databag, kv ...string) integration.Databag {
	c := without(b)
	for i := 0; i < len(kv); i += 2 {
		c[kv[i]] = kv[i+1]
	}
	return c
}

func TestDecodeRoundTrip(t *testing.T) {
	want := sample()
	for name, decode := range map[string]func(integration.Databag) (integration.Data, error){
		"cloud-provider": DecodeCloudProvider,
		"reactive": func(b integration.Databag) (integration.Data, error) {
			r, err := DecodeReactive([]Relation{{ID: "vsphere:1", Units: map[string]integration.Databag{"vsphere-integrator/0": b}}})
			return r.Data, err
		},
	} {
		t.Run(name, func(t *testing.T) {
			got, err := decode(integration.Databag(want.Encode()))
			if err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Errorf("got %+v, want %+v", got, want)
			}
		})
	}
}

func TestDecodeCloudProvider(t *testing.T) {
	full := withRelationKeys(integration.Databag(sample().Encode()))
	tests := []struct {
		name         string
		bag          integration.Databag
		want         integration.Data
		missing, bad []string
		errIs        []error
	}{
		{name: "all keys", bag: full, want: sample()},
		{
			name: "optional keys absent",
			bag:  without(full, integration.KeyDatastore, integration.KeyFolder, integration.KeyRespoolPath),
			want: integration.Data{VsphereIP: "vc.example.com", User: "k8s@vsphere.local", Password: `a"b\c#d;e`, Datacenter: "DC0"},
		},
		{
			name: "optional null is absent",
			bag:  with(full, integration.KeyFolder, "null"),
			want: func() integration.Data { d := sample(); d.Folder = ""; return d }(),
		},
		{name: "nothing", bag: integration.Databag{}, missing: []string{integration.KeyDatacenter, integration.KeyPassword, integration.KeyUser, integration.KeyVsphereIP}, errIs: []error{integration.ErrMissing}},
		{
			// pydantic decodes every value it is given: "" is not JSON.
			name: "empty raw value is not JSON", bag: with(full, integration.KeyUser, "", integration.KeyFolder, ""),
			bad: []string{integration.KeyFolder, integration.KeyUser}, errIs: []error{integration.ErrNotJSON},
		},
		{
			name: "raw, not JSON", bag: with(full, integration.KeyPassword, "secret", integration.KeyDatastore, "ds1"),
			bad: []string{integration.KeyDatastore, integration.KeyPassword}, errIs: []error{integration.ErrNotJSON},
		},
		{
			name: "not strings", bag: with(full, integration.KeyVsphereIP, "10", integration.KeyUser, "null", integration.KeyFolder, "[1]", integration.KeyDatacenter, "NaN"),
			bad: []string{integration.KeyDatacenter, integration.KeyFolder, integration.KeyUser, integration.KeyVsphereIP}, errIs: []error{integration.ErrNotString},
		},
		{
			name: "missing and malformed together", bag: with(without(full, integration.KeyVsphereIP), integration.KeyPassword, "true"),
			missing: []string{integration.KeyVsphereIP}, bad: []string{integration.KeyPassword}, errIs: []error{integration.ErrMissing, integration.ErrNotString},
		},
		{
			name: "json whitespace is fine", bag: with(full, integration.KeyUser, " \t\"u\"\r\n"),
			want: func() integration.Data { d := sample(); d.User = "u"; return d }(),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecodeCloudProvider(tt.bag)
			checkDecodeErr(t, err, ConsumerCloudProvider, tt.missing, tt.bad, tt.errIs)
			if err == nil && got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestDecodeReactive(t *testing.T) {
	full := withRelationKeys(integration.Databag(sample().Encode()))
	other := integration.Databag(integration.Data{
		VsphereIP: "other", User: "other", Password: "other", Datacenter: "other",
		Datastore: "other", Folder: "other", RespoolPath: "other",
	}.Encode())
	tests := []struct {
		name         string
		rels         []Relation
		want         integration.Data
		relation     string
		source       map[string]string
		verbatim     []string
		missing, bad []string
		errIs        []error
	}{
		{
			name: "one unit", rels: []Relation{{ID: "vsphere:3", Units: map[string]integration.Databag{"vi/0": full}}},
			want: sample(), relation: "vsphere:3",
		},
		{
			// Merged per key: the lowest unit name wins, but keys it lacks
			// come from the others.
			name: "units merged, lowest unit name first",
			rels: []Relation{{ID: "vsphere:3", Units: map[string]integration.Databag{
				"vi/2": other,
				"vi/1": without(full, integration.KeyPassword),
			}}},
			want:     func() integration.Data { d := sample(); d.Password = "other"; return d }(),
			relation: "vsphere:3",
			source:   map[string]string{integration.KeyPassword: "vi/2", integration.KeyUser: "vi/1"},
		},
		{
			name: "unit names compare as strings: vi/10 before vi/9",
			rels: []Relation{{ID: "vsphere:3", Units: map[string]integration.Databag{"vi/9": other, "vi/10": full}}},
			want: sample(), relation: "vsphere:3", source: map[string]string{integration.KeyUser: "vi/10"},
		},
		{
			name: "only the lowest relation id is read, compared as strings",
			rels: []Relation{
				{ID: "vsphere:9", Units: map[string]integration.Databag{"vi/0": other}},
				{ID: "vsphere:10", Units: map[string]integration.Databag{"vi/0": full}},
			},
			want: sample(), relation: "vsphere:10",
		},
		{
			name: "lowest relation without units: not ready, even though another has data",
			rels: []Relation{
				{ID: "vsphere:1"},
				{ID: "vsphere:2", Units: map[string]integration.Databag{"vi/0": full}},
			},
			relation: "vsphere:1", missing: integration.Keys, errIs: []error{integration.ErrMissing},
		},
		{name: "no relation", missing: integration.Keys, errIs: []error{integration.ErrMissing}},
		{
			name:     "raw value taken verbatim",
			rels:     []Relation{{ID: "vsphere:3", Units: map[string]integration.Databag{"vi/0": with(full, integration.KeyPassword, `se"cret`, integration.KeyUser, " ")}}},
			want:     func() integration.Data { d := sample(); d.Password = `se"cret`; d.User = " "; return d }(),
			relation: "vsphere:3", verbatim: []string{integration.KeyPassword, integration.KeyUser},
		},
		{
			name:     "all 7 keys needed",
			rels:     []Relation{{ID: "vsphere:3", Units: map[string]integration.Databag{"vi/0": without(full, integration.KeyRespoolPath, integration.KeyFolder)}}},
			relation: "vsphere:3", missing: []string{integration.KeyFolder, integration.KeyRespoolPath}, errIs: []error{integration.ErrMissing},
		},
		{
			name:     "null is not ready, numbers are not strings",
			rels:     []Relation{{ID: "vsphere:3", Units: map[string]integration.Databag{"vi/0": with(full, integration.KeyFolder, "null", integration.KeyDatastore, "1e400", integration.KeyUser, "Infinity")}}},
			relation: "vsphere:3", bad: []string{integration.KeyDatastore, integration.KeyFolder, integration.KeyUser}, errIs: []error{integration.ErrNotString},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecodeReactive(tt.rels)
			checkDecodeErr(t, err, ConsumerReactive, tt.missing, tt.bad, tt.errIs)
			if got.RelationID != tt.relation {
				t.Errorf("RelationID = %q, want %q", got.RelationID, tt.relation)
			}
			if !slices.Equal(got.Verbatim, tt.verbatim) {
				t.Errorf("Verbatim = %q, want %q", got.Verbatim, tt.verbatim)
			}
			for k, u := range tt.source {
				if got.Source[k] != u {
					t.Errorf("Source[%s] = %q, want %q", k, got.Source[k], u)
				}
			}
			if err == nil && got.Data != tt.want {
				t.Errorf("got %+v, want %+v", got.Data, tt.want)
			}
		})
	}
}

func checkDecodeErr(t *testing.T, err error, consumer string, missing, bad []string, is []error) {
	t.Helper()
	if len(missing)+len(bad) == 0 {
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return
	}
	var derr *integration.DecodeError
	if !errors.As(err, &derr) {
		t.Fatalf("error %v is not a *integration.DecodeError", err)
	}
	if derr.Consumer != consumer {
		t.Errorf("Consumer = %q, want %q", derr.Consumer, consumer)
	}
	if !slices.Equal(derr.Missing(), missing) {
		t.Errorf("Missing() = %q, want %q (%v)", derr.Missing(), missing, err)
	}
	if !slices.Equal(derr.Malformed(), bad) {
		t.Errorf("Malformed() = %q, want %q (%v)", derr.Malformed(), bad, err)
	}
	for _, target := range is {
		if !errors.Is(err, target) {
			t.Errorf("errors.Is(%v, %v) = false", err, target)
		}
	}
	var kerr *integration.KeyError
	if !errors.As(err, &kerr) {
		t.Errorf("errors.As(*integration.KeyError) failed on %v", err)
	}
}
