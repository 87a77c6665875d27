package vsphere_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/vmware/govmomi/fault"
	"github.com/vmware/govmomi/find"
	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/vim25/types"

	"github.com/charmed-kubernetes/vsphere-integrator/internal/vsphere"
	"github.com/charmed-kubernetes/vsphere-integrator/internal/vsphere/vspheretest"
)

// disksLeft lists the .vmdk files in the datastore's kubevols folder, as
// they are on the simulator's disk.
func disksLeft(t *testing.T, srv *vspheretest.Server) []string {
	t.Helper()
	files, err := srv.DatastoreFiles(timeout(t, 10*time.Second), ds0, vsphere.VolumeDir)
	require.NoError(t, err)
	var disks []string
	for _, f := range files {
		if strings.HasSuffix(f, ".vmdk") {
			disks = append(disks, f)
		}
	}
	return disks
}

func stepNames(rep *vsphere.VolumeReport) []string {
	var names []string
	for _, s := range rep.Steps {
		names = append(names, s.Name)
	}
	return names
}

// deleteDisk removes a disk the way the Leftover's remedy does (govc
// datastore.rm goes through the VirtualDiskManager).
func deleteDisk(t *testing.T, srv *vspheretest.Server, path string) {
	t.Helper()
	ctx := timeout(t, 10*time.Second)
	c := srv.Client()
	dc, err := find.NewFinder(c).Datacenter(ctx, "DC0")
	require.NoError(t, err)
	task, err := object.NewVirtualDiskManager(c).DeleteVirtualDisk(ctx, path, dc)
	require.NoError(t, err)
	require.NoError(t, task.Wait(ctx))
}

var (
	okSteps      = []string{vsphere.StepPrivileges, vsphere.StepDirectory, vsphere.StepCreate, vsphere.StepRead, vsphere.StepDelete}
	diskPathRE   = `^\[LocalDS_0\] kubevols/vsphere-integrator-test-[0-9a-f]{12}\.vmdk$`
	notFoundDisk = &types.FileNotFound{FileFault: types.FileFault{File: "x.vmdk"}}
)

func TestVolume(t *testing.T) {
	srv := newVCenter(t)
	tg := target(srv)

	for run := range 2 { // the second finds kubevols there
		served := srv.Requests()
		rep, err := vsphere.TestVolume(timeout(t, 20*time.Second), tg, 0)
		require.NoError(t, err)
		assert.Regexp(t, diskPathRE, rep.Path)
		assert.Equal(t, vsphere.DefaultVolumeSizeMiB, rep.SizeMiB)
		assert.NotEmpty(t, rep.UUID, "read back")
		assert.Equal(t, okSteps, stepNames(rep))
		for _, s := range rep.Steps {
			assert.NoError(t, s.Err, s.Name)
			assert.Positive(t, s.Elapsed, s.Name)
		}
		assert.Nil(t, rep.Leftover)
		assert.NoError(t, rep.PrivilegesErr)
		assert.Equal(t, "LocalDS_0", rep.Datastore.Name)
		assert.NotEmpty(t, rep.Datastore.URL)
		assert.Equal(t, srv.Requests()-served, rep.Requests, "the report counts what the server served")
		// Service content, login, inventory, privileges, mkdir, create
		// and its task, read, delete and its task, logout.
		assert.GreaterOrEqual(t, rep.Requests, 11)
		t.Logf("run %d: %d SOAP requests, steps %v", run, rep.Requests, rep.Steps)
		assert.Empty(t, disksLeft(t, srv))
		assert.Zero(t, sessions(t, srv))
	}

	wrong := tg
	wrong.Folder, wrong.ResourcePool = "nope", "nope"
	_, err := vsphere.TestVolume(timeout(t, 20*time.Second), wrong, 1)
	require.NoError(t, err, "folder and pool are the check's business")
	assert.Empty(t, disksLeft(t, srv))

	wrong.Datastore = "ds9"
	rep, err := vsphere.TestVolume(timeout(t, 10*time.Second), wrong, 1)
	var nf *vsphere.NotFoundError
	require.ErrorAs(t, err, &nf)
	assert.Equal(t, "datastore", nf.Kind)
	assert.Nil(t, rep)
	assert.Zero(t, sessions(t, srv))

	_, err = vsphere.TestVolume(timeout(t, 10*time.Second), tg, -1)
	var te *vsphere.TargetError
	require.ErrorAs(t, err, &te)
	_, err = vsphere.TestVolume(timeout(t, 10*time.Second), tg, vsphere.MaxVolumeSizeMiB+1)
	require.ErrorAs(t, err, &te)
}

