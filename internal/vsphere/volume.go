package vsphere

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/vmware/govmomi/fault"
	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/vim25/types"
)

// VolumeDir is the datastore folder the in-tree provisioner creates dynamic
// volumes in ("[datastore] kubevols/"), and so the one TestVolume uses.
const VolumeDir = "kubevols"

// Test disk sizes. A thin disk takes next to no space whatever its size; the
// cap only catches a typo.
const (
	DefaultVolumeSizeMiB = 1
	MaxVolumeSizeMiB     = 1 << 20 // 1 TiB
)

// testDiskPrefix names TestVolume's disks, so an admin who finds one knows
// whose it is and that it can go.
const testDiskPrefix = "vsphere-integrator-test-"

// cleanupGrace is the least time the deletion of a test disk gets, even when
// the test's context is already done: a disk left behind is one an admin
// must find and delete by hand. Deleting a disk is a task vCenter usually
// finishes in well under a second; the grace also covers waiting for a
// create task still running. Only a test that created a disk can overrun its
// deadline, by at most this much (plus logoutGrace).
const cleanupGrace = 10 * time.Second

// Steps of TestVolume, as VolumeStep.Name gives them.
const (
	StepPrivileges = "check privileges"
	StepDirectory  = "make directory"
	StepCreate     = "create disk"
	StepRead       = "read disk"
	StepDelete     = "delete disk"
	StepCleanup    = "clean up"
)

// volumePrivileges are what creating and deleting a disk on the datastore
// takes (the Kubernetes docs' minimal set, and VMware's CNS roles).
var volumePrivileges = []string{"Datastore.AllocateSpace", "Datastore.FileManagement"}

// VolumeStep is one step of TestVolume and how long it took.
type VolumeStep struct {
	Name    string // Step* constant
	Elapsed time.Duration
	Err     error // nil when the step succeeded
}

// VolumeReport is what TestVolume did.
type VolumeReport struct {
	Server    string
	Datastore DatastoreInfo
	// Path is the test disk's datastore path,
	// "[LocalDS_0] kubevols/vsphere-integrator-test-<random>.vmdk".
	Path    string
	SizeMiB int
	// UUID is the disk's UUID as vCenter read it back; "" when the test
	// did not get that far.
	UUID  string
	Steps []VolumeStep // in the order run; StepCleanup only after a failure
	// PrivilegesErr is why the privileges could not be checked first
	// (*PrivilegeQueryError); the test then went on, and vCenter's answers
	// to the steps tell.
	PrivilegesErr error
	// Leftover is the disk the test could not delete, nil when nothing is
	// left behind.
	Leftover *Leftover
	Requests int // SOAP round trips, logout included
	Elapsed  time.Duration
}

// Leftover is a test disk that may still be on the datastore: the
// deletion failed, or vCenter never answered whether the disk was created.
type Leftover struct {
	Datacenter string // datacenter name
	Datastore  string // datastore name
	File       string // path in the datastore, "kubevols/vsphere-integrator-test-….vmdk"
	Path       string // datastore path, "[LocalDS_0] kubevols/…"
	// Uncertain is true when the disk may not exist at all: the create
	// request went unanswered, so vCenter may have created it, may create
	// it still, or may not have.
	Uncertain bool
	Err       error // why the cleanup did not delete it
}

// Remedy says how an admin deletes the disk.
func (l *Leftover) Remedy() string {
	return fmt.Sprintf("govc datastore.rm -dc %s -ds %s %s, or delete it in the vSphere client (datastore %s, Files, folder %s)",
		shellQuote(l.Datacenter), shellQuote(l.Datastore), shellQuote(l.File), l.Datastore, VolumeDir)
}

func (l *Leftover) String() string {
	what := "left behind"
	if l.Uncertain {
		what = "may be left behind (vCenter did not say whether it created it)"
	}
	s := fmt.Sprintf("test disk %s %s", l.Path, what)
	if l.Err != nil {
		s += fmt.Sprintf(": deleting it failed: %v", l.Err)
	}
	return s + "; delete it with: " + l.Remedy()
}

