package ferrule

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestGetCertificate(t *testing.T) {
	pki(t)
	ca := pkiCAs["ecdsa"]
	a, b := ca.leaf(t, "ecdsa", false, "a.test"), ca.leaf(t, "ecdsa", false, "b.test")
	cfg := &Config{Certificates: []Certificate{a.ferrule(t), b.ferrule(t)}}
	var seen *ClientHelloInfo
	cfg.GetCertificate = func(h *ClientHelloInfo) (*Certificate, error) {
		seen = h
		switch h.ServerName {
		case "pick-b.test": // a name neither leaf has: the hook decides
			return &cfg.Certificates[1], nil
		case "refuse.test":
			return nil, errors.New("no certificate for refuse.test")
		}
		return nil, nil // ferrule's own choice
	}
	dial := func(name, verifyAs string) (*tls.Conn, error) {
		addr, done := serve(t, ferruleServer(cfg), func(c net.Conn) error { return c.(*Conn).Handshake() })
		c, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: ca.stdPool(), ServerName: name, NextProtos: []string{"x"},
			VerifyConnection: func(cs tls.ConnectionState) error {
				opts := x509.VerifyOptions{Roots: ca.stdPool(), DNSName: verifyAs}
				_, err := cs.PeerCertificates[0].Verify(opts)
				return err
			}, InsecureSkipVerify: true})
		serr := <-done
		if err == nil && serr != nil {
			t.Fatalf("server: %v", serr)
		}
		if err != nil {
			return nil, serr
		}
		return c, nil
	}
	c, err := dial("pick-b.test", "b.test")
	if err != nil {
		t.Fatal(err)
	}
	if !c.ConnectionState().PeerCertificates[0].Equal(b.cert) {
		t.Fatal("GetCertificate's choice was not used")
	}
	c.Close()
	if seen.ServerName != "pick-b.test" || len(seen.CipherSuites) == 0 || len(seen.SignatureSchemes) == 0 ||
		len(seen.SupportedProtos) != 1 || !seen.SupportsCertificate(0) || seen.SupportsCertificate(2) {
		t.Fatalf("ClientHelloInfo %+v", seen)
	}
	c, err = dial("a.test", "a.test") // nil: the default selection by SNI
	if err != nil {
		t.Fatal(err)
	}
	if !c.ConnectionState().PeerCertificates[0].Equal(a.cert) {
		t.Fatal("default selection")
	}
	c.Close()
	_, err = dial("refuse.test", "a.test")
	var fe *Error
	if err == nil || !strings.Contains(err.Error(), "no certificate for refuse.test") || !errors.As(err, &fe) || fe.Alert != 40 {
		t.Fatalf("refusal: %v", err)
	}
}

func TestSelectProtocol(t *testing.T) {
	pki(t)
	cfg := ferruleServerConfig(t)
	cfg.NextProtos = []string{"h2"}
	cfg.SelectProtocol = func(h *ClientHelloInfo) (string, error) {
		for _, p := range h.SupportedProtos {
			if p == "refuse" {
				return "", errors.New("refused by the hook")
			}
		}
		return h.SupportedProtos[len(h.SupportedProtos)-1], nil // the client's last choice
	}
	addr, done := serve(t, ferruleServer(cfg), echo(1))
	c, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: pkiCAs["ecdsa"].stdPool(), ServerName: "localhost",
		NextProtos: []string{"h2", "http/1.1"}})
	if err != nil {
		t.Fatal(err)
	}
	roundTrip(t, c, []byte{1})
	if p := c.ConnectionState().NegotiatedProtocol; p != "http/1.1" {
		t.Fatalf("protocol %q", p)
	}
	c.Close()
	<-done
	addr, done = serve(t, ferruleServer(cfg), func(c net.Conn) error { return c.(*Conn).Handshake() })
	if _, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: pkiCAs["ecdsa"].stdPool(), ServerName: "localhost",
		NextProtos: []string{"refuse"}}); err == nil {
		t.Fatal("handshake succeeded")
	}
	var fe *Error
	if serr := <-done; !errors.As(serr, &fe) || fe.Alert != 120 || !strings.Contains(serr.Error(), "refused by the hook") {
		t.Fatalf("server: %v", serr)
	}
}

