package visitortoken

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"slices"
	"time"

	"github.com/beckon-chat/beckon/schemas"
)

// MinSecretLen is the shortest secret NewHandler accepts.
const MinSecretLen = 32

// Config configures the token endpoint.
type Config struct {
	// Secret signs tokens; the gateway verifies with the same one. At least
	// MinSecretLen bytes (required).
	Secret []byte
	// TTL is how long a token is valid. Default 12h: long enough that an
	// open page's EventSource reconnects with the token it has, short
	// enough that a leaked one soon stops working.
	TTL time.Duration
	// AllowedOrigins are the origins whose pages may fetch tokens with
	// credentials. Empty allows any origin, as the beacon endpoint does: a
	// token only reveals the invitations of the visitor id the caller
	// already named.
	AllowedOrigins []string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger receives rejected requests at debug level; nil means slog.Default().
	Logger *slog.Logger
}

// Handler serves GET /v1/token?widget_id=..&visitor_id=.. with
// {"token":"…","expires_at":"2026-11-23T10:00:00.000Z"}.
type Handler struct {
	cfg Config
}

// NewHandler returns the token endpoint.
func NewHandler(cfg Config) (*Handler, error) {
	if len(cfg.Secret) < MinSecretLen {
		return nil, ErrShortSecret
	}
	if cfg.TTL <= 0 {
		cfg.TTL = 12 * time.Hour
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Handler{cfg: cfg}, nil
}

type tokenResponse struct {
	Token     string `json:"token"`
	ExpiresAt string `json:"expires_at"`
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Add("Vary", "Origin")
	if origin := r.Header.Get("Origin"); origin != "" {
		if !h.originAllowed(origin) {
			http.Error(w, "origin not allowed", http.StatusForbidden)
			return
		}
		w.Header().Set("Access-Control-Allow-Origin", origin)
		w.Header().Set("Access-Control-Allow-Credentials", "true")
	}
	switch r.Method {
	case http.MethodGet:
	case http.MethodOptions:
		w.Header().Set("Access-Control-Allow-Methods", "GET, OPTIONS")
		w.Header().Set("Access-Control-Max-Age", "86400")
		w.WriteHeader(http.StatusNoContent)
		return
	default:
		w.Header().Set("Allow", "GET, OPTIONS")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	q := r.URL.Query()
	widget, visitor := q.Get("widget_id"), q.Get("visitor_id")
	for _, err := range []error{schemas.ValidateID("widget_id", widget), schemas.ValidateID("visitor_id", visitor)} {
		if err != nil {
			h.cfg.Logger.Debug("visitortoken: bad request", "err", err)
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
	}
	now := h.cfg.Now()
	body, _ := json.Marshal(tokenResponse{
		Token:     Issue(h.cfg.Secret, widget, visitor, h.cfg.TTL, now),
		ExpiresAt: schemas.FormatTime(Expiry(h.cfg.TTL, now).UnixMilli()),
	})
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store") // a token is per visitor
	_, _ = w.Write(body)
}

func (h *Handler) originAllowed(origin string) bool {
	return len(h.cfg.AllowedOrigins) == 0 || slices.Contains(h.cfg.AllowedOrigins, origin)
}
