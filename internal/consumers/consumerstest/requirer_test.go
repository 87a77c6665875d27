package consumerstest

import (
	"errors"
	"slices"
	"testing"

	"github.com/charmed-kubernetes/vsphere-integrator/internal/relation"
)

// sample, withRelationKeys, without, with and checkDecodeErr are also in
// internal/relation's tests, for Decode.
func sample() relation.Data {
	return relation.Data{
		VsphereIP: "vc.example.com", User: "k8s@vsphere.local", Password: `a"b\c#d;e`,
		Datacenter: "DC0", Datastore: "ds1", Folder: "juju-kubernetes", RespoolPath: "",
	}
}

func withRelationKeys(b relation.Databag) relation.Databag {
	// Juju adds these to every unit databag; all consumers must ignore them.
	b["ingress-address"] = "10.1.1.1"
	b["private-address"] = "10.1.1.1"
	b["egress-subnets"] = "10.1.1.1/32"
	return b
}

func without(b relation.Databag, keys ...string) relation.Databag {
	c := relation.Databag{}
	for k, v := range b {
		if !slices.Contains(keys, k) {
			c[k] = v
		}
	}
	return c
}

func with(b relation.Databag, kv ...string) relation.Databag {
	c := without(b)
	for i := 0; i < len(kv); i += 2 {
		c[kv[i]] = kv[i+1]
	}
	return c
}

