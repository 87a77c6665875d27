package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"unicode"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
)

// The rules charmcraft 4 applies to charmcraft.yaml that this project
// could break, as docs/packaging.md lists them with their source in
// charmcraft, craft-application and craft-platforms. charmcraft is a
// Python snap that packs in LXD, so the tests check its rules here
// instead of running it.
var (
	// Bases the deprecated `bases` key accepts (charmcraft const.py
	// LEGACY_BASES; models/project.py _validate_base).
	legacyBases = []string{"ubuntu@18.04", "ubuntu@20.04", "ubuntu@22.04", "almalinux@9"}
	// Bases charmcraft names (const.py SUPPORTED_BASE_STRINGS). For a
	// base in a platform's name, charmcraft itself fails only when it
	// finds no build image for it.
	platformBases = []string{"ubuntu@18.04", "ubuntu@20.04", "ubuntu@22.04", "ubuntu@24.04", "ubuntu@25.04", "ubuntu@25.10", "ubuntu@26.04", "ubuntu@26.10", "almalinux@9"}
	// Build bases the charm plugin is offered on (const.py
	// CHARM_PLUGIN_BASES; 26.04 only with experimental extensions on).
	charmPluginBases = []string{"ubuntu@18.04", "ubuntu@20.04", "ubuntu@22.04", "almalinux@9", "ubuntu@24.04", "ubuntu@24.10", "ubuntu@25.04"}
	// Architectures charmcraft builds for (const.py CharmArch).
	craftArches = []string{"amd64", "arm64", "armhf", "ppc64el", "riscv64", "s390x"}
)

// craftProject is what charmcraft would build from a charmcraft.yaml.
type craftProject struct {
	platforms []platform
	parts     map[string]map[string]any
}

// platform is one entry of the build plan: a charm for base and arch,
// built on buildOn (each "<base>:<arch>").
type platform struct {
	name, base, arch string
	buildOn          []string
}

// besides says which of the files charmcraft folds into the project
// (metadata.yaml, config.yaml, actions.yaml) the repository has.
func besides(t *testing.T) map[string]bool {
	t.Helper()
	have := map[string]bool{}
	for _, f := range []string{"metadata.yaml", "config.yaml", "actions.yaml"} {
		_, err := os.Stat(filepath.Join(repo, f))
		have[f] = err == nil
	}
	return have
}

// readCharmcraft reads a charmcraft.yaml as charmcraft 4 would, with
// beside naming the files next to it, and returns the platforms and parts
// and every rule it breaks.
func readCharmcraft(raw []byte, beside map[string]bool) (craftProject, []string) {
	var proj craftProject
	var problems []string
	bad := func(format string, a ...any) { problems = append(problems, fmt.Sprintf(format, a...)) }

	var doc map[string]any
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		return proj, []string{"not YAML: " + err.Error()}
	}
	if doc["type"] != "charm" {
		bad("type is %v, not charm", doc["type"])
	}

	// project.py CharmcraftProject.unmarshal: a `bases` key makes a
	// BasesCharm, whose bases must all be legacy.
	if bases, ok := doc["bases"]; ok {
		for _, b := range legacyBaseNames(bases) {
			if !slices.Contains(legacyBases, b) {
				bad("Base requires 'platforms' definition: %s", b)
			}
		}
		bad("bases: a platforms project has no bases key")
	}

	// preprocess.py add_metadata, add_config, add_actions.
	for _, k := range []string{"name", "summary", "description"} {
		_, here := doc[k]
		switch {
		case here && beside["metadata.yaml"]:
			bad("%s: duplicated in metadata.yaml", k)
		case !here && !beside["metadata.yaml"]:
			bad("%s: required", k)
		}
	}
	if _, ok := doc["config"]; ok && beside["config.yaml"] {
		bad("config: not allowed when config.yaml exists")
	}
	if _, ok := doc["actions"]; ok && beside["actions.yaml"] {
		bad("actions: not allowed when actions.yaml exists")
	}

	topBase, _ := doc["base"].(string)
	if bb, ok := doc["build-base"].(string); ok {
		topBase = bb
	}
	if topBase != "" && !slices.Contains(platformBases, topBase) {
		bad("base %s: not a base charmcraft builds on", topBase)
	}
	platforms, ok := doc["platforms"].(map[string]any)
	if !ok || len(platforms) == 0 {
		bad("platforms: required")
	}
	names := make([]string, 0, len(platforms))
	for name := range platforms {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		p, errs := readPlatform(name, platforms[name], topBase)
		for _, e := range errs {
			bad("platform %s: %s", name, e)
		}
		if len(errs) == 0 {
			proj.platforms = append(proj.platforms, p)
		}
	}

	parts, _ := doc["parts"].(map[string]any)
	if len(parts) == 0 {
		// PlatformCharm.parts has min_length=1; only a bases charm gets a
		// default charm part (preprocess.py add_default_parts).
		bad("parts: required")
	}
	proj.parts = map[string]map[string]any{}
	for name, v := range parts {
		part, _ := v.(map[string]any)
		if part == nil {
			bad("part %s: not a mapping", name)
			continue
		}
		proj.parts[name] = part
		// craft-application services/project.py
		// _validate_user_provided_part_names: no / from 26.04 on, and
		// for a multi-base project (no top-level base) everywhere.
		if strings.Contains(name, "/") {
			bad("part %s: Part names may not contain the '/' character", name)
		}
		plugin, _ := part["plugin"].(string)
		if plugin == "" {
			plugin = name // project.py _preprocess_parts: implicit plugin
		}
		if plugin == "charm" || plugin == "reactive" {
			for _, p := range proj.platforms {
				if !slices.Contains(charmPluginBases, p.base) {
					bad("part %s: Cannot use 'charm' plugin with base '%s'", name, p.base)
				}
			}
		}
	}
	return proj, problems
}

