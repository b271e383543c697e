package ferrule

/*
#include <stdlib.h>
#include <ferrule.h>

// Out-parameters of the buffer calls, in C memory: a pointer to a Go
// local passed to C makes the local escape to the Go heap, one
// allocation per call on the data path.
typedef struct fr_go_loan {
	uint8_t *p;
	size_t n;
	size_t taken;    // fr_go_write: plaintext bytes taken
	uint32_t flags;  // fr_go_in_read: ferrule_conn_flags afterwards
	int in_lent;     // fr_go_in_read: the input buffer is lent (in_p, in_n)
	uint8_t *in_p;
	size_t in_n;
} fr_go_loan;

// Each helper below is one cgo crossing for what would be two or three
// library calls on the data path.

// Send half: acknowledge `sent` bytes of the lent output (when `lent`),
// then lend what is pending (l->n 0: nothing, and no loan is left open).
static int fr_go_out_next(ferrule_conn *c, fr_go_loan *l, int lent, size_t sent) {
	int st;
	if (lent && (st = ferrule_conn_output_ack(c, sent)) != FERRULE_OK) return st;
	if ((st = ferrule_conn_output_buf(c, (const uint8_t **)&l->p, &l->n)) != FERRULE_OK) return st;
	return l->n == 0 ? ferrule_conn_output_ack(c, 0) : FERRULE_OK;
}

// Send half: take what fits of b[0..len) (*taken), then lend the output.
static int fr_go_write(ferrule_conn *c, const uint8_t *b, size_t len, size_t *taken, fr_go_loan *l) {
	int st = ferrule_conn_write(c, b, len, taken);
	if (st != FERRULE_OK && st != FERRULE_WANT_WRITE) return st;
	int ost = fr_go_out_next(c, l, 0, 0);
	return ost != FERRULE_OK ? ost : st;
}

// Receive half: acknowledge `got` bytes written into the lent input
// (when `lent`), then lend decrypted data (ferrule_conn_read_buf's
// status); l->flags: the connection's flags afterwards.
static int fr_go_in_read(ferrule_conn *c, fr_go_loan *l, int lent, size_t got) {
	int st;
	if (lent && (st = ferrule_conn_input_ack(c, got)) != FERRULE_OK) return st;
	st = ferrule_conn_read_buf(c, (const uint8_t **)&l->p, &l->n);
	l->flags = ferrule_conn_flags(c);
	// Nothing to read yet: lend the input buffer in the same crossing.
	l->in_lent = st == FERRULE_WANT_READ && ferrule_conn_input_buf(c, &l->in_p, &l->in_n) == FERRULE_OK;
	return st;
}
*/
import "C"

import (
	"context"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"
)

// Conn is a TLS 1.3 connection over a net.Conn, like crypto/tls.Conn.
// Read and Write may be called concurrently from different goroutines;
// Close unblocks both.
type Conn struct {
	conn     net.Conn
	config   *Config
	isClient bool

	// The library connection.  Receive-half calls run under in, send-half
	// calls under out (the library allows one of each at a time); the
	// handshake holds both.  It is freed under both, after Close.
	c *C.ferrule_conn

	handshakeMu   sync.Mutex
	handshakeDone atomic.Bool
	handshakeErr  error

	in, out sync.Mutex
	freed   bool // under in and out
	// rx and tx are the out-parameters of the receive and the send half's
	// buffer calls (C memory, freed with the connection).
	rx, tx *C.fr_go_loan

	// activeCall counts Writes in progress; its low bit is set by Close
	// (the crypto/tls scheme): a Close during a Write closes the
	// transport at once instead of waiting to send close_notify.
	activeCall atomic.Int32
	closeOnce  sync.Once

	sessionSaved bool // client: a session went to the cache (under in)
	cacheKey     string

	// hookErr is the error a Config hook returned, reported by the
	// handshake in place of the library's refusal.
	hookErr error

	// The peer's certificates and verified chain, parsed by crypto/x509
	// once the handshake is done (under in).
	peerCerts []*x509.Certificate
	verified  [][]*x509.Certificate
	parsed    bool
}

// Client returns a client-side connection over conn.  config must set
// ServerName or InsecureSkipVerify.  The handshake runs on the first
// Read or Write, or by Handshake.
func Client(conn net.Conn, config *Config) *Conn {
	return &Conn{conn: conn, config: config, isClient: true}
}

// Server returns a server-side connection over conn.  config must hold at
// least one certificate.
func Server(conn net.Conn, config *Config) *Conn {
	return &Conn{conn: conn, config: config}
}

