package main

// The `v1` command set: interop/peers/PROTOCOL.md (the interop matrix's
// peer protocol), kept apart from the older server/client commands that
// interop/test_go.py drives.

import (
	"crypto/tls"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"reflect"
	"runtime"
	"strings"
	"time"
)

const v1Usage = `usage: ferrule-go-peer v1 caps
       ferrule-go-peer v1 server --cert CHAIN.pem --key KEY.pem [flags]
       ferrule-go-peer v1 client --connect HOST:PORT --ca ROOT.pem [flags]
(interop/peers/PROTOCOL.md; README.md lists what crypto/tls cannot do)
`

// Features crypto/tls lacks: the caps reasons, also the usage error of the
// matching flags.
const (
	naSuites     = "crypto/tls has no API to choose TLS 1.3 cipher suites (all three are always enabled)"
	naEarlyData  = "crypto/tls does not implement 0-RTT early data (its tickets never allow it, its client never sends it)"
	naKeyUpdate  = "crypto/tls has no API to send a KeyUpdate (it only answers the peer's)"
	naRecordSize = "crypto/tls does not implement the record_size_limit extension (RFC 8449)"
)

func v1Caps() map[string]interface{} {
	return map[string]interface{}{
		"suites":            naSuites,
		"groups":            true,
		"hrr":               true,
		"resumption":        true,
		"early_data":        naEarlyData,
		"key_update":        naKeyUpdate,
		"client_auth":       true,
		"alpn":              true,
		"sni":               true,
		"ocsp":              true,
		"record_size_limit": naRecordSize,
	}
}

func v1Main(args []string) {
	// go.mod says go 1.19, so a newer toolchain runs this program with the
	// GODEBUG defaults of Go 1.19: no hybrid post-quantum groups.  The
	// matrix wants Go as it ships (X25519MLKEM768 offered first), so turn
	// them back on; a GODEBUG from the environment still wins (the last
	// setting of a key counts).  Go releases without these keys ignore them.
	os.Setenv("GODEBUG", "tlsmlkem=1,tlssecpmlkem=1,"+os.Getenv("GODEBUG"))
	if len(args) < 1 {
		fmt.Fprint(os.Stderr, v1Usage)
		os.Exit(2)
	}
	switch args[0] {
	case "caps":
		if len(args) != 1 {
			v1Fatal("caps takes no flags")
		}
		b, _ := json.Marshal(map[string]interface{}{
			"impl": "go", "version": runtime.Version(), "features": v1Caps(),
		})
		os.Stdout.Write(append(b, '\n'))
	case "server":
		v1Server(args[1:])
	case "client":
		v1Client(args[1:])
	default:
		fmt.Fprint(os.Stderr, v1Usage)
		os.Exit(2)
	}
}

// v1Fatal is a usage error: exit status 2.
func v1Fatal(format string, a ...interface{}) {
	fmt.Fprintf(os.Stderr, "ferrule-go-peer v1: "+format+"\n", a...)
	os.Exit(2)
}

// v1Report is the per-connection JSON line of PROTOCOL.md, keys in its order.
type v1Report struct {
	Role           string      `json:"role"`
	Impl           string      `json:"impl"`
	Conn           int         `json:"conn"`
	OK             bool        `json:"ok"`
	Error          interface{} `json:"error"`
	Alert          interface{} `json:"alert"`
	Version        interface{} `json:"version"`
	Cipher         interface{} `json:"cipher"`
	Group          interface{} `json:"group"`
	Resumed        interface{} `json:"resumed"`
	EarlyData      interface{} `json:"early_data"`
	ALPN           interface{} `json:"alpn"`
	ServerName     interface{} `json:"server_name"`
	PeerCerts      interface{} `json:"peer_certs"`
	OCSPStapled    interface{} `json:"ocsp_stapled"`
	KeyUpdatesSent int         `json:"key_updates_sent"`
	Sent           int64       `json:"sent"`
	Received       int64       `json:"received"`
	EchoOK         interface{} `json:"echo_ok"`
	Close          interface{} `json:"close"`
}

