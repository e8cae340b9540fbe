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
// Times of the years 0000–9999 are written by hand, the others by the time
// package.
func AppendTime(b []byte, ms int64) []byte {
	if ms < minMillis || ms > maxMillis {
		return time.UnixMilli(ms).UTC().AppendFormat(b, TimeLayout)
	}
	days, msOfDay := ms/86_400_000, ms%86_400_000
	if msOfDay < 0 {
		days, msOfDay = days-1, msOfDay+86_400_000
	}
	y, m, d := civilFromDays(days)
	b = append4(b, y)
	b = append(b, '-')
	b = append2(b, m)
	b = append(b, '-')
	b = append2(b, d)
	b = append(b, 'T')
	b = append2(b, msOfDay/3_600_000)
	b = append(b, ':')
	b = append2(b, msOfDay/60_000%60)
	b = append(b, ':')
	b = append2(b, msOfDay/1000%60)
	b = append(b, '.', byte('0'+msOfDay/100%10), byte('0'+msOfDay/10%10), byte('0'+msOfDay%10), 'Z')
	return b
}

func append2(b []byte, n int64) []byte { return append(b, byte('0'+n/10), byte('0'+n%10)) }

func append4(b []byte, n int64) []byte {
	return append(b, byte('0'+n/1000), byte('0'+n/100%10), byte('0'+n/10%10), byte('0'+n%10))
}

// civilFromDays is the inverse of daysFromCivil (H. Hinnant's algorithm).
func civilFromDays(z int64) (y, m, d int64) {
	z += 719468
	era := z / 146097
	if z < 0 && z%146097 != 0 {
		era--
	}
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d = doy - (153*mp+2)/5 + 1
	m = mp + 3
	if m > 12 {
		m -= 12
	}
	y = yoe + era*400
	if m <= 2 {
		y++
	}
	return y, m, d
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
