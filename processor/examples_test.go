package processor_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/beckon-chat/beckon/internal/testenv"
	"github.com/beckon-chat/beckon/processor"
	"github.com/beckon-chat/beckon/rules"
)

// specFields are the invitation fields that SPEC §5 fixes; ids are the
// implementation's own and are checked for uniqueness and stability.
var specFields = []string{"widget_id", "visitor_id", "rule_id", "department", "title", "prompt", "image_url", "rule_name", "at", "trigger", "page_url"}

func TestSharedExamples(t *testing.T) {
	for _, dir := range testenv.Examples(t) {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			set, err := rules.Load(filepath.Join(dir, "rules.yaml"))
			require.NoError(t, err)
			got := evalFile(t, set, filepath.Join(dir, "events.ndjson"))
			again := evalFile(t, set, filepath.Join(dir, "events.ndjson"))
			assert.Equal(t, got, again, "the same input gives the same output, ids included")

			want := readNDJSON(t, filepath.Join(dir, "expected.ndjson"))
			assert.ElementsMatch(t, project(want), project(got))
			ids := map[string]bool{}
			for _, inv := range got {
				id, _ := inv["invitation_id"].(string)
				require.NotEmpty(t, id)
				assert.False(t, ids[id], "invitation id %s is unique", id)
				ids[id] = true
				assert.NotEmpty(t, inv["session_id"])
			}
		})
	}
}

func evalFile(t *testing.T, set *rules.Set, path string) []map[string]any {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	var out bytes.Buffer
	_, err = processor.Eval(set, f, path, &out)
	require.NoError(t, err)
	return parseNDJSON(t, out.Bytes())
}

func readNDJSON(t *testing.T, path string) []map[string]any {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	return parseNDJSON(t, data)
}

func parseNDJSON(t *testing.T, data []byte) []map[string]any {
	t.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var m map[string]any
		require.NoError(t, json.Unmarshal(sc.Bytes(), &m), "line %q", sc.Text())
		out = append(out, m)
	}
	return out
}

func project(invs []map[string]any) []map[string]any {
	out := make([]map[string]any, len(invs))
	for i, inv := range invs {
		m := map[string]any{}
		for _, k := range specFields {
			m[k] = inv[k]
		}
		out[i] = m
	}
	return out
}
