package main

import (
	"archive/zip"
	"bytes"
	"debug/elf"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	jujucharm "github.com/juju/charm/v12"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
)

// architectures the charm is built for, as Juju names them, and the
// Ubuntu releases it runs on: manifest.yaml, charmcraft.yaml and the
// Makefile's ARCHES must all say the same (TestArchitecturesAgree,
// docs/packaging.md).
var (
	architectures = []string{"amd64", "arm64", "s390x", "ppc64el", "riscv64"}
	channels      = []string{"22.04", "24.04", "26.04"}
)

// goarch is Go's name for a Juju architecture (the Makefile's goarch).
var goarch = map[string]string{
	"amd64":   "amd64",
	"arm64":   "arm64",
	"s390x":   "s390x",
	"ppc64el": "ppc64le",
	"riscv64": "riscv64",
}

// elfOf is the ELF header a binary for each architecture has: ppc64el is
// EM_PPC64 little-endian (Juju names no big-endian PowerPC), s390x is
// big-endian.
var elfOf = map[string]struct {
	machine elf.Machine
	data    elf.Data
}{
	"amd64":   {elf.EM_X86_64, elf.ELFDATA2LSB},
	"arm64":   {elf.EM_AARCH64, elf.ELFDATA2LSB},
	"s390x":   {elf.EM_S390, elf.ELFDATA2MSB},
	"ppc64el": {elf.EM_PPC64, elf.ELFDATA2LSB},
	"riscv64": {elf.EM_RISCV, elf.ELFDATA2LSB},
}

// TestEveryArchitecture builds the charm binary for each architecture, as
// `make charms` does, packs it with -arch, and reads the archive back with
// juju/charm: its manifest names that architecture alone, and its binary is
// a static ELF for that machine. The cross builds are the slow part (the
// first run compiles the dependencies for each architecture; later runs
// come from the build cache), so -short skips them.
func TestEveryArchitecture(t *testing.T) {
	if testing.Short() {
		t.Skip("cross-compiles the charm for every architecture")
	}
	for _, arch := range architectures {
		t.Run(arch, func(t *testing.T) {
			bin := filepath.Join(built.dir, "vsphere-integrator")
			if arch != built.arch {
				bin = filepath.Join(t.TempDir(), "vsphere-integrator")
				build := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", bin, "./cmd/vsphere-integrator")
				build.Dir, build.Env = repo, append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+goarch[arch])
				out, err := build.CombinedOutput()
				require.NoError(t, err, "%s", out)
			}
			charm := filepath.Join(t.TempDir(), "vsphere-integrator_"+arch+".charm")
			require.NoError(t, pack(repo, bin, arch, charm))

			ch, err := jujucharm.ReadCharmArchive(charm)
			require.NoError(t, err)
			m := ch.Manifest()
			require.NotNil(t, m)
			require.NoError(t, m.Validate())
			var tracks []string
			for _, b := range m.Bases {
				assert.Equal(t, "ubuntu", b.Name)
				assert.Equal(t, []string{arch}, b.Architectures, "base %s %s", b.Name, b.Channel)
				tracks = append(tracks, b.Channel.Track)
			}
			assert.Equal(t, channels, tracks)
			assert.NotNil(t, ch.Meta().Assumes, "the metadata is the source's")

			f := binaryOf(t, charm)
			want, ok := elfOf[arch]
			require.True(t, ok, "no ELF header known for %s", arch)
			assert.Equal(t, want.machine, f.Machine)
			assert.Equal(t, want.data, f.Data)
			assert.Equal(t, elf.ELFCLASS64, f.Class)
			for _, p := range f.Progs {
				assert.NotEqual(t, elf.PT_INTERP, p.Type, "static: no ELF interpreter")
			}
		})
	}
}

// binaryOf opens the charm binary inside an archive as an ELF file.
func binaryOf(t *testing.T, charm string) *elf.File {
	t.Helper()
	zr, err := zip.OpenReader(charm)
	require.NoError(t, err)
	defer zr.Close()
	for _, zf := range zr.File {
		if zf.Name != "bin/vsphere-integrator" {
			continue
		}
		r, err := zf.Open()
		require.NoError(t, err)
		defer r.Close()
		raw, err := io.ReadAll(r)
		require.NoError(t, err)
		f, err := elf.NewFile(bytes.NewReader(raw))
		require.NoError(t, err)
		return f
	}
	t.Fatalf("%s has no bin/vsphere-integrator", charm)
	return nil
}

