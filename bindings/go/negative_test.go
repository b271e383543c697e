package ferrule

import (
	"bytes"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"sync"
	"testing"
	"time"
)

// Hostile peers written in Go: raw bytes against a ferrule server or
// client, checking the library's error and the alert on the wire.

// clientHello returns a real ClientHello record from crypto/tls.
func clientHello(t testing.TB, cfg *tls.Config) []byte {
	t.Helper()
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	go func() { _ = tls.Client(a, cfg).Handshake() }()
	_ = b.SetReadDeadline(time.Now().Add(5 * time.Second))
	hdr := make([]byte, 5)
	if _, err := io.ReadFull(b, hdr); err != nil {
		t.Fatal(err)
	}
	body := make([]byte, int(hdr[3])<<8|int(hdr[4]))
	if _, err := io.ReadFull(b, body); err != nil {
		t.Fatal(err)
	}
	return append(hdr, body...)
}

// readAlert reads records until a plaintext alert and returns its
// description (-1 if the transport ends first).  Encrypted records (type
// 23 after the ServerHello) are skipped; their alerts are not readable
// here.
func readAlert(c net.Conn) int {
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		hdr := make([]byte, 5)
		if _, err := io.ReadFull(c, hdr); err != nil {
			return -1
		}
		body := make([]byte, int(hdr[3])<<8|int(hdr[4]))
		if _, err := io.ReadFull(c, body); err != nil {
			return -1
		}
		if hdr[0] == 21 && len(body) == 2 && body[0] == 2 {
			return int(body[1])
		}
	}
}

// againstServer sends raw bytes to a ferrule server and returns the
// server's handshake error and the alert it sent.
func againstServer(t *testing.T, cfg *Config, send func(net.Conn)) (error, int) {
	t.Helper()
	addr, done := serve(t, ferruleServer(cfg), func(c net.Conn) error { return c.(*Conn).Handshake() })
	raw, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	send(raw)
	alert := readAlert(raw)
	return <-done, alert
}

func wantError(t *testing.T, err error, sentinel *Error, alert int) {
	t.Helper()
	var fe *Error
	if !errors.Is(err, sentinel) || !errors.As(err, &fe) {
		t.Fatalf("error %v, want status %s", err, statusName(sentinel.Status))
	}
	if fe.Alert != alert {
		t.Fatalf("error %v: alert %d, want %d", err, fe.Alert, alert)
	}
}

