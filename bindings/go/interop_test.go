package ferrule

import (
	"bytes"
	"crypto/sha256"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"testing"
	"time"
)

// Interop with Go's own crypto/tls, an independent TLS 1.3
// implementation, in both roles.

var suites = []uint16{TLS_AES_128_GCM_SHA256, TLS_AES_256_GCM_SHA384, TLS_CHACHA20_POLY1305_SHA256}
var groups = []CurveID{X25519, CurveP256, CurveP384}

// serve accepts one connection on a fresh loopback listener and runs fn
// on it in a goroutine; the returned channel carries fn's error.
func serve(t *testing.T, wrap func(net.Conn) net.Conn, fn func(net.Conn) error) (string, <-chan error) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		defer l.Close()
		raw, err := l.Accept()
		if err != nil {
			done <- err
			return
		}
		c := wrap(raw)
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(30 * time.Second))
		done <- fn(c)
	}()
	return l.Addr().String(), done
}

func stdServer(cfg *tls.Config) func(net.Conn) net.Conn {
	return func(c net.Conn) net.Conn { return tls.Server(c, cfg) }
}

func ferruleServer(cfg *Config) func(net.Conn) net.Conn {
	return func(c net.Conn) net.Conn { return Server(c, cfg) }
}

// echo reads one message of n bytes and writes it back.
func echo(n int) func(net.Conn) error {
	return func(c net.Conn) error {
		buf := make([]byte, n)
		if _, err := io.ReadFull(c, buf); err != nil {
			return fmt.Errorf("server read: %w", err)
		}
		_, err := c.Write(buf)
		return err
	}
}

func ferruleClientConfig(kind string) *Config {
	return &Config{RootCAs: pkiCAs[kind].pool(), ServerName: "localhost"}
}

func stdServerConfig(t *testing.T, kind string) *tls.Config {
	return &tls.Config{Certificates: []tls.Certificate{pkiLeaf[kind].std(t)}, MinVersion: tls.VersionTLS13}
}

func dialFerrule(t *testing.T, addr string, cfg *Config) *Conn {
	t.Helper()
	c, err := Dial("tcp", addr, cfg)
	if err != nil {
		t.Fatalf("ferrule dial: %v", err)
	}
	_ = c.SetDeadline(time.Now().Add(30 * time.Second))
	return c
}

func roundTrip(t *testing.T, c net.Conn, msg []byte) {
	t.Helper()
	if _, err := c.Write(msg); err != nil {
		t.Fatalf("write: %v", err)
	}
	got := make([]byte, len(msg))
	if _, err := io.ReadFull(c, got); err != nil {
		t.Fatalf("read: %v", err)
	}
	if !bytes.Equal(got, msg) {
		t.Fatal("echo differs")
	}
}

func TestClientSuitesGroupsAgainstCryptoTLS(t *testing.T) {
	pki(t)
	for _, s := range suites {
		for _, g := range groups {
			t.Run(fmt.Sprintf("%04x/%d", s, g), func(t *testing.T) {
				scfg := stdServerConfig(t, "ecdsa")
				scfg.CurvePreferences = []tls.CurveID{tls.CurveID(g)}
				addr, done := serve(t, stdServer(scfg), echo(1000))
				cfg := ferruleClientConfig("ecdsa")
				cfg.CipherSuites = []uint16{s}
				cfg.CurvePreferences = []CurveID{g}
				c := dialFerrule(t, addr, cfg)
				defer c.Close()
				roundTrip(t, c, bytes.Repeat([]byte{byte(s)}, 1000))
				st := c.ConnectionState()
				if st.Version != VersionTLS13 || st.CipherSuite != s || st.CurveID != g {
					t.Fatalf("negotiated %x %x %d", st.Version, st.CipherSuite, st.CurveID)
				}
				if len(st.PeerCertificates) != 1 || !st.PeerCertificates[0].Equal(pkiLeaf["ecdsa"].cert) {
					t.Fatal("peer certificate")
				}
				if len(st.VerifiedChains) != 1 || len(st.VerifiedChains[0]) != 2 {
					t.Fatalf("verified chain %v", st.VerifiedChains)
				}
				if err := <-done; err != nil {
					t.Fatal(err)
				}
			})
		}
	}
}