// TestVolume does, in one session, what the in-tree provisioner does for a
// dynamic volume, on the target's datastore: it checks that the user holds
// Datastore.AllocateSpace and Datastore.FileManagement there, makes sure the
// folder kubevols exists, creates a thin disk of sizeMiB MiB
// (DefaultVolumeSizeMiB when 0) under a random name, reads its UUID back and
// deletes it. Target.Folder, ResourcePool and Nodes play no part.
//
// Whatever happens (a fault, ctx's deadline), it deletes the disk before it
// returns, with a context of its own that outlives ctx by up to
// cleanupGrace; when even that fails, the report's Leftover, and the error,
// name the disk and how to delete it.
//
// The report is nil only when no session was opened (then the errors are
// those of Check before any lookup) or the datacenter or datastore could
// not be found (*NotFoundError, *AmbiguousError); otherwise it comes with
// the error too, saying which steps ran and how long each took. Errors: a
// *TargetError for a size out of range, *MissingPrivilegesError when the
// user lacks either privilege (nothing is created), *VolumeError when a step
// failed (errors.Is(err, context.DeadlineExceeded) when the deadline passed).
//
// Requests: service content, login, inventory, privilege query, make
// directory, create, one look at the task per poll, read, delete, a look per
// poll, logout: 11 when vCenter is quick.
func TestVolume(ctx context.Context, t Target, sizeMiB int) (*VolumeReport, error) {
	if sizeMiB == 0 {
		sizeMiB = DefaultVolumeSizeMiB
	}
	if sizeMiB < 0 || sizeMiB > MaxVolumeSizeMiB {
		return nil, &TargetError{Field: "test volume size", Err: fmt.Errorf("%d MiB, want 1 to %d", sizeMiB, MaxVolumeSizeMiB)}
	}
	var rep *VolumeReport
	requests, elapsed, err := inSession(ctx, t, func(ctx context.Context, s *session, p *prepared) (err error) {
		rep, err = s.testVolume(ctx, p, sizeMiB)
		return err
	})
	if rep != nil {
		rep.Requests, rep.Elapsed = requests, elapsed
	}
	return rep, err
}

// testVolume is TestVolume's work inside the session: find the datastore,
// then run the steps (privileges, mkdir, create, read the UUID back, delete)
// in order until one fails; a disk that may exist then is cleaned up.
func (s *session) testVolume(ctx context.Context, p *prepared, sizeMiB int) (*VolumeReport, error) {
	v, err := s.newVolumeTest(ctx, p, sizeMiB)
	if err != nil {
		return nil, err
	}
	return v.rep, v.run(ctx)
}

// volumeTest is one run of TestVolume: where its disk goes, what is known of
// the disk, and the report the steps fill in.
type volumeTest struct {
	s       *session
	rep     *VolumeReport
	sizeMiB int
	// Where the disk goes: the datacenter (the managers take it with a
	// datastore path), its name, the datastore, and the disk's path in it
	// ("kubevols/vsphere-integrator-test-….vmdk").
	dc        *object.Datacenter
	dcName    string
	datastore *entity
	file      string
	// disk is what is known of the test disk; createTask is the create
	// task while disk is diskCreating.
	disk       diskState
	createTask types.ManagedObjectReference
}

// diskState is what is known of the test disk.
type diskState int

const (
	diskNone       diskState = iota // not asked for, or the request was refused
	diskUnanswered                  // asked for, answer lost: it may exist
	diskCreating                    // the create task had not ended when last seen
	diskFailed                      // the create task failed
	diskCreated
	diskDeleted
)

// newVolumeTest finds the target's datacenter and datastore and names the
// test disk; nothing is asked of vCenter but the inventory read.
func (s *session) newVolumeTest(ctx context.Context, p *prepared, sizeMiB int) (*volumeTest, error) {
	inv, err := s.readInventory(ctx, false)
	if err != nil {
		return nil, err
	}
	// Only the datacenter and datastore matter here: a wrong folder is
	// the check's to report, not a reason to leave storage untested.
	only := *p
	only.target.Folder, only.target.ResourcePool = "", ""
	r, err := resolve(inv, s.client.ServiceContent.RootFolder, &only)
	if err != nil {
		return nil, err
	}
	name, err := testDiskName()
	if err != nil {
		return nil, err
	}
	dsInfo := datastoreInfo(r.datastore)
	file := VolumeDir + "/" + name
	return &volumeTest{
		s:         s,
		rep:       &VolumeReport{Server: p.url.Host, Datastore: dsInfo, Path: datastorePath(dsInfo.Name, file), SizeMiB: sizeMiB},
		sizeMiB:   sizeMiB,
		dc:        object.NewDatacenter(s.client, r.datacenter.ref),
		dcName:    r.datacenter.name,
		datastore: r.datastore,
		file:      file,
	}, nil
}

