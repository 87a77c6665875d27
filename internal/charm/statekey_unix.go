//go:build unix

package charm

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"
)

// openNoFollow opens path for reading without following a symbolic link
// (O_NOFOLLOW fails with ELOOP on one) and without waiting for a writer
// on a FIFO (O_NONBLOCK). A nil file comes with why (a reason to replace
// the file, whyMissing when there is none) or an error.
func openNoFollow(path string) (*os.File, string, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
	switch {
	case err == nil:
		return f, "", nil
	case errors.Is(err, fs.ErrNotExist):
		return nil, whyMissing, nil
	case errors.Is(err, syscall.ELOOP):
		return nil, "it is a symbolic link", nil
	case errors.Is(err, fs.ErrPermission):
		// Not the charm's file (the charm runs as root; a file root may
		// not read is odd enough to replace).
		return nil, "it cannot be read: permission denied", nil
	}
	return nil, "", err
}

// unfit says why an open key file is not one the charm wrote: "" when it
// is a regular file of keySize bytes, owned by this process's user, mode
// 0600.
func unfit(fi fs.FileInfo) string {
	if !fi.Mode().IsRegular() {
		return kind(fi.Mode())
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && int(st.Uid) != os.Geteuid() {
		return fmt.Sprintf("it is owned by uid %d, not by the charm's uid %d", st.Uid, os.Geteuid())
	}
	if perm := fi.Mode().Perm(); perm != 0o600 {
		return fmt.Sprintf("its mode is %#o, not 0600", perm)
	}
	if fi.Size() != keySize {
		return fmt.Sprintf("it is %d bytes, not %d", fi.Size(), keySize)
	}
	return ""
}