// NetConn returns the underlying connection.
func (c *Conn) NetConn() net.Conn { return c.conn }

// LocalAddr, RemoteAddr and the deadline setters are the transport's.
// A deadline that passes during Read, Write or the handshake makes it
// return the transport's timeout error; a timed-out Read may be retried,
// a timed-out Write leaves the connection unusable (as in crypto/tls).
func (c *Conn) LocalAddr() net.Addr                { return c.conn.LocalAddr() }
func (c *Conn) RemoteAddr() net.Addr               { return c.conn.RemoteAddr() }
func (c *Conn) SetDeadline(t time.Time) error      { return c.conn.SetDeadline(t) }
func (c *Conn) SetReadDeadline(t time.Time) error  { return c.conn.SetReadDeadline(t) }
func (c *Conn) SetWriteDeadline(t time.Time) error { return c.conn.SetWriteDeadline(t) }

// open creates the library connection (under both halves' locks).
func (c *Conn) open() error {
	if c.c != nil {
		return nil
	}
	if c.config == nil {
		return errors.New("ferrule: nil Config")
	}
	role := C.uint32_t(C.FERRULE_ROLE_SERVER)
	if c.isClient {
		role = C.FERRULE_ROLE_CLIENT
		if c.config.ServerName == "" && !c.config.InsecureSkipVerify {
			return errors.New("ferrule: either ServerName or InsecureSkipVerify must be set in the Config")
		}
	}
	cfg, err := c.config.library(role)
	if err != nil {
		return err
	}
	opts := C.ferrule_conn_options{struct_size: C.uint32_t(C.ferrule_sizeof_conn_options())}
	if c.isClient && c.config.ServerName != "" {
		name := C.CString(c.config.ServerName)
		defer C.free(unsafe.Pointer(name))
		opts.server_name = name
	}
	var conn *C.ferrule_conn
	if st := C.ferrule_conn_new(&conn, cfg, &opts); st != C.FERRULE_OK {
		return configError("connection", st, cfg)
	}
	c.c = conn
	c.rx = (*C.fr_go_loan)(C.calloc(2, C.sizeof_fr_go_loan))
	c.tx = (*C.fr_go_loan)(unsafe.Add(unsafe.Pointer(c.rx), C.sizeof_fr_go_loan))
	runtime.SetFinalizer(c, (*Conn).finalize)
	if c.isClient {
		c.offerSession()
	}
	return nil
}

// finalize frees a connection its user forgot to Close (a backstop).
func (c *Conn) finalize() {
	if c.c != nil && !c.freed {
		c.free()
	}
}

func (c *Conn) free() {
	C.ferrule_conn_free(c.c)
	C.free(unsafe.Pointer(c.rx))
	c.rx, c.tx = nil, nil
	c.freed = true
}

func (c *Conn) offerSession() {
	cache := c.config.ClientSessionCache
	if cache == nil || c.config.SessionTicketsDisabled {
		return
	}
	c.cacheKey = c.config.ServerName
	if c.cacheKey == "" {
		c.cacheKey = c.conn.RemoteAddr().String()
	}
	s, ok := cache.Get(c.cacheKey)
	if !ok || s == nil || len(s.blob) == 0 {
		return
	}
	// A session the library will not offer (expired, other name, suite
	// no longer configured) just means a full handshake.
	_ = C.ferrule_conn_set_session(c.c, (*C.uint8_t)(unsafe.Pointer(&s.blob[0])), C.size_t(len(s.blob)))
}

// saveSession puts the newest ticket into the client session cache, once
// per connection (under in).
func (c *Conn) saveSession() {
	if c.sessionSaved || !c.isClient || c.config.ClientSessionCache == nil || c.config.SessionTicketsDisabled {
		return
	}
	var n C.size_t
	buf := make([]byte, 4096)
	st := C.ferrule_conn_session(c.c, (*C.uint8_t)(unsafe.Pointer(&buf[0])), C.size_t(len(buf)), &n)
	if st == C.FERRULE_USAGE && C.ferrule_conn_reason(c.c) == C.FERRULE_R_BUFFER_TOO_SMALL {
		buf = make([]byte, int(n))
		st = C.ferrule_conn_session(c.c, (*C.uint8_t)(unsafe.Pointer(&buf[0])), C.size_t(len(buf)), &n)
	}
	if st != C.FERRULE_OK {
		return // no ticket yet
	}
	c.sessionSaved = true
	c.config.ClientSessionCache.Put(c.cacheKey, &ClientSessionState{blob: buf[:n]})
}

