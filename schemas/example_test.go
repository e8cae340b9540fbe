package schemas_test

import (
	"errors"
	"fmt"

	"github.com/beckon-chat/beckon/schemas"
)

func ExampleDecoder_DecodeEvent() {
	lines := []string{
		`{"type":"page_view","widget_id":"shop","visitor_id":"v1","ts":"2026-11-23T10:00:00.000Z","url":"https://shop.example/pricing","title":"Pricing"}`,
		`{"type":"page_view","widget_id":"shop","visitor_id":"v1","ts":5}`,
		`{"type":"page_view","widget_id":"shop.example","visitor_id":"v1","ts":"2026-11-23T10:00:01.000Z","url":"/"}`,
	}
	var d schemas.Decoder // reuse one per goroutine
	var ev schemas.Event
	for _, line := range lines {
		if err := d.DecodeEvent([]byte(line), &ev); err != nil {
			fmt.Println("decode:", err)
			continue
		}
		if err := ev.Validate(true); err != nil {
			var fe *schemas.FieldError
			if errors.As(err, &fe) && errors.Is(err, schemas.ErrInvalid) {
				fmt.Printf("invalid %s: %v\n", fe.Field, err)
			}
			continue
		}
		fmt.Println(ev.Type, ev.VisitorID, schemas.FormatTime(ev.TS), ev.URL, ev.Title)
	}
	// Output:
	// page_view v1 2026-11-23T10:00:00.000Z https://shop.example/pricing Pricing
	// decode: field "ts": must be a string
	// invalid widget_id: field "widget_id": must be 1-128 characters of A-Z a-z 0-9 _ -
}

func ExampleAppendInvitationJSON() {
	inv := schemas.Invitation{
		InvitationID: "9f1c", WidgetID: "shop", VisitorID: "v1", SessionID: "v1-1",
		RuleID: "pricing-help", RuleName: "Invitation to buy", Department: "sales",
		Prompt: "Do you need assistance with any of our products?",
		At:     1795428020001, Trigger: schemas.TriggerTimer,
		PageURL: "https://shop.example/pricing",
	}
	line := schemas.AppendInvitationJSON(nil, &inv)
	fmt.Println(string(line))
	// Output:
	// {"invitation_id":"9f1c","widget_id":"shop","visitor_id":"v1","session_id":"v1-1","rule_id":"pricing-help","rule_name":"Invitation to buy","department":"sales","title":"","prompt":"Do you need assistance with any of our products?","image_url":"","at":"2026-11-23T10:00:20.001Z","trigger":"timer","page_url":"https://shop.example/pricing"}
}
