// Command charmpack writes vsphere-integrator.charm: the zip Juju deploys.
//
// It exists because Juju does not fix file modes on unpack (except hooks of
// known names): dispatch and the binary must be stored 0755, which a plain
// `zip` run from a checkout with a lost executable bit would get wrong. The
// archive is reproducible: fixed order, fixed timestamps.
package main

import (
	"archive/zip"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"time"
)

// The charm's top-level files, and the directories whose files are all
// executables. Everything else in the source tree stays out of the archive.
var (
	plainFiles = []string{"metadata.yaml", "config.yaml", "actions.yaml", "manifest.yaml", "README.md", "icon.svg"}
	execDirs   = []string{"hooks", "actions"}
)

// epoch is the timestamp of every entry so that two packs of the same
// inputs are byte-identical.
var epoch = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)

func main() {
	src := flag.String("src", ".", "charm source directory (metadata.yaml, dispatch, hooks/ ...)")
	bin := flag.String("bin", "", "the built vsphere-integrator binary")
	out := flag.String("o", "vsphere-integrator.charm", "archive to write")
	flag.Parse()
	if *bin == "" {
		fmt.Fprintln(os.Stderr, "charmpack: -bin is required")
		os.Exit(2)
	}
	if err := pack(*src, *bin, *out); err != nil {
		fmt.Fprintln(os.Stderr, "charmpack:", err)
		os.Exit(1)
	}
}

type entry struct {
	name string // path in the archive
	from string // path on disk
	mode fs.FileMode
}

func entries(src, bin string) ([]entry, error) {
	es := []entry{
		{name: "dispatch", from: filepath.Join(src, "dispatch"), mode: 0o755},
		{name: "bin/vsphere-integrator", from: bin, mode: 0o755},
	}
	for _, f := range plainFiles {
		es = append(es, entry{name: f, from: filepath.Join(src, f), mode: 0o644})
	}
	for _, d := range execDirs {
		names, err := os.ReadDir(filepath.Join(src, d))
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", d, err)
		}
		for _, n := range names {
			if n.Type().IsRegular() {
				es = append(es, entry{name: d + "/" + n.Name(), from: filepath.Join(src, d, n.Name()), mode: 0o755})
			}
		}
	}
	sort.Slice(es, func(i, j int) bool { return es[i].name < es[j].name })
	return es, nil
}

func pack(src, bin, out string) (err error) {
	es, err := entries(src, bin)
	if err != nil {
		return err
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
	for _, e := range es {
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
	f, err := os.Open(e.from)
	if err != nil {
		return err
	}
	defer f.Close()
	h := &zip.FileHeader{Name: e.name, Method: zip.Deflate, Modified: epoch}
	h.SetMode(e.mode)
	w, err := zw.CreateHeader(h)
	if err != nil {
		return fmt.Errorf("add %s: %w", e.name, err)
	}
	if _, err := io.Copy(w, f); err != nil {
		return fmt.Errorf("add %s: %w", e.name, err)
	}
	return nil
}
