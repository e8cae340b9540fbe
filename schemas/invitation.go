package schemas

import "encoding/json"

// Trigger says what kind of evaluation instant fired an invitation.
type Trigger string

// The triggers of SPEC §5.
const (
	TriggerEvent Trigger = "event"
	TriggerTimer Trigger = "timer"
)

// Invitation is the command that asks a widget to invite its visitor to
// chat (SPEC §5).
type Invitation struct {
	InvitationID string  // deterministic from the input; the NATS de-duplication id
	WidgetID     string  // the widget it is for
	VisitorID    string  // the visitor it is for
	SessionID    string  // stable id of the visitor's session
	RuleID       string  // the rule that fired
	RuleName     string  // the rule's name, for operators
	Department   string  // routing token for the chat service
	Title        string  // shown by the widget
	Prompt       string  // shown by the widget
	ImageURL     string  // shown by the widget
	At           int64   // the evaluation instant, ms since the epoch
	Trigger      Trigger // event or timer
	PageURL      string  // the current page at At
}

// AppendInvitationJSON appends the invitation as one JSON object with every
// field of SPEC §5, in that order.
func AppendInvitationJSON(b []byte, inv *Invitation) []byte {
	b = append(b, `{"invitation_id":`...)
	b = appendString(b, inv.InvitationID)
	b = append(b, `,"widget_id":`...)
	b = appendString(b, inv.WidgetID)
	b = append(b, `,"visitor_id":`...)
	b = appendString(b, inv.VisitorID)
	b = append(b, `,"session_id":`...)
	b = appendString(b, inv.SessionID)
	b = append(b, `,"rule_id":`...)
	b = appendString(b, inv.RuleID)
	b = append(b, `,"rule_name":`...)
	b = appendString(b, inv.RuleName)
	b = append(b, `,"department":`...)
	b = appendString(b, inv.Department)
	b = append(b, `,"title":`...)
	b = appendString(b, inv.Title)
	b = append(b, `,"prompt":`...)
	b = appendString(b, inv.Prompt)
	b = append(b, `,"image_url":`...)
	b = appendString(b, inv.ImageURL)
	b = append(b, `,"at":"`...)
	b = AppendTime(b, inv.At)
	b = append(b, `","trigger":`...)
	b = appendString(b, string(inv.Trigger))
	b = append(b, `,"page_url":`...)
	b = appendString(b, inv.PageURL)
	return append(b, '}')
}

// MarshalJSON encodes the invitation as AppendInvitationJSON does.
func (inv Invitation) MarshalJSON() ([]byte, error) {
	return AppendInvitationJSON(nil, &inv), nil
}

// invitationJSON is the JSON shape of an invitation, for decoding.
type invitationJSON struct {
	InvitationID string `json:"invitation_id"`
	WidgetID     string `json:"widget_id"`
	VisitorID    string `json:"visitor_id"`
	SessionID    string `json:"session_id"`
	RuleID       string `json:"rule_id"`
	RuleName     string `json:"rule_name"`
	Department   string `json:"department"`
	Title        string `json:"title"`
	Prompt       string `json:"prompt"`
	ImageURL     string `json:"image_url"`
	At           string `json:"at"`
	Trigger      string `json:"trigger"`
	PageURL      string `json:"page_url"`
}

// UnmarshalJSON decodes an invitation written by MarshalJSON. Invitations are
// few, so encoding/json is fast enough here.
func (inv *Invitation) UnmarshalJSON(data []byte) error {
	var j invitationJSON
	if err := json.Unmarshal(data, &j); err != nil {
		return &FieldError{Reason: err.Error(), Err: ErrSyntax}
	}
	at, ok := ParseTime([]byte(j.At))
	if !ok {
		return invalid("at", "must be an RFC 3339 time such as 2026-11-23T10:00:00.000Z")
	}
	*inv = Invitation{
		InvitationID: j.InvitationID, WidgetID: j.WidgetID, VisitorID: j.VisitorID,
		SessionID: j.SessionID, RuleID: j.RuleID, RuleName: j.RuleName,
		Department: j.Department, Title: j.Title, Prompt: j.Prompt, ImageURL: j.ImageURL,
		At: at, Trigger: Trigger(j.Trigger), PageURL: j.PageURL,
	}
	return nil
}