// TestVolumeFailures injects a failure at each step and checks what the
// test reports, and that no disk is left on the datastore.
func TestVolumeFailures(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, srv *vspheretest.Server)
		// step is where it fails ("": it does not); steps what ran.
		step  string
		steps []string
		// privileges the error names as missing.
		missing []string
		fault   types.BaseMethodFault // the error is this fault
		// privErr: the privileges could not be checked first.
		privErr bool
	}{{
		name: "kubevols there, vCenter says so",
		setup: func(t *testing.T, srv *vspheretest.Server) {
			ctx := timeout(t, 10*time.Second)
			dc, err := find.NewFinder(srv.Client()).Datacenter(ctx, "DC0")
			require.NoError(t, err)
			require.NoError(t, object.NewFileManager(srv.Client()).MakeDirectory(ctx, "[LocalDS_0] kubevols", dc, false))
			srv.FaultMethodTimes("MakeDirectory", &types.FileAlreadyExists{}, 1)
		},
		steps: okSteps,
	}, {
		name: "AllocateSpace denied",
		setup: func(t *testing.T, srv *vspheretest.Server) {
			require.NoError(t, srv.DenyPrivilege(context.Background(), ds0, "Datastore.AllocateSpace"))
		},
		step: vsphere.StepPrivileges, steps: okSteps[:1],
		missing: []string{"Datastore.AllocateSpace"},
	}, {
		name: "both denied",
		setup: func(t *testing.T, srv *vspheretest.Server) {
			require.NoError(t, srv.DenyPrivilege(context.Background(), ds0, "Datastore.FileManagement"))
			require.NoError(t, srv.DenyPrivilege(context.Background(), ds0, "Datastore.AllocateSpace"))
		},
		step: vsphere.StepPrivileges, steps: okSteps[:1],
		missing: []string{"Datastore.AllocateSpace", "Datastore.FileManagement"},
	}, {
		name: "denied elsewhere only",
		setup: func(t *testing.T, srv *vspheretest.Server) {
			require.NoError(t, srv.DenyPrivilege(context.Background(), "/DC0/datastore/LocalDS_0", "System.Read"))
			require.NoError(t, srv.DenyPrivilege(context.Background(), "/", "Datastore.AllocateSpace"))
		},
		steps: okSteps,
	}, {
		name: "privilege query not supported: the steps tell",
		setup: func(_ *testing.T, srv *vspheretest.Server) {
			srv.FaultMethod("HasUserPrivilegeOnEntities", &types.NotSupported{})
		},
		steps: okSteps, privErr: true,
	}, {
		name: "folder refused",
		setup: func(_ *testing.T, srv *vspheretest.Server) {
			srv.FaultMethod("MakeDirectory", &types.CannotCreateFile{})
		},
		step: vsphere.StepDirectory, steps: okSteps[:2],
		fault: &types.CannotCreateFile{},
	}, {
		name: "create refused: nothing to clean up",
		setup: func(_ *testing.T, srv *vspheretest.Server) {
			srv.FaultMethod("CreateVirtualDisk_Task", &types.NoDiskSpace{Datastore: "LocalDS_0"})
		},
		step: vsphere.StepCreate, steps: okSteps[:3],
		fault: &types.NoDiskSpace{},
	}, {
		name: "create task fails",
		setup: func(_ *testing.T, srv *vspheretest.Server) {
			srv.FailDiskTask("CreateVirtualDisk_Task", &types.FileFault{}, 1)
		},
		step: vsphere.StepCreate, steps: append(okSteps[:3:3], vsphere.StepCleanup),
		fault: &types.FileFault{},
	}, {
		name: "read back fails after the disk was made",
		setup: func(_ *testing.T, srv *vspheretest.Server) {
			srv.FaultMethod("QueryVirtualDiskUuid", notFoundDisk)
		},
		step: vsphere.StepRead, steps: append(okSteps[:4:4], vsphere.StepCleanup),
		fault: &types.FileNotFound{},
	}, {
		name: "delete call refused once: the cleanup deletes it",
		setup: func(_ *testing.T, srv *vspheretest.Server) {
			srv.FaultMethodTimes("DeleteVirtualDisk_Task", &types.NoPermission{PrivilegeId: "Datastore.FileManagement"}, 1)
		},
		step: vsphere.StepDelete, steps: append(okSteps[:5:5], vsphere.StepCleanup),
		fault: &types.NoPermission{},
	}, {
		name: "delete task fails once (disk locked): the cleanup deletes it",
		setup: func(_ *testing.T, srv *vspheretest.Server) {
			srv.FailDiskTask("DeleteVirtualDisk_Task", &types.FileLocked{}, 1)
		},
		step: vsphere.StepDelete, steps: append(okSteps[:5:5], vsphere.StepCleanup),
		fault: &types.FileLocked{},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := newVCenter(t)
			tc.setup(t, srv)
			served := srv.Requests()
			rep, err := vsphere.TestVolume(timeout(t, 20*time.Second), target(srv), 4)
			require.NotNil(t, rep)
			assert.Equal(t, srv.Requests()-served, rep.Requests)
			t.Logf("%d SOAP requests; %v", rep.Requests, err)
			assert.Equal(t, tc.steps, stepNames(rep))
			assert.Nil(t, rep.Leftover)
			assert.Empty(t, disksLeft(t, srv))
			assert.Zero(t, sessions(t, srv))
			if tc.privErr {
				var qe *vsphere.PrivilegeQueryError
				require.ErrorAs(t, rep.PrivilegesErr, &qe)
				assert.True(t, qe.Unsupported)
			} else {
				assert.NoError(t, rep.PrivilegesErr)
			}
			if cleanup := rep.Steps[len(rep.Steps)-1]; cleanup.Name == vsphere.StepCleanup {
				assert.NoError(t, cleanup.Err)
			}

			if tc.step == "" {
				require.NoError(t, err)
				assert.NotEmpty(t, rep.UUID)
				return
			}
			require.Error(t, err)
			if tc.missing != nil {
				var mp *vsphere.MissingPrivilegesError
				require.ErrorAs(t, err, &mp)
				assert.Equal(t, tc.missing, mp.Privileges)
				assert.Equal(t, ds0, mp.Object)
				files, lerr := srv.DatastoreFiles(timeout(t, 10*time.Second), ds0, "")
				require.NoError(t, lerr)
				assert.NotContains(t, files, vsphere.VolumeDir, "nothing touched without the privileges")
				return
			}
			var ve *vsphere.VolumeError
			require.ErrorAs(t, err, &ve)
			assert.Equal(t, tc.step, ve.Step)
			assert.Equal(t, rep.Path, ve.Path)
			assert.Nil(t, ve.Leftover)
			assert.NotErrorIs(t, err, context.DeadlineExceeded)
			if tc.fault != nil {
				assert.True(t, fault.Is(err, tc.fault), "%v is a %T", err, tc.fault)
			}
			assert.Contains(t, err.Error(), rep.Path)
		})
	}
}