// legacyBaseNames lists "<name>@<channel>" of every build-on and run-on
// base of a `bases` value, short form or long.
func legacyBaseNames(v any) []string {
	var out []string
	list, _ := v.([]any)
	add := func(b any) {
		m, _ := b.(map[string]any)
		out = append(out, fmt.Sprintf("%v@%v", m["name"], m["channel"]))
	}
	for _, b := range list {
		m, _ := b.(map[string]any)
		if _, short := m["name"]; short {
			add(m)
			continue
		}
		for _, k := range []string{"build-on", "run-on"} {
			l, _ := m[k].([]any)
			for _, x := range l {
				add(x)
			}
		}
	}
	return out
}

// readPlatform reads one platforms entry as craft-platforms
// charm/_build.py get_platforms_charm_build_plan does, after
// craft-application's platform model has validated it.
func readPlatform(name string, v any, topBase string) (platform, []string) {
	p := platform{name: name}
	var errs []string
	errs = append(errs, platformNameProblems(name)...)
	nameBase, nameArch := splitBase(name)
	var buildOn, buildFor []string
	switch v := v.(type) {
	case nil:
		// Shorthand: the name is [<base>:]<arch>, built on and for it.
		buildOn, buildFor = []string{name}, []string{name}
		if !slices.Contains(craftArches, nameArch) {
			errs = append(errs, fmt.Sprintf("%s is not a valid Debian architecture; specify a build-on and build-for", nameArch))
		}
	case map[string]any:
		for k := range v {
			if k != "build-on" && k != "build-for" {
				errs = append(errs, k+": extra field not permitted")
			}
		}
		buildOn, buildFor = stringList(v["build-on"]), stringList(v["build-for"])
		if buildFor == nil {
			buildFor = []string{name}
		}
		if len(buildOn) == 0 {
			errs = append(errs, "build-on: required, one entry or more")
		}
		if len(buildFor) != 1 {
			errs = append(errs, "build-for: exactly one entry")
		}
	default:
		return p, append(errs, "not a mapping")
	}
	bases := map[string]bool{}
	for i, e := range append(slices.Clone(buildOn), buildFor...) {
		b, a := splitBase(e)
		bases[b] = true
		if a == "all" && i < len(buildOn) {
			errs = append(errs, "'all' cannot be used for 'build-on'")
		} else if a != "all" && !slices.Contains(craftArches, a) {
			errs = append(errs, fmt.Sprintf("%s: not an architecture charmcraft knows", e))
		}
		if b != "" && !slices.Contains(platformBases, b) {
			errs = append(errs, fmt.Sprintf("%s: not a base charmcraft builds on", e))
		}
	}
	if len(bases) > 1 {
		errs = append(errs, "mismatched bases in the 'build-on' and 'build-for' entries")
	}
	if len(buildFor) > 0 {
		b, a := splitBase(buildFor[0])
		if nameBase != "" && b != "" && b != nameBase {
			errs = append(errs, "declares a base in its name and an incompatible 'build-for' entry")
		}
		p.arch, p.base = a, b
		if p.base == "" {
			p.base = nameBase
		}
	}
	switch {
	case p.base != "" && topBase != "":
		errs = append(errs, "declares a base and a top-level base or build-base is declared")
	case p.base == "" && topBase == "":
		errs = append(errs, "no base or build-base is declared and no base is declared in the platforms section")
	case p.base == "":
		p.base = topBase
	}
	for _, e := range buildOn {
		if b, a := splitBase(e); b == "" {
			p.buildOn = append(p.buildOn, p.base+":"+a)
		} else {
			p.buildOn = append(p.buildOn, e)
		}
	}
	return p, errs
}

