package ferrule

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a goroutine-safe bytes.Buffer.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) lines() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(s.b.Bytes()))
	for sc.Scan() {
		out = append(out, sc.Text())
	}
	sort.Strings(out)
	return out
}

// Both ends log the same secrets, in the NSS key-log format (ours adds
// EXPORTER_SECRET).
func TestKeyLogWriterMatchesCryptoTLS(t *testing.T) {
	pki(t)
	var ours, theirs syncBuffer
	scfg := stdServerConfig(t, "ecdsa")
	scfg.KeyLogWriter = &theirs
	addr, done := serve(t, stdServer(scfg), echo(1))
	cfg := ferruleClientConfig("ecdsa")
	cfg.KeyLogWriter = &ours
	c := dialFerrule(t, addr, cfg)
	roundTrip(t, c, []byte{1})
	c.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	// crypto/tls does not log EXPORTER_SECRET; every other line is the same.
	var o []string
	for _, l := range ours.lines() {
		if !strings.HasPrefix(l, "EXPORTER_SECRET ") {
			o = append(o, l)
		}
	}
	th := theirs.lines()
	if len(ours.lines()) != 5 || len(o) != 4 || strings.Join(o, "\n") != strings.Join(th, "\n") {
		t.Fatalf("key logs differ:\nours:\n%s\ncrypto/tls:\n%s", strings.Join(o, "\n"), strings.Join(th, "\n"))
	}
}

// Config.Time is the clock of certificate validity.
func TestConfigTime(t *testing.T) {
	pki(t)
	cfg := ferruleClientConfig("ecdsa")
	cfg.Time = func() time.Time { return time.Now().Add(48 * time.Hour) } // past the leaf's NotAfter
	addr, done := serve(t, stdServer(stdServerConfig(t, "ecdsa")), func(c net.Conn) error { return c.(*tls.Conn).Handshake() })
	_, err := Dial("tcp", addr, cfg)
	var fe *Error
	if !errors.As(err, &fe) || fe.Status != StatusCertificate || ReasonName(fe.Reason) != "cert_expired" {
		t.Fatalf("dial with a clock two days ahead: %v", err)
	}
	<-done
}

func TestVersionsOtherThanTLS13AreRefused(t *testing.T) {
	pki(t)
	cfg := ferruleClientConfig("ecdsa")
	cfg.MinVersion = tls.VersionTLS12
	c := Client(nil, cfg)
	if err := c.Handshake(); !errors.Is(err, errVersion) {
		t.Fatalf("MinVersion TLS 1.2: %v", err)
	}
}

// ocspResponse makes a DER OCSP response for leaf with the openssl CLI.
func ocspResponse(t *testing.T, ca *testCA, leaf *testLeaf, status string) []byte {
	t.Helper()
	dir := t.TempDir()
	w := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	caPEM := w("ca.pem", ca.pem)
	caKey := w("ca.key", keyPEM(t, ca.key))
	leafPEM := w("leaf.pem", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: leaf.cert.Raw}))
	exp := leaf.cert.NotAfter.UTC().Format("060102150405Z")
	line := fmt.Sprintf("%s\t%s\t%s\t%X\tunknown\t/CN=leaf\n", status, exp,
		map[string]string{"V": "", "R": time.Now().Add(-time.Minute).UTC().Format("060102150405Z")}[status], leaf.cert.SerialNumber)
	idx := w("index.txt", []byte(line))
	req, resp := filepath.Join(dir, "req.der"), filepath.Join(dir, "resp.der")
	for _, args := range [][]string{
		{"ocsp", "-issuer", caPEM, "-cert", leafPEM, "-no_nonce", "-reqout", req},
		{"ocsp", "-index", idx, "-rsigner", caPEM, "-rkey", caKey, "-CA", caPEM, "-reqin", req, "-respout", resp, "-ndays", "1"},
	} {
		if out, err := exec.Command("openssl", args...).CombinedOutput(); err != nil {
			t.Fatalf("openssl %v: %v\n%s", args, err, out)
		}
	}
	der, err := os.ReadFile(resp)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func TestOCSPStapling(t *testing.T) {
	pki(t)
	ca := pkiCAs["ecdsa"]
	leaf := pkiLeaf["ecdsa"]
	good, revoked := ocspResponse(t, ca, leaf, "V"), ocspResponse(t, ca, leaf, "R")
	run := func(staple []byte, require bool) (ConnectionState, error) {
		cert := leaf.ferrule(t)
		cert.OCSPStaple = staple
		scfg := &Config{Certificates: []Certificate{cert}}
		addr, done := serve(t, ferruleServer(scfg), func(c net.Conn) error { return c.(*Conn).Handshake() })
		cfg := ferruleClientConfig("ecdsa")
		cfg.RequireOCSPStaple = require
		c, err := Dial("tcp", addr, cfg)
		<-done
		if err != nil {
			return ConnectionState{}, err
		}
		defer c.Close()
		return c.ConnectionState(), nil
	}
	if st, err := run(good, true); err != nil || !st.OCSPStapled {
		t.Fatalf("good staple: %+v, %v", st.OCSPStapled, err)
	}
	if st, err := run(nil, false); err != nil || st.OCSPStapled {
		t.Fatalf("no staple, not required: %v, %v", st.OCSPStapled, err)
	}
	if _, err := run(nil, true); !errors.Is(err, ErrCertificate) {
		t.Fatalf("no staple, required: %v", err)
	}
	_, err := run(revoked, false)
	var fe *Error
	if !errors.As(err, &fe) || ReasonName(fe.Reason) != "cert_revoked" {
		t.Fatalf("revoked staple: %v", err)
	}
	// crypto/tls as the client sees our staple too.
	cert := leaf.ferrule(t)
	cert.OCSPStaple = good
	addr, done := serve(t, ferruleServer(&Config{Certificates: []Certificate{cert}}), echo(1))
	sc, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: ca.stdPool(), ServerName: "localhost"})
	if err != nil {
		t.Fatal(err)
	}
	roundTrip(t, sc, []byte{1})
	if !bytes.Equal(sc.ConnectionState().OCSPResponse, good) {
		t.Fatal("crypto/tls did not receive the staple")
	}
	sc.Close()
	<-done
}
