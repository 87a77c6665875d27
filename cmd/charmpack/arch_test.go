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

// architectures the charm is built for; manifest.yaml, charmcraft.yaml and
// the Makefile's ARCHES must all say the same (TestArchitecturesAgree).
var architectures = []string{"amd64", "arm64", "s390x"}

var elfMachine = map[string]elf.Machine{
	"amd64": elf.EM_X86_64,
	"arm64": elf.EM_AARCH64,
	"s390x": elf.EM_S390,
}

// TestEveryArchitecture builds the charm binary for each architecture, as
// `make charms` does, packs it with -arch, and reads the archive back with
// juju/charm: its manifest names that architecture alone, and its binary is
// a static ELF for that machine. The cross builds are the slow part (the
// first run compiles the dependencies for each architecture; later runs
// come from the build cache).
func TestEveryArchitecture(t *testing.T) {
	for _, arch := range architectures {
		t.Run(arch, func(t *testing.T) {
			bin := filepath.Join(built.dir, "vsphere-integrator")
			if arch != built.arch {
				bin = filepath.Join(t.TempDir(), "vsphere-integrator")
				build := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", bin, "./cmd/vsphere-integrator")
				build.Dir, build.Env = repo, append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+arch)
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
			var channels []string
			for _, b := range m.Bases {
				assert.Equal(t, []string{arch}, b.Architectures, "base %s %s", b.Name, b.Channel)
				channels = append(channels, b.Channel.Track)
			}
			assert.Equal(t, []string{"20.04", "22.04", "24.04"}, channels)
			assert.NotNil(t, ch.Meta().Assumes, "the metadata is the source's")

			f := binaryOf(t, charm)
			assert.Equal(t, elfMachine[arch], f.Machine)
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

// TestArchitecturesAgree: the manifest, charmcraft.yaml and the Makefile
// name the same architectures and bases, so `make charms` and
// `charmcraft pack` build the same set of charms.
func TestArchitecturesAgree(t *testing.T) {
	var manifest struct {
		Bases []struct {
			Name          string   `yaml:"name"`
			Channel       string   `yaml:"channel"`
			Architectures []string `yaml:"architectures"`
		} `yaml:"bases"`
	}
	readYAML(t, "manifest.yaml", &manifest)
	var channels []string
	for _, b := range manifest.Bases {
		assert.Equal(t, architectures, b.Architectures, "manifest.yaml base %s %s", b.Name, b.Channel)
		channels = append(channels, b.Name+"@"+b.Channel)
	}

	type base struct {
		Name          string   `yaml:"name"`
		Channel       string   `yaml:"channel"`
		Architectures []string `yaml:"architectures"`
	}
	var craft struct {
		Bases []struct {
			BuildOn []base `yaml:"build-on"`
			RunOn   []base `yaml:"run-on"`
		} `yaml:"bases"`
		Parts map[string]map[string]any `yaml:"parts"`
	}
	readYAML(t, "charmcraft.yaml", &craft)
	var built []string
	for i, b := range craft.Bases {
		// Each architecture is built natively, on itself.
		require.Len(t, b.BuildOn, 1, "charmcraft.yaml base %d", i)
		require.Len(t, b.BuildOn[0].Architectures, 1, "charmcraft.yaml base %d", i)
		arch := b.BuildOn[0].Architectures[0]
		built = append(built, arch)
		var runOn []string
		for _, r := range b.RunOn {
			assert.Equal(t, []string{arch}, r.Architectures, "charmcraft.yaml base %d run-on %s", i, r.Channel)
			runOn = append(runOn, r.Name+"@"+r.Channel)
		}
		assert.Equal(t, channels, runOn, "charmcraft.yaml base %d runs on the manifest's bases", i)
	}
	assert.Equal(t, architectures, built, "charmcraft.yaml")
	for name, part := range craft.Parts {
		// make-parameters would be ignored next to override-build.
		assert.NotContains(t, part, "make-parameters", "charmcraft.yaml part %s", name)
	}

	makefile, err := os.ReadFile(filepath.Join(repo, "Makefile"))
	require.NoError(t, err)
	m := regexp.MustCompile(`(?m)^ARCHES\s*:=\s*(.*)$`).FindSubmatch(makefile)
	require.NotNil(t, m, "Makefile sets ARCHES")
	assert.Equal(t, architectures, strings.Fields(string(m[1])), "Makefile ARCHES")
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
