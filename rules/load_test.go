package rules_test

import (
	"errors"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/beckon-chat/beckon/internal/testenv"
	"github.com/beckon-chat/beckon/rules"
)

func TestSharedExampleRulesLoad(t *testing.T) {
	for _, dir := range testenv.Examples(t) {
		_, err := rules.Load(filepath.Join(dir, "rules.yaml"))
		assert.NoError(t, err, dir)
	}
}

func TestDefaults(t *testing.T) {
	set, err := rules.Parse([]byte(`widgets:
- id: acme
  rules:
  - id: r
    invitation: {department: sales, prompt: Hi}
    conditions: [{variable: time_on_page, operator: gt, value: 20}]
`), "x.yaml")
	require.NoError(t, err)
	w := set.Widget("acme")
	require.NotNil(t, w)
	assert.Equal(t, int64(30*60*1000), w.SessionTimeout)
	assert.Equal(t, int64(30*1000), w.PresenceTimeout)
	assert.Equal(t, int64(0), w.Cooldown)
	r := w.Rules[0]
	assert.True(t, r.Enabled)
	assert.False(t, r.MatchAny)
	assert.False(t, r.OncePerPage)
	assert.Equal(t, []rules.Onset{{Base: rules.TimeOnPage, Offset: 20001}}, r.Onsets)
}

func TestJSONRulesFile(t *testing.T) {
	set, err := rules.Parse([]byte(`{"widgets":[{"id":"acme","cooldown":"10s","rules":[{"id":"r","match":"any",
	"invitation":{"department":"sales","prompt":"Hi"},
	"conditions":[{"variable":"time_on_site","operator":"gte","value":2.5},{"variable":"current_url","operator":"contains","value":"/pricing"}]}]}]}`), "x.json")
	require.NoError(t, err)
	w := set.Widget("acme")
	assert.Equal(t, int64(10000), w.Cooldown)
	assert.True(t, w.Rules[0].MatchAny)
	assert.Equal(t, []rules.Onset{{Base: rules.TimeOnSite, Offset: 2500}}, w.Rules[0].Onsets)
}

