// Command charmpack writes vsphere-integrator.charm: the zip Juju deploys.
//
// It exists because Juju does not fix file modes on unpack (except hooks of
// known names): dispatch and the binary must be stored 0755, which a plain
// `zip` run from a checkout with a lost executable bit would get wrong. The
// archive is reproducible: fixed order, fixed timestamps.
//
// One archive holds one binary, so it runs on one architecture: the
// manifest in the archive names only the architecture the binary was built
// for (read from its ELF header), and charmpack refuses a binary for an
// architecture the source manifest does not list, or one that is not
// static (the charm runs on every Ubuntu base the manifest names).
package main

import (
	"archive/zip"
	"bytes"
	"debug/elf"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"time"

	"gopkg.in/yaml.v3"
)

// The charm's top-level files besides dispatch, the binary and the
// manifest. Everything else in the source tree stays out of the archive.
// There are no hooks/ or actions/ shims: Juju ≥ 2.8, the minimum the
// metadata assumes, runs dispatch for every event when it exists
// (docs/juju-hook-tools.md, "Dispatch").
var plainFiles = []string{"metadata.yaml", "config.yaml", "actions.yaml", "README.md", "icon.svg"}

// epoch is the timestamp of every entry so that two packs of the same
// inputs are byte-identical.
var epoch = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)

func main() {
	src := flag.String("src", ".", "charm source directory (metadata.yaml, manifest.yaml, dispatch ...)")
	bin := flag.String("bin", "", "the built vsphere-integrator binary")
	arch := flag.String("arch", "", "the architecture the archive is for, as Juju names it (amd64, arm64, s390x, ppc64el, riscv64); must match the binary's, which is the default")
	out := flag.String("o", "vsphere-integrator.charm", "archive to write")
	flag.Parse()
	if *bin == "" {
		fmt.Fprintln(os.Stderr, "charmpack: -bin is required")
		os.Exit(2)
	}
	if err := pack(*src, *bin, *arch, *out); err != nil {
		fmt.Fprintln(os.Stderr, "charmpack:", err)
		os.Exit(1)
	}
}

type entry struct {
	name string // path in the archive
	from string // path on disk; empty when data is set
	data []byte
	mode fs.FileMode
}

func entries(src, bin string, manifest []byte) []entry {
	es := []entry{
		{name: "dispatch", from: filepath.Join(src, "dispatch"), mode: 0o755},
		{name: "bin/vsphere-integrator", from: bin, mode: 0o755},
		{name: "manifest.yaml", data: manifest, mode: 0o644},
	}
	for _, f := range plainFiles {
		es = append(es, entry{name: f, from: filepath.Join(src, f), mode: 0o644})
	}
	sort.Slice(es, func(i, j int) bool { return es[i].name < es[j].name })
	return es
}

// pack writes the archive for bin to out. arch, when not empty, must be the
// binary's architecture: a Makefile that cross-compiles says what it meant
// to build, and a mismatch is a build mistake, not something to paper over.
func pack(src, bin, arch, out string) (err error) {
	binArch, err := binaryArch(bin)
	if err != nil {
		return err
	}
	if arch != "" && arch != binArch {
		return fmt.Errorf("%s is built for %s, not %s", bin, binArch, arch)
	}
	manifest, err := os.ReadFile(filepath.Join(src, "manifest.yaml"))
	if err != nil {
		return err
	}
	manifest, err = manifestFor(manifest, binArch)
	if err != nil {
		return fmt.Errorf("manifest.yaml: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(out), ".charmpack-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	zw := zip.NewWriter(tmp)
	for _, e := range entries(src, bin, manifest) {
		if err := add(zw, e); err != nil {
			return err
		}
	}
	if err := zw.Close(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	// CreateTemp makes the file 0600; an archive is for others to read.
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), out)
}

func add(zw *zip.Writer, e entry) error {
	var r io.Reader = bytes.NewReader(e.data)
	if e.from != "" {
		f, err := os.Open(e.from)
		if err != nil {
			return err
		}
		defer f.Close()
		r = f
	}
	h := &zip.FileHeader{Name: e.name, Method: zip.Deflate, Modified: epoch}
	h.SetMode(e.mode)
	w, err := zw.CreateHeader(h)
	if err != nil {
		return fmt.Errorf("add %s: %w", e.name, err)
	}
	if _, err := io.Copy(w, r); err != nil {
		return fmt.Errorf("add %s: %w", e.name, err)
	}
	return nil
}

// errNotStatic: a binary with an ELF interpreter needs that libc on the
// machine, which not every base the manifest names has in the same version.
var errNotStatic = errors.New("is dynamically linked; build it with CGO_ENABLED=0")

// binaryArch names, as Juju names architectures, what the ELF binary at
// path runs on, and refuses a binary that is not static.
func binaryArch(path string) (string, error) {
	f, err := elf.Open(path)
	if err != nil {
		return "", fmt.Errorf("read binary: %w", err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return "", fmt.Errorf("%s %w", path, errNotStatic)
		}
	}
	arch, ok := jujuArch(f.FileHeader)
	if !ok {
		return "", fmt.Errorf("%s is for %v (%v, %v), which Juju has no architecture name for", path, f.Machine, f.Class, f.Data)
	}
	return arch, nil
}

// jujuArch maps an ELF header to Juju's architecture names (juju/juju
// core/arch: amd64, arm64, ppc64el, s390x, riscv64).
func jujuArch(h elf.FileHeader) (string, bool) {
	if h.Class != elf.ELFCLASS64 {
		return "", false
	}
	switch {
	case h.Machine == elf.EM_X86_64:
		return "amd64", true
	case h.Machine == elf.EM_AARCH64 && h.Data == elf.ELFDATA2LSB:
		return "arm64", true
	case h.Machine == elf.EM_S390:
		return "s390x", true
	case h.Machine == elf.EM_PPC64 && h.Data == elf.ELFDATA2LSB:
		return "ppc64el", true
	case h.Machine == elf.EM_RISCV:
		return "riscv64", true
	}
	return "", false
}

// manifestFor rewrites the source manifest so that every base names only
// arch, keeping everything else (comments included). Every base must list
// arch already: the source manifest says which architectures the charm
// supports, and packing for another is a mistake.
func manifestFor(src []byte, arch string) ([]byte, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		return nil, err
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 {
		return nil, errors.New("not a YAML document")
	}
	bases := mapValue(doc.Content[0], "bases")
	if bases == nil || bases.Kind != yaml.SequenceNode || len(bases.Content) == 0 {
		return nil, errors.New("no bases")
	}
	for i, base := range bases.Content {
		archs := mapValue(base, "architectures")
		if archs == nil || archs.Kind != yaml.SequenceNode {
			return nil, fmt.Errorf("base %d has no architectures list", i+1)
		}
		var listed []string
		for _, a := range archs.Content {
			listed = append(listed, a.Value)
		}
		if !slices.Contains(listed, arch) {
			return nil, fmt.Errorf("base %d lists %v, not %s", i+1, listed, arch)
		}
		archs.Content = []*yaml.Node{{Kind: yaml.ScalarNode, Tag: "!!str", Value: arch}}
	}
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// mapValue returns the value of key in mapping node m, or nil.
func mapValue(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}
