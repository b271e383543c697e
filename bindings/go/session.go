package ferrule

import (
	"container/list"
	"sync"
)

// ClientSessionState is a session a client can resume: the library's
// session blob.  It holds the resumption secret: protect it like a key.
type ClientSessionState struct {
	blob []byte
}

// Bytes returns the session blob (for storing it outside the process).
func (s *ClientSessionState) Bytes() []byte { return append([]byte(nil), s.blob...) }

// NewClientSessionState makes a session from a blob returned by Bytes.
// The library checks it when a connection offers it; a bad or expired one
// just means a full handshake.
func NewClientSessionState(blob []byte) *ClientSessionState {
	return &ClientSessionState{blob: append([]byte(nil), blob...)}
}

// ClientSessionCache keeps sessions by key (the server name), like
// crypto/tls's.
type ClientSessionCache interface {
	Get(sessionKey string) (session *ClientSessionState, ok bool)
	Put(sessionKey string, cs *ClientSessionState)
}

// NewLRUClientSessionCache returns a cache of at most capacity sessions
// (64 when capacity < 1), dropping the least recently used.
func NewLRUClientSessionCache(capacity int) ClientSessionCache {
	if capacity < 1 {
		capacity = 64
	}
	return &lruCache{cap: capacity, m: map[string]*list.Element{}, l: list.New()}
}

type lruEntry struct {
	key string
	s   *ClientSessionState
}

type lruCache struct {
	mu  sync.Mutex
	cap int
	m   map[string]*list.Element
	l   *list.List
}

func (c *lruCache) Get(key string) (*ClientSessionState, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.m[key]; ok {
		c.l.MoveToFront(e)
		return e.Value.(*lruEntry).s, true
	}
	return nil, false
}

func (c *lruCache) Put(key string, s *ClientSessionState) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.m[key]; ok {
		if s == nil {
			c.l.Remove(e)
			delete(c.m, key)
			return
		}
		e.Value.(*lruEntry).s = s
		c.l.MoveToFront(e)
		return
	}
	if s == nil {
		return
	}
	if c.l.Len() >= c.cap {
		old := c.l.Back()
		c.l.Remove(old)
		delete(c.m, old.Value.(*lruEntry).key)
	}
	c.m[key] = c.l.PushFront(&lruEntry{key: key, s: s})
}