func TestDecodeRoundTrip(t *testing.T) {
	want := sample()
	for name, decode := range map[string]func(relation.Databag) (relation.Data, error){
		"cloud-provider": DecodeCloudProvider,
		"reactive": func(b relation.Databag) (relation.Data, error) {
			r, err := DecodeReactive([]Relation{{ID: "vsphere:1", Units: map[string]relation.Databag{"vsphere-integrator/0": b}}})
			return r.Data, err
		},
	} {
		t.Run(name, func(t *testing.T) {
			got, err := decode(relation.Databag(want.Encode()))
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
	full := withRelationKeys(relation.Databag(sample().Encode()))
	tests := []struct {
		name         string
		bag          relation.Databag
		want         relation.Data
		missing, bad []string
		errIs        []error
	}{
		{name: "all keys", bag: full, want: sample()},
		{
			name: "optional keys absent",
			bag:  without(full, relation.KeyDatastore, relation.KeyFolder, relation.KeyRespoolPath),
			want: relation.Data{VsphereIP: "vc.example.com", User: "k8s@vsphere.local", Password: `a"b\c#d;e`, Datacenter: "DC0"},
		},
		{
			name: "optional null is absent",
			bag:  with(full, relation.KeyFolder, "null"),
			want: func() relation.Data { d := sample(); d.Folder = ""; return d }(),
		},
		{name: "nothing", bag: relation.Databag{}, missing: []string{relation.KeyDatacenter, relation.KeyPassword, relation.KeyUser, relation.KeyVsphereIP}, errIs: []error{relation.ErrMissing}},
		{
			// pydantic decodes every value it is given: "" is not JSON.
			name: "empty raw value is not JSON", bag: with(full, relation.KeyUser, "", relation.KeyFolder, ""),
			bad: []string{relation.KeyFolder, relation.KeyUser}, errIs: []error{relation.ErrNotJSON},
		},
		{
			name: "raw, not JSON", bag: with(full, relation.KeyPassword, "secret", relation.KeyDatastore, "ds1"),
			bad: []string{relation.KeyDatastore, relation.KeyPassword}, errIs: []error{relation.ErrNotJSON},
		},
		{
			name: "not strings", bag: with(full, relation.KeyVsphereIP, "10", relation.KeyUser, "null", relation.KeyFolder, "[1]", relation.KeyDatacenter, "NaN"),
			bad: []string{relation.KeyDatacenter, relation.KeyFolder, relation.KeyUser, relation.KeyVsphereIP}, errIs: []error{relation.ErrNotString},
		},
		{
			name: "missing and malformed together", bag: with(without(full, relation.KeyVsphereIP), relation.KeyPassword, "true"),
			missing: []string{relation.KeyVsphereIP}, bad: []string{relation.KeyPassword}, errIs: []error{relation.ErrMissing, relation.ErrNotString},
		},
		{
			name: "json whitespace is fine", bag: with(full, relation.KeyUser, " \t\"u\"\r\n"),
			want: func() relation.Data { d := sample(); d.User = "u"; return d }(),
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
	full := withRelationKeys(relation.Databag(sample().Encode()))
	other := relation.Databag(relation.Data{
		VsphereIP: "other", User: "other", Password: "other", Datacenter: "other",
		Datastore: "other", Folder: "other", RespoolPath: "other",
	}.Encode())
	tests := []struct {
		name         string
		rels         []Relation
		want         relation.Data
		relation     string
		source       map[string]string
		verbatim     []string
		missing, bad []string
		errIs        []error
	}{
		{
			name: "one unit", rels: []Relation{{ID: "vsphere:3", Units: map[string]relation.Databag{"vi/0": full}}},
			want: sample(), relation: "vsphere:3",
		},
		{
			// Merged per key: the lowest unit name wins, but keys it lacks
			// come from the others.
			name: "units merged, lowest unit name first",
			rels: []Relation{{ID: "vsphere:3", Units: map[string]relation.Databag{
				"vi/2": other,
				"vi/1": without(full, relation.KeyPassword),
			}}},
			want:     func() relation.Data { d := sample(); d.Password = "other"; return d }(),
			relation: "vsphere:3",
			source:   map[string]string{relation.KeyPassword: "vi/2", relation.KeyUser: "vi/1"},
		},
		{
			name: "unit names compare as strings: vi/10 before vi/9",
			rels: []Relation{{ID: "vsphere:3", Units: map[string]relation.Databag{"vi/9": other, "vi/10": full}}},
			want: sample(), relation: "vsphere:3", source: map[string]string{relation.KeyUser: "vi/10"},
		},
		{
			name: "only the lowest relation id is read, compared as strings",
			rels: []Relation{
				{ID: "vsphere:9", Units: map[string]relation.Databag{"vi/0": other}},
				{ID: "vsphere:10", Units: map[string]relation.Databag{"vi/0": full}},
			},
			want: sample(), relation: "vsphere:10",
		},
		{
			name: "lowest relation without units: not ready, even though another has data",
			rels: []Relation{
				{ID: "vsphere:1"},
				{ID: "vsphere:2", Units: map[string]relation.Databag{"vi/0": full}},
			},
			relation: "vsphere:1", missing: relation.Keys, errIs: []error{relation.ErrMissing},
		},
		{name: "no relation", missing: relation.Keys, errIs: []error{relation.ErrMissing}},
		{
			name:     "raw value taken verbatim",
			rels:     []Relation{{ID: "vsphere:3", Units: map[string]relation.Databag{"vi/0": with(full, relation.KeyPassword, `se"cret`, relation.KeyUser, " ")}}},
			want:     func() relation.Data { d := sample(); d.Password = `se"cret`; d.User = " "; return d }(),
			relation: "vsphere:3", verbatim: []string{relation.KeyPassword, relation.KeyUser},
		},
		{
			name:     "all 7 keys needed",
			rels:     []Relation{{ID: "vsphere:3", Units: map[string]relation.Databag{"vi/0": without(full, relation.KeyRespoolPath, relation.KeyFolder)}}},
			relation: "vsphere:3", missing: []string{relation.KeyFolder, relation.KeyRespoolPath}, errIs: []error{relation.ErrMissing},
		},
		{
			name:     "null is not ready, numbers are not strings",
			rels:     []Relation{{ID: "vsphere:3", Units: map[string]relation.Databag{"vi/0": with(full, relation.KeyFolder, "null", relation.KeyDatastore, "1e400", relation.KeyUser, "Infinity")}}},
			relation: "vsphere:3", bad: []string{relation.KeyDatastore, relation.KeyFolder, relation.KeyUser}, errIs: []error{relation.ErrNotString},
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
	var derr *relation.DecodeError
	if !errors.As(err, &derr) {
		t.Fatalf("error %v is not a *relation.DecodeError", err)
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
	var kerr *relation.KeyError
	if !errors.As(err, &kerr) {
		t.Errorf("errors.As(*relation.KeyError) failed on %v", err)
	}
}
