package relation

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

// sample, withRelationKeys, without, with and checkDecodeErr are also in
// consumerstest's tests, for the consumers' decodings.
func sample() Data {
	return Data{
		VsphereIP: "vc.example.com", User: "k8s@vsphere.local", Password: `a"b\c#d;e`,
		Datacenter: "DC0", Datastore: "ds1", Folder: "juju-kubernetes", RespoolPath: "",
	}
}

func TestDecodeRoundTrip(t *testing.T) {
	want := sample()
	got, err := Decode(Databag(want.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Errorf("got %+v, want %+v", got, want)
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
