package hooktoolstest_test

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/charmed-kubernetes/vsphere-integrator/internal/hooktools/hooktoolstest"
)

const (
	app   = "vsphere-integrator"
	peer  = "vsphere-integrator/1"
	other = "unit-vsphere-integrator-7"
)

// printedURI is what secret-add prints in Juju 3.6: the model's UUID as
// the source, and an xid.
var printedURI = regexp.MustCompile(`^secret://` + hooktoolstest.DefaultModelUUID + `/([0-9a-v]{19}[0g])\n$`)

// contentFile writes a secret-add --file and returns its path.
func contentFile(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "content")
	require.NoError(t, os.WriteFile(path, []byte(content), 0o600))
	return path
}

// run runs a tool that must succeed and returns its stdout.
func run(t *testing.T, j *hooktoolstest.Juju, tool string, args ...string) string {
	t.Helper()
	out, errOut, code := j.Run(tool, args, nil)
	require.Equal(t, 0, code, "%s %v: %s", tool, args, errOut)
	return string(out)
}

// add runs secret-add with content from a JSON file and returns the URI
// it printed.
func add(t *testing.T, j *hooktoolstest.Juju, content map[string]string, flags ...string) string {
	t.Helper()
	b, err := json.Marshal(content)
	require.NoError(t, err)
	out := run(t, j, "secret-add", append(flags, "--file", contentFile(t, string(b)))...)
	require.Regexp(t, printedURI, out)
	return strings.TrimSpace(out)
}

func leaderInHook(t *testing.T) *hooktoolstest.Juju {
	t.Helper()
	j := related()
	j.SetLeader(true)
	require.NoError(t, j.BeginHook())
	return j
}

// TestSecretAddTexts holds secret-add to Juju's words and exit codes:
// Init's refusals exit 2, Run's 1 (jujuc secret-add.go, core/secrets
// createsecret.go, the hook context's CreateSecret).
func TestSecretAddTexts(t *testing.T) {
	big := strings.Repeat("x", 750_001) // 1,000,004 bytes in base64
	tests := []struct {
		name     string
		leader   bool
		args     []string
		wantErr  string
		wantCode int
	}{
		{name: "nothing to add", leader: true,
			wantErr: "ERROR missing secret value or filename\n", wantCode: 2},
		{name: "an argument without =", leader: true, args: []string{"s3cret"},
			wantErr: "ERROR key value \"s3cret\" not valid\n", wantCode: 2},
		{name: "a key Juju's rule refuses", leader: true, args: []string{"Pass=x"},
			wantErr: "ERROR key \"Pass\" not valid\n", wantCode: 2},
		{name: "a key too short", leader: true, args: []string{"pw=x"},
			wantErr: "ERROR key \"pw\" not valid\n", wantCode: 2},
		{name: "an unknown owner", leader: true, args: []string{"--owner", "model", "password=x"},
			wantErr: "ERROR secret owner \"model\" not valid\n", wantCode: 2},
		{name: "a bad rotation policy", leader: true, args: []string{"--rotate", "often", "password=x"},
			wantErr: "ERROR rotate policy \"often\" not valid\n", wantCode: 2},
		{name: "a negative expiry", leader: true, args: []string{"--expire", "-1h", "password=x"},
			wantErr: "ERROR negative expire duration \"-1h\" not valid\n", wantCode: 2},
		{name: "content too large", leader: true, args: []string{"password=" + big},
			wantErr: "ERROR base64 encoded secret content for key \"password\" too large: 1000004 bytes\n", wantCode: 2},
		{name: "an empty file", leader: true, args: []string{"--file", contentFile(t, "{}")},
			wantErr: "ERROR empty secret value not valid\n", wantCode: 1},
		{name: "an application's secret by a minion", args: []string{"password=x"},
			wantErr: "ERROR this unit is not the leader\n", wantCode: 1},
		{name: "--file - is a file named -, not stdin", leader: true, args: []string{"--file", "-"},
			wantErr: "ERROR open -: no such file or directory\n", wantCode: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Chdir(t.TempDir())
			j := related()
			j.SetLeader(tt.leader)
			require.NoError(t, j.BeginHook())
			out, errOut, code := j.Run("secret-add", tt.args, []byte("password: on-stdin\n"))
			assert.Empty(t, string(out), "stdout")
			assert.Equal(t, tt.wantErr, string(errOut), "stderr")
			assert.Equal(t, tt.wantCode, code, "exit code")
			require.NoError(t, j.EndHook(0))
			assert.Empty(t, j.Secrets(), "nothing created")
		})
	}
}