func (r *v1Report) fill(st tls.ConnectionState, sn *helloSniffer) {
	r.Version = versionName(st.Version)
	if st.CipherSuite != 0 {
		r.Cipher = tls.CipherSuiteName(st.CipherSuite)
	}
	if sn.seen {
		r.Group = groupName(sn.group)
	}
	r.Resumed = st.DidResume
	if st.NegotiatedProtocol != "" {
		r.ALPN = st.NegotiatedProtocol
	}
	r.PeerCerts = len(st.PeerCertificates)
}

func (r *v1Report) emit() {
	b, _ := json.Marshal(r)
	printMu.Lock()
	defer printMu.Unlock()
	os.Stdout.Write(append(b, '\n'))
}

// setError records the first error of a connection and the alert behind
// it: one received (in the error), else one this side sent (kept by the
// Conn; see sentAlert).
func (r *v1Report) setError(err error, c *tls.Conn) {
	if err == nil || r.Error != nil {
		return
	}
	r.Error = err.Error()
	if a := receivedAlert(err); a != nil {
		r.Alert = a
	} else if c != nil {
		if a := sentAlert(c); a != nil {
			r.Alert = a
		}
	}
}

// eofConn notes whether the TCP stream reached its end.  crypto/tls's Read
// returns io.EOF both for the peer's close_notify and for a TCP EOF at a
// record boundary (it accepts the latter as a clean close, for web sites
// that do it); only a TCP EOF makes the socket's own Read return io.EOF,
// and after a close_notify crypto/tls reads no further.
type eofConn struct {
	net.Conn
	sawEOF bool
}

func (c *eofConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if err == io.EOF {
		c.sawEOF = true
	}
	return n, err
}

// closeKind classifies how reading ended: io.EOF without a TCP EOF is the
// peer's close_notify, io.ErrUnexpectedEOF (mid-record) or io.EOF after a
// TCP EOF is truncation.
func closeKind(err error, ec *eofConn) string {
	switch {
	case err == io.EOF && !ec.sawEOF:
		return "close_notify"
	case err == io.EOF, errors.Is(err, io.ErrUnexpectedEOF):
		return "eof"
	}
	return "error"
}

// IANA TLS alert names, by code (crypto/tls's own texts differ).
var alertNames = map[uint64]string{
	0: "close_notify", 10: "unexpected_message", 20: "bad_record_mac",
	22: "record_overflow", 40: "handshake_failure", 42: "bad_certificate",
	43: "unsupported_certificate", 44: "certificate_revoked",
	45: "certificate_expired", 46: "certificate_unknown",
	47: "illegal_parameter", 48: "unknown_ca", 49: "access_denied",
	50: "decode_error", 51: "decrypt_error", 70: "protocol_version",
	71: "insufficient_security", 80: "internal_error",
	86: "inappropriate_fallback", 90: "user_canceled",
	109: "missing_extension", 110: "unsupported_extension",
	112: "unrecognized_name", 113: "bad_certificate_status_response",
	115: "unknown_psk_identity", 116: "certificate_required",
	120: "no_application_protocol", 121: "ech_required",
}

// alertCode reads the code of crypto/tls's unexported alert type (a uint8)
// out of a net.OpError's Err.
func alertCode(e error) interface{} {
	v := reflect.ValueOf(e)
	if !v.IsValid() || v.Kind() != reflect.Uint8 || v.Type().Name() != "alert" {
		return nil
	}
	if n, ok := alertNames[v.Uint()]; ok {
		return n
	}
	return fmt.Sprintf("alert_%d", v.Uint())
}

// receivedAlert: crypto/tls reports a received alert as
// net.OpError{Op: "remote error", Err: alert}.
func receivedAlert(err error) interface{} {
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "remote error" {
		return alertCode(op.Err)
	}
	return nil
}