func TestServerSuitesGroupsAgainstCryptoTLS(t *testing.T) {
	pki(t)
	for _, s := range suites {
		for _, g := range groups {
			t.Run(fmt.Sprintf("%04x/%d", s, g), func(t *testing.T) {
				cfg := &Config{Certificates: []Certificate{pkiLeaf["ecdsa"].ferrule(t)},
					CipherSuites: []uint16{s}, CurvePreferences: []CurveID{g}}
				var state ConnectionState
				addr, done := serve(t, ferruleServer(cfg), func(c net.Conn) error {
					err := echo(1000)(c)
					state = c.(*Conn).ConnectionState()
					return err
				})
				// crypto/tls's default client: X25519MLKEM768 and X25519
				// shares first, so P-256 and P-384 take a HelloRetryRequest.
				c, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: pkiCAs["ecdsa"].stdPool(), ServerName: "localhost"})
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				roundTrip(t, c, bytes.Repeat([]byte{7}, 1000))
				cs := c.ConnectionState()
				if cs.CipherSuite != s {
					t.Fatalf("suite %x", cs.CipherSuite)
				}
				if err := <-done; err != nil {
					t.Fatal(err)
				}
				if state.CurveID != g || state.HelloRetryRequest != (g != X25519) {
					t.Fatalf("server saw group %d, HRR %v", state.CurveID, state.HelloRetryRequest)
				}
			})
		}
	}
}

func TestKeyTypesBothWays(t *testing.T) {
	pki(t)
	for _, kind := range []string{"ecdsa", "rsa", "ed25519"} {
		t.Run("ferrule-client/"+kind, func(t *testing.T) {
			addr, done := serve(t, stdServer(stdServerConfig(t, kind)), echo(10))
			c := dialFerrule(t, addr, ferruleClientConfig(kind))
			defer c.Close()
			roundTrip(t, c, []byte("0123456789"))
			if err := <-done; err != nil {
				t.Fatal(err)
			}
		})
		t.Run("ferrule-server/"+kind, func(t *testing.T) {
			cfg := &Config{Certificates: []Certificate{pkiLeaf[kind].ferrule(t)}}
			addr, done := serve(t, ferruleServer(cfg), echo(10))
			c, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: pkiCAs[kind].stdPool(), ServerName: "localhost"})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			roundTrip(t, c, []byte("0123456789"))
			if err := <-done; err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestALPN(t *testing.T) {
	pki(t)
	scfg := stdServerConfig(t, "ecdsa")
	scfg.NextProtos = []string{"h2", "http/1.1"}
	addr, done := serve(t, stdServer(scfg), echo(1))
	cfg := ferruleClientConfig("ecdsa")
	cfg.NextProtos = []string{"http/1.1"}
	c := dialFerrule(t, addr, cfg)
	roundTrip(t, c, []byte{1})
	if p := c.ConnectionState().NegotiatedProtocol; p != "http/1.1" {
		t.Fatalf("ALPN %q", p)
	}
	c.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}

	// No overlap: the ferrule server refuses with no_application_protocol.
	fcfg := &Config{Certificates: []Certificate{pkiLeaf["ecdsa"].ferrule(t)}, NextProtos: []string{"h2"}}
	addr, done = serve(t, ferruleServer(fcfg), func(c net.Conn) error { return c.(*Conn).Handshake() })
	_, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: pkiCAs["ecdsa"].stdPool(), ServerName: "localhost",
		NextProtos: []string{"http/1.1"}})
	if err == nil {
		t.Fatal("crypto/tls accepted a handshake without a common protocol")
	}
	serr := <-done
	var fe *Error
	if !errors.As(serr, &fe) || fe.Alert != 120 || fe.AlertReceived {
		t.Fatalf("server error %v, want our no_application_protocol (120) alert", serr)
	}
}

func TestSNISelectsChain(t *testing.T) {
	pki(t)
	ca := pkiCAs["ecdsa"]
	a, b := ca.leaf(t, "ecdsa", false, "a.test"), ca.leaf(t, "ecdsa", false, "b.test")
	cfg := &Config{Certificates: []Certificate{a.ferrule(t), b.ferrule(t)}}
	for _, tc := range []struct {
		name string
		want *testLeaf
	}{{"a.test", a}, {"b.test", b}} {
		var seen string
		addr, done := serve(t, ferruleServer(cfg), func(c net.Conn) error {
			err := echo(1)(c)
			seen = c.(*Conn).ConnectionState().ServerName
			return err
		})
		c, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: ca.stdPool(), ServerName: tc.name})
		if err != nil {
			t.Fatal(err)
		}
		roundTrip(t, c, []byte{1})
		if !c.ConnectionState().PeerCertificates[0].Equal(tc.want.cert) {
			t.Fatalf("%s: wrong chain", tc.name)
		}
		c.Close()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if seen != tc.name {
			t.Fatalf("server name %q", seen)
		}
	}
}

