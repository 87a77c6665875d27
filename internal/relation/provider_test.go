package relation

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"encoding/json"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "regenerate testdata golden files (the Python ones need python3)")

// TestPyJSONStringGolden holds PyJSONString to bytes Python's json.dumps
// produced, so a switch from the Python charm changes no relation value.
func TestPyJSONStringGolden(t *testing.T) {
	golden := filepath.Join("testdata", "pyjson.golden")
	if *update {
		if _, err := exec.LookPath("python3"); err != nil {
			t.Skip("python3 not found: cannot regenerate", golden)
		}
		out, err := exec.Command("python3", filepath.Join("testdata", "pyjson_gen.py")).Output()
		if err != nil {
			t.Fatalf("pyjson_gen.py: %v", err)
		}
		if err := os.WriteFile(golden, out, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	data, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	n := 0
	for sc.Scan() {
		n++
		inHex, want, ok := strings.Cut(sc.Text(), "\t")
		if !ok {
			t.Fatalf("line %d: no tab", n)
		}
		in, err := hex.DecodeString(inHex)
		if err != nil {
			t.Fatalf("line %d: %v", n, err)
		}
		t.Run(want[:min(len(want), 24)], func(t *testing.T) {
			if got := PyJSONString(string(in)); got != want {
				t.Errorf("PyJSONString(%q)\n got %s\nwant %s", in, got, want)
			}
		})
	}
	if n < 10 {
		t.Fatalf("only %d golden cases", n)
	}
}

func TestEncodeWire(t *testing.T) {
	d := Data{
		VsphereIP: "10.0.0.1", User: "admin@vsphere.local", Password: `p"\é`,
		Datacenter: "DC0", Datastore: "LocalDS_0", Folder: "juju", RespoolPath: "",
	}
	got := d.Encode()
	want := map[string]string{
		KeyVsphereIP: `"10.0.0.1"`, KeyUser: `"admin@vsphere.local"`, KeyPassword: `"p\"\\\u00e9"`,
		KeyDatacenter: `"DC0"`, KeyDatastore: `"LocalDS_0"`, KeyFolder: `"juju"`,
		// An empty value would delete the key: it must go out as `""`.
		KeyRespoolPath: `""`,
	}
	if len(got) != len(Keys) {
		t.Fatalf("Encode returned %d keys, want %d", len(got), len(Keys))
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s = %s, want %s", k, got[k], w)
		}
	}
}

// FuzzPyJSONString checks what can be checked without Python: the output
// is ASCII, valid JSON, and decodes to the input (for valid UTF-8).
func FuzzPyJSONString(f *testing.F) {
	for _, s := range []string{"", `"\`, "\x00\x7f\u2028", "\U0001F600", "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		enc := PyJSONString(s)
		for i := 0; i < len(enc); i++ {
			if enc[i] < 0x20 || enc[i] > 0x7e {
				t.Fatalf("PyJSONString(%q) = %q: byte %#x is not printable ASCII", s, enc, enc[i])
			}
		}
		var back string
		if err := json.Unmarshal([]byte(enc), &back); err != nil {
			t.Fatalf("PyJSONString(%q) = %q: not JSON: %v", s, enc, err)
		}
		if want := strings.ToValidUTF8(s, "\ufffd"); back != want && validRunes(s) {
			t.Fatalf("PyJSONString(%q) decodes to %q", s, back)
		}
	})
}

// validRunes is utf8.ValidString, spelt out so the check does not lean on
// the ranging that PyJSONString itself uses.
func validRunes(s string) bool { return strings.ToValidUTF8(s, "") == s }

// TestPyLoadsGolden holds Loads, which every decoding here and in
// consumerstest uses, to what Python's json.loads, which every consumer
// uses, makes of a raw value.
func TestPyLoadsGolden(t *testing.T) {
	golden := filepath.Join("testdata", "pyloads.golden")
	if *update {
		if _, err := exec.LookPath("python3"); err != nil {
			t.Skip("python3 not found: cannot regenerate", golden)
		}
		out, err := exec.Command("python3", filepath.Join("testdata", "pyloads_gen.py")).Output()
		if err != nil {
			t.Fatalf("pyloads_gen.py: %v", err)
		}
		if err := os.WriteFile(golden, out, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	data, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	pyKind := map[string]Kind{
		"str": KindString, "NoneType": KindNull, "float": KindNumber, "int": KindNumber,
		"bool": KindBool, "list": KindArray, "dict": KindObject, "invalid": KindInvalid,
	}
	for i, line := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
		f := strings.Split(line, "\t")
		if len(f) != 3 {
			t.Fatalf("line %d: %d fields", i+1, len(f))
		}
		raw, err1 := hex.DecodeString(f[0])
		val, err2 := hex.DecodeString(f[2])
		want, ok := pyKind[f[1]]
		if err1 != nil || err2 != nil || !ok {
			t.Fatalf("line %d: bad golden line %q", i+1, line)
		}
		t.Run(f[0], func(t *testing.T) {
			s, kind := Loads(string(raw))
			if kind != want || s != string(val) {
				t.Errorf("Loads(%q) = %q, kind %d; json.loads gives %s %q", raw, s, kind, f[1], val)
			}
		})
	}
}