func TestProblemsNameWidgetRuleConditionAndLine(t *testing.T) {
	const head = "widgets:\n- id: acme\n  rules:\n  - id: r1\n    invitation: {department: sales, prompt: Hi}\n    conditions:\n"
	for _, tc := range []struct {
		name, body, want string
	}{
		{"unknown variable", "    - {variable: colour, operator: equals, value: x}\n",
			`x.yaml:7: widget "acme" rule "r1" condition 1: unknown variable "colour"`},
		{"unknown operator", "    - {variable: current_url, operator: like, value: x}\n",
			`x.yaml:7: widget "acme" rule "r1" condition 1: unknown operator "like"`},
		{"number op on string", "    - {variable: current_url, operator: gt, value: 3}\n",
			`x.yaml:7: widget "acme" rule "r1" condition 1: operator "gt" does not apply to string variable "current_url"`},
		{"string op on number", "    - {variable: pages_viewed, operator: contains, value: 3}\n",
			`x.yaml:7: widget "acme" rule "r1" condition 1: operator "contains" does not apply to number variable "pages_viewed"`},
		{"bad regex", "    - {variable: current_url, operator: equals, value: x}\n    - {variable: page_title, operator: matches, value: '[a'}\n",
			`x.yaml:8: widget "acme" rule "r1" condition 2: regular expression "[a" does not compile`},
		{"sub-millisecond", "    - {variable: time_on_page, operator: gt, value: 0.0001}\n",
			`condition 1: value "0.0001": must be a number with at most 3 decimals`},
		{"not a number", "    - {variable: time_on_page, operator: gt, value: soon}\n",
			`condition 1: value "soon"`},
		{"missing value", "    - {variable: time_on_page, operator: gt}\n",
			`condition 1: value is required`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := rules.Parse([]byte(head+tc.body), "x.yaml")
			require.Error(t, err)
			assert.True(t, errors.Is(err, rules.ErrInvalid))
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestRuleProblems(t *testing.T) {
	for _, tc := range []struct {
		name, file, want string
	}{
		{"missing department", "widgets:\n- id: a\n  rules:\n  - id: r\n    invitation: {prompt: Hi}\n    conditions: [{variable: pages_viewed, operator: gt, value: 1}]\n",
			`widget "a" rule "r": invitation.department is required`},
		{"missing prompt", "widgets:\n- id: a\n  rules:\n  - id: r\n    invitation: {department: s}\n    conditions: [{variable: pages_viewed, operator: gt, value: 1}]\n",
			`widget "a" rule "r": invitation.prompt is required`},
		{"duplicate rule", "widgets:\n- id: a\n  rules:\n  - id: r\n    invitation: {department: s, prompt: p}\n    conditions: [{variable: pages_viewed, operator: gt, value: 1}]\n  - id: r\n    invitation: {department: s, prompt: p}\n    conditions: [{variable: pages_viewed, operator: gt, value: 1}]\n",
			`x.yaml:7: widget "a" rule "r": duplicate rule id`},
		{"no conditions", "widgets:\n- id: a\n  rules:\n  - id: r\n    invitation: {department: s, prompt: p}\n    conditions: []\n",
			`rule "r": must have 1 to 20 conditions, has 0`},
		{"bad match", "widgets:\n- id: a\n  rules:\n  - id: r\n    match: some\n    invitation: {department: s, prompt: p}\n    conditions: [{variable: pages_viewed, operator: gt, value: 1}]\n",
			`x.yaml:5: widget "a" rule "r": match must be all or any`},
		{"bad frequency", "widgets:\n- id: a\n  rules:\n  - id: r\n    frequency: always\n    invitation: {department: s, prompt: p}\n    conditions: [{variable: pages_viewed, operator: gt, value: 1}]\n",
			`frequency must be once_per_session or once_per_page`},
		{"presence over session", "widgets:\n- id: a\n  session_timeout: 1m\n  presence_timeout: 2m\n  rules: []\n",
			`x.yaml:4: widget "a": presence_timeout (120000ms) must not exceed session_timeout (60000ms)`},
		{"bad duration", "widgets:\n- id: a\n  cooldown: soon\n  rules: []\n",
			`x.yaml:3: "soon" is not a duration`},
		{"bad widget id", "widgets:\n- id: a.b\n  rules: []\n",
			`widget "a.b": widget 1: id must be 1-128 characters`},
		{"misspelt key", "widgets:\n- id: a\n  rules:\n  - id: r\n    conditons: []\n",
			`x.yaml:5: field conditons not found`},
		{"no widgets", "{}\n", `the file defines no widgets`},
		{"not yaml", "widgets: [\n", `x.yaml`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := rules.Parse([]byte(tc.file), "x.yaml")
			require.Error(t, err)
			assert.ErrorIs(t, err, rules.ErrInvalid)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestEveryProblemIsReported(t *testing.T) {
	_, err := rules.Parse([]byte("widgets:\n- id: a\n  rules:\n  - id: r\n    invitation: {}\n    conditions:\n    - {variable: x, operator: eq, value: 1}\n    - {variable: y, operator: eq, value: 1}\n"), "x.yaml")
	var rerr *rules.Error
	require.ErrorAs(t, err, &rerr)
	assert.Len(t, rerr.Problems, 4) // department, prompt, two variables
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(`widgets: [{id: a, rules: [{id: r, invitation: {department: s, prompt: p}, conditions: [{variable: time_on_page, operator: gt, value: 20}]}]}]`))
	f.Add([]byte(`{"widgets":[{"id":"a","cooldown":"1s","rules":[{"id":"r","match":"any","invitation":{"department":"s","prompt":"p"},"conditions":[{"variable":"current_url","operator":"matches","value":"(?i)x"}]}]}]}`))
	f.Add([]byte("widgets:\n- id: a\n  presence_timeout: 1h\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		set, err := rules.Parse(data, "fuzz.yaml")
		if err != nil {
			assert.ErrorIs(t, err, rules.ErrInvalid)
			return
		}
		for _, w := range set.Widgets() {
			assert.LessOrEqual(t, w.PresenceTimeout, w.SessionTimeout)
			for _, r := range w.Rules {
				assert.NotEmpty(t, r.Invitation.Department)
			}
		}
	})
}

// Earliest agrees with True, time condition by time condition, and only
// ever jumps to the condition's onset.
func TestEarliestAgreesWithTrue(t *testing.T) {
	for _, op := range []string{"eq", "neq", "gt", "gte", "lt", "lte"} {
		for _, variable := range []string{"time_on_site", "time_on_page"} {
			set, err := rules.Parse([]byte(`widgets: [{id: w, rules: [{id: r, invitation: {department: d, prompt: p}, conditions: [{variable: `+variable+`, operator: `+op+`, value: 2}]}]}]`), "t.yaml")
			require.NoError(t, err)
			r := set.Widget("w").Rules[0]
			c := &r.Conditions[0]
			require.True(t, c.Timed())
			at := func(n int64) *rules.Vars { return &rules.Vars{TimeOnSite: n, TimeOnPage: n} }
			for n := int64(0); n < 4000; n++ {
				got, ok := c.Earliest(n)
				want, wantOK := int64(-1), false
				for m := n; m < 5000; m++ {
					if c.True(at(m)) {
						want, wantOK = m, true
						break
					}
				}
				require.Equal(t, wantOK, ok, "%s %s at %d", variable, op, n)
				if !ok {
					continue
				}
				require.Equal(t, want, got, "%s %s at %d", variable, op, n)
				if got > n {
					require.Equal(t, []rules.Onset{{Base: c.Variable, Offset: got}}, r.Onsets, "%s %s at %d", variable, op, n)
				}
			}
		}
	}
}