func TestClientAuth(t *testing.T) {
	pki(t)
	ca := pkiCAs["ecdsa"]
	// A ferrule server requiring a certificate; crypto/tls client with one.
	cfg := &Config{Certificates: []Certificate{pkiLeaf["ecdsa"].ferrule(t)},
		ClientAuth: RequireAndVerifyClientCert, ClientCAs: ca.pool()}
	var peer ConnectionState
	addr, done := serve(t, ferruleServer(cfg), func(c net.Conn) error {
		err := echo(1)(c)
		peer = c.(*Conn).ConnectionState()
		return err
	})
	c, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: ca.stdPool(), ServerName: "localhost",
		Certificates: []tls.Certificate{pkiCli["ecdsa"].std(t)}})
	if err != nil {
		t.Fatal(err)
	}
	roundTrip(t, c, []byte{1})
	c.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if len(peer.PeerCertificates) != 1 || !peer.PeerCertificates[0].Equal(pkiCli["ecdsa"].cert) {
		t.Fatal("server did not see the client certificate")
	}

	// Without a certificate: certificate_required (116).
	addr, done = serve(t, ferruleServer(cfg), func(c net.Conn) error { return c.(*Conn).Handshake() })
	c, err = tls.Dial("tcp", addr, &tls.Config{RootCAs: ca.stdPool(), ServerName: "localhost"})
	if err == nil {
		// The client's handshake ends before the server's verdict.
		_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
		_, err = c.Read(make([]byte, 1))
		c.Close()
	}
	if err == nil || !bytes.Contains([]byte(err.Error()), []byte("certificate required")) {
		t.Fatalf("crypto/tls client saw %v", err)
	}
	serr := <-done
	if !errors.Is(serr, ErrCertificate) && !errors.Is(serr, ErrAlertSent) {
		t.Fatalf("server: %v", serr)
	}
	var fe *Error
	if !errors.As(serr, &fe) || fe.Alert != 116 {
		t.Fatalf("server alert %v", serr)
	}

	// A ferrule client with a certificate against crypto/tls requiring one.
	scfg := stdServerConfig(t, "ecdsa")
	scfg.ClientAuth = tls.RequireAndVerifyClientCert
	scfg.ClientCAs = ca.stdPool()
	addr, done = serve(t, stdServer(scfg), echo(1))
	fcfg := ferruleClientConfig("ecdsa")
	fcfg.Certificates = []Certificate{pkiCli["ecdsa"].ferrule(t)}
	fc := dialFerrule(t, addr, fcfg)
	roundTrip(t, fc, []byte{2})
	fc.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestResumptionBothWays(t *testing.T) {
	pki(t)
	// ferrule client, crypto/tls server.
	scfg := stdServerConfig(t, "ecdsa")
	cfg := ferruleClientConfig("ecdsa")
	cfg.ClientSessionCache = NewLRUClientSessionCache(4)
	for i := 0; i < 2; i++ {
		addr, done := serve(t, stdServer(scfg), func(c net.Conn) error {
			if err := echo(1)(c); err != nil {
				return err
			}
			if r := c.(*tls.Conn).ConnectionState().DidResume; r != (i == 1) {
				return fmt.Errorf("crypto/tls server: resumed %v on connection %d", r, i)
			}
			return nil
		})
		c := dialFerrule(t, addr, cfg)
		roundTrip(t, c, []byte{1})
		if r := c.ConnectionState().DidResume; r != (i == 1) {
			t.Fatalf("ferrule client: resumed %v on connection %d", r, i)
		}
		c.Close()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}

	// crypto/tls client, ferrule server.
	fcfg := &Config{Certificates: []Certificate{pkiLeaf["ecdsa"].ferrule(t)}}
	ccfg := &tls.Config{RootCAs: pkiCAs["ecdsa"].stdPool(), ServerName: "localhost",
		ClientSessionCache: tls.NewLRUClientSessionCache(4)}
	for i := 0; i < 2; i++ {
		var resumed bool
		addr, done := serve(t, ferruleServer(fcfg), func(c net.Conn) error {
			err := echo(1)(c)
			resumed = c.(*Conn).ConnectionState().DidResume
			return err
		})
		c, err := tls.Dial("tcp", addr, ccfg)
		if err != nil {
			t.Fatal(err)
		}
		roundTrip(t, c, []byte{1}) // reads the tickets too
		if r := c.ConnectionState().DidResume; r != (i == 1) {
			t.Fatalf("crypto/tls client: resumed %v on connection %d", r, i)
		}
		c.Close()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if resumed != (i == 1) {
			t.Fatalf("ferrule server: resumed %v on connection %d", resumed, i)
		}
	}
}