// sentAlert: crypto/tls keeps the alert it sent as the Conn's write-side
// error, net.OpError{Op: "local error", Err: alert} (wrapped in a
// permanentError), and returns a plain
// error from Handshake.  There is no API for it, so it is read with reflect
// (read-only); a crypto/tls whose fields differ just gives null.
func sentAlert(c *tls.Conn) interface{} {
	v := reflect.ValueOf(c).Elem().FieldByName("out")
	if !v.IsValid() || v.Kind() != reflect.Struct {
		return nil
	}
	v = v.FieldByName("err")
	if !v.IsValid() || v.Kind() != reflect.Interface || v.IsNil() {
		return nil
	}
	v = v.Elem()
	// crypto/tls wraps it: &permanentError{err: net.Error}.
	if v.Kind() == reflect.Ptr && !v.IsNil() && v.Elem().Kind() == reflect.Struct &&
		v.Type().Elem().Name() == "permanentError" {
		v = v.Elem().FieldByName("err")
		if !v.IsValid() || v.Kind() != reflect.Interface || v.IsNil() {
			return nil
		}
		v = v.Elem()
	}
	if v.Kind() != reflect.Ptr || v.IsNil() || v.Type() != reflect.TypeOf(&net.OpError{}) {
		return nil
	}
	op := v.Elem()
	if op.FieldByName("Op").String() != "local error" {
		return nil
	}
	e := op.FieldByName("Err")
	if e.Kind() != reflect.Interface || e.IsNil() {
		return nil
	}
	e = e.Elem()
	if e.Kind() != reflect.Uint8 || e.Type().Name() != "alert" {
		return nil
	}
	if n, ok := alertNames[e.Uint()]; ok {
		return n
	}
	return fmt.Sprintf("alert_%d", e.Uint())
}

// parseGroups reads --groups: IANA names, comma separated.
func parseGroups(s string) ([]tls.CurveID, error) {
	names := map[string]tls.CurveID{
		"x25519": tls.X25519, "secp256r1": tls.CurveP256,
		"secp384r1": tls.CurveP384, "secp521r1": tls.CurveP521,
		"x25519mlkem768": 0x11ec,
	}
	var out []tls.CurveID
	for _, name := range strings.Split(s, ",") {
		id, ok := names[strings.ToLower(strings.TrimSpace(name))]
		if !ok {
			return nil, fmt.Errorf("--groups: unknown group %q (x25519, secp256r1, secp384r1, secp521r1, X25519MLKEM768)", name)
		}
		out = append(out, id)
	}
	return out, nil
}

// v1Flags holds the flags of both roles; each role defines its own subset.
type v1Flags struct {
	listen, connect, servername, cert, key, ca, verifyClient string
	alpn, groups, suites, ocspFile                           string
	ocspReq, keyUpdate, hold                                 bool
	earlyData, earlyDataBytes, recordSizeLimit               int
	sendBytes, count                                         int64
	timeout                                                  float64
}

// naFlags: flags of PROTOCOL.md whose feature crypto/tls lacks.  They are
// parsed, so that using one is the protocol's usage error with the reason.
var naFlags = map[string]string{
	"suites": naSuites, "early-data": naEarlyData, "early-data-bytes": naEarlyData,
	"key-update": naKeyUpdate, "record-size-limit": naRecordSize,
}

func v1Parse(fs *flag.FlagSet, args []string) {
	fs.SetOutput(os.Stderr)
	if err := fs.Parse(args); err != nil {
		os.Exit(2) // the flag package has printed the error
	}
	if fs.NArg() != 0 {
		v1Fatal("unexpected argument %q", fs.Arg(0))
	}
	fs.Visit(func(f *flag.Flag) {
		if why, ok := naFlags[f.Name]; ok {
			v1Fatal("--%s is not applicable: %s", f.Name, why)
		}
	})
}

