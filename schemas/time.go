package schemas

import "time"

// TimeLayout is how times are written in NDJSON: RFC 3339, UTC,
// milliseconds (SPEC §1).
const TimeLayout = "2006-01-02T15:04:05.000Z07:00"

// FormatTime writes unix milliseconds as RFC 3339 UTC with milliseconds.
func FormatTime(ms int64) string {
	return string(AppendTime(nil, ms))
}

// AppendTime appends FormatTime(ms) to b without allocating when b has room.
func AppendTime(b []byte, ms int64) []byte {
	return time.UnixMilli(ms).UTC().AppendFormat(b, TimeLayout)
}

// ParseTime reads an RFC 3339 time into unix milliseconds, truncating any
// precision finer than a millisecond. The common form
// "2026-11-23T10:00:00.000Z" is read without time.Parse, which is most of the
// cost of decoding an event.
func ParseTime(s []byte) (int64, bool) {
	if ms, ok := parseFixedMillis(s); ok {
		return ms, true
	}
	t, err := time.Parse(time.RFC3339Nano, string(s))
	if err != nil {
		return 0, false
	}
	// An offset can carry a time out of the four-digit years that
	// FormatTime writes in UTC ("0000-01-01T00:00:00+01:00"); such a time
	// could not be written back and read again, so it is not accepted.
	if ms := t.UnixMilli(); ms >= minMillis && ms <= maxMillis {
		return ms, true
	}
	return 0, false
}

// The first and last milliseconds of the years 0000–9999, UTC.
const (
	minMillis = -62167219200000 // 0000-01-01T00:00:00.000Z
	maxMillis = 253402300799999 // 9999-12-31T23:59:59.999Z
)

// parseFixedMillis reads exactly YYYY-MM-DDTHH:MM:SS.mmmZ.
func parseFixedMillis(s []byte) (int64, bool) {
	if len(s) != 24 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' ||
		s[16] != ':' || s[19] != '.' || s[23] != 'Z' {
		return 0, false
	}
	year, ok1 := digits(s[0:4])
	month, ok2 := digits(s[5:7])
	day, ok3 := digits(s[8:10])
	hour, ok4 := digits(s[11:13])
	minute, ok5 := digits(s[14:16])
	sec, ok6 := digits(s[17:19])
	milli, ok7 := digits(s[20:23])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6 && ok7) {
		return 0, false
	}
	if month < 1 || month > 12 || day < 1 || day > daysIn(year, month) || hour > 23 || minute > 59 || sec > 59 {
		return 0, false
	}
	days := daysFromCivil(year, month, day)
	return ((days*24+hour)*60+minute)*60000 + sec*1000 + milli, true
}

func digits(b []byte) (int64, bool) {
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

func daysIn(year, month int64) int64 {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// daysFromCivil is Howard Hinnant's days_from_civil: days since 1970-01-01.
func daysFromCivil(y, m, d int64) int64 {
	if m <= 2 {
		y--
	}
	era := y / 400
	if y < 0 && y%400 != 0 {
		era--
	}
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}
