package gen

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/beckon-chat/beckon/rules"
)

// The benchmark rules are written for this generator's traffic: they must
// load, and name the widgets the generator uses by default.
func TestBenchRulesMatchTheDefaultWidgets(t *testing.T) {
	set, err := rules.Load("../../deploy/rules/bench.yaml")
	require.NoError(t, err)
	var cfg Config
	require.NoError(t, cfg.applyDefaults())
	for _, w := range cfg.Widgets {
		assert.NotNil(t, set.Widget(w), "widget %s", w)
	}
	assert.Len(t, set.Widgets(), len(cfg.Widgets))
}
