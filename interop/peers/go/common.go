// ferrule-go-peer: a TLS 1.3 peer built on Go's crypto/tls, for ferrule's
// interop tests (interop/test_go.py).  See README.md for the flags.
package main

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Group code points (IANA TLS Supported Groups) and the names ferrule uses
// for them, so the tests can compare both ends' reports directly.
var groupNames = map[tls.CurveID]string{
	tls.X25519:    "x25519",
	tls.CurveP256: "secp256r1",
	tls.CurveP384: "secp384r1",
	tls.CurveP521: "secp521r1",
	0x11ec:        "X25519MLKEM768",
}

func groupName(id uint16) interface{} {
	if id == 0 {
		return nil
	}
	if n, ok := groupNames[tls.CurveID(id)]; ok {
		return n
	}
	return fmt.Sprintf("0x%04x", id)
}

// parseCurves reads --curves: IANA names (x25519, secp256r1, secp384r1) or
// Go's (X25519, P-256, P-384, P-521), comma separated, in preference order.
func parseCurves(s string) ([]tls.CurveID, error) {
	if s == "" {
		return nil, nil
	}
	alias := map[string]tls.CurveID{
		"x25519": tls.X25519, "secp256r1": tls.CurveP256, "p-256": tls.CurveP256,
		"secp384r1": tls.CurveP384, "p-384": tls.CurveP384,
		"secp521r1": tls.CurveP521, "p-521": tls.CurveP521,
	}
	var out []tls.CurveID
	for _, name := range strings.Split(s, ",") {
		id, ok := alias[strings.ToLower(strings.TrimSpace(name))]
		if !ok {
			return nil, fmt.Errorf("unknown curve %q (x25519, secp256r1/P-256, secp384r1/P-384, secp521r1/P-521)", name)
		}
		out = append(out, id)
	}
	return out, nil
}

func parseALPN(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

func parseOnOff(name, s string) (bool, error) {
	switch s {
	case "on":
		return true, nil
	case "off":
		return false, nil
	}
	return false, fmt.Errorf("--%s: want on or off, got %q", name, s)
}

// loadPool reads a PEM file of trust anchors.
func loadPool(path string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%s: no PEM certificate found", path)
	}
	return pool, nil
}

func versionName(v uint16) interface{} {
	switch v {
	case 0:
		return nil
	case tls.VersionTLS13:
		return "TLSv1.3"
	case tls.VersionTLS12:
		return "TLSv1.2"
	}
	return fmt.Sprintf("0x%04x", v)
}

// unescape decodes \r \n \t \\ \0 \xHH, the escapes of ferrule client
// --request, so both tools take the same request strings.
func unescape(s string) ([]byte, error) {
	var out []byte
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' {
			out = append(out, s[i])
			continue
		}
		if i+1 >= len(s) {
			return nil, errors.New("trailing backslash")
		}
		i++
		switch s[i] {
		case 'r':
			out = append(out, '\r')
		case 'n':
			out = append(out, '\n')
		case 't':
			out = append(out, '\t')
		case '\\':
			out = append(out, '\\')
		case '0':
			out = append(out, 0)
		case 'x':
			if i+2 >= len(s) {
				return nil, errors.New(`\x needs two hex digits`)
			}
			b, err := strconv.ParseUint(s[i+1:i+3], 16, 8)
			if err != nil {
				return nil, fmt.Errorf(`bad \x escape %q`, s[i-1:i+3])
			}
			out = append(out, byte(b))
			i += 2
		default:
			return nil, fmt.Errorf(`unknown escape \%c`, s[i])
		}
	}
	return out, nil
}

// report is the JSON line printed for every connection, by either role.
type report struct {
	Role        string      `json:"role"`
	Go          string      `json:"go"` // runtime.Version(): crypto/tls differs by release
	Conn        int         `json:"conn"`
	Handshake   bool        `json:"handshake"`
	Version     interface{} `json:"version"`
	Cipher      interface{} `json:"cipher"`
	Group       interface{} `json:"group"`
	HRR         interface{} `json:"hrr"`
	DidResume   bool        `json:"did_resume"`
	ALPN        interface{} `json:"alpn"`
	ServerName  interface{} `json:"server_name"`
	PeerCerts   int         `json:"peer_certs"`
	Received    string      `json:"received"`
	ReceivedLen int         `json:"received_len"`
	Error       interface{} `json:"error"`
}

func newReport(role string, n int) *report {
	return &report{Role: role, Go: runtime.Version(), Conn: n}
}

// fill records what the handshake negotiated.  The group and HRR come from
// the ServerHello seen on the wire (crypto/tls of Go 1.19 exposes neither).
func (r *report) fill(st tls.ConnectionState, sn *helloSniffer) {
	r.Handshake = st.HandshakeComplete
	r.Version = versionName(st.Version)
	r.Cipher = tls.CipherSuiteName(st.CipherSuite)
	r.DidResume = st.DidResume
	if st.NegotiatedProtocol != "" {
		r.ALPN = st.NegotiatedProtocol
	}
	if st.ServerName != "" {
		r.ServerName = st.ServerName
	}
	r.PeerCerts = len(st.PeerCertificates)
	if sn.seen || sn.hrr {
		r.HRR = sn.hrr
	}
	if sn.seen {
		r.Group = groupName(sn.group)
	}
}

var printMu sync.Mutex

// emit prints the report as one line on stdout.  Received bytes that are
// not UTF-8 are shown with U+FFFD (encoding/json); received_len is exact.
func (r *report) emit(err error) {
	if err != nil {
		r.Error = err.Error()
	}
	b, _ := json.Marshal(r)
	printMu.Lock()
	defer printMu.Unlock()
	os.Stdout.Write(append(b, '\n'))
}

// sniffConn passes one direction of a connection's bytes to a helloSniffer:
// a client watches what it reads, a server what it writes.
type sniffConn struct {
	net.Conn
	sn      *helloSniffer
	onReads bool
}

func (c *sniffConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if c.onReads {
		c.sn.feed(p[:n])
	}
	return n, err
}

func (c *sniffConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	if !c.onReads {
		c.sn.feed(p[:n])
	}
	return n, err
}

func seconds(f float64) time.Duration {
	return time.Duration(f * float64(time.Second))
}

func fatalf(format string, a ...interface{}) {
	fmt.Fprintf(os.Stderr, "ferrule-go-peer: "+format+"\n", a...)
	os.Exit(2)
}
