package ferrule

import (
	"bytes"
	"crypto/tls"
	"errors"
	"net"
	"testing"
	"time"
)

// flightConn is a transport that delivers one fixed client flight and then
// EOF, and discards what the server writes.
type flightConn struct {
	r *bytes.Reader
}

func (f *flightConn) Read(p []byte) (int, error)       { return f.r.Read(p) }
func (f *flightConn) Write(p []byte) (int, error)      { return len(p), nil }
func (f *flightConn) Close() error                     { return nil }
func (f *flightConn) LocalAddr() net.Addr              { return &net.TCPAddr{} }
func (f *flightConn) RemoteAddr() net.Addr             { return &net.TCPAddr{} }
func (f *flightConn) SetDeadline(time.Time) error      { return nil }
func (f *flightConn) SetReadDeadline(time.Time) error  { return nil }
func (f *flightConn) SetWriteDeadline(time.Time) error { return nil }

// FuzzServer feeds a fuzzed client flight to a ferrule server: whatever
// the bytes, the handshake ends with a library error (or a truncation
// at EOF) and nothing crashes, leaks or hangs.  `go test` replays the
// seeds; `go test -fuzz FuzzServer` explores.
func FuzzServer(f *testing.F) {
	pki(f)
	for _, cfg := range []*tls.Config{
		{ServerName: "localhost"},
		{ServerName: "localhost", NextProtos: []string{"h2", "http/1.1"}},
		{ServerName: "localhost", CurvePreferences: []tls.CurveID{tls.CurveP256}},
		{ServerName: "localhost", CipherSuites: nil, MinVersion: tls.VersionTLS12},
	} {
		ch := clientHello(f, cfg)
		f.Add(ch)
		f.Add(ch[:len(ch)/2])
		f.Add(append(append([]byte{}, ch...), 21, 3, 3, 0, 2, 2, 40))
	}
	f.Add([]byte("GET / HTTP/1.1\r\n\r\n"))
	f.Add([]byte{22, 3, 1, 0, 0})
	f.Add(append([]byte{22, 3, 1, 0x40, 0x01}, make([]byte, 1<<14+1)...))
	scfg := &Config{Certificates: []Certificate{pkiLeaf["ecdsa"].ferrule(f)}}
	f.Fuzz(func(t *testing.T, flight []byte) {
		c := Server(&flightConn{r: bytes.NewReader(flight)}, scfg)
		err := c.Handshake()
		if err == nil {
			t.Fatal("a handshake completed against a one-flight client")
		}
		var fe *Error
		if !errors.As(err, &fe) {
			t.Fatalf("error %v is not a library error", err)
		}
		c.Close()
	})
}