func TestServerRefusesHostileClients(t *testing.T) {
	pki(t)
	cfg := ferruleServerConfig(t)
	std := &tls.Config{RootCAs: pkiCAs["ecdsa"].stdPool(), ServerName: "localhost"}
	ch := clientHello(t, std)

	t.Run("garbage", func(t *testing.T) {
		// An HTTP request: record type 'G' is no TLS content type (RFC 8446 §5).
		err, alert := againstServer(t, cfg, func(c net.Conn) { c.Write([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n")) })
		wantError(t, err, ErrDecode, 10)
		if alert != 10 {
			t.Fatalf("alert on the wire %d", alert)
		}
	})
	t.Run("oversized record", func(t *testing.T) {
		// A plaintext record longer than 2^14 (§5.1): record_overflow.
		rec := append([]byte{22, 3, 1, 0x40, 0x01}, make([]byte, 1<<14+1)...)
		err, alert := againstServer(t, cfg, func(c net.Conn) { c.Write(rec) })
		var fe *Error
		if !errors.As(err, &fe) || fe.Alert != 22 || alert != 22 {
			t.Fatalf("error %v, wire alert %d: want record_overflow (22)", err, alert)
		}
	})
	t.Run("application data first", func(t *testing.T) {
		err, alert := againstServer(t, cfg, func(c net.Conn) { c.Write([]byte{23, 3, 3, 0, 3, 1, 2, 3}) })
		// A record type not allowed before any key: bad_content_type, a decode failure.
		wantError(t, err, ErrDecode, 10)
		if alert != 10 {
			t.Fatalf("alert on the wire %d", alert)
		}
	})
	t.Run("truncated", func(t *testing.T) {
		err, alert := againstServer(t, cfg, func(c net.Conn) {
			c.Write(ch[:len(ch)/2])
			c.(*net.TCPConn).CloseWrite()
		})
		if !errors.Is(err, ErrTruncated) {
			t.Fatalf("error %v, want truncation", err)
		}
		_ = alert
	})
	t.Run("alert mid-handshake", func(t *testing.T) {
		err, _ := againstServer(t, cfg, func(c net.Conn) {
			c.Write(ch)
			c.Write([]byte{21, 3, 3, 0, 2, 2, 40}) // fatal handshake_failure
		})
		var fe *Error
		if !errors.Is(err, ErrAlertReceived) || !errors.As(err, &fe) || fe.Alert != 40 || !fe.AlertReceived {
			t.Fatalf("error %v, want the peer's handshake_failure", err)
		}
	})
	t.Run("illegal transition", func(t *testing.T) {
		// A plaintext Finished right after the ClientHello.
		fin := []byte{22, 3, 3, 0, 36, 20, 0, 0, 32}
		fin = append(fin, make([]byte, 32)...)
		err, _ := againstServer(t, cfg, func(c net.Conn) {
			c.Write(ch)
			c.Write(fin)
		})
		var fe *Error
		if !errors.As(err, &fe) || fe.Alert != 10 {
			t.Fatalf("error %v, want unexpected_message (10)", err)
		}
	})
	t.Run("second ClientHello", func(t *testing.T) {
		err, _ := againstServer(t, cfg, func(c net.Conn) {
			c.Write(ch)
			c.Write(ch)
		})
		var fe *Error
		if !errors.As(err, &fe) || fe.Alert != 10 {
			t.Fatalf("error %v, want unexpected_message (10)", err)
		}
	})
}

// flipper forwards a client's bytes to a server, flipping the last byte
// of the first record the client sends (the ClientHello's last binder
// byte when it offers a PSK: pre_shared_key is its last extension).
type flipper struct {
	net.Conn
	once sync.Once
	buf  []byte
	done bool
}

func (f *flipper) Write(p []byte) (int, error) {
	if f.done {
		return f.Conn.Write(p)
	}
	f.buf = append(f.buf, p...)
	if len(f.buf) < 5 {
		return len(p), nil
	}
	n := 5 + (int(f.buf[3])<<8 | int(f.buf[4]))
	if len(f.buf) < n {
		return len(p), nil
	}
	f.buf[n-1] ^= 1
	f.done = true
	if _, err := f.Conn.Write(f.buf); err != nil {
		return 0, err
	}
	return len(p), nil
}

func TestServerRefusesBadBinder(t *testing.T) {
	pki(t)
	cfg := ferruleServerConfig(t)
	ccfg := &tls.Config{RootCAs: pkiCAs["ecdsa"].stdPool(), ServerName: "localhost",
		ClientSessionCache: tls.NewLRUClientSessionCache(2)}
	// A session first.
	addr, done := serve(t, ferruleServer(cfg), echo(1))
	c, err := tls.Dial("tcp", addr, ccfg)
	if err != nil {
		t.Fatal(err)
	}
	roundTrip(t, c, []byte{1})
	c.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	// Then its binder, damaged: decrypt_error (RFC 8446 §4.2.11, §6.2).
	addr, done = serve(t, ferruleServer(cfg), func(c net.Conn) error { return c.(*Conn).Handshake() })
	raw, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	tc := tls.Client(&flipper{Conn: raw}, ccfg)
	_ = tc.SetDeadline(time.Now().Add(10 * time.Second))
	if err := tc.Handshake(); err == nil {
		t.Fatal("handshake with a bad binder succeeded")
	}
	tc.Close()
	serr := <-done
	var fe *Error
	if !errors.As(serr, &fe) || fe.Alert != 51 {
		t.Fatalf("server: %v, want decrypt_error (51)", serr)
	}
}

// againstClient runs a ferrule client against a raw server that answers
// the ClientHello with `reply`.
func againstClient(t *testing.T, reply []byte) (error, int) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	alert := make(chan int, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			alert <- -1
			return
		}
		defer c.Close()
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		hdr := make([]byte, 5)
		if _, err := io.ReadFull(c, hdr); err != nil {
			alert <- -1
			return
		}
		if _, err := io.ReadFull(c, make([]byte, int(hdr[3])<<8|int(hdr[4]))); err != nil {
			alert <- -1
			return
		}
		c.Write(reply)
		alert <- readAlert(c)
	}()
	_, err = Dial("tcp", l.Addr().String(), ferruleClientConfig("ecdsa"))
	return err, <-alert
}

func TestClientRefusesHostileServers(t *testing.T) {
	pki(t)
	t.Run("garbage", func(t *testing.T) {
		err, alert := againstClient(t, []byte("HTTP/1.1 400 Bad Request\r\n\r\n"))
		wantError(t, err, ErrDecode, 10)
		if alert != 10 {
			t.Fatalf("wire alert %d", alert)
		}
	})
	t.Run("oversized record", func(t *testing.T) {
		err, alert := againstClient(t, append([]byte{22, 3, 3, 0x40, 0x01}, make([]byte, 1<<14+1)...))
		var fe *Error
		if !errors.As(err, &fe) || fe.Alert != 22 || alert != 22 {
			t.Fatalf("error %v, wire alert %d: want record_overflow", err, alert)
		}
	})
	t.Run("malformed ServerHello", func(t *testing.T) {
		// A ServerHello whose body ends after its random.
		sh := append([]byte{22, 3, 3, 0, 38, 2, 0, 0, 34, 3, 3}, bytes.Repeat([]byte{1}, 32)...)
		err, alert := againstClient(t, sh)
		wantError(t, err, ErrDecode, 50)
		if alert != 50 {
			t.Fatalf("wire alert %d", alert)
		}
	})
	t.Run("alert instead of ServerHello", func(t *testing.T) {
		err, _ := againstClient(t, []byte{21, 3, 3, 0, 2, 2, 70}) // protocol_version
		var fe *Error
		if !errors.Is(err, ErrAlertReceived) || !errors.As(err, &fe) || fe.Alert != 70 {
			t.Fatalf("error %v", err)
		}
	})
}
