package schemas

import _ "embed"

// BeaconSchema is the JSON Schema (draft 2020-12) of a beacon request body:
// one event or a batch (SPEC §1), for tracker authors in other languages.
//
//go:embed beacon.schema.json
var BeaconSchema []byte

// InvitationSchema is the JSON Schema (draft 2020-12) of an invitation as
// JSON (SPEC §5), for gateway and widget authors.
//
//go:embed invitation.schema.json
var InvitationSchema []byte