// run runs the steps. A step that fails ends the test with a *VolumeError
// naming it (the privileges excepted: their error is returned as it is);
// then a disk that may exist is deleted (cleanUp) and, if it cannot be, the
// error names it.
func (v *volumeTest) run(ctx context.Context) error {
	if err := v.step(ctx, StepPrivileges, func(ctx context.Context) error {
		return v.s.volumePrivileges(ctx, v.datastore, v.rep)
	}); err != nil {
		return err
	}
	// A server that is not vCenter may lack them; govmomi's managers would
	// dereference nil.
	content := v.s.client.ServiceContent
	if content.FileManager == nil || content.VirtualDiskManager == nil {
		err := fmt.Errorf("vCenter %s has no FileManager or VirtualDiskManager: it cannot create disks", v.rep.Server)
		return &VolumeError{Path: v.rep.Path, Err: err}
	}
	for _, st := range []struct {
		name string
		run  func(context.Context) error
	}{
		{StepDirectory, v.makeDirectory},
		{StepCreate, v.createDisk},
		{StepRead, v.readUUID},
		{StepDelete, v.deleteDisk},
	} {
		err := v.step(ctx, st.name, func(ctx context.Context) error { return v.s.stepErr(ctx, st.name, st.run(ctx)) })
		if err == nil {
			continue
		}
		failed := &VolumeError{Step: st.name, Path: v.rep.Path, Err: err}
		if v.disk != diskNone && v.disk != diskDeleted {
			v.rep.Leftover = v.cleanUp(ctx)
			failed.Leftover = v.rep.Leftover
		}
		return failed
	}
	return nil
}

// step runs one step and adds it, with how long it took, to the report.
func (v *volumeTest) step(ctx context.Context, name string, f func(context.Context) error) error {
	start := time.Now()
	err := f(ctx)
	v.rep.Steps = append(v.rep.Steps, VolumeStep{Name: name, Elapsed: time.Since(start), Err: err})
	return err
}

// makeDirectory makes sure the folder kubevols exists.
func (v *volumeTest) makeDirectory(ctx context.Context) error {
	dir := datastorePath(v.rep.Datastore.Name, VolumeDir)
	err := object.NewFileManager(v.s.client).MakeDirectory(ctx, dir, v.dc, true)
	if isFault(err) && fault.Is(err, &types.FileAlreadyExists{}) {
		return nil // there from an earlier volume: what we want
	}
	return err
}

// createDisk creates the thin test disk and waits for the task.
func (v *volumeTest) createDisk(ctx context.Context) error {
	v.disk = diskUnanswered
	task, err := object.NewVirtualDiskManager(v.s.client).CreateVirtualDisk(ctx, v.rep.Path, v.dc, &types.FileBackedVirtualDiskSpec{
		VirtualDiskSpec: types.VirtualDiskSpec{
			DiskType:    string(types.VirtualDiskTypeThin),
			AdapterType: string(types.VirtualDiskAdapterTypeLsiLogic),
		},
		CapacityKb: int64(v.sizeMiB) * 1024,
	})
	if err != nil {
		if isFault(err) {
			v.disk = diskNone // refused: no task, no disk
		}
		return err
	}
	v.disk, v.createTask = diskCreating, task.Reference()
	return v.waitCreated(ctx)
}

// waitCreated waits for the create task and notes how it ended; when
// asking fails the disk stays diskCreating.
func (v *volumeTest) waitCreated(ctx context.Context) error {
	taskErr, err := v.s.waitTask(ctx, v.createTask)
	switch {
	case err != nil:
		return err
	case taskErr != nil:
		v.disk = diskFailed
		return taskErr
	}
	v.disk = diskCreated
	return nil
}

// readUUID reads the disk's UUID back, as the provisioner does.
func (v *volumeTest) readUUID(ctx context.Context) error {
	uuid, err := object.NewVirtualDiskManager(v.s.client).QueryVirtualDiskUuid(ctx, v.rep.Path, v.dc)
	if err != nil {
		return err
	}
	v.rep.UUID = v.s.p.secrets.Server(uuid, maxServerText)
	return nil
}

