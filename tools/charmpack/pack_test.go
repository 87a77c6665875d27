package main

import (
	"archive/zip"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	jujucharm "github.com/juju/charm/v12"
	"github.com/juju/charm/v12/assumes"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/charmed-kubernetes/vsphere-integrator/internal/hooktools/hooktoolstest"
)

// built is the charm packed once for every test here, as `make charm` packs it.
var built struct {
	dir     string // temp dir holding everything
	charm   string // vsphere-integrator.charm
	fakeBin string // dir with the fake hook tools
	arch    string // the host's architecture, as Juju names it
}

const repo = "../.."

func TestMain(m *testing.M) {
	code, err := buildAll()
	if err != nil {
		fmt.Fprintln(os.Stderr, "build:", err)
		os.Exit(1)
	}
	os.Exit(code(m))
}

func buildAll() (func(*testing.M) int, error) {
	dir, err := os.MkdirTemp("", "charmpack-test-")
	if err != nil {
		return nil, err
	}
	built.dir = dir
	bin := filepath.Join(dir, "vsphere-integrator")
	fake := filepath.Join(dir, "fakejuju")
	build := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", bin, "./cmd/vsphere-integrator")
	build.Dir, build.Env = repo, append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("%v: %s", err, out)
	}
	build = exec.Command("go", "build", "-o", fake, "./fakejuju")
	build.Dir = filepath.Join(repo, "tools") // a module of its own
	if out, err := build.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("%v: %s", err, out)
	}
	built.fakeBin = filepath.Join(dir, "tools")
	if err := os.Mkdir(built.fakeBin, 0o755); err != nil {
		return nil, err
	}
	if err := hooktoolstest.InstallTools(built.fakeBin, fake); err != nil {
		return nil, err
	}
	built.charm = filepath.Join(dir, "vsphere-integrator.charm")
	if built.arch, err = binaryArch(bin); err != nil {
		return nil, err
	}
	if err := pack(repo, bin, "", built.charm); err != nil {
		return nil, err
	}
	return func(m *testing.M) int {
		defer os.RemoveAll(dir)
		return m.Run()
	}, nil
}

// TestCharmAsJujuReadsIt reads the source tree and the archive with
// juju/charm, the library `juju deploy` uses.
func TestCharmAsJujuReadsIt(t *testing.T) {
	dir, err := jujucharm.ReadCharmDir(repo)
	require.NoError(t, err)
	archive, err := jujucharm.ReadCharmArchive(built.charm)
	require.NoError(t, err)
	for name, ch := range map[string]jujucharm.Charm{"dir": dir, "archive": archive} {
		t.Run(name, func(t *testing.T) {
			meta := ch.Meta()
			assert.Equal(t, "vsphere-integrator", meta.Name)
			assert.NotEmpty(t, meta.Summary)
			assert.NotEmpty(t, meta.Description)
			clients, ok := meta.Provides["clients"]
			require.True(t, ok, "provides clients")
			assert.Equal(t, "vsphere-integration", clients.Interface)
			assert.Equal(t, jujucharm.RoleProvider, clients.Role)
			nodes, ok := meta.Requires["nodes"]
			require.True(t, ok, "requires nodes")
			assert.Equal(t, "juju-info", nodes.Interface)
			assert.Equal(t, jujucharm.ScopeGlobal, nodes.Scope)
			assert.True(t, nodes.Optional)

			cfg := ch.Config()
			var names []string
			for n, o := range cfg.Options {
				names = append(names, n)
				want := "string"
				if n == "rotate-credentials-days" {
					want = "int"
				}
				assert.Equal(t, want, o.Type, n)
				assert.NotEmpty(t, o.Description, n)
			}
			sort.Strings(names)
			assert.Equal(t, []string{"ca_cert", "consumer-credentials", "credentials", "datacenter", "datastore", "folder", "password", "respool_path", "rotate-credentials-days", "thumbprint", "user", "vsphere_ip"}, names)
			_, err := cfg.ValidateSettings(cfg.DefaultSettings())
			require.NoError(t, err, "every default type-checks")
			defaults := cfg.DefaultSettings()
			assert.Equal(t, "datastore1", defaults["datastore"])
			assert.Equal(t, "juju-kubernetes", defaults["folder"])
			assert.Equal(t, "", defaults["respool_path"])
			// Shared by default: the drop-in switch from the Python charm
			// publishes what it did.
			assert.Equal(t, "shared", defaults["consumer-credentials"])
			assert.EqualValues(t, 30, defaults["rotate-credentials-days"])

			var actions []string
			for n := range ch.Actions().ActionSpecs {
				actions = append(actions, n)
			}
			sort.Strings(actions)
			assert.Equal(t, []string{"check-prerequisites", "cloud-config", "enable-disk-uuid", "list-credentials", "purge-credentials", "refresh-credentials", "rotate-credentials", "storage-class", "test-volume", "verify"}, actions)

			// state-get/set/delete and dispatch exist from Juju 2.8: the
			// metadata says so in the form juju/charm (and so a
			// controller) reads.
			require.NotNil(t, meta.Assumes, "metadata assumes")
			all, ok := meta.Assumes.Expression.(assumes.CompositeExpression)
			require.True(t, ok, "assumes: %#v", meta.Assumes.Expression)
			assert.Equal(t, assumes.AllOfExpression, all.ExprType)
			require.Len(t, all.SubExpressions, 1)
			juju, ok := all.SubExpressions[0].(assumes.FeatureExpression)
			require.True(t, ok, "assumes: %#v", all.SubExpressions[0])
			assert.Equal(t, "juju", juju.Name)
			assert.Equal(t, assumes.VersionGTE, juju.Constraint)
			require.NotNil(t, juju.Version)
			assert.Equal(t, "2.8.0", juju.Version.String())

			m := ch.Manifest()
			require.NotNil(t, m)
			require.NoError(t, m.Validate())
			var bases []string
			for _, b := range m.Bases {
				bases = append(bases, b.Name+"@"+b.Channel.Track+"/"+strings.Join(b.Architectures, ","))
			}
			archs := strings.Join(architectures, ",")
			if name == "archive" {
				// One binary, one architecture.
				archs = built.arch
			}
			var want []string
			for _, c := range channels {
				want = append(want, "ubuntu@"+c+"/"+archs)
			}
			assert.Equal(t, want, bases)
		})
	}
}