// platformNameProblems: craft-platforms validators.py
// validate_strict_platform_name and craft-application models/platforms.py
// _validate_platform_name.
func platformNameProblems(name string) []string {
	if name == "" || name == "any" || name == "*" {
		return []string{fmt.Sprintf("platform name %q is reserved or empty", name)}
	}
	var errs []string
	if strings.Contains(name, "/") {
		errs = append(errs, "Platform names cannot contain the '/' character")
	}
	for i, r := range []rune(name) {
		middle := strings.ContainsRune("-@.:", r)
		if middle && (i == 0 || i == len([]rune(name))-1) {
			errs = append(errs, fmt.Sprintf("%q cannot begin or end a platform name", r))
		}
		if !middle && r != '/' && r != '_' && !unicode.IsLetter(r) && !unicode.IsNumber(r) && !unicode.Is(unicode.So, r) {
			errs = append(errs, fmt.Sprintf("%q is not allowed in a platform name", r))
		}
	}
	return errs
}

// splitBase splits "[<base>:]<arch>" as craft-platforms
// parse_base_and_architecture does: a prefix is a base only with an @.
func splitBase(s string) (base, arch string) {
	if b, a, ok := strings.Cut(s, ":"); ok && strings.Contains(b, "@") {
		return b, a
	}
	return "", s
}

// stringList reads a YAML string or list of strings (craft-application
// Platform vectorises a string into a one-entry list).
func stringList(v any) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case []any:
		out := make([]string, 0, len(v))
		for _, x := range v {
			out = append(out, fmt.Sprint(x))
		}
		return out
	}
	return nil
}