// connError is the error of a failed connection call.
func (c *Conn) connError(op string, st C.int) error {
	e := &Error{Op: op, Status: int(st), Reason: uint32(C.ferrule_conn_reason(c.c)), Alert: -1}
	var alert C.uint8_t
	var received C.uint32_t
	if C.ferrule_conn_get_alert(c.c, &alert, &received) == 1 {
		e.Alert = int(alert)
		e.AlertReceived = received != 0
	}
	return e
}

// drain sends all pending output (send half held).
func (c *Conn) drain() error {
	st := C.fr_go_out_next(c.c, c.tx, 0, 0)
	return c.send(st)
}

// send writes the lent output to the transport until none is pending;
// st is the status of the call that lent it.
func (c *Conn) send(st C.int) error {
	for {
		if st != C.FERRULE_OK {
			return c.connError("write", st)
		}
		n := c.tx.n
		if n == 0 {
			return nil
		}
		// The borrowed region stays in place until the ack, whatever the
		// receive half does meanwhile.
		m, err := c.conn.Write(unsafe.Slice((*byte)(unsafe.Pointer(c.tx.p)), int(n)))
		if err != nil {
			_ = C.ferrule_conn_output_ack(c.c, C.size_t(m))
			return err
		}
		st = C.fr_go_out_next(c.c, c.tx, 1, C.size_t(m))
	}
}

// fillRead reads once from the transport into the input buffer, then
// lends decrypted data (receive half held): the status of
// ferrule_conn_read_buf, or the transport's error.  A transport EOF is
// given to the library, which reports it as truncation unless
// close_notify came first.
func (c *Conn) fillRead() (C.int, error) {
	if c.rx.in_lent == 0 { // fr_go_in_read could not lend it: the library says why
		if st := C.ferrule_conn_input_buf(c.c, &c.rx.in_p, &c.rx.in_n); st != C.FERRULE_OK {
			return st, nil
		}
	}
	c.rx.in_lent = 0
	p, cap := c.rx.in_p, c.rx.in_n
	if cap == 0 { // a whole record waits to be processed
		return C.fr_go_in_read(c.c, c.rx, 1, 0), nil
	}
	n, err := c.conn.Read(unsafe.Slice((*byte)(unsafe.Pointer(p)), int(cap)))
	if n < 0 || n > int(cap) {
		n = 0
	}
	if n == 0 && err != nil && !errors.Is(err, io.EOF) {
		_ = C.ferrule_conn_input_ack(c.c, 0)
		return 0, err
	}
	if n == 0 && err != nil {
		_ = C.ferrule_conn_input_ack(c.c, 0)
		_ = C.ferrule_conn_feed_eof(c.c)
		return C.fr_go_in_read(c.c, c.rx, 0, 0), nil
	}
	return C.fr_go_in_read(c.c, c.rx, 1, C.size_t(n)), nil
}

// fill reads once from the transport into the input buffer, for the
// handshake (both halves held).
func (c *Conn) fill() error {
	if st := C.ferrule_conn_input_buf(c.c, &c.rx.p, &c.rx.n); st != C.FERRULE_OK {
		return c.connError("read", st)
	}
	p, cap := c.rx.p, c.rx.n
	if cap == 0 {
		_ = C.ferrule_conn_input_ack(c.c, 0)
		return nil // a whole record waits to be processed
	}
	n, err := c.conn.Read(unsafe.Slice((*byte)(unsafe.Pointer(p)), int(cap)))
	if n < 0 || n > int(cap) {
		n = 0
	}
	_ = C.ferrule_conn_input_ack(c.c, C.size_t(n))
	if n > 0 || err == nil {
		return nil
	}
	if errors.Is(err, io.EOF) {
		_ = C.ferrule_conn_feed_eof(c.c)
		return nil
	}
	return err
}

// Handshake runs the handshake if it has not run yet.  Read and Write call
// it themselves.
func (c *Conn) Handshake() error { return c.HandshakeContext(context.Background()) }