func v1Common(fs *flag.FlagSet, o *v1Flags) {
	fs.StringVar(&o.cert, "cert", "", "PEM chain, leaf first")
	fs.StringVar(&o.key, "key", "", "PEM private key of --cert")
	fs.StringVar(&o.ca, "ca", "", "PEM trust anchors")
	fs.StringVar(&o.alpn, "alpn", "", "ALPN protocols, comma separated, in preference order")
	fs.StringVar(&o.groups, "groups", "", "key exchange groups (IANA names)")
	fs.StringVar(&o.suites, "suites", "", "n.a.: "+naSuites)
	fs.IntVar(&o.recordSizeLimit, "record-size-limit", 0, "n.a.: "+naRecordSize)
	fs.BoolVar(&o.keyUpdate, "key-update", false, "n.a.: "+naKeyUpdate)
	fs.Int64Var(&o.count, "count", 1, "connections, one after the other")
	fs.Float64Var(&o.timeout, "timeout", 10, "seconds per connection for every wait")
}

func v1Server(args []string) {
	var o v1Flags
	fs := flag.NewFlagSet("v1 server", flag.ContinueOnError)
	v1Common(fs, &o)
	fs.StringVar(&o.listen, "listen", "127.0.0.1:0", "address to listen on")
	fs.StringVar(&o.verifyClient, "verify-client", "none", "none or require (verified against --ca)")
	fs.StringVar(&o.ocspFile, "ocsp", "", "DER OCSP response to staple")
	fs.IntVar(&o.earlyData, "early-data", 0, "n.a.: "+naEarlyData)
	v1Parse(fs, args)
	if o.cert == "" || o.key == "" {
		v1Fatal("server: --cert and --key are required")
	}
	if o.count < 1 {
		v1Fatal("--count must be at least 1")
	}
	pair, err := tls.LoadX509KeyPair(o.cert, o.key)
	if err != nil {
		v1Fatal("server: %v", err)
	}
	if o.ocspFile != "" {
		if pair.OCSPStaple, err = os.ReadFile(o.ocspFile); err != nil {
			v1Fatal("server: --ocsp: %v", err)
		}
	}
	cfg := &tls.Config{
		MinVersion:   tls.VersionTLS13,
		MaxVersion:   tls.VersionTLS13,
		Certificates: []tls.Certificate{pair},
		NextProtos:   parseALPN(o.alpn),
	}
	if o.groups != "" {
		if cfg.CurvePreferences, err = parseGroups(o.groups); err != nil {
			v1Fatal("%v", err)
		}
	}
	switch o.verifyClient {
	case "none":
	case "require":
		cfg.ClientAuth = tls.RequireAndVerifyClientCert
		if o.ca == "" {
			v1Fatal("--verify-client require needs --ca")
		}
		if cfg.ClientCAs, err = loadPool(o.ca); err != nil {
			v1Fatal("--ca: %v", err)
		}
	default:
		v1Fatal("--verify-client: want none or require, got %q", o.verifyClient)
	}
	ln, err := net.Listen("tcp", o.listen)
	if err != nil {
		fmt.Fprintf(os.Stderr, "ferrule-go-peer v1: listen %s: %v\n", o.listen, err)
		os.Exit(1)
	}
	fmt.Printf("ACCEPT %s\n", ln.Addr().String())
	failed := false
	for n := int64(1); n <= o.count; n++ {
		raw, err := ln.Accept()
		if err != nil {
			fmt.Fprintf(os.Stderr, "ferrule-go-peer v1: accept: %v\n", err)
			os.Exit(1)
		}
		if !v1ServeOne(raw, cfg, &o, int(n)) {
			failed = true
		}
	}
	if failed {
		os.Exit(1)
	}
}