// TestPackRefuses: a build mistake fails the pack and leaves no archive.
func TestPackRefuses(t *testing.T) {
	host := filepath.Join(built.dir, "vsphere-integrator")
	other := "arm64"
	if built.arch == other {
		other = "amd64"
	}
	onlyOther := t.TempDir()
	for _, f := range append([]string{"dispatch"}, plainFiles...) {
		raw, err := os.ReadFile(filepath.Join(repo, f))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(onlyOther, f), raw, 0o644))
	}
	require.NoError(t, os.WriteFile(filepath.Join(onlyOther, "manifest.yaml"),
		[]byte("bases:\n- name: ubuntu\n  channel: \"22.04\"\n  architectures: ["+other+"]\n"), 0o644))

	for _, tc := range []struct {
		name, src, bin, arch string
		want                 string
		is                   error
	}{
		{name: "-arch is not the binary's", src: repo, bin: host, arch: other, want: "is built for " + built.arch + ", not " + other},
		{name: "manifest lacks the binary's architecture", src: onlyOther, bin: host, want: "lists [" + other + "], not " + built.arch},
		{name: "dynamically linked binary", src: repo, bin: "/bin/sh", is: errNotStatic},
		{name: "not an ELF binary", src: repo, bin: filepath.Join(repo, "dispatch"), want: "read binary"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "x.charm")
			err := pack(tc.src, tc.bin, tc.arch, out)
			require.Error(t, err)
			if tc.is != nil {
				assert.ErrorIs(t, err, tc.is)
			} else {
				assert.Contains(t, err.Error(), tc.want)
			}
			assert.NoFileExists(t, out)
		})
	}
}

func TestManifestFor(t *testing.T) {
	src := []byte(`# why
analysis:
  attributes:
  - name: language
    result: go
bases:
- name: ubuntu
  channel: "20.04"
  architectures: [amd64, arm64]
- name: ubuntu
  channel: "22.04"
  architectures:
  - amd64
  - arm64
`)
	got, err := manifestFor(src, "arm64")
	require.NoError(t, err)
	assert.Contains(t, string(got), "# why", "comments stay")
	m, err := jujucharm.ReadManifest(bytes.NewReader(got))
	require.NoError(t, err)
	require.Len(t, m.Bases, 2)
	for _, b := range m.Bases {
		assert.Equal(t, []string{"arm64"}, b.Architectures)
	}
	assert.Equal(t, []string{"20.04", "22.04"}, []string{m.Bases[0].Channel.Track, m.Bases[1].Channel.Track})
	var doc map[string]any
	require.NoError(t, yaml.Unmarshal(got, &doc))
	assert.Contains(t, doc, "analysis", "other keys stay")

	for name, bad := range map[string]string{
		"no bases":           "analysis: {}\n",
		"empty bases":        "bases: []\n",
		"base without archs": "bases:\n- name: ubuntu\n  channel: \"22.04\"\n",
		"not listed":         "bases:\n- name: ubuntu\n  channel: \"22.04\"\n  architectures: [amd64]\n",
		"not YAML":           "bases: [\n",
	} {
		_, err := manifestFor([]byte(bad), "arm64")
		assert.Error(t, err, name)
	}
}