// TestVolumeLeftover: a disk the cleanup cannot delete either is named,
// with the command that deletes it.
func TestVolumeLeftover(t *testing.T) {
	srv := newVCenter(t)
	srv.FaultMethod("DeleteVirtualDisk_Task", &types.CannotDeleteFile{})
	rep, err := vsphere.TestVolume(timeout(t, 20*time.Second), target(srv), 1)
	var ve *vsphere.VolumeError
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, vsphere.StepDelete, ve.Step)
	require.NotNil(t, rep.Leftover)
	assert.Same(t, rep.Leftover, ve.Leftover)
	left := rep.Leftover
	file := strings.TrimPrefix(rep.Path, "[LocalDS_0] ")
	assert.Equal(t, vsphere.Leftover{
		Datacenter: "DC0", Datastore: "LocalDS_0", File: file, Path: rep.Path, Err: left.Err,
	}, *left)
	assert.Error(t, left.Err)
	assert.Contains(t, left.Remedy(), "govc datastore.rm -dc DC0 -ds LocalDS_0 "+file)
	assert.Contains(t, err.Error(), "test disk "+rep.Path+" left behind")
	assert.Contains(t, err.Error(), "govc datastore.rm -dc DC0 -ds LocalDS_0 "+file)
	t.Log(err)
	name := strings.TrimPrefix(file, "kubevols/")
	assert.ElementsMatch(t, []string{name, strings.Replace(name, ".vmdk", "-flat.vmdk", 1)}, disksLeft(t, srv), "it is there, as said")

	srv.ClearFaults()
	deleteDisk(t, srv, rep.Path)
	assert.Empty(t, disksLeft(t, srv))
	assert.Zero(t, sessions(t, srv))
}