func TestArchiveLayout(t *testing.T) {
	zr, err := zip.OpenReader(built.charm)
	require.NoError(t, err)
	defer zr.Close()
	modes := map[string]os.FileMode{}
	for _, f := range zr.File {
		modes[f.Name] = f.Mode()
	}
	// Juju does not fix dispatch's mode on unpack: without 0755 every hook
	// fails with "Permission denied".
	assert.Equal(t, os.FileMode(0o755), modes["dispatch"])
	assert.Equal(t, os.FileMode(0o755), modes["bin/vsphere-integrator"])
	for _, f := range []string{"metadata.yaml", "config.yaml", "actions.yaml", "manifest.yaml", "README.md", "icon.svg"} {
		assert.Equal(t, os.FileMode(0o644), modes[f], f)
	}
	// Nothing else: with dispatch, Juju >= 2.8 needs no hooks/ or
	// actions/ shims, and no source belongs in the charm.
	assert.Len(t, modes, 8, "entries: %v", modes)

	again := filepath.Join(t.TempDir(), "again.charm")
	require.NoError(t, pack(repo, filepath.Join(built.dir, "vsphere-integrator"), "", again))
	a, _ := os.ReadFile(built.charm)
	b, _ := os.ReadFile(again)
	assert.True(t, bytes.Equal(a, b), "packing is reproducible")
}

// TestBinaryLinksNoTestCode: the charm binary must not carry the simulator,
// the fake Juju or test libraries.
func TestBinaryLinksNoTestCode(t *testing.T) {
	cmd := exec.Command("go", "list", "-deps", "./cmd/vsphere-integrator")
	cmd.Dir = repo
	out, err := cmd.Output()
	require.NoError(t, err)
	for _, pkg := range strings.Fields(string(out)) {
		for _, banned := range []string{"testing", "github.com/stretchr/testify", "github.com/vmware/govmomi/simulator", "hooktoolstest", "vspheretest", "gopkg.in/gcfg.v1", "k8s.io/"} {
			assert.False(t, pkg == banned || strings.HasPrefix(pkg, banned+"/") || strings.HasSuffix(pkg, "/"+banned), "charm binary links %s", pkg)
		}
	}
}

// TestOverlays: the bundle overlays in the repo parse and relate the
// integrator through the endpoint it really has.
func TestOverlays(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(repo, "overlays", "*.yaml"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	meta, err := jujucharm.ReadCharmDir(repo)
	require.NoError(t, err)
	for _, f := range files {
		raw, err := os.ReadFile(f)
		require.NoError(t, err)
		var overlay struct {
			Applications map[string]map[string]any `yaml:"applications"`
			Relations    [][]string                `yaml:"relations"`
		}
		require.NoError(t, yaml.Unmarshal(raw, &overlay), f)
		require.Contains(t, overlay.Applications, "vsphere-integrator", f)
		assert.Equal(t, true, overlay.Applications["vsphere-integrator"]["trust"], f)
		related := 0
		nodes := map[string]bool{}
		for _, rel := range overlay.Relations {
			for i, end := range rel {
				app, endpoint, _ := strings.Cut(end, ":")
				if app == "vsphere-integrator" {
					_, provided := meta.Meta().Provides[endpoint]
					_, required := meta.Meta().Requires[endpoint]
					assert.True(t, provided || required, "%s: vsphere-integrator has no endpoint %q", f, endpoint)
					related++
					if endpoint == "nodes" {
						other, otherEndpoint, _ := strings.Cut(rel[1-i], ":")
						assert.Equal(t, "juju-info", otherEndpoint, f)
						nodes[other] = true
					}
				}
			}
		}
		assert.NotZero(t, related, f)
		if strings.Contains(f, "vsphere-cloud-provider") {
			// No Kubernetes node is related on clients there: the checks
			// learn the nodes through juju-info.
			assert.Equal(t, map[string]bool{"kubernetes-control-plane": true, "kubernetes-worker": true}, nodes, f)
		}
	}
}
