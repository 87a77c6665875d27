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
	"github.com/vmware/govmomi/vim25/methods"
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

// createState is what is known of the test disk.
type createState int

const (
	notCreated   createState = iota // not asked for, or the request was refused
	unanswered                      // asked for, answer lost: it may exist
	running                         // the create task had not ended when last seen
	createFailed                    // the create task failed
	created
)

// testVolume is TestVolume's work inside the session.
func (s *session) testVolume(ctx context.Context, p *prepared, sizeMiB int) (rep *VolumeReport, err error) {
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
	path := datastorePath(dsInfo.Name, file)
	dc := r.datacenter.ref
	rep = &VolumeReport{Server: p.url.Host, Datastore: dsInfo, Path: path, SizeMiB: sizeMiB}
	step := func(name string, f func() error) error {
		start := time.Now()
		err := f()
		rep.Steps = append(rep.Steps, VolumeStep{Name: name, Elapsed: time.Since(start), Err: err})
		return err
	}
	failed := func(err error) error {
		ve := &VolumeError{Path: path, Err: err}
		if n := len(rep.Steps); n > 0 {
			ve.Step = rep.Steps[n-1].Name
		}
		return ve
	}

	if err := step(StepPrivileges, func() error { return s.volumePrivileges(ctx, r.datastore, rep) }); err != nil {
		return rep, err
	}

	content := s.client.ServiceContent
	if content.FileManager == nil || content.VirtualDiskManager == nil {
		err := fmt.Errorf("vCenter %s has no FileManager or VirtualDiskManager: it cannot create disks", p.url.Host)
		return rep, &VolumeError{Path: path, Err: err}
	}
	if err := step(StepDirectory, func() error {
		_, err := methods.MakeDirectory(ctx, s.counter, &types.MakeDirectory{
			This:                    *content.FileManager,
			Name:                    datastorePath(dsInfo.Name, VolumeDir),
			Datacenter:              &dc,
			CreateParentDirectories: types.NewBool(true),
		})
		if isFault(err) && fault.Is(err, &types.FileAlreadyExists{}) {
			return nil // there from an earlier volume: what we want
		}
		return s.stepErr(ctx, StepDirectory, err)
	}); err != nil {
		return rep, failed(err)
	}

	state := notCreated
	var task *types.ManagedObjectReference
	deleted := false
	defer func() {
		if state == notCreated || deleted {
			return
		}
		// ctx may be done: the cleanup gets a context of its own.
		gctx, cancel := graceContext(ctx, cleanupGrace)
		defer cancel()
		var left *Leftover
		_ = step(StepCleanup, func() error {
			if state == running {
				switch taskErr, err := s.waitTask(gctx, *task); {
				case err != nil:
				case taskErr != nil:
					state = createFailed
				default:
					state = created
				}
			}
			derr := s.deleteDisk(gctx, path, dc)
			switch {
			case derr == nil:
				return nil
			case fault.Is(derr, &types.FileNotFound{}) && state != unanswered && state != running:
				return nil // never created, or gone already
			}
			left = &Leftover{
				Datacenter: r.datacenter.name, Datastore: dsInfo.Name, File: file, Path: path,
				Uncertain: state != created,
			}
			if fault.Is(derr, &types.FileNotFound{}) {
				// Not there now; but a create vCenter never answered
				// for, or one still running, may yet make it.
				return errors.New("disk not found, but its creation may still complete")
			}
			left.Err = s.stepErr(gctx, StepCleanup, derr)
			return left.Err
		})
		rep.Leftover = left
		if left != nil {
			var ve *VolumeError
			if errors.As(err, &ve) {
				ve.Leftover = left
			}
		}
	}()

	if err := step(StepCreate, func() error {
		state = unanswered
		res, err := methods.CreateVirtualDisk_Task(ctx, s.counter, &types.CreateVirtualDisk_Task{
			This:       *content.VirtualDiskManager,
			Name:       path,
			Datacenter: &dc,
			Spec: &types.FileBackedVirtualDiskSpec{
				VirtualDiskSpec: types.VirtualDiskSpec{
					DiskType:    string(types.VirtualDiskTypeThin),
					AdapterType: string(types.VirtualDiskAdapterTypeLsiLogic),
				},
				CapacityKb: int64(sizeMiB) * 1024,
			},
		})
		if err != nil {
			if isFault(err) {
				state = notCreated // refused: no task, no disk
			}
			return s.stepErr(ctx, StepCreate, err)
		}
		task, state = &res.Returnval, running
		taskErr, err := s.waitTask(ctx, *task)
		switch {
		case err != nil:
			return s.stepErr(ctx, StepCreate, err)
		case taskErr != nil:
			state = createFailed
			return s.stepErr(ctx, StepCreate, taskErr)
		}
		state = created
		return nil
	}); err != nil {
		return rep, failed(err)
	}

	if err := step(StepRead, func() error {
		res, err := methods.QueryVirtualDiskUuid(ctx, s.counter, &types.QueryVirtualDiskUuid{
			This: *content.VirtualDiskManager, Name: path, Datacenter: &dc,
		})
		if err != nil {
			return s.stepErr(ctx, StepRead, err)
		}
		rep.UUID = s.p.secrets.Server(res.Returnval, maxServerText)
		return nil
	}); err != nil {
		return rep, failed(err)
	}

	if err := step(StepDelete, func() error {
		err := s.deleteDisk(ctx, path, dc)
		deleted = err == nil
		return s.stepErr(ctx, StepDelete, err)
	}); err != nil {
		return rep, failed(err)
	}
	return rep, nil
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

// deleteDisk deletes a virtual disk (descriptor and extents) and waits for
// the task.
func (s *session) deleteDisk(ctx context.Context, path string, dc types.ManagedObjectReference) error {
	res, err := methods.DeleteVirtualDisk_Task(ctx, s.counter, &types.DeleteVirtualDisk_Task{
		This: *s.client.ServiceContent.VirtualDiskManager, Name: path, Datacenter: &dc,
	})
	if err != nil {
		return err
	}
	taskErr, err := s.waitTask(ctx, res.Returnval)
	if err != nil {
		return err
	}
	return taskErr
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

// stepErr is fail for a volume step: nil stays nil.
func (s *session) stepErr(ctx context.Context, op string, err error) error {
	if err == nil {
		return nil
	}
	return s.fail(ctx, op, err)
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
