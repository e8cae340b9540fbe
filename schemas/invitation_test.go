package schemas

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestInvitationJSONRoundTrips(t *testing.T) {
	for _, inv := range []Invitation{sampleInvitation(), {Trigger: TriggerEvent, At: 1}} {
		b := AppendInvitationJSON(nil, &inv)
		require.True(t, json.Valid(b), "%s", b)
		var got Invitation
		require.NoError(t, json.Unmarshal(b, &got))
		assert.Equal(t, inv, got)

		m, err := json.Marshal(inv)
		require.NoError(t, err)
		assert.JSONEq(t, string(b), string(m))
	}
}

func TestAppendInvitationJSONWritesEveryFieldInSpecOrder(t *testing.T) {
	inv := Invitation{At: 1795428000000, Trigger: TriggerEvent}
	assert.Equal(t,
		`{"invitation_id":"","widget_id":"","visitor_id":"","session_id":"","rule_id":"","rule_name":"",`+
			`"department":"","title":"","prompt":"","image_url":"","at":"2026-11-23T10:00:00.000Z",`+
			`"trigger":"event","page_url":""}`,
		string(AppendInvitationJSON(nil, &inv)))
}

func TestInvitationUnmarshalJSONErrors(t *testing.T) {
	var inv Invitation
	err := inv.UnmarshalJSON([]byte(`{"at":"soon"}`))
	var fe *FieldError
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, "at", fe.Field)
	assert.ErrorIs(t, err, ErrInvalid)

	assert.ErrorIs(t, inv.UnmarshalJSON([]byte(`{"at":`)), ErrSyntax)
	assert.ErrorIs(t, inv.UnmarshalJSON([]byte(`{"rule_id":5,"at":"2026-11-23T10:00:00.000Z"}`)), ErrSyntax)
}