// TestVolumeDeadline: the deadline passes at a chosen step (the simulator
// holds that call); the cleanup still runs, past the deadline.
func TestVolumeDeadline(t *testing.T) {
	t.Run("while reading the disk back: deleted anyway", func(t *testing.T) {
		srv := newVCenter(t)
		arrived, release := srv.Hold("QueryVirtualDiskUuid")
		t.Cleanup(release)
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		rep, err := vsphere.TestVolume(ctx, target(srv), 1)
		requireArrived(t, arrived)
		require.ErrorIs(t, err, context.DeadlineExceeded)
		var ve *vsphere.VolumeError
		require.ErrorAs(t, err, &ve)
		assert.Equal(t, vsphere.StepRead, ve.Step)
		assert.Equal(t, append(okSteps[:4:4], vsphere.StepCleanup), stepNames(rep))
		assert.NoError(t, rep.Steps[4].Err)
		assert.Nil(t, rep.Leftover)
		assert.Empty(t, disksLeft(t, srv))
		assert.Zero(t, sessions(t, srv))
	})

	t.Run("while asking to create it: may be left, and said so", func(t *testing.T) {
		srv := newVCenter(t)
		arrived, release := srv.Hold("CreateVirtualDisk_Task")
		t.Cleanup(release)
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		rep, err := vsphere.TestVolume(ctx, target(srv), 1)
		requireArrived(t, arrived)
		require.ErrorIs(t, err, context.DeadlineExceeded)
		require.NotNil(t, rep.Leftover)
		assert.True(t, rep.Leftover.Uncertain)
		assert.Contains(t, err.Error(), "may be left behind")
		assert.Contains(t, err.Error(), "govc datastore.rm")
		assert.Empty(t, disksLeft(t, srv), "not yet")

		// vCenter goes on with the request the test gave up on: the disk
		// appears after all, which is why the report could not say
		// "nothing left".
		release()
		require.Eventually(t, func() bool { return len(disksLeft(t, srv)) > 0 }, 10*time.Second, 20*time.Millisecond)
		deleteDisk(t, srv, rep.Path)
		assert.Empty(t, disksLeft(t, srv))
		assert.Zero(t, sessions(t, srv))
	})
}

func requireArrived(t *testing.T, arrived <-chan struct{}) {
	t.Helper()
	select {
	case <-arrived:
	default:
		t.Fatal("the held call never came: the test failed before that step")
	}
}
