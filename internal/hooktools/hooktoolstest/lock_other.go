//go:build !unix

package hooktoolstest

// lockFile does not lock where there is no flock: the fake's tool
// processes are then safe only when run one at a time.
func lockFile(string) (unlock func(), err error) { return func() {}, nil }
