package vsphere

import (
	"errors"
	"maps"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRolesFromNeeds keeps the roles Dedicate makes and the privileges the
// check asks for one list: every kind checked has a grant, every role holds
// exactly its kind's needs, and the datacenter, whose needs are system
// privileges only, gets ReadOnly.
func TestRolesFromNeeds(t *testing.T) {
	require.ElementsMatch(t, slices.Collect(maps.Keys(needs)), grantKinds())
	require.ElementsMatch(t, slices.Collect(maps.Keys(grants)), grantKinds())
	table := &roleTable{}
	slugs := map[string]bool{}
	for _, kind := range grantKinds() {
		name, ids, unknown := table.roleFor(kind)
		assert.Empty(t, unknown, kind)
		var want []string
		for _, n := range needs[kind] {
			if !slices.Contains(want, n.id) {
				want = append(want, n.id)
			}
		}
		slices.Sort(want)
		if kind == ObjectDatacenter {
			assert.Equal(t, readOnlyRole, name)
			assert.Subset(t, systemPrivileges, want, "the datacenter's needs must stay within ReadOnly")
			continue
		}
		assert.Equal(t, RolePrefix+grants[kind].slug, name)
		assert.Equal(t, want, ids, kind)
		assert.False(t, slugs[grants[kind].slug], "slug %s used twice", grants[kind].slug)
		slugs[grants[kind].slug] = true
	}
	assert.True(t, grants[ObjectDatacenter].propagate, "ReadOnly on the datacenter must reach its objects")
	assert.False(t, grants[ObjectRoot].propagate, "the root's role must not reach every datacenter")
	assert.False(t, grants[ObjectNodeVM].propagate)
}

// An older vCenter without Cns.Searchable gets the root role without it,
// and the report names it.
func TestRoleForUnknownPrivilege(t *testing.T) {
	defined := map[string]bool{}
	for _, kind := range grantKinds() {
		for _, id := range privilegesOf(kind) {
			defined[id] = true
		}
	}
	delete(defined, "Cns.Searchable")
	name, ids, unknown := (&roleTable{defined: defined}).roleFor(ObjectRoot)
	assert.Equal(t, RolePrefix+"root", name)
	assert.Equal(t, []string{"StorageProfile.View"}, ids)
	assert.Equal(t, []string{"Cns.Searchable"}, unknown)
}

func TestSamePrivilegesIgnoresSystem(t *testing.T) {
	assert.True(t, samePrivileges([]string{"A", "System.Read", "System.View", "System.Anonymous"}, []string{"A"}))
	assert.True(t, samePrivileges([]string{"B", "A"}, []string{"A", "B"}))
	assert.False(t, samePrivileges([]string{"A", "B"}, []string{"A"}))
	assert.False(t, samePrivileges([]string{"A"}, []string{"A", "B"}))
}

func TestPrincipal(t *testing.T) {
	at, err := parsePrincipal("juju-a@vsphere.local")
	require.NoError(t, err)
	back, err := parsePrincipal(`VSPHERE.LOCAL\juju-a`)
	require.NoError(t, err)
	assert.Equal(t, at.key(), back.key(), "user@domain and DOMAIN\\user are one principal")
	assert.Equal(t, `VSPHERE.LOCAL\juju-a`, at.vcenter())
	assert.Equal(t, "juju-a@vsphere.local", at.String())
	other, err := parsePrincipal("JUJU-A@vsphere.local")
	require.NoError(t, err)
	assert.NotEqual(t, at.key(), other.key(), "only the domain's case is ignored")
	for _, bad := range []string{"juju-a", "@vsphere.local", "juju-a@", `\juju-a`, "a@b@c", `D\a@b`} {
		_, err := parsePrincipal(bad)
		assert.Error(t, err, bad)
	}
	assert.Equal(t, "Administrators", keyOf("Administrators"), "a name without domain matches only itself")
}

func TestDedicateRequestValidate(t *testing.T) {
	ok := NewUser{Name: "juju-m-a-1", Password: "Xy-12345678"}
	for name, req := range map[string]DedicateRequest{
		"empty name":           {Make: []NewUser{{Password: "x"}}},
		"name with domain":     {Make: []NewUser{{Name: "a@vsphere.local", Password: "x"}}},
		"name with space":      {Make: []NewUser{{Name: "a b", Password: "x"}}},
		"empty password":       {Make: []NewUser{{Name: "a"}}},
		"made twice":           {Make: []NewUser{ok, ok}},
		"grant without domain": {Grant: []string{"a"}},
		"remove granted":       {Grant: []string{"a@vsphere.local"}, Remove: []string{`VSPHERE.LOCAL\a`}},
		"remove made":          {Make: []NewUser{ok}, Remove: []string{ok.Name + "@vsphere.local"}},
	} {
		err := req.validate()
		var te *TargetError
		assert.True(t, errors.As(err, &te), "%s: %v", name, err)
	}
	assert.NoError(t, DedicateRequest{Make: []NewUser{ok}, Grant: []string{"b@vsphere.local"}, Remove: []string{"c@vsphere.local"}}.validate())
	err := DedicateRequest{Make: []NewUser{{Name: "a b", Password: "Secret-Pw1"}}}.validate()
	assert.NotContains(t, err.Error(), "Secret-Pw1")
}

// Only the path of what the lookup service says is used, and only a plain
// one under the service's prefix: the STS request carries the trusted
// password, and goes to the host the target names.
func TestEndpointPath(t *testing.T) {
	assert.Equal(t, "/sts/STSService/vsphere.local", endpointPath("https://elsewhere.example:8443/sts/STSService/vsphere.local", "/sts/"))
	assert.Equal(t, "", endpointPath("https://vc/sts/../sdk", "/sts/"))
	assert.Equal(t, "", endpointPath("https://vc/other/STSService", "/sts/"))
	assert.Equal(t, "", endpointPath("::", "/sts/"))
	assert.Equal(t, "vsphere.local", tenant("/sso-adminserver/sdk/vsphere.local", "sdk"))
	assert.Equal(t, "", tenant("/sso-adminserver/sdk", "sdk"))
	assert.Equal(t, "", tenant("/sso-adminserver/sdk/a%20b", "sdk"))
}
