package gateway

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/beckon-chat/beckon/internal/streams"
	"github.com/beckon-chat/beckon/internal/visitortoken"
)

// Handler serves the gateway's HTTP API and assets:
//
//	GET /v1/invitations?token=…[&widget_id=…&visitor_id=…]  the SSE stream
//	GET /v1/tracker.js                                      the tracker
//	GET /                                                   the demo shop
func (g *Gateway) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/v1/invitations", g.InvitationsHandler())
	mux.Handle("/v1/tracker.js", TrackerHandler())
	mux.Handle("/", DemoHandler())
	return mux
}

// InvitationsHandler is the SSE endpoint alone, for mounting beside other
// roles' handlers.
func (g *Gateway) InvitationsHandler() http.Handler { return http.HandlerFunc(g.serveInvitations) }

// serveInvitations authenticates the visitor, replays what it missed and
// then streams its live invitations until the browser leaves, falls
// behind, or the gateway closes.
func (g *Gateway) serveInvitations(w http.ResponseWriter, r *http.Request) {
	if !g.cors(w, r) {
		g.reject(w, "origin", http.StatusForbidden, "origin not allowed")
		return
	}
	switch r.Method {
	case http.MethodGet:
	case http.MethodOptions: // a page that sends Authorization asks first
		w.Header().Set("Access-Control-Allow-Methods", "GET, OPTIONS")
		w.Header().Set("Access-Control-Allow-Headers", "Authorization, Last-Event-ID")
		w.Header().Set("Access-Control-Max-Age", "86400")
		w.WriteHeader(http.StatusNoContent)
		return
	default:
		w.Header().Set("Allow", "GET, OPTIONS")
		g.reject(w, "method", http.StatusMethodNotAllowed, "method not allowed")
		return
	}
	k, status, msg := g.authenticate(r)
	if status != 0 {
		g.reject(w, msg, status, msg)
		return
	}
	after, err := lastEventID(r)
	if err != nil {
		g.reject(w, "last_event_id", http.StatusBadRequest, "Last-Event-ID must be a stream sequence number")
		return
	}
	if !g.awaitReady(r.Context()) {
		w.Header().Set("Retry-After", "2")
		g.reject(w, "unavailable", http.StatusServiceUnavailable, "gateway not ready")
		return
	}

	// Join the live feed before reading the backlog, so that nothing
	// published in between is missed; sequences drop what comes twice.
	c := g.hub.add(k, g.cfg.ClientBuffer)
	defer g.hub.remove(k, c)
	g.metrics.connections.Inc()
	defer g.metrics.connections.Dec()

	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no") // nginx: do not buffer the stream
	w.WriteHeader(http.StatusOK)
	s := &sse{w: w, rc: http.NewResponseController(w), timeout: g.cfg.WriteTimeout}
	// retry: how soon EventSource reconnects after a drop.
	if s.write([]byte("retry: 2000\n: beckon\n\n")) != nil {
		return
	}

	last, err := g.replay(r.Context(), s, k, after)
	if err != nil {
		g.log.Debug("gateway: replay", "widget_id", k.widget, "visitor_id", k.visitor, "err", err)
		return
	}
	keepAlive := time.NewTicker(g.cfg.KeepAlive)
	defer keepAlive.Stop()
	for {
		select {
		case f := <-c.ch:
			if f.seq <= last {
				continue // already sent by the replay
			}
			if s.write(f.data) != nil {
				return
			}
			last = f.seq
			g.metrics.delivered.Inc()
		case <-keepAlive.C:
			if s.write([]byte(": keep-alive\n\n")) != nil {
				return
			}
		case <-c.dropped:
			g.log.Info("gateway: dropped a slow stream", "widget_id", k.widget, "visitor_id", k.visitor)
			return
		case <-r.Context().Done():
			return
		case <-g.done:
			return
		}
	}
}

// authenticate reads the visitor token from ?token= (EventSource cannot
// set headers) or Authorization: Bearer. widget_id and visitor_id in the
// query, if present, must be the token's.
func (g *Gateway) authenticate(r *http.Request) (key, int, string) {
	q := r.URL.Query()
	token := q.Get("token")
	if token == "" {
		token, _ = strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	}
	if token == "" {
		return key{}, http.StatusUnauthorized, "token missing"
	}
	widget, visitor, err := visitortoken.Verify(g.cfg.Secret, token, g.cfg.Now())
	if err != nil {
		g.log.Debug("gateway: token refused", "err", err)
		if errors.Is(err, visitortoken.ErrExpired) {
			return key{}, http.StatusUnauthorized, "token expired"
		}
		return key{}, http.StatusUnauthorized, "token invalid"
	}
	if w := q.Get("widget_id"); w != "" && w != widget {
		return key{}, http.StatusForbidden, "token is for another widget"
	}
	if v := q.Get("visitor_id"); v != "" && v != visitor {
		return key{}, http.StatusForbidden, "token is for another visitor"
	}
	return key{widget: widget, visitor: visitor}, 0, ""
}