// HandshakeContext is Handshake, stopped when ctx is done: the transport
// is then closed and the context's error returned.
func (c *Conn) HandshakeContext(ctx context.Context) error {
	if c.handshakeDone.Load() {
		return nil
	}
	c.handshakeMu.Lock()
	defer c.handshakeMu.Unlock()
	if c.handshakeDone.Load() || c.handshakeErr != nil {
		return c.handshakeErr
	}
	var done chan struct{}
	var interrupted chan error
	if ctx.Done() != nil {
		done, interrupted = make(chan struct{}), make(chan error, 1)
		go func() {
			select {
			case <-ctx.Done():
				_ = c.conn.Close() // unblocks the transport (as crypto/tls does)
				interrupted <- ctx.Err()
			case <-done:
				interrupted <- nil
			}
		}()
	}
	c.in.Lock()
	c.out.Lock()
	err := c.handshakeLocked()
	c.out.Unlock()
	c.in.Unlock()
	if done != nil {
		close(done)
		if ierr := <-interrupted; ierr != nil {
			err = ierr
		}
	}
	if err != nil {
		c.handshakeErr = err
		return err
	}
	c.handshakeDone.Store(true)
	return nil
}

func (c *Conn) handshakeLocked() error {
	if c.freed {
		return net.ErrClosed
	}
	if err := c.open(); err != nil {
		return err
	}
	for {
		st := C.ferrule_conn_handshake(c.c)
		if err := c.drain(); err != nil {
			if st == C.FERRULE_OK || st == C.FERRULE_WANT_READ || st == C.FERRULE_WANT_WRITE {
				return err
			}
			return c.connError("handshake", st)
		}
		switch st {
		case C.FERRULE_OK:
			return nil
		case C.FERRULE_WANT_READ:
			if err := c.fill(); err != nil {
				return err
			}
		case C.FERRULE_WANT_WRITE:
		case C.FERRULE_WANT_APP:
			if err := c.decide(); err != nil {
				return err
			}
		default:
			err := c.connError("handshake", st).(*Error)
			err.Cause = c.hookErr
			return err
		}
	}
}

// Read reads application data.  It returns io.EOF after the peer's
// close_notify, and an error matching ErrTruncated when the transport
// ended without one.
func (c *Conn) Read(b []byte) (int, error) {
	if err := c.Handshake(); err != nil {
		return 0, err
	}
	if len(b) == 0 {
		return 0, nil
	}
	c.in.Lock()
	defer c.in.Unlock()
	if c.freed {
		return 0, net.ErrClosed
	}
	st := C.fr_go_in_read(c.c, c.rx, 0, 0)
	for {
		c.saveSession()
		c.flushOwed()
		switch st {
		case C.FERRULE_OK:
			k := copy(b, unsafe.Slice((*byte)(unsafe.Pointer(c.rx.p)), int(c.rx.n)))
			_ = C.ferrule_conn_read_ack(c.c, C.size_t(k))
			return k, nil
		case C.FERRULE_WANT_READ:
			var err error
			if st, err = c.fillRead(); err != nil {
				return 0, err
			}
		case C.FERRULE_CLOSED:
			return 0, io.EOF
		default:
			return 0, c.connError("read", st)
		}
	}
}

// flushOwed sends what the receive half owes the peer (a KeyUpdate
// answer, an alert) when no Write is sending; a Write in progress sends
// it with its own records.
func (c *Conn) flushOwed() {
	if c.rx.flags&C.FERRULE_FLAG_HAS_OUTPUT == 0 {
		return
	}
	if c.out.TryLock() {
		_ = c.drain()
		c.out.Unlock()
	}
}

// Write writes application data.
func (c *Conn) Write(b []byte) (int, error) {
	for {
		x := c.activeCall.Load()
		if x&1 != 0 {
			return 0, net.ErrClosed
		}
		if c.activeCall.CompareAndSwap(x, x+2) {
			break
		}
	}
	defer c.activeCall.Add(-2)
	if err := c.Handshake(); err != nil {
		return 0, err
	}
	c.out.Lock()
	defer c.out.Unlock()
	if c.freed {
		return 0, net.ErrClosed
	}
	total := 0
	for total < len(b) {
		st := C.fr_go_write(c.c, (*C.uint8_t)(unsafe.Pointer(&b[total])), C.size_t(len(b)-total), &c.tx.taken, c.tx)
		total += int(c.tx.taken)
		if st != C.FERRULE_OK && st != C.FERRULE_WANT_WRITE {
			_ = c.drain()
			return total, c.connError("write", st)
		}
		if err := c.send(C.FERRULE_OK); err != nil {
			return total, err
		}
	}
	return total, nil
}

// CloseWrite sends close_notify; the connection can still read.
func (c *Conn) CloseWrite() error {
	if !c.handshakeDone.Load() {
		return errors.New("ferrule: CloseWrite before the handshake completed")
	}
	c.out.Lock()
	defer c.out.Unlock()
	if c.freed {
		return net.ErrClosed
	}
	return c.closeNotifyLocked()
}