func TestVerifyConnection(t *testing.T) {
	pki(t)
	var got ConnectionState
	cfg := ferruleClientConfig("ecdsa")
	cfg.VerifyConnection = func(cs ConnectionState) error {
		got = cs
		if cs.PeerCertificates[0].Subject.CommonName != "leaf" {
			return errors.New("unexpected subject")
		}
		return nil
	}
	addr, done := serve(t, stdServer(stdServerConfig(t, "ecdsa")), echo(1))
	c := dialFerrule(t, addr, cfg)
	roundTrip(t, c, []byte{1})
	c.Close()
	<-done
	if len(got.PeerCertificates) != 1 || len(got.VerifiedChains) != 1 {
		t.Fatalf("the hook saw %+v", got)
	}
	// The hook can refuse what ferrule accepted: bad_certificate.
	cfg = ferruleClientConfig("ecdsa")
	cfg.VerifyConnection = func(ConnectionState) error { return errors.New("pinned key differs") }
	addr, done = serve(t, stdServer(stdServerConfig(t, "ecdsa")), func(c net.Conn) error { return c.(*tls.Conn).Handshake() })
	_, err := Dial("tcp", addr, cfg)
	var fe *Error
	if !errors.As(err, &fe) || fe.Alert != 42 || !strings.Contains(err.Error(), "pinned key differs") {
		t.Fatalf("dial: %v", err)
	}
	if serr := <-done; serr == nil || !strings.Contains(serr.Error(), "bad certificate") {
		t.Fatalf("crypto/tls server saw %v", serr)
	}
	// With InsecureSkipVerify the hook still runs, as in crypto/tls: it
	// sees the chain, no verified path, and may refuse it.
	for _, refuse := range []bool{false, true} {
		calls := 0
		cfg = &Config{InsecureSkipVerify: true, ServerName: "localhost"}
		cfg.VerifyConnection = func(cs ConnectionState) error {
			calls++
			got = cs
			if refuse {
				return errors.New("not the pinned key")
			}
			return nil
		}
		addr, done = serve(t, stdServer(stdServerConfig(t, "ecdsa")), func(c net.Conn) error { return c.(*tls.Conn).Handshake() })
		c, err := Dial("tcp", addr, cfg)
		serr := <-done
		if calls != 1 || len(got.PeerCertificates) != 1 || len(got.VerifiedChains) != 0 {
			t.Fatalf("refuse=%v: %d calls, the hook saw %+v", refuse, calls, got)
		}
		if refuse {
			if !errors.As(err, &fe) || fe.Alert != 42 || serr == nil {
				t.Fatalf("refusal: %v / %v", err, serr)
			}
		} else {
			if err != nil || serr != nil {
				t.Fatalf("accept: %v / %v", err, serr)
			}
			c.Close()
		}
	}
}

func TestSessionTicketKeysAcrossServers(t *testing.T) {
	pki(t)
	keys := [][32]byte{{1, 2, 3}, {4, 5, 6}}
	s1, s2 := ferruleServerConfig(t), ferruleServerConfig(t)
	if err := s1.SetSessionTicketKeys(keys); err != nil {
		t.Fatal(err)
	}
	if err := s2.SetSessionTicketKeys(keys); err != nil {
		t.Fatal(err)
	}
	other := ferruleServerConfig(t) // its own random key
	cfg := ferruleClientConfig("ecdsa")
	cfg.ClientSessionCache = NewLRUClientSessionCache(2)
	connect := func(s *Config) bool {
		var resumed bool
		addr, done := serve(t, ferruleServer(s), func(c net.Conn) error {
			err := echo(1)(c)
			resumed = c.(*Conn).ConnectionState().DidResume
			return err
		})
		c := dialFerrule(t, addr, cfg)
		roundTrip(t, c, []byte{1})
		did := c.ConnectionState().DidResume
		c.Close()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if did != resumed {
			t.Fatalf("client resumed %v, server %v", did, resumed)
		}
		return did
	}
	if connect(s1) {
		t.Fatal("first connection resumed")
	}
	if !connect(s2) {
		t.Fatal("a server with the same ticket keys did not resume the other's ticket")
	}
	if connect(other) {
		t.Fatal("a server with other keys resumed")
	}
	// The cache now holds other's ticket, which s1 cannot decrypt.
	if connect(s1) {
		t.Fatal("s1 resumed a ticket of another key")
	}
	// Rotation while in use: the previous key still decrypts.
	if err := s1.SetSessionTicketKeys([][32]byte{{9}, {1, 2, 3}}); err != nil {
		t.Fatal(err)
	}
	if !connect(s1) {
		t.Fatal("after rotation, a ticket of the previous key did not resume")
	}
}

