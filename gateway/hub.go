package gateway

import "sync"

// key is whose invitations a stream receives.
type key struct{ widget, visitor string }

// frame is one encoded SSE event, shared read-only by every stream of the
// visitor.
type frame struct {
	seq  uint64
	data []byte
}

// client is one open stream as the hub sees it.
type client struct {
	ch      chan frame    // bounded: memory per stream is fixed
	dropped chan struct{} // closed when the hub gives up on a slow stream
	gone    bool          // dropped already; guarded by hub.mu
}

// hub maps visitors to their open streams. The consumer goroutine sends,
// request goroutines add and remove; a visitor usually has one or a few
// streams (tabs).
type hub struct {
	mu      sync.RWMutex
	clients map[key][]*client
}

func newHub() *hub { return &hub{clients: make(map[key][]*client)} }

func (h *hub) add(k key, buffer int) *client {
	c := &client{ch: make(chan frame, buffer), dropped: make(chan struct{})}
	h.mu.Lock()
	h.clients[k] = append(h.clients[k], c)
	h.mu.Unlock()
	return c
}

func (h *hub) remove(k key, c *client) {
	h.mu.Lock()
	defer h.mu.Unlock()
	list := h.clients[k]
	for i, x := range list {
		if x == c {
			list[i] = list[len(list)-1]
			list[len(list)-1] = nil
			list = list[:len(list)-1]
			break
		}
	}
	if len(list) == 0 {
		delete(h.clients, k)
	} else {
		h.clients[k] = list
	}
}

func (h *hub) has(k key) bool {
	h.mu.RLock()
	_, ok := h.clients[k]
	h.mu.RUnlock()
	return ok
}

// send offers f to every stream of k without blocking: a stream whose buffer
// is full is dropped, so one stalled browser never delays the others. The
// browser resumes with Last-Event-ID and loses nothing. It returns how many
// streams it dropped.
func (h *hub) send(k key, f frame) (dropped int) {
	h.mu.Lock() // a write lock: dropping marks clients
	defer h.mu.Unlock()
	for _, c := range h.clients[k] {
		if c.gone {
			continue
		}
		select {
		case c.ch <- f:
		default:
			c.gone = true
			close(c.dropped)
			dropped++
		}
	}
	return dropped
}

// count is the number of visitors with open streams.
func (h *hub) count() int {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return len(h.clients)
}