// TestSecretContentForms: values from arguments, `key#base64`, and files
// in JSON or YAML all end up as the same bytes for secret-get.
func TestSecretContentForms(t *testing.T) {
	j := leaderInHook(t)
	enc := base64.StdEncoding.EncodeToString([]byte("b=in\x00ary"))
	for _, args := range [][]string{
		{"password=p=w", "username#base64=" + enc},
		{"--file", contentFile(t, `{"password":"p=w","username#base64":"`+enc+`"}`)},
		{"--file", contentFile(t, "password: p=w\nusername#base64: "+enc+"\n")},
	} {
		uri := strings.TrimSpace(run(t, j, "secret-add", args...))
		got := run(t, j, "secret-get", uri, "--format=json")
		assert.JSONEq(t, `{"password":"p=w","username":"b=in\u0000ary"}`, got, "%v", args)
		assert.Equal(t, `"`+enc+`"`+"\n", run(t, j, "secret-get", uri, "username#base64", "--format=json"))
	}
	// YAML, the default format, and the smart format refused.
	uri := add(t, j, map[string]string{"password": "yes"})
	assert.Equal(t, "password: \"yes\"\n", run(t, j, "secret-get", uri))
	_, errOut, code := j.Run("secret-get", []string{uri, "--format=smart"}, nil)
	assert.Equal(t, "ERROR invalid value \"smart\" for option --format: unknown format \"smart\"\n", string(errOut))
	assert.Equal(t, 2, code)
}

// TestSecretTransaction: secret-add and secret-remove are pending until
// the hook exits 0; the hook reads its own new secret and lists it; a
// failed hook creates and removes nothing.
func TestSecretTransaction(t *testing.T) {
	for _, exit := range []int{0, 1} {
		j := related()
		j.SetLeader(true)
		kept := j.AddSecret(hooktoolstest.OwnerApplication, "old", map[string]string{"password": "old-pw"})
		require.NoError(t, j.BeginHook())

		uri := add(t, j, map[string]string{"password": "new-pw"}, "--label", "new", "--description", "d")
		id := printedURI.FindStringSubmatch(uri + "\n")[1]
		assert.JSONEq(t, `{"password":"new-pw"}`, run(t, j, "secret-get", uri, "--format=json"), "pending, read by URI")
		assert.JSONEq(t, `{"password":"new-pw"}`, run(t, j, "secret-get", "--label", "new", "--format=json"), "pending, read by label")
		run(t, j, "secret-remove", kept)
		assert.JSONEq(t, `{"password":"old-pw"}`, run(t, j, "secret-get", kept, "--format=json"),
			"a pending removal still reads")
		assert.JSONEq(t, `["`+id+`"]`, run(t, j, "secret-ids", "--format=json"), "ids, not URIs; the removed one gone")
		assert.JSONEq(t, `{"`+id+`":{"revision":1,"label":"new","owner":"application","description":"d"}}`,
			run(t, j, "secret-info-get", "--label", "new", "--format=json"))
		assert.Len(t, j.Secrets(), 1, "nothing committed while the hook runs")

		require.NoError(t, j.EndHook(exit))
		got := j.Secrets()
		require.Len(t, got, 1)
		if exit != 0 {
			assert.Equal(t, kept, got[0].URI(), "exit %d", exit)
			continue
		}
		assert.Equal(t, "secret:"+id, got[0].URI())
		assert.Equal(t, "application-"+app, got[0].Owner)
		assert.Equal(t, "new", got[0].Label)
		values, err := got[0].Values()
		require.NoError(t, err)
		assert.Equal(t, map[string]string{"password": "new-pw"}, values)
	}
}