// recorder keeps a copy of everything a client writes.
type recorder struct {
	net.Conn
	mu  sync.Mutex
	buf bytes.Buffer
}

func (r *recorder) Write(p []byte) (int, error) {
	r.mu.Lock()
	r.buf.Write(p)
	r.mu.Unlock()
	return r.Conn.Write(p)
}

func TestEarlyDataAndReplay(t *testing.T) {
	pki(t)
	early := &EarlyDataConfig{MaxSize: 4096}
	scfg := ferruleServerConfig(t)
	scfg.EarlyData = early
	ccfg := ferruleClientConfig("ecdsa")
	ccfg.EarlyData = early
	ccfg.ClientSessionCache = NewLRUClientSessionCache(2)

	// A session whose ticket allows early data.
	addr, done := serve(t, ferruleServer(scfg), echo(1))
	c := dialFerrule(t, addr, ccfg)
	roundTrip(t, c, []byte{1})
	c.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}

	// 0-RTT: the server reads the early data first and says which bytes it was.
	req := []byte("GET /idempotent\n")
	var sstate ConnectionState
	addr, done = serve(t, ferruleServer(scfg), func(c net.Conn) error {
		buf := make([]byte, len(req))
		if _, err := io.ReadFull(c, buf); err != nil {
			return err
		}
		sstate = c.(*Conn).ConnectionState()
		if !bytes.Equal(buf, req) {
			return errors.New("early data differs")
		}
		_, err := c.Write([]byte("ok"))
		return err
	})
	raw, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{Conn: raw}
	c = Client(rec, ccfg)
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if n, err := c.WriteReplaySafeEarlyData(req); err != nil || n != len(req) {
		t.Fatalf("early data: %d, %v", n, err)
	}
	if err := c.Handshake(); err != nil {
		t.Fatal(err)
	}
	if st := c.ConnectionState(); st.EarlyData != EarlyDataAccepted || st.EarlyDataLen != len(req) || !st.DidResume {
		t.Fatalf("client state %+v", st)
	}
	ok := make([]byte, 2)
	if _, err := io.ReadFull(c, ok); err != nil {
		t.Fatal(err)
	}
	c.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if sstate.EarlyData != EarlyDataAccepted || sstate.EarlyDataLen != len(req) {
		t.Fatalf("server state %+v", sstate)
	}

	// The same first flight replayed by an attacker: 0-RTT refused.
	rec.mu.Lock()
	flight := append([]byte(nil), rec.buf.Bytes()...)
	rec.mu.Unlock()
	var rstate ConnectionState
	addr, done = serve(t, ferruleServer(scfg), func(c net.Conn) error {
		err := c.(*Conn).Handshake()
		rstate = c.(*Conn).ConnectionState()
		return err
	})
	raw, err = net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	raw.Write(flight)
	raw.(*net.TCPConn).CloseWrite()
	_, _ = io.Copy(io.Discard, raw)
	raw.Close()
	if err := <-done; err == nil {
		t.Fatal("a replayed flight completed a handshake")
	}
	if rstate.EarlyData != EarlyDataRejected {
		t.Fatalf("replayed 0-RTT: %v, want rejected", rstate.EarlyData)
	}

	// Without the declaration there is no way to send early data; on a
	// server the call is refused.
	if _, err := Server(raw, scfg).WriteReplaySafeEarlyData(req); err == nil {
		t.Fatal("early data from a server")
	}
}