func (c *Conn) closeNotifyLocked() error {
	st := C.ferrule_conn_close(c.c)
	if st != C.FERRULE_OK && st != C.FERRULE_WANT_WRITE {
		if st == C.FERRULE_USAGE && C.ferrule_conn_reason(c.c) == C.FERRULE_R_WRONG_STATE {
			return nil // already closed for writing
		}
		return c.connError("close", st)
	}
	// Like crypto/tls: do not let a peer that stopped reading hold Close.
	_ = c.conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
	return c.drain()
}

// Close sends close_notify (when the handshake completed and no Write is
// in progress), closes the transport and frees the connection.  Blocked
// Read and Write calls return.
func (c *Conn) Close() error {
	var x int32
	for {
		x = c.activeCall.Load()
		if x&1 != 0 {
			return net.ErrClosed
		}
		if c.activeCall.CompareAndSwap(x, x|1) {
			break
		}
	}
	var alertErr error
	if x == 0 && c.handshakeDone.Load() {
		c.out.Lock()
		if !c.freed {
			alertErr = c.closeNotifyLocked()
		}
		c.out.Unlock()
	}
	err := c.conn.Close()
	// The transport is closed: a Read blocked in it returns, so both
	// halves can be taken to free the library connection.
	c.handshakeMu.Lock()
	c.in.Lock()
	c.out.Lock()
	if c.c != nil && !c.freed {
		c.free()
		runtime.SetFinalizer(c, nil)
	}
	c.out.Unlock()
	c.in.Unlock()
	c.handshakeMu.Unlock()
	if err != nil {
		return err
	}
	return alertErr
}

// MemoryUsed is the heap the library holds for the connection, in bytes
// (bounded by its memory ceiling).
func (c *Conn) MemoryUsed() int {
	c.in.Lock()
	defer c.in.Unlock()
	if c.c == nil || c.freed {
		return 0
	}
	return int(C.ferrule_conn_memory_used(c.c))
}

// keyUpdates counts the KeyUpdates sent and received (for tests).
func (c *Conn) keyUpdates() (sent, received uint64) {
	c.in.Lock()
	defer c.in.Unlock()
	if c.c == nil || c.freed {
		return 0, 0
	}
	return uint64(C.ferrule_conn_key_updates_sent(c.c)), uint64(C.ferrule_conn_key_updates_received(c.c))
}

// KeyUpdate sends a KeyUpdate (RFC 8446 §4.6.3): our sending keys change
// now; with requestPeer the peer is asked to update its keys too.
func (c *Conn) KeyUpdate(requestPeer bool) error {
	if err := c.Handshake(); err != nil {
		return err
	}
	c.out.Lock()
	defer c.out.Unlock()
	if c.freed {
		return net.ErrClosed
	}
	req := C.int(0)
	if requestPeer {
		req = 1
	}
	if st := C.ferrule_conn_key_update(c.c, req); st != C.FERRULE_OK {
		return c.connError("key update", st)
	}
	return c.drain()
}

// ConnectionState describes the connection, like crypto/tls's.
type ConnectionState struct {
	Version            uint16
	HandshakeComplete  bool
	DidResume          bool
	CipherSuite        uint16
	CurveID            CurveID
	NegotiatedProtocol string
	ServerName         string
	// PeerCertificates: the chain the peer sent, leaf first, parsed by
	// crypto/x509 for inspection (ferrule verified it).  On a resumed
	// client connection: what the session kept of the original chain.
	PeerCertificates []*x509.Certificate
	// VerifiedChains: the path ferrule validated (leaf to anchor), when
	// verification ran on this connection.
	VerifiedChains [][]*x509.Certificate
	// HelloRetryRequest: the handshake took a HelloRetryRequest.
	HelloRetryRequest bool
	// OCSPStapled: the peer stapled an OCSP response validated as good.
	OCSPStapled bool
	// EarlyData: the 0-RTT outcome.  EarlyDataLen: client, the bytes sent
	// as early data; server, the bytes received as early data -- the
	// first EarlyDataLen bytes Read returns, which an attacker could have
	// replayed.
	EarlyData    EarlyDataStatus
	EarlyDataLen int

	conn *Conn
}

