package integration

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func sample() Data {
	return Data{
		VsphereIP: "vc.example.com", User: "k8s@vsphere.local", Password: `a"b\c#d;e`,
		Datacenter: "DC0", Datastore: "ds1", Folder: "juju-kubernetes", RespoolPath: "",
	}
}

func TestDecodeRoundTrip(t *testing.T) {
	want := sample()
	for name, decode := range map[string]func(Databag) (Data, error){
		"wire":           Decode,
		"cloud-provider": DecodeCloudProvider,
		"reactive": func(b Databag) (Data, error) {
			r, err := DecodeReactive([]Relation{{ID: "vsphere:1", Units: map[string]Databag{"vsphere-integrator/0": b}}})
			return r.Data, err
		},
	} {
		t.Run(name, func(t *testing.T) {
			got, err := decode(Databag(want.Encode()))
			if err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Errorf("got %+v, want %+v", got, want)
			}
		})
	}
}

func withRelationKeys(b Databag) Databag {
	// Juju adds these to every unit databag; all consumers must ignore them.
	b["ingress-address"] = "10.1.1.1"
	b["private-address"] = "10.1.1.1"
	b["egress-subnets"] = "10.1.1.1/32"
	return b
}

func without(b Databag, keys ...string) Databag {
	c := Databag{}
	for k, v := range b {
		if !slices.Contains(keys, k) {
			c[k] = v
		}
	}
	return c
}

func with(b Databag, kv ...string) Databag {
	c := without(b)
	for i := 0; i < len(kv); i += 2 {
		c[kv[i]] = kv[i+1]
	}
	return c
}