// TestCharmcraftRules: readCharmcraft refuses what charmcraft refuses, so
// TestArchitecturesAgree passing on charmcraft.yaml means something.
func TestCharmcraftRules(t *testing.T) {
	all := map[string]bool{"metadata.yaml": true, "config.yaml": true, "actions.yaml": true}
	const parts = "parts:\n  charm:\n    plugin: make\n"
	good := "type: charm\nplatforms:\n  ubuntu@22.04:amd64:\n  ubuntu@26.04:riscv64:\n" + parts
	proj, problems := readCharmcraft([]byte(good), all)
	require.Empty(t, problems)
	require.Len(t, proj.platforms, 2)
	assert.Equal(t, platform{name: "ubuntu@22.04:amd64", base: "ubuntu@22.04", arch: "amd64", buildOn: []string{"ubuntu@22.04:amd64"}}, proj.platforms[0])
	assert.Equal(t, "riscv64", proj.platforms[1].arch)

	long := "type: charm\nplatforms:\n  jammy-ppc64el:\n    build-on: [ubuntu@22.04:ppc64el]\n    build-for: [ubuntu@22.04:ppc64el]\n" + parts
	proj, problems = readCharmcraft([]byte(long), all)
	require.Empty(t, problems)
	assert.Equal(t, platform{name: "jammy-ppc64el", base: "ubuntu@22.04", arch: "ppc64el", buildOn: []string{"ubuntu@22.04:ppc64el"}}, proj.platforms[0])

	top := "type: charm\nbase: ubuntu@24.04\nplatforms:\n  s390x:\n" + parts
	proj, problems = readCharmcraft([]byte(top), all)
	require.Empty(t, problems)
	assert.Equal(t, platform{name: "s390x", base: "ubuntu@24.04", arch: "s390x", buildOn: []string{"ubuntu@24.04:s390x"}}, proj.platforms[0])

	for _, tc := range []struct {
		name, yaml string
		beside     map[string]bool
		want       string
	}{
		{"bases with 24.04", "type: charm\nbases:\n- name: ubuntu\n  channel: \"24.04\"\n" + parts, all, "Base requires 'platforms' definition: ubuntu@24.04"},
		{"bases long form with 26.04", "type: charm\nbases:\n- build-on: [{name: ubuntu, channel: \"22.04\"}]\n  run-on: [{name: ubuntu, channel: \"26.04\"}]\n" + parts, all, "Base requires 'platforms' definition: ubuntu@26.04"},
		{"no platforms", "type: charm\n" + parts, all, "platforms: required"},
		{"not a charm", strings.Replace(good, "charm\n", "bundle\n", 1), all, "not charm"},
		{"part name with /", strings.Replace(good, "  charm:", "  go/charm:", 1), all, "Part names may not contain the '/' character"},
		{"charm plugin on 26.04", strings.Replace(good, "plugin: make", "plugin: charm", 1), all, "Cannot use 'charm' plugin with base 'ubuntu@26.04'"},
		{"implicit charm plugin on 26.04", "type: charm\nplatforms:\n  ubuntu@26.04:amd64:\nparts:\n  charm: {}\n", all, "Cannot use 'charm' plugin"},
		{"no parts", "type: charm\nplatforms:\n  ubuntu@22.04:amd64:\n", all, "parts: required"},
		{"unknown architecture", strings.Replace(good, ":amd64:", ":x86_64:", 1), all, "x86_64 is not a valid Debian architecture"},
		{"unknown base", strings.Replace(good, "ubuntu@22.04", "ubuntu@23.04", 1), all, "not a base charmcraft builds on"},
		{"no base anywhere", "type: charm\nplatforms:\n  amd64:\n" + parts, all, "no base or build-base is declared"},
		{"base twice", "type: charm\nbase: ubuntu@24.04\nplatforms:\n  ubuntu@22.04:amd64:\n" + parts, all, "declares a base and a top-level base"},
		{"mixed bases in one platform", "type: charm\nplatforms:\n  x:\n    build-on: [ubuntu@22.04:amd64]\n    build-for: [ubuntu@24.04:amd64]\n" + parts, all, "mismatched bases"},
		{"two build-for", "type: charm\nplatforms:\n  x:\n    build-on: [ubuntu@22.04:amd64]\n    build-for: [ubuntu@22.04:amd64, ubuntu@22.04:arm64]\n" + parts, all, "build-for: exactly one entry"},
		{"build-on all", "type: charm\nplatforms:\n  x:\n    build-on: [ubuntu@22.04:all]\n    build-for: [ubuntu@22.04:all]\n" + parts, all, "'all' cannot be used for 'build-on'"},
		{"unknown platform key", "type: charm\nplatforms:\n  x:\n    build-on: [ubuntu@22.04:amd64]\n    run-on: [ubuntu@22.04:amd64]\n" + parts, all, "run-on: extra field not permitted"},
		{"platform name with /", "type: charm\nplatforms:\n  ubuntu/amd64:\n    build-on: [ubuntu@22.04:amd64]\n    build-for: [ubuntu@22.04:amd64]\n" + parts, all, "Platform names cannot contain the '/' character"},
		{"platform name ends with -", "type: charm\nplatforms:\n  amd64-:\n    build-on: [ubuntu@22.04:amd64]\n    build-for: [ubuntu@22.04:amd64]\n" + parts, all, "cannot begin or end a platform name"},
		{"reserved platform name", "type: charm\nplatforms:\n  any:\n    build-on: [ubuntu@22.04:amd64]\n    build-for: [ubuntu@22.04:amd64]\n" + parts, all, "reserved"},
		{"name beside metadata.yaml", "name: x\n" + good, all, "name: duplicated in metadata.yaml"},
		{"config beside config.yaml", "config: {options: {}}\n" + good, all, "config: not allowed when config.yaml exists"},
		{"actions beside actions.yaml", "actions: {}\n" + good, all, "actions: not allowed when actions.yaml exists"},
		{"no metadata at all", good, map[string]bool{}, "summary: required"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, problems := readCharmcraft([]byte(tc.yaml), tc.beside)
			assert.True(t, slices.ContainsFunc(problems, func(p string) bool { return strings.Contains(p, tc.want) }),
				"want %q among %q", tc.want, problems)
		})
	}
}