// lastEventID is the Last-Event-ID header of an EventSource reconnect, or a
// lastEventId query parameter for clients that open a new EventSource
// themselves; 0 when absent.
func lastEventID(r *http.Request) (uint64, error) {
	v := r.Header.Get("Last-Event-ID")
	if v == "" {
		v = r.URL.Query().Get("lastEventId")
	}
	if v == "" {
		return 0, nil
	}
	return strconv.ParseUint(v, 10, 64)
}

// replay sends the backlog and returns the last sequence sent (or after).
// Without Last-Event-ID it is the visitor's latest invitation if at most
// FreshWindow old: a page that loads just after an invitation still shows
// it, but a new page never replays a pile of old ones. With Last-Event-ID
// it is every invitation after that id at most ReplayWindow old, read by
// subject from the stream: a few direct reads, no consumer per browser.
func (g *Gateway) replay(ctx context.Context, s *sse, k key, after uint64) (uint64, error) {
	subject := streams.InvitationSubject(k.widget, k.visitor)
	now := g.cfg.Now()
	if after == 0 {
		msg, err := g.stream.GetLastMsgForSubject(ctx, subject)
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			return 0, nil
		}
		if err != nil {
			if ctx.Err() == nil {
				g.log.Warn("gateway: read latest invitation", "err", err)
			}
			return 0, nil // live delivery still works
		}
		if now.Sub(msg.Time) > g.cfg.FreshWindow {
			return 0, nil
		}
		return msg.Sequence, g.send(s, msg)
	}
	last := after
	for range g.cfg.MaxReplay {
		msg, err := g.stream.GetMsg(ctx, last+1, jetstream.WithGetMsgSubject(subject))
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			break
		}
		if err != nil {
			if ctx.Err() == nil {
				g.log.Warn("gateway: replay invitations", "err", err)
			}
			break
		}
		last = msg.Sequence
		if now.Sub(msg.Time) > g.cfg.ReplayWindow {
			continue
		}
		if err := g.send(s, msg); err != nil {
			return last, err
		}
	}
	return last, nil
}

func (g *Gateway) send(s *sse, msg *jetstream.RawStreamMsg) error {
	f, err := encodeFrame(msg.Sequence, msg.Data)
	if err != nil {
		g.log.Warn("gateway: undecodable invitation", "seq", msg.Sequence, "err", err)
		return nil
	}
	if err := s.write(f.data); err != nil {
		return err
	}
	g.metrics.delivered.Inc()
	return nil
}

func (g *Gateway) awaitReady(ctx context.Context) bool {
	t := time.NewTimer(g.cfg.ReadyTimeout)
	defer t.Stop()
	select {
	case <-g.ready:
		select {
		case <-g.done:
			return false
		default:
			return true
		}
	case <-g.done:
	case <-ctx.Done():
	case <-t.C:
	}
	return false
}

// cors sets the CORS headers and reports whether the origin may ask.
func (g *Gateway) cors(w http.ResponseWriter, r *http.Request) bool {
	w.Header().Add("Vary", "Origin")
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	if len(g.cfg.AllowedOrigins) > 0 && !slices.Contains(g.cfg.AllowedOrigins, strings.TrimSuffix(origin, "/")) {
		return false
	}
	w.Header().Set("Access-Control-Allow-Origin", origin)
	w.Header().Set("Access-Control-Allow-Credentials", "true")
	return true
}

func (g *Gateway) reject(w http.ResponseWriter, reason string, status int, msg string) {
	g.metrics.rejected.WithLabelValues(reasonLabel(reason)).Inc()
	http.Error(w, msg, status)
}

// reasonLabel keeps the label set small and fixed.
func reasonLabel(reason string) string {
	switch reason {
	case "token missing", "token expired", "token invalid":
		return "unauthorized"
	case "token is for another widget", "token is for another visitor":
		return "forbidden"
	}
	return reason
}

// sse writes events, flushing each and bounding each write's time so a
// browser that stops reading cannot hold the handler forever.
type sse struct {
	w       http.ResponseWriter
	rc      *http.ResponseController
	timeout time.Duration
}

func (s *sse) write(b []byte) error {
	_ = s.rc.SetWriteDeadline(time.Now().Add(s.timeout)) // unsupported by httptest's recorder: fine
	if _, err := s.w.Write(b); err != nil {
		return err
	}
	return s.rc.Flush()
}
