//go:build !unix

package charm

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// openNoFollow: the charm runs on Linux (statekey_unix.go); elsewhere, for
// the tools that build it, a symbolic link is refused by Lstat first.
func openNoFollow(path string) (*os.File, string, error) {
	fi, err := os.Lstat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, whyMissing, nil
	case err != nil:
		return nil, "", err
	case !fi.Mode().IsRegular():
		return nil, kind(fi.Mode()), nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, "", err
	}
	return f, "", nil
}

func unfit(fi fs.FileInfo) string {
	if !fi.Mode().IsRegular() {
		return kind(fi.Mode())
	}
	if fi.Size() != keySize {
		return fmt.Sprintf("it is %d bytes, not %d", fi.Size(), keySize)
	}
	return ""
}
