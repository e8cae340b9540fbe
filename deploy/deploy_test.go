package deploy_test

import (
	"path/filepath"
	"testing"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/beckon-chat/beckon/deploy"
	"github.com/beckon-chat/beckon/rules"
)

func TestNATSConfigsParse(t *testing.T) {
	files, err := filepath.Glob("nats/*.conf")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, f := range files {
		opts, err := server.ProcessConfigFile(f)
		require.NoError(t, err, f)
		assert.True(t, opts.JetStream, "%s enables JetStream", f)
	}
}

func TestShippedRulesAreValid(t *testing.T) {
	_, err := rules.Parse(deploy.ExampleRules, deploy.ExampleRulesName)
	require.NoError(t, err)
	files, err := filepath.Glob("rules/*.yaml")
	require.NoError(t, err)
	for _, f := range files {
		_, err := rules.Load(f)
		assert.NoError(t, err, f)
	}
}