// TestSecretReadAcrossUnits: every unit of the application reads its
// secrets by URI or label, leader or not; only the owner reads a unit's;
// an unknown secret is Juju's "not found".
func TestSecretReadAcrossUnits(t *testing.T) {
	j := hooktoolstest.New(peer)
	appSecret := j.AddSecret(hooktoolstest.OwnerApplication, "vc-user", map[string]string{"password": "app-pw"})
	otherUnit := j.AddSecret(other, "", map[string]string{"password": "unit-pw"})
	for _, args := range [][]string{
		{appSecret},
		{"--label", "vc-user"},
		{strings.TrimPrefix(appSecret, "secret:")},
		{"secret://" + hooktoolstest.DefaultModelUUID + "/" + strings.TrimPrefix(appSecret, "secret:")},
	} {
		assert.JSONEq(t, `{"password":"app-pw"}`, run(t, j, "secret-get", append(args, "--format=json")...), "%v", args)
	}
	assert.Equal(t, "null\n", run(t, j, "secret-ids", "--format=json"), "a minion lists none of the application's")

	tests := []struct {
		args     []string
		wantErr  string
		wantCode int
	}{
		{[]string{otherUnit}, "ERROR permission denied\n", 1},
		{[]string{"secret:d0hq6ff9v2ur2lhfdpb0"}, "ERROR secret \"secret:d0hq6ff9v2ur2lhfdpb0\" not found\n", 1},
		{[]string{"--label", "nope"}, "ERROR consumer label \"nope\" not found\n", 1},
		{[]string{appSecret, "username"}, "ERROR secret key value \"username\" not found\n", 1},
		{[]string{"secret:d0hq6ff9v2ur2lhfdpb1"}, "ERROR secret URI \"secret:d0hq6ff9v2ur2lhfdpb1\" not valid\n", 2},
		{[]string{"http://x"}, "ERROR secret URI \"http://x\" not valid\n", 2},
		{nil, "ERROR require either a secret URI or label\n", 2},
		{[]string{appSecret, "--peek", "--refresh"}, "ERROR specify one of --peek or --refresh but not both\n", 2},
	}
	for _, tt := range tests {
		out, errOut, code := j.Run("secret-get", tt.args, nil)
		assert.Empty(t, out)
		assert.Equal(t, tt.wantErr, string(errOut), "%v", tt.args)
		assert.Equal(t, tt.wantCode, code, "%v", tt.args)
	}
}

// TestSecretCommitChecks: the controller checks again at the commit, where
// Juju's hook context could not: a label the owner already uses, the
// leadership the leader lost during the hook, a minion's removal of an
// application's secret. A refused commit fails the hook and commits none
// of its settings; a removal of a secret the controller does not know is
// no error.
func TestSecretCommitChecks(t *testing.T) {
	t.Run("a label already used", func(t *testing.T) {
		j := leaderInHook(t)
		j.AddSecret(hooktoolstest.OwnerApplication, "vc-user", map[string]string{"password": "a"})
		add(t, j, map[string]string{"password": "b"}, "--label", "vc-user")
		run(t, j, "relation-set", "-r", "clients:0", "k=v")
		err := j.EndHook(0)
		require.EqualError(t, err, `creating secrets: secret with label "vc-user" already exists`)
		assert.Len(t, j.Secrets(), 1)
		assert.NotContains(t, j.LocalData("clients:0"), "k")
	})
	t.Run("a label already used in the same hook", func(t *testing.T) {
		j := leaderInHook(t)
		add(t, j, map[string]string{"password": "a"}, "--label", "vc-user")
		_, errOut, code := j.Run("secret-add", []string{"--label", "vc-user", "password=b"}, nil)
		assert.Equal(t, "ERROR secret with label \"vc-user\" already exists\n", string(errOut))
		assert.Equal(t, 1, code)
	})
	t.Run("a unit's label taken by its application", func(t *testing.T) {
		j := leaderInHook(t)
		j.AddSecret(hooktoolstest.OwnerApplication, "mine", map[string]string{"password": "a"})
		add(t, j, map[string]string{"password": "b"}, "--label", "mine", "--owner", "unit")
		assert.EqualError(t, j.EndHook(0), `creating secrets: secret with label "mine" already exists`)
	})
	t.Run("another owner's label is free", func(t *testing.T) {
		j := leaderInHook(t)
		j.AddSecret("unit-kcp-0", "mine", map[string]string{"password": "a"})
		add(t, j, map[string]string{"password": "b"}, "--label", "mine")
		assert.NoError(t, j.EndHook(0))
		assert.Len(t, j.Secrets(), 2)
	})
	t.Run("leadership lost during the hook", func(t *testing.T) {
		j := leaderInHook(t)
		add(t, j, map[string]string{"password": "b"})
		j.SetLeader(false)
		assert.EqualError(t, j.EndHook(0), `creating secrets: "`+unit+`" is not leader of "`+app+`"`)
		assert.Empty(t, j.Secrets())
	})
	t.Run("a minion removes an application's secret", func(t *testing.T) {
		j := hooktoolstest.New(peer)
		uri := j.AddSecret(hooktoolstest.OwnerApplication, "", map[string]string{"password": "a"})
		require.NoError(t, j.BeginHook())
		run(t, j, "secret-remove", uri)
		assert.EqualError(t, j.EndHook(0), `removing secrets: "`+peer+`" is not leader of "`+app+`"`)
		assert.Len(t, j.Secrets(), 1)
	})
	t.Run("removing a secret nobody knows", func(t *testing.T) {
		j := leaderInHook(t)
		run(t, j, "secret-remove", "secret:d0hq6ff9v2ur2lhfdpb0")
		assert.NoError(t, j.EndHook(0))
	})
	t.Run("removing a secret created in the same hook", func(t *testing.T) {
		j := leaderInHook(t)
		uri := add(t, j, map[string]string{"password": "a"})
		run(t, j, "secret-remove", uri)
		assert.Equal(t, "null\n", run(t, j, "secret-ids", "--format=json"))
		assert.NoError(t, j.EndHook(0))
		assert.Empty(t, j.Secrets())
	})
	t.Run("a unit's own secret on a minion", func(t *testing.T) {
		j := hooktoolstest.New(peer)
		require.NoError(t, j.BeginHook())
		uri := add(t, j, map[string]string{"password": "a"}, "--owner=unit")
		require.NoError(t, j.EndHook(0))
		require.Len(t, j.Secrets(), 1)
		assert.Equal(t, "unit-vsphere-integrator-1", j.Secrets()[0].Owner)
		require.NoError(t, j.BeginHook())
		run(t, j, "secret-remove", uri)
		require.NoError(t, j.EndHook(0))
		assert.Empty(t, j.Secrets())
	})
}