// v1ServeOne: handshake, echo until the client's close_notify, our
// close_notify, close.
func v1ServeOne(raw net.Conn, cfg *tls.Config, o *v1Flags, n int) bool {
	defer raw.Close()
	raw.SetDeadline(time.Now().Add(seconds(o.timeout)))
	sn := &helloSniffer{}
	ec := &eofConn{Conn: raw}
	c := tls.Server(&sniffConn{Conn: ec, sn: sn}, cfg)
	r := &v1Report{Role: "server", Impl: "go", Conn: n, Close: "error"}
	err := c.Handshake()
	st := c.ConnectionState()
	r.fill(st, sn)
	if st.ServerName != "" {
		r.ServerName = st.ServerName
	}
	// A server cannot tell whether its staple was sent (the client may not
	// have asked); crypto/tls never accepts early data and does not say
	// whether some was skipped.
	r.OCSPStapled = nil
	r.EarlyData = nil
	if err != nil {
		r.setError(err, c)
		r.emit()
		return false
	}
	buf := make([]byte, 16384)
	var rerr error
	for {
		var k int
		k, rerr = c.Read(buf)
		r.Received += int64(k)
		if k > 0 {
			if _, werr := c.Write(buf[:k]); werr != nil {
				r.setError(werr, c)
				break
			}
			r.Sent += int64(k)
		}
		if rerr != nil {
			break
		}
	}
	if r.Error == nil {
		r.Close = closeKind(rerr, ec)
		switch r.Close {
		case "close_notify":
			if err := c.CloseWrite(); err != nil {
				r.setError(err, c)
			}
		case "eof":
			r.Error = "TCP EOF without close_notify (truncated)"
		default:
			r.setError(rerr, c)
		}
	}
	r.OK = r.Error == nil && r.Close == "close_notify"
	r.emit()
	return r.OK
}

