package vsphere

import "context"

// Client is the real vCenter behind the charm's one vCenter interface: each
// method is one session (see Check, EnableDiskUUID, TestVolume, Dedicate,
// Identities).
type Client struct{}

// Check is the package's Check.
func (Client) Check(ctx context.Context, t Target) (*Report, error) { return Check(ctx, t) }

// EnableDiskUUID is the package's EnableDiskUUID.
func (Client) EnableDiskUUID(ctx context.Context, t Target, dryRun bool) (*DiskUUIDReport, error) {
	return EnableDiskUUID(ctx, t, dryRun)
}

// TestVolume is the package's TestVolume.
func (Client) TestVolume(ctx context.Context, t Target, sizeMiB int) (*VolumeReport, error) {
	return TestVolume(ctx, t, sizeMiB)
}

// Dedicate is the package's Dedicate.
func (Client) Dedicate(ctx context.Context, t Target, req DedicateRequest) (*DedicateReport, error) {
	return Dedicate(ctx, t, req)
}

// Identities is the package's Identities.
func (Client) Identities(ctx context.Context, t Target, userPrefix string) ([]Identity, *DedicateReport, error) {
	return Identities(ctx, t, userPrefix)
}