// TestArchitecturesAgree: the manifest, charmcraft.yaml and `make charms`
// name the same bases and architectures, so `make charms` and
// `charmcraft pack` build for the same list (docs/packaging.md).
func TestArchitecturesAgree(t *testing.T) {
	var manifest struct {
		Bases []struct {
			Name          string   `yaml:"name"`
			Channel       string   `yaml:"channel"`
			Architectures []string `yaml:"architectures"`
		} `yaml:"bases"`
	}
	readYAML(t, "manifest.yaml", &manifest)
	var tracks []string
	for _, b := range manifest.Bases {
		assert.Equal(t, "ubuntu", b.Name)
		assert.Equal(t, architectures, b.Architectures, "manifest.yaml base %s %s", b.Name, b.Channel)
		tracks = append(tracks, b.Channel)
	}
	assert.Equal(t, channels, tracks, "manifest.yaml bases")

	// charmcraft.yaml: one platform per base and architecture, each built
	// natively (on that base and architecture), as the old bases form was.
	raw, err := os.ReadFile(filepath.Join(repo, "charmcraft.yaml"))
	require.NoError(t, err)
	proj, problems := readCharmcraft(raw, besides(t))
	assert.Empty(t, problems, "charmcraft.yaml breaks charmcraft's rules (docs/packaging.md)")
	var want, got []string
	for _, c := range channels {
		for _, a := range architectures {
			want = append(want, "ubuntu@"+c+":"+a)
		}
	}
	for _, p := range proj.platforms {
		got = append(got, p.base+":"+p.arch)
		assert.Equal(t, []string{p.base + ":" + p.arch}, p.buildOn, "charmcraft.yaml platform %s builds natively", p.name)
	}
	slices.Sort(want)
	slices.Sort(got)
	assert.Equal(t, want, got, "charmcraft.yaml platforms")
	for name, part := range proj.parts {
		// The make plugin: the charm plugin builds Python charms, and
		// charmcraft refuses it on 26.04.
		assert.Equal(t, "make", part["plugin"], "charmcraft.yaml part %s", name)
		// make-parameters would be ignored next to override-build.
		assert.NotContains(t, part, "make-parameters", "charmcraft.yaml part %s", name)
	}

	// make charms: one archive per architecture, each binary built for
	// that architecture under Go's name for it, as make itself expands
	// the rule (a dry run: nothing is built).
	dry := exec.Command("make", "-n", "charms")
	// Not a sub-make of the make running these tests, if one is.
	dry.Dir, dry.Env = repo, append(os.Environ(), "MAKEFLAGS=", "MAKELEVEL=")
	out, err := dry.CombinedOutput()
	require.NoError(t, err, "%s", out)
	goarchOf, packed := makeCharms(string(out))
	assert.Equal(t, architectures, packed, "make charms packs one archive per architecture")
	for _, a := range architectures {
		assert.Equal(t, goarch[a], goarchOf[a], "make charms builds %s with GOARCH", a)
	}

	makefile, err := os.ReadFile(filepath.Join(repo, "Makefile"))
	require.NoError(t, err)
	m := regexp.MustCompile(`(?m)^ARCHES\s*:=\s*(.*)$`).FindSubmatch(makefile)
	require.NotNil(t, m, "Makefile sets ARCHES")
	assert.Equal(t, architectures, strings.Fields(string(m[1])), "Makefile ARCHES")
}

// makeCharms reads `make -n charms`: the GOARCH each architecture's binary
// is built with (by its build/<arch>/ output), and the architectures
// charmpack packs, in order, each into vsphere-integrator_<arch>.charm.
func makeCharms(script string) (goarchOf map[string]string, packed []string) {
	goBuild := regexp.MustCompile(`\bGOARCH=(\S+) .*\bgo build .*-o build/([^/\s]+)/vsphere-integrator `)
	pack := regexp.MustCompile(`charmpack .*-arch (\S+) -o vsphere-integrator_(\S+)\.charm$`)
	goarchOf = map[string]string{}
	for _, line := range strings.Split(script, "\n") {
		if m := goBuild.FindStringSubmatch(line); m != nil {
			goarchOf[m[2]] = m[1]
		}
		if m := pack.FindStringSubmatch(strings.TrimSpace(line)); m != nil && m[1] == m[2] {
			packed = append(packed, m[1])
		}
	}
	return goarchOf, packed
}

// TestToolchainAgrees: the go line of both modules, the Go snap charmcraft
// builds with and the README's Quick start name the same Go release.
func TestToolchainAgrees(t *testing.T) {
	goLine := regexp.MustCompile(`(?m)^go (\d+\.\d+)(\.\d+)?$`)
	var lines []string
	for _, f := range []string{"go.mod", "tests/go.mod"} {
		raw, err := os.ReadFile(filepath.Join(repo, f))
		require.NoError(t, err)
		m := goLine.FindSubmatch(raw)
		require.NotNil(t, m, "%s has a go line", f)
		lines = append(lines, string(m[1])+string(m[2]))
	}
	require.Equal(t, lines[0], lines[1], "go.mod and tests/go.mod")
	release := goLine.FindStringSubmatch("go " + lines[0])[1] // "1.26"

	var craft struct {
		Parts map[string]struct {
			BuildSnaps []string `yaml:"build-snaps"`
		} `yaml:"parts"`
	}
	readYAML(t, "charmcraft.yaml", &craft)
	var snaps []string
	for _, p := range craft.Parts {
		snaps = append(snaps, p.BuildSnaps...)
	}
	assert.True(t, slices.Contains(snaps, "go/"+release+"/stable"), "charmcraft.yaml builds with go/%s: %v", release, snaps)

	readme, err := os.ReadFile(filepath.Join(repo, "README.md"))
	require.NoError(t, err)
	assert.Contains(t, string(readme), "Go "+release+" and `make`", "README's Quick start")
	assert.Contains(t, string(readme), "`go "+lines[0]+"` line", "README names the go line")
}

func readYAML(t *testing.T, name string, v any) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(repo, name))
	require.NoError(t, err)
	require.NoError(t, yaml.Unmarshal(raw, v), name)
}