// deleteDisk deletes the disk (descriptor and extents) and waits for the
// task.
func (v *volumeTest) deleteDisk(ctx context.Context) error {
	task, err := object.NewVirtualDiskManager(v.s.client).DeleteVirtualDisk(ctx, v.rep.Path, v.dc)
	if err != nil {
		return err
	}
	taskErr, err := v.s.waitTask(ctx, task.Reference())
	if err == nil {
		err = taskErr
	}
	if err == nil {
		v.disk = diskDeleted
	}
	return err
}

// cleanUp, the step StepCleanup, deletes a disk a failed step may have left,
// with a context that outlives ctx by up to cleanupGrace (ctx may be done).
// It returns what is left behind, nil when nothing is.
func (v *volumeTest) cleanUp(ctx context.Context) *Leftover {
	ctx, cancel := graceContext(ctx, cleanupGrace)
	defer cancel()
	var left *Leftover
	_ = v.step(ctx, StepCleanup, func(ctx context.Context) error {
		if v.disk == diskCreating {
			_ = v.waitCreated(ctx) // its outcome tells what a delete's answer means
		}
		err := v.deleteDisk(ctx)
		uncertain := v.disk == diskUnanswered || v.disk == diskCreating
		switch {
		case err == nil:
			return nil
		case fault.Is(err, &types.FileNotFound{}) && !uncertain:
			return nil // never created, or gone already
		}
		left = &Leftover{
			Datacenter: v.dcName, Datastore: v.rep.Datastore.Name, File: v.file, Path: v.rep.Path,
			Uncertain: v.disk != diskCreated,
		}
		if fault.Is(err, &types.FileNotFound{}) {
			// Not there now; but a create vCenter never answered
			// for, or one still running, may yet make it.
			return errors.New("disk not found, but its creation may still complete")
		}
		left.Err = v.s.fail(ctx, StepCleanup, err)
		return left.Err
	})
	return left
}

// volumePrivileges checks the privileges a disk takes on the datastore, in
// one query; a query vCenter cannot answer is noted in the report and the
// test goes on.
func (s *session) volumePrivileges(ctx context.Context, ds *entity, rep *VolumeReport) error {
	authz := s.client.ServiceContent.AuthorizationManager
	if authz == nil {
		rep.PrivilegesErr = &PrivilegeQueryError{Server: s.p.url.Host, Unsupported: true}
		return nil
	}
	granted, err := s.hasPrivileges(ctx, []types.ManagedObjectReference{ds.ref}, volumePrivileges)
	if err != nil {
		if !isFault(err) {
			return s.fail(ctx, "check privileges", err)
		}
		rep.PrivilegesErr = &PrivilegeQueryError{Server: s.p.url.Host, Unsupported: unsupported(err), Err: err}
		return nil
	}
	var missing []string
	for _, id := range volumePrivileges {
		if !granted[ds.ref][id] {
			missing = append(missing, id)
		}
	}
	if len(missing) > 0 {
		return &MissingPrivilegesError{User: s.p.secrets.Server(s.user, maxServerText), Kind: ObjectDatastore, Object: s.p.secrets.Server(ds.path, maxPathText), Privileges: missing}
	}
	return nil
}

// stepErr is fail for a volume step: nil stays nil.
func (s *session) stepErr(ctx context.Context, op string, err error) error {
	if err == nil {
		return nil
	}
	return s.fail(ctx, op, err)
}

// waitTask waits for one task: taskErr is the task's failure, err a failure
// to ask.
func (s *session) waitTask(ctx context.Context, task types.ManagedObjectReference) (taskErr, err error) {
	failed, err := s.waitTasks(ctx, map[types.ManagedObjectReference]types.ManagedObjectReference{task: task})
	if err != nil {
		return nil, err
	}
	return failed[task], nil
}

// testDiskName is a fresh name for a test disk: random, so that two tests
// (two units, or a retry after a lost answer) never meet on one file.
func testDiskName() (string, error) {
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("random disk name: %w", err)
	}
	return testDiskPrefix + hex.EncodeToString(b) + ".vmdk", nil
}

// datastorePath is "[datastore] path", the form the file and disk managers
// take.
func datastorePath(datastore, path string) string {
	p := object.DatastorePath{Datastore: datastore, Path: path}
	return p.String()
}

var shellSafe = regexp.MustCompile(`^[A-Za-z0-9_./:@%+=-]+$`)

// shellQuote makes s one word for a POSIX shell, for commands an admin
// pastes.
func shellQuote(s string) string {
	if shellSafe.MatchString(s) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