func v1Client(args []string) {
	var o v1Flags
	fs := flag.NewFlagSet("v1 client", flag.ContinueOnError)
	v1Common(fs, &o)
	fs.StringVar(&o.connect, "connect", "", "HOST:PORT of the server (required)")
	fs.StringVar(&o.servername, "servername", "", "name sent as SNI and verified (default: HOST)")
	fs.BoolVar(&o.ocspReq, "ocsp", false, "request a staple (crypto/tls always does) and report it")
	fs.IntVar(&o.earlyDataBytes, "early-data-bytes", 0, "n.a.: "+naEarlyData)
	fs.Int64Var(&o.sendBytes, "send-bytes", 1024, "pattern bytes sent, then expected back")
	fs.BoolVar(&o.hold, "hold", false, "after the echo print ECHOED and wait for stdin EOF before closing")
	v1Parse(fs, args)
	if o.connect == "" {
		v1Fatal("client: --connect is required")
	}
	if o.ca == "" {
		v1Fatal("client: --ca is required")
	}
	if o.count < 1 || o.sendBytes < 0 {
		v1Fatal("--count must be at least 1 and --send-bytes at least 0")
	}
	host, _, err := net.SplitHostPort(o.connect)
	if err != nil {
		v1Fatal("--connect: %v", err)
	}
	if o.servername == "" {
		o.servername = host
	}
	cfg := &tls.Config{
		MinVersion: tls.VersionTLS13,
		MaxVersion: tls.VersionTLS13,
		ServerName: o.servername,
		NextProtos: parseALPN(o.alpn),
		// One cache for the run: connection k offers the newest ticket
		// of the earlier ones (the cache keeps one per server name).
		ClientSessionCache: tls.NewLRUClientSessionCache(4),
	}
	if o.groups != "" {
		if cfg.CurvePreferences, err = parseGroups(o.groups); err != nil {
			v1Fatal("%v", err)
		}
	}
	if cfg.RootCAs, err = loadPool(o.ca); err != nil {
		v1Fatal("--ca: %v", err)
	}
	if (o.cert == "") != (o.key == "") {
		v1Fatal("--cert and --key go together")
	}
	if o.cert != "" {
		pair, err := tls.LoadX509KeyPair(o.cert, o.key)
		if err != nil {
			v1Fatal("--cert/--key: %v", err)
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	failed := false
	for n := int64(1); n <= o.count; n++ {
		if !v1ConnectOne(cfg, &o, int(n)) {
			failed = true
		}
	}
	if failed {
		os.Exit(1)
	}
}

// pattern fills p with the protocol's pattern from offset off: byte i is i % 251.
func pattern(p []byte, off int64) {
	v := byte(off % 251)
	for i := range p {
		p[i] = v
		if v++; v == 251 {
			v = 0
		}
	}
}

func v1ConnectOne(cfg *tls.Config, o *v1Flags, n int) bool {
	r := &v1Report{Role: "client", Impl: "go", Conn: n, ServerName: o.servername,
		EarlyData: "not_offered", Close: "error"}
	deadline := time.Now().Add(seconds(o.timeout))
	raw, err := net.DialTimeout("tcp", o.connect, time.Until(deadline))
	if err != nil {
		r.setError(err, nil)
		r.emit()
		return false
	}
	defer raw.Close()
	raw.SetDeadline(deadline)
	sn := &helloSniffer{}
	ec := &eofConn{Conn: raw}
	c := tls.Client(&sniffConn{Conn: ec, sn: sn, onReads: true}, cfg)
	err = c.Handshake()
	st := c.ConnectionState()
	r.fill(st, sn)
	r.OCSPStapled = len(st.OCSPResponse) > 0
	if err != nil {
		r.setError(err, c)
		r.emit()
		return false
	}
	// The pattern goes out from a goroutine while this one reads the echo,
	// so neither side's buffers can fill up with nobody reading.
	type wresult struct {
		sent int64
		err  error
	}
	werrc := make(chan wresult, 1)
	go func() {
		buf := make([]byte, 16384)
		var off int64
		for off < o.sendBytes {
			k := int64(len(buf))
			if o.sendBytes-off < k {
				k = o.sendBytes - off
			}
			pattern(buf[:k], off)
			n, err := c.Write(buf[:k])
			off += int64(n)
			if err != nil {
				werrc <- wresult{off, err}
				return
			}
		}
		werrc <- wresult{off, nil}
	}()
	echoOK := true
	buf := make([]byte, 16384)
	want := make([]byte, 16384)
	var rerr error
	for r.Received < o.sendBytes {
		k, err := c.Read(buf)
		if int64(k) > o.sendBytes-r.Received {
			echoOK = false // more than was sent
		}
		pattern(want[:k], r.Received)
		if string(buf[:k]) != string(want[:k]) {
			echoOK = false
		}
		r.Received += int64(k)
		if err != nil {
			rerr = err
			break
		}
	}
	wr := <-werrc
	werr := wr.err
	r.Sent = wr.sent
	r.EchoOK = echoOK && rerr == nil && r.Received == o.sendBytes
	if werr != nil {
		r.setError(werr, c)
	}
	if rerr != nil {
		// The server ended the connection before the whole echo.
		r.Close = closeKind(rerr, ec)
		if rerr != io.EOF {
			r.setError(rerr, c)
		} else if r.Error == nil {
			r.Error = fmt.Sprintf("%s after %d of %d echoed bytes", r.Close, r.Received, o.sendBytes)
		}
		r.emit()
		return false
	}
	if o.hold {
		printMu.Lock()
		os.Stdout.WriteString("ECHOED\n")
		printMu.Unlock()
		io.Copy(io.Discard, os.Stdin)
		raw.SetDeadline(time.Now().Add(seconds(o.timeout)))
	}
	if err := c.CloseWrite(); err != nil {
		r.setError(err, c)
	}
	// Read to the server's close_notify (or EOF): tickets sent late are
	// processed on the way, which is how the cache gets them.
	for {
		k, err := c.Read(buf)
		if k > 0 && r.Error == nil {
			r.Error = fmt.Sprintf("%d bytes after the echo", k)
			r.EchoOK = false
		}
		r.Received += int64(k)
		if err != nil {
			r.Close = closeKind(err, ec)
			if r.Close == "eof" && r.Error == nil {
				r.Error = "TCP EOF without close_notify (truncated)"
			} else if err != io.EOF {
				r.setError(err, c)
			}
			break
		}
	}
	r.OK = r.Error == nil && r.EchoOK == true && r.Close == "close_notify"
	r.emit()
	return r.OK
}