func TestDecodeCloudProvider(t *testing.T) {
	full := withRelationKeys(Databag(sample().Encode()))
	tests := []struct {
		name         string
		bag          Databag
		want         Data
		missing, bad []string
		errIs        []error
	}{
		{name: "all keys", bag: full, want: sample()},
		{
			name: "optional keys absent",
			bag:  without(full, KeyDatastore, KeyFolder, KeyRespoolPath),
			want: Data{VsphereIP: "vc.example.com", User: "k8s@vsphere.local", Password: `a"b\c#d;e`, Datacenter: "DC0"},
		},
		{
			name: "optional null is absent",
			bag:  with(full, KeyFolder, "null"),
			want: func() Data { d := sample(); d.Folder = ""; return d }(),
		},
		{name: "nothing", bag: Databag{}, missing: []string{KeyDatacenter, KeyPassword, KeyUser, KeyVsphereIP}, errIs: []error{ErrMissing}},
		{
			// pydantic decodes every value it is given: "" is not JSON.
			name: "empty raw value is not JSON", bag: with(full, KeyUser, "", KeyFolder, ""),
			bad: []string{KeyFolder, KeyUser}, errIs: []error{ErrNotJSON},
		},
		{
			name: "raw, not JSON", bag: with(full, KeyPassword, "secret", KeyDatastore, "ds1"),
			bad: []string{KeyDatastore, KeyPassword}, errIs: []error{ErrNotJSON},
		},
		{
			name: "not strings", bag: with(full, KeyVsphereIP, "10", KeyUser, "null", KeyFolder, "[1]", KeyDatacenter, "NaN"),
			bad: []string{KeyDatacenter, KeyFolder, KeyUser, KeyVsphereIP}, errIs: []error{ErrNotString},
		},
		{
			name: "missing and malformed together", bag: with(without(full, KeyVsphereIP), KeyPassword, "true"),
			missing: []string{KeyVsphereIP}, bad: []string{KeyPassword}, errIs: []error{ErrMissing, ErrNotString},
		},
		{
			name: "json whitespace is fine", bag: with(full, KeyUser, " \t\"u\"\r\n"),
			want: func() Data { d := sample(); d.User = "u"; return d }(),
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

func TestDecodeWire(t *testing.T) {
	full := Databag(sample().Encode())
	tests := []struct {
		name         string
		bag          Databag
		missing, bad []string
	}{
		{name: "complete", bag: full},
		{name: "extra keys ignored", bag: withRelationKeys(with(full))},
		{name: "empty respool_path raw value is missing, not \"\"", bag: with(full, KeyRespoolPath, ""), missing: []string{KeyRespoolPath}},
		{name: "raw value", bag: with(full, KeyUser, "admin"), bad: []string{KeyUser}},
		{name: "null", bag: with(full, KeyFolder, "null"), bad: []string{KeyFolder}},
		{name: "nothing", bag: nil, missing: Keys},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Decode(tt.bag)
			checkDecodeErr(t, err, ConsumerWire, tt.missing, tt.bad, nil)
			if err == nil && got != sample() {
				t.Errorf("got %+v", got)
			}
		})
	}
}

func TestDecodeReactive(t *testing.T) {
	full := withRelationKeys(Databag(sample().Encode()))
	other := Databag(Data{
		VsphereIP: "other", User: "other", Password: "other", Datacenter: "other",
		Datastore: "other", Folder: "other", RespoolPath: "other",
	}.Encode())
	tests := []struct {
		name         string
		rels         []Relation
		want         Data
		relation     string
		source       map[string]string
		verbatim     []string
		missing, bad []string
		errIs        []error
	}{
		{
			name: "one unit", rels: []Relation{{ID: "vsphere:3", Units: map[string]Databag{"vi/0": full}}},
			want: sample(), relation: "vsphere:3",
		},
		{
			// Merged per key: the lowest unit name wins, but keys it lacks
			// come from the others.
			name: "units merged, lowest unit name first",
			rels: []Relation{{ID: "vsphere:3", Units: map[string]Databag{
				"vi/2": other,
				"vi/1": without(full, KeyPassword),
			}}},
			want:     func() Data { d := sample(); d.Password = "other"; return d }(),
			relation: "vsphere:3",
			source:   map[string]string{KeyPassword: "vi/2", KeyUser: "vi/1"},
		},
		{
			name: "unit names compare as strings: vi/10 before vi/9",
			rels: []Relation{{ID: "vsphere:3", Units: map[string]Databag{"vi/9": other, "vi/10": full}}},
			want: sample(), relation: "vsphere:3", source: map[string]string{KeyUser: "vi/10"},
		},
		{
			name: "only the lowest relation id is read, compared as strings",
			rels: []Relation{
				{ID: "vsphere:9", Units: map[string]Databag{"vi/0": other}},
				{ID: "vsphere:10", Units: map[string]Databag{"vi/0": full}},
			},
			want: sample(), relation: "vsphere:10",
		},
		{
			name: "lowest relation without units: not ready, even though another has data",
			rels: []Relation{
				{ID: "vsphere:1"},
				{ID: "vsphere:2", Units: map[string]Databag{"vi/0": full}},
			},
			relation: "vsphere:1", missing: Keys, errIs: []error{ErrMissing},
		},
		{name: "no relation", missing: Keys, errIs: []error{ErrMissing}},
		{
			name:     "raw value taken verbatim",
			rels:     []Relation{{ID: "vsphere:3", Units: map[string]Databag{"vi/0": with(full, KeyPassword, `se"cret`, KeyUser, " ")}}},
			want:     func() Data { d := sample(); d.Password = `se"cret`; d.User = " "; return d }(),
			relation: "vsphere:3", verbatim: []string{KeyPassword, KeyUser},
		},
		{
			name:     "all 7 keys needed",
			rels:     []Relation{{ID: "vsphere:3", Units: map[string]Databag{"vi/0": without(full, KeyRespoolPath, KeyFolder)}}},
			relation: "vsphere:3", missing: []string{KeyFolder, KeyRespoolPath}, errIs: []error{ErrMissing},
		},
		{
			name:     "null is not ready, numbers are not strings",
			rels:     []Relation{{ID: "vsphere:3", Units: map[string]Databag{"vi/0": with(full, KeyFolder, "null", KeyDatastore, "1e400", KeyUser, "Infinity")}}},
			relation: "vsphere:3", bad: []string{KeyDatastore, KeyFolder, KeyUser}, errIs: []error{ErrNotString},
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
	var derr *DecodeError
	if !errors.As(err, &derr) {
		t.Fatalf("error %v is not a *DecodeError", err)
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
	var kerr *KeyError
	if !errors.As(err, &kerr) {
		t.Errorf("errors.As(*KeyError) failed on %v", err)
	}
}

// TestDecodeErrorNeverShowsValues: a DecodeError goes to status messages
// and logs; the value may be a password.
func TestDecodeErrorNeverShowsValues(t *testing.T) {
	bag := Databag(sample().Encode())
	bag[KeyPassword] = "hunter2-raw"
	bag[KeyUser] = "12345"
	_, err := Decode(bag)
	if err == nil {
		t.Fatal("want an error")
	}
	for _, secret := range []string{"hunter2", "12345"} {
		if strings.Contains(err.Error(), secret) {
			t.Errorf("error %q shows the value %q", err, secret)
		}
	}
	t.Log(err)
}
