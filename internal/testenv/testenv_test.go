package testenv_test

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestExampleCopyMatchesShared: the copy of the shared examples in testdata
// (used when ../shared is not beside the checkout) is kept identical to the
// shared folder, so that a change there is not silently tested against old
// cases.
func TestExampleCopyMatchesShared(t *testing.T) {
	_, file, _, _ := runtime.Caller(0)
	here := filepath.Dir(file)
	shared := filepath.Join(here, "..", "..", "..", "shared", "examples")
	if _, err := os.Stat(shared); err != nil {
		t.Skip("no ../shared beside the checkout")
	}
	copyDir := filepath.Join(here, "testdata", "examples")
	count := 0
	err := filepath.WalkDir(shared, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(shared, path)
		want, err := os.ReadFile(path)
		require.NoError(t, err)
		got, err := os.ReadFile(filepath.Join(copyDir, rel))
		require.NoError(t, err, "%s is missing from testdata: copy ../shared/examples again", rel)
		assert.Equal(t, string(want), string(got), "%s differs from ../shared: copy ../shared/examples again", rel)
		count++
		return nil
	})
	require.NoError(t, err)
	require.NotZero(t, count)
}