// TestSecretsOutsideAHook: without BeginHook each call commits at once, as
// a hook of its own, so a refused commit is the call's failure.
func TestSecretsOutsideAHook(t *testing.T) {
	j := related()
	j.SetLeader(true)
	uri := add(t, j, map[string]string{"password": "a"}, "--label", "l")
	require.Len(t, j.Secrets(), 1)
	_, errOut, code := j.Run("secret-add", []string{"--label", "l", "password=b"}, nil)
	assert.Equal(t, "ERROR creating secrets: secret with label \"l\" already exists\n", string(errOut))
	assert.Equal(t, 1, code)
	run(t, j, "secret-remove", uri)
	assert.Empty(t, j.Secrets())
}

func TestSecretRemoveAndInfoTexts(t *testing.T) {
	j := related()
	tests := []struct {
		tool     string
		args     []string
		wantErr  string
		wantCode int
	}{
		{"secret-remove", nil, "ERROR missing secret URI\n", 2},
		{"secret-remove", []string{"nope"}, "ERROR secret URI \"nope\" not valid\n", 2},
		{"secret-remove", []string{"--revision", "x", "secret:d0hq6ff9v2ur2lhfdpb0"},
			"ERROR invalid value \"x\" for option --revision: strconv.ParseInt: parsing \"x\": invalid syntax\n", 2},
		{"secret-info-get", nil, "ERROR require either a secret URI or label\n", 2},
		{"secret-info-get", []string{"secret:d0hq6ff9v2ur2lhfdpb0", "--label", "l"}, "ERROR specify either a secret URI or label but not both\n", 2},
		{"secret-info-get", []string{"secret:d0hq6ff9v2ur2lhfdpb0"}, "ERROR secret \"d0hq6ff9v2ur2lhfdpb0\" not found\n", 1},
		{"secret-ids", []string{"x"}, "ERROR unrecognized args: [\"x\"]\n", 2},
	}
	for _, tt := range tests {
		_, errOut, code := j.Run(tt.tool, tt.args, nil)
		assert.Equal(t, tt.wantErr, string(errOut), "%s %v", tt.tool, tt.args)
		assert.Equal(t, tt.wantCode, code, "%s %v", tt.tool, tt.args)
	}
}