// parsePeer parses the peer's chain and the validated path with
// crypto/x509 (receive half held).
func (c *Conn) parsePeer() (peer []*x509.Certificate, verified [][]*x509.Certificate) {
	for i := C.size_t(0); i < C.ferrule_conn_peer_cert_count(c.c); i++ {
		var der *C.uint8_t
		var n C.size_t
		if C.ferrule_conn_peer_cert(c.c, i, &der, &n) != C.FERRULE_OK {
			break
		}
		if cert, err := x509.ParseCertificate(C.GoBytes(unsafe.Pointer(der), C.int(n))); err == nil {
			peer = append(peer, cert)
		}
	}
	if r := C.ferrule_conn_verify_result(c.c); r != nil {
		var chain []*x509.Certificate
		for i := C.size_t(0); i < C.ferrule_verify_result_path_length(r); i++ {
			var der *C.uint8_t
			var n C.size_t
			if C.ferrule_verify_result_path_cert(r, i, &der, &n) != C.FERRULE_OK {
				break
			}
			if cert, err := x509.ParseCertificate(C.GoBytes(unsafe.Pointer(der), C.int(n))); err == nil {
				chain = append(chain, cert)
			}
		}
		if len(chain) > 0 {
			verified = [][]*x509.Certificate{chain}
		}
	}
	return peer, verified
}

// ExportKeyingMaterial derives keying material from the connection
// (RFC 8446 §7.5).
func (cs *ConnectionState) ExportKeyingMaterial(label string, context []byte, length int) ([]byte, error) {
	c := cs.conn
	if c == nil || !cs.HandshakeComplete {
		return nil, errors.New("ferrule: ExportKeyingMaterial before the handshake completed")
	}
	out := make([]byte, length)
	l := []byte(label)
	c.in.Lock()
	defer c.in.Unlock()
	if c.freed {
		return nil, net.ErrClosed
	}
	var lp, cp, op *C.uint8_t
	if len(l) > 0 {
		lp = (*C.uint8_t)(unsafe.Pointer(&l[0]))
	}
	if len(context) > 0 {
		cp = (*C.uint8_t)(unsafe.Pointer(&context[0]))
	}
	if length > 0 {
		op = (*C.uint8_t)(unsafe.Pointer(&out[0]))
	}
	st := C.ferrule_conn_export_keying_material(c.c, (*C.char)(unsafe.Pointer(lp)), C.size_t(len(l)),
		cp, C.size_t(len(context)), op, C.size_t(length))
	if st != C.FERRULE_OK {
		return nil, c.connError("export", st)
	}
	return out, nil
}

// ConnectionState returns the connection's negotiated parameters.
func (c *Conn) ConnectionState() ConnectionState {
	c.in.Lock()
	defer c.in.Unlock()
	return c.stateLocked()
}

// stateLocked is ConnectionState with the receive half held.
func (c *Conn) stateLocked() ConnectionState {
	cs := ConnectionState{conn: c, HandshakeComplete: c.handshakeDone.Load()}
	if c.c == nil || c.freed {
		return cs
	}
	cs.EarlyData = EarlyDataStatus(C.ferrule_conn_early_data_status(c.c))
	cs.EarlyDataLen = int(C.ferrule_conn_early_data_len(c.c))
	cs.Version = uint16(C.ferrule_conn_version(c.c))
	cs.CipherSuite = uint16(C.ferrule_conn_cipher_suite(c.c))
	cs.CurveID = CurveID(C.ferrule_conn_group(c.c))
	cs.DidResume = C.ferrule_conn_resumed(c.c) == 1
	cs.HelloRetryRequest = C.ferrule_conn_hrr(c.c) == 1
	cs.OCSPStapled = C.ferrule_conn_ocsp_stapled(c.c) == 1
	var proto *C.uint8_t
	var plen C.size_t
	C.ferrule_conn_alpn(c.c, &proto, &plen)
	if plen > 0 {
		cs.NegotiatedProtocol = C.GoStringN((*C.char)(unsafe.Pointer(proto)), C.int(plen))
	}
	if name := C.ferrule_conn_server_name(c.c); name != nil {
		cs.ServerName = C.GoString(name)
	}
	if c.parsed {
		cs.PeerCertificates, cs.VerifiedChains = c.peerCerts, c.verified
		return cs
	}
	cs.PeerCertificates, cs.VerifiedChains = c.parsePeer()
	if cs.HandshakeComplete {
		// Parsed once: the chain no longer changes.
		c.peerCerts, c.verified, c.parsed = cs.PeerCertificates, cs.VerifiedChains, true
	}
	return cs
}
