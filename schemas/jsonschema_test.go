package schemas_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/beckon-chat/beckon/schemas"
)

// compile compiles one of the embedded schemas, asserting formats
// (date-time) as a strict validator would.
func compile(t *testing.T, name string, doc []byte) *jsonschema.Schema {
	t.Helper()
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	require.NoError(t, err)
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	require.NoError(t, c.AddResource(name, v))
	s, err := c.Compile(name)
	require.NoError(t, err)
	return s
}

func validate(t *testing.T, s *jsonschema.Schema, doc string) error {
	t.Helper()
	v, err := jsonschema.UnmarshalJSON(strings.NewReader(doc))
	require.NoError(t, err, doc)
	return s.Validate(v)
}

func TestBeaconSchemaAcceptsEncodedEvents(t *testing.T) {
	s := compile(t, "beacon.schema.json", schemas.BeaconSchema)
	const ms = 1795428000123
	events := []schemas.Event{
		{Type: schemas.PageView, WidgetID: "acme", VisitorID: "v1", URL: "https://acme.example/pricing", Referrer: "https://www.google.com/", Title: "Pricing"},
		{ID: "e-1", Type: schemas.Heartbeat, WidgetID: "acme", VisitorID: "v1", TS: ms, URL: "https://acme.example/pricing"},
		{ID: "e_2", Type: schemas.Custom, WidgetID: "acme", VisitorID: "v1", TS: ms, Name: "payment_cancelled", ClientTS: ms - 40, SentTS: ms - 20},
		{Type: schemas.Leave, WidgetID: "acme", VisitorID: "v1"},
	}
	batch := []byte{'['}
	for i := range events {
		one := schemas.AppendEventJSON(nil, &events[i])
		assert.NoError(t, validate(t, s, string(one)), "%s", one)
		if i > 0 {
			batch = append(batch, ',')
		}
		batch = append(batch, one...)
	}
	batch = append(batch, ']')
	assert.NoError(t, validate(t, s, string(batch)))
}

func TestBeaconSchemaRejects(t *testing.T) {
	s := compile(t, "beacon.schema.json", schemas.BeaconSchema)
	tests := map[string]string{
		"no type":             `{"widget_id":"acme","visitor_id":"v1"}`,
		"unknown type":        `{"type":"click","widget_id":"acme","visitor_id":"v1"}`,
		"tick from a browser": `{"type":"tick","ts":"2026-11-23T10:00:00.000Z"}`,
		"no visitor":          `{"type":"leave","widget_id":"acme"}`,
		"dot in widget id":    `{"type":"leave","widget_id":"ac.me","visitor_id":"v1"}`,
		"wildcard visitor":    `{"type":"leave","widget_id":"acme","visitor_id":">"}`,
		"too long id":         `{"type":"leave","widget_id":"acme","visitor_id":"` + strings.Repeat("a", 129) + `"}`,
		"page view no url":    `{"type":"page_view","widget_id":"acme","visitor_id":"v1"}`,
		"event no name":       `{"type":"event","widget_id":"acme","visitor_id":"v1"}`,
		"event empty name":    `{"type":"event","widget_id":"acme","visitor_id":"v1","name":""}`,
		"bad time":            `{"type":"leave","widget_id":"acme","visitor_id":"v1","ts":"yesterday"}`,
		"typo field":          `{"type":"leave","widget_id":"acme","visitorId":"v1"}`,
		"empty batch":         `[]`,
		"bad event in batch":  `[{"type":"leave","widget_id":"acme","visitor_id":"v1"},{"type":"leave"}]`,
		"not an object":       `"page_view"`,
	}
	for name, doc := range tests {
		t.Run(name, func(t *testing.T) {
			assert.Error(t, validate(t, s, doc))
		})
	}
}

func TestInvitationSchemaAcceptsEncodedInvitations(t *testing.T) {
	s := compile(t, "invitation.schema.json", schemas.InvitationSchema)
	full := schemas.Invitation{
		InvitationID: "i-1", WidgetID: "acme", VisitorID: "v1", SessionID: "s1",
		RuleID: "pricing-help", RuleName: "Invitation to buy", Department: "sales",
		Title: "Let us help you", Prompt: "Do you need \"help\"?\n", ImageURL: "https://acme.example/agent.png",
		At: 1795428020000, Trigger: schemas.TriggerTimer, PageURL: "https://acme.example/pricing",
	}
	minimal := schemas.Invitation{InvitationID: "i-2", WidgetID: "acme", VisitorID: "v1", RuleID: "r",
		Department: "billing", Prompt: "Trouble paying?", At: 1795428020000, Trigger: schemas.TriggerEvent}
	for _, inv := range []schemas.Invitation{full, minimal} {
		doc := schemas.AppendInvitationJSON(nil, &inv)
		assert.NoError(t, validate(t, s, string(doc)), "%s", doc)
	}
}

func TestInvitationSchemaRejects(t *testing.T) {
	s := compile(t, "invitation.schema.json", schemas.InvitationSchema)
	good := schemas.Invitation{InvitationID: "i-1", WidgetID: "acme", VisitorID: "v1", RuleID: "r",
		Department: "sales", Prompt: "Hi", At: 1795428020000, Trigger: schemas.TriggerEvent}
	tests := map[string]func(*schemas.Invitation){
		"no department":   func(i *schemas.Invitation) { i.Department = "" },
		"no prompt":       func(i *schemas.Invitation) { i.Prompt = "" },
		"bad visitor":     func(i *schemas.Invitation) { i.VisitorID = "a b" },
		"unknown trigger": func(i *schemas.Invitation) { i.Trigger = "cron" },
		"no id":           func(i *schemas.Invitation) { i.InvitationID = "" },
	}
	for name, mutate := range tests {
		t.Run(name, func(t *testing.T) {
			inv := good
			mutate(&inv)
			assert.Error(t, validate(t, s, string(schemas.AppendInvitationJSON(nil, &inv))))
		})
	}
	t.Run("missing field", func(t *testing.T) {
		assert.Error(t, validate(t, s, `{"invitation_id":"i","widget_id":"a","visitor_id":"v"}`))
	})
	t.Run("bad time", func(t *testing.T) {
		doc := strings.Replace(string(schemas.AppendInvitationJSON(nil, &good)), "2026-", "26-", 1)
		assert.Error(t, validate(t, s, doc))
	})
}
