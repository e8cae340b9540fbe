package ingest

import (
	"math"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// limiters holds a token bucket per client IP, counted in events. Buckets
// live in two generations that rotate every window: a bucket unused for a
// whole window is full again, so forgetting it loses nothing, and the
// memory stays bounded by the IPs seen in two windows.
type limiters struct {
	limit   rate.Limit
	burst   int
	window  time.Duration
	mu      sync.Mutex
	cur     map[string]*rate.Limiter
	prev    map[string]*rate.Limiter
	rotated time.Time
}

// newLimiters returns nil when rate limiting is disabled (perSecond < 0).
func newLimiters(perSecond float64, burst int) *limiters {
	if perSecond < 0 {
		return nil
	}
	refill := time.Duration(float64(burst) / perSecond * float64(time.Second))
	return &limiters{
		limit:  rate.Limit(perSecond),
		burst:  burst,
		window: max(time.Minute, refill),
		cur:    make(map[string]*rate.Limiter),
		prev:   make(map[string]*rate.Limiter),
	}
}

// allow takes n events from ip's bucket, or says how long to wait.
func (l *limiters) allow(ip string, now time.Time, n int) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.rotated) > l.window {
		l.prev, l.cur = l.cur, make(map[string]*rate.Limiter, len(l.cur))
		l.rotated = now
	}
	lim := l.cur[ip]
	if lim == nil {
		if lim = l.prev[ip]; lim == nil {
			lim = rate.NewLimiter(l.limit, l.burst)
		}
		l.cur[ip] = lim
	}
	if lim.AllowN(now, n) {
		return true, 0
	}
	missing := float64(n) - lim.TokensAt(now)
	return false, time.Duration(math.Ceil(missing/float64(l.limit)*1000)) * time.Millisecond
}

// clientIP is the address that rate limiting counts. Behind a trusted
// proxy it is the last X-Forwarded-For entry — the one that proxy appended;
// the entries before it are whatever the client claimed.
func clientIP(r *http.Request, trustProxy bool) string {
	if trustProxy {
		if xff := r.Header.Values("X-Forwarded-For"); len(xff) > 0 {
			last := xff[len(xff)-1]
			if i := strings.LastIndexByte(last, ','); i >= 0 {
				last = last[i+1:]
			}
			if ip := strings.TrimSpace(last); ip != "" {
				return ip
			}
		}
		if ip := strings.TrimSpace(r.Header.Get("X-Real-IP")); ip != "" {
			return ip
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