func TestKeyUpdateWithCryptoTLS(t *testing.T) {
	pki(t)
	addr, done := serve(t, stdServer(stdServerConfig(t, "ecdsa")), func(c net.Conn) error {
		for i := 0; i < 3; i++ {
			if err := echo(100)(c); err != nil {
				return err
			}
		}
		return nil
	})
	c := dialFerrule(t, addr, ferruleClientConfig("ecdsa"))
	defer c.Close()
	for i := 0; i < 3; i++ {
		roundTrip(t, c, bytes.Repeat([]byte{byte(i)}, 100))
		// Ours change now; crypto/tls is asked to change its own too.
		if err := c.KeyUpdate(true); err != nil {
			t.Fatal(err)
		}
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	// crypto/tls answered each request with a KeyUpdate of its own (read
	// with the echoes that followed).
	if sent, recv := c.keyUpdates(); sent != 3 || recv < 2 {
		t.Fatalf("key updates sent %d, received %d", sent, recv)
	}

	// The other way round: a ferrule server updating its keys, asking a
	// crypto/tls client to update its own.
	addr, done = serve(t, ferruleServer(ferruleServerConfig(t)), func(c net.Conn) error {
		fc := c.(*Conn)
		for i := 0; i < 3; i++ {
			if err := fc.KeyUpdate(true); err != nil {
				return err
			}
			if err := echo(100)(c); err != nil {
				return err
			}
		}
		if sent, recv := fc.keyUpdates(); sent != 3 || recv < 2 { // the last answer may still be on its way
			return fmt.Errorf("server: key updates sent %d, received %d", sent, recv)
		}
		return nil
	})
	sc, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: pkiCAs["ecdsa"].stdPool(), ServerName: "localhost"})
	if err != nil {
		t.Fatal(err)
	}
	defer sc.Close()
	for i := 0; i < 3; i++ {
		roundTrip(t, sc, bytes.Repeat([]byte{byte(i)}, 100))
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// bulk sends n bytes each way at once and compares digests.
func bulk(t *testing.T, c net.Conn, n int) {
	t.Helper()
	data := make([]byte, n)
	for i := range data {
		data[i] = byte(i*7 + i>>11)
	}
	want := sha256.Sum256(data)
	werr := make(chan error, 1)
	go func() {
		_, err := c.Write(data)
		werr <- err
	}()
	h := sha256.New()
	if _, err := io.CopyN(h, c, int64(n)); err != nil {
		t.Fatalf("bulk read: %v", err)
	}
	if err := <-werr; err != nil {
		t.Fatalf("bulk write: %v", err)
	}
	if !bytes.Equal(h.Sum(nil), want[:]) {
		t.Fatal("bulk data differs")
	}
}

// bulkEcho copies n bytes back to the sender as they come.
func bulkEcho(n int) func(net.Conn) error {
	return func(c net.Conn) error {
		_, err := io.CopyN(c, c, int64(n))
		return err
	}
}

func TestBulk8MiBBothWays(t *testing.T) {
	pki(t)
	const n = 8 << 20
	addr, done := serve(t, stdServer(stdServerConfig(t, "ecdsa")), bulkEcho(n))
	c := dialFerrule(t, addr, ferruleClientConfig("ecdsa"))
	bulk(t, c, n)
	c.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}

	cfg := &Config{Certificates: []Certificate{pkiLeaf["ecdsa"].ferrule(t)}}
	addr, done = serve(t, ferruleServer(cfg), bulkEcho(n))
	sc, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: pkiCAs["ecdsa"].stdPool(), ServerName: "localhost"})
	if err != nil {
		t.Fatal(err)
	}
	bulk(t, sc, n)
	sc.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestCloseNotifyAndTruncation(t *testing.T) {
	pki(t)
	// Our close_notify reaches crypto/tls as io.EOF.
	addr, done := serve(t, stdServer(stdServerConfig(t, "ecdsa")), func(c net.Conn) error {
		n, err := c.Read(make([]byte, 10))
		if n != 0 || err != io.EOF {
			return fmt.Errorf("crypto/tls server read %d, %v; want io.EOF", n, err)
		}
		return nil
	})
	c := dialFerrule(t, addr, ferruleClientConfig("ecdsa"))
	if err := c.Handshake(); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}

	// crypto/tls's close_notify is io.EOF for us.
	addr, done = serve(t, stdServer(stdServerConfig(t, "ecdsa")), func(c net.Conn) error {
		return c.(*tls.Conn).Handshake()
	})
	c = dialFerrule(t, addr, ferruleClientConfig("ecdsa"))
	if _, err := c.Read(make([]byte, 10)); err != io.EOF {
		t.Fatalf("read after close_notify: %v", err)
	}
	c.Close()
	<-done

	// A transport that just ends: truncation, not io.EOF.
	addr, done = serve(t, stdServer(stdServerConfig(t, "ecdsa")), func(c net.Conn) error {
		tc := c.(*tls.Conn)
		if err := tc.Handshake(); err != nil {
			return err
		}
		return tc.NetConn().Close()
	})
	c = dialFerrule(t, addr, ferruleClientConfig("ecdsa"))
	_, err := c.Read(make([]byte, 10))
	if !errors.Is(err, ErrTruncated) {
		t.Fatalf("read after a bare transport close: %v", err)
	}
	c.Close()
	<-done

	// And the ferrule server sees a crypto/tls client's bare close the same way.
	cfg := &Config{Certificates: []Certificate{pkiLeaf["ecdsa"].ferrule(t)}}
	addr, done = serve(t, ferruleServer(cfg), func(c net.Conn) error {
		_, err := c.Read(make([]byte, 10))
		if !errors.Is(err, ErrTruncated) {
			return fmt.Errorf("ferrule server read: %v, want truncation", err)
		}
		return nil
	})
	sc, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: pkiCAs["ecdsa"].stdPool(), ServerName: "localhost"})
	if err != nil {
		t.Fatal(err)
	}
	sc.NetConn().Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestExporterMatchesCryptoTLS(t *testing.T) {
	pki(t)
	got := make(chan []byte, 1)
	addr, done := serve(t, stdServer(stdServerConfig(t, "ecdsa")), func(c net.Conn) error {
		tc := c.(*tls.Conn)
		if err := tc.Handshake(); err != nil {
			return err
		}
		cs := tc.ConnectionState()
		k, err := cs.ExportKeyingMaterial("EXPORTER-ferrule-test", []byte("ctx"), 42)
		got <- k
		if err != nil {
			return err
		}
		return echo(1)(c)
	})
	c := dialFerrule(t, addr, ferruleClientConfig("ecdsa"))
	defer c.Close()
	roundTrip(t, c, []byte{1})
	st := c.ConnectionState()
	ours, err := st.ExportKeyingMaterial("EXPORTER-ferrule-test", []byte("ctx"), 42)
	if err != nil {
		t.Fatal(err)
	}
	if theirs := <-got; !bytes.Equal(ours, theirs) {
		t.Fatalf("exporter differs:\n ours   %x\n theirs %x", ours, theirs)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestVerificationFailureIsTypedError(t *testing.T) {
	pki(t)
	// A server whose chain ends at a root the client does not trust.
	addr, done := serve(t, stdServer(stdServerConfig(t, "rsa")), func(c net.Conn) error {
		return c.(*tls.Conn).Handshake()
	})
	_, err := Dial("tcp", addr, ferruleClientConfig("ecdsa"))
	var fe *Error
	if !errors.Is(err, ErrCertificate) || !errors.As(err, &fe) {
		t.Fatalf("dial: %v, want a certificate error", err)
	}
	if fe.Alert < 0 || fe.AlertReceived || ReasonName(fe.Reason) == "" {
		t.Fatalf("error %+v", fe)
	}
	if serr := <-done; serr == nil {
		t.Fatal("crypto/tls server saw no alert")
	}
	// A wrong name.
	addr, done = serve(t, stdServer(stdServerConfig(t, "ecdsa")), func(c net.Conn) error {
		return c.(*tls.Conn).Handshake()
	})
	cfg := ferruleClientConfig("ecdsa")
	cfg.ServerName = "other.test"
	if _, err := Dial("tcp", addr, cfg); !errors.Is(err, ErrCertificate) {
		t.Fatalf("wrong name: %v", err)
	}
	<-done
}
