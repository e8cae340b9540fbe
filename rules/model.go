// Package rules owns Beckon's rules files: the model of SPEC §3, loading it
// from YAML or JSON, validating every clause with errors that name the
// widget, rule and condition, and compiling each rule into a fast evaluator
// with its timer onsets.
package rules

import (
	"fmt"
	"time"

	"go.yaml.in/yaml/v3"
)

// File is a rules file as written (SPEC §3).
type File struct {
	Widgets []WidgetSpec `yaml:"widgets" json:"widgets"`
}

// WidgetSpec is one widget (site) and its rules, in priority order.
type WidgetSpec struct {
	ID              string     `yaml:"id" json:"id"`
	SessionTimeout  *Duration  `yaml:"session_timeout" json:"session_timeout,omitempty"`
	PresenceTimeout *Duration  `yaml:"presence_timeout" json:"presence_timeout,omitempty"`
	Cooldown        *Duration  `yaml:"cooldown" json:"cooldown,omitempty"`
	AllowedOrigins  []string   `yaml:"allowed_origins" json:"allowed_origins,omitempty"`
	Rules           []RuleSpec `yaml:"rules" json:"rules"`
}

// RuleSpec is one rule as written.
type RuleSpec struct {
	ID         string          `yaml:"id" json:"id"`
	Name       string          `yaml:"name" json:"name,omitempty"`
	Enabled    *bool           `yaml:"enabled" json:"enabled,omitempty"`
	Match      string          `yaml:"match" json:"match,omitempty"`
	Frequency  string          `yaml:"frequency" json:"frequency,omitempty"`
	Invitation InvitationSpec  `yaml:"invitation" json:"invitation"`
	Conditions []ConditionSpec `yaml:"conditions" json:"conditions"`
}

// InvitationSpec is what the widget shows when the rule fires.
type InvitationSpec struct {
	Title      string `yaml:"title" json:"title,omitempty"`
	ImageURL   string `yaml:"image_url" json:"image_url,omitempty"`
	Department string `yaml:"department" json:"department"`
	Prompt     string `yaml:"prompt" json:"prompt"`
}

// ConditionSpec is one condition as written. Value is kept as the scalar's
// text: a string for string variables, a decimal for number variables.
type ConditionSpec struct {
	Variable string `yaml:"variable" json:"variable"`
	Operator string `yaml:"operator" json:"operator"`
	Value    Scalar `yaml:"value" json:"value"`
}

// Scalar is a YAML or JSON scalar kept as its text.
type Scalar struct {
	Text string
	Set  bool // false when the value is absent or null
}

// UnmarshalYAML keeps the scalar's text; a list or map is an error.
func (s *Scalar) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: value must be a string or a number", n.Line)
	}
	if n.Tag == "!!null" {
		*s = Scalar{}
		return nil
	}
	*s = Scalar{Text: n.Value, Set: true}
	return nil
}

// Duration is a Go duration string such as 30s or 5m.
type Duration struct{ time.Duration }

// UnmarshalYAML reads a Go duration string.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := time.ParseDuration(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %q is not a duration such as 30s or 5m", n.Line, n.Value)
	}
	d.Duration = v
	return nil
}

// Defaults of SPEC §3.
const (
	DefaultSessionTimeout  = 30 * time.Minute
	DefaultPresenceTimeout = 30 * time.Second
	// MaxRulesPerWidget bounds a widget's rules so that a visitor's fired
	// rules fit one machine word.
	MaxRulesPerWidget = 64
	// MaxConditions is the most conditions a rule may have (SPEC §3).
	MaxConditions = 20
)
