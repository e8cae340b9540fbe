// Package deploy holds what Beckon ships to run: NATS server configs,
// service units and the example rules that `beckon serve` runs by default,
// embedded so that the binary works from any directory.
package deploy

import _ "embed"

// ExampleRules is rules/example.yaml: the rules of the demo shop.
//
//go:embed rules/example.yaml
var ExampleRules []byte

// ExampleRulesName names ExampleRules in error messages.
const ExampleRulesName = "deploy/rules/example.yaml (built in)"
