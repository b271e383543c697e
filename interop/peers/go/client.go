package main

import (
	"crypto/tls"
	"errors"
	"flag"
	"net"
	"os"
	"time"
)

type clientOpts struct {
	connect, servername, cert, key, ca, alpn, curves string
	request, tickets                                 string
	count                                            int
	halfClose, insecure                              bool
	timeout                                          float64
}

func clientMain(args []string) {
	var o clientOpts
	fs := flag.NewFlagSet("client", flag.ExitOnError)
	fs.StringVar(&o.connect, "connect", "", "HOST:PORT of the server (required)")
	fs.StringVar(&o.servername, "servername", "", "name sent in SNI and verified (default: HOST)")
	fs.StringVar(&o.ca, "ca", "", "PEM trust anchors for the server's certificate")
	fs.BoolVar(&o.insecure, "insecure-no-verify", false, "do not verify the server's certificate")
	fs.StringVar(&o.cert, "cert", "", "PEM client certificate chain, leaf first")
	fs.StringVar(&o.key, "key", "", "PEM private key of --cert")
	fs.StringVar(&o.alpn, "alpn", "", "ALPN protocols, comma separated, in preference order")
	fs.StringVar(&o.curves, "curves", "", "key exchange groups in preference order (the first gets a key share)")
	fs.StringVar(&o.tickets, "tickets", "on", "on or off: keep tickets in one session cache for all connections")
	fs.StringVar(&o.request, "request", `GET / HTTP/1.0\r\n\r\n`, `sent after each handshake (escapes \r \n \t \\ \0 \xHH)`)
	fs.BoolVar(&o.halfClose, "half-close", false, "send close_notify right after the request (for echo servers)")
	fs.IntVar(&o.count, "count", 1, "sequential connections, sharing the session cache")
	fs.Float64Var(&o.timeout, "timeout", 10, "seconds per connection (connect, handshake and data)")
	fs.Parse(args)
	cfg, req, err := clientConfig(&o)
	if err != nil {
		fatalf("client: %v", err)
	}
	failed := 0
	for n := 1; n <= o.count; n++ {
		if !connectOne(cfg, &o, req, n) {
			failed++
		}
	}
	if failed > 0 {
		os.Exit(1)
	}
}

func clientConfig(o *clientOpts) (*tls.Config, []byte, error) {
	if o.connect == "" {
		return nil, nil, errors.New("--connect is required")
	}
	host, _, err := net.SplitHostPort(o.connect)
	if err != nil {
		return nil, nil, err
	}
	req, err := unescape(o.request)
	if err != nil {
		return nil, nil, errors.New("--request: " + err.Error())
	}
	curves, err := parseCurves(o.curves)
	if err != nil {
		return nil, nil, err
	}
	tickets, err := parseOnOff("tickets", o.tickets)
	if err != nil {
		return nil, nil, err
	}
	cfg := &tls.Config{
		MinVersion:         tls.VersionTLS13,
		MaxVersion:         tls.VersionTLS13,
		ServerName:         o.servername,
		NextProtos:         parseALPN(o.alpn),
		CurvePreferences:   curves,
		InsecureSkipVerify: o.insecure,
	}
	if cfg.ServerName == "" {
		cfg.ServerName = host
	}
	if tickets {
		// One cache for every connection of this run: the Nth
		// connection offers the ticket the (N-1)th received.
		cfg.ClientSessionCache = tls.NewLRUClientSessionCache(16)
	}
	if o.ca != "" {
		if cfg.RootCAs, err = loadPool(o.ca); err != nil {
			return nil, nil, err
		}
	} else if !o.insecure {
		return nil, nil, errors.New("--ca or --insecure-no-verify is required")
	}
	if (o.cert == "") != (o.key == "") {
		return nil, nil, errors.New("--cert and --key go together")
	}
	if o.cert != "" {
		pair, err := tls.LoadX509KeyPair(o.cert, o.key)
		if err != nil {
			return nil, nil, err
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	return cfg, req, nil
}

// connectOne makes one connection: handshake, request, then everything the
// server sends until its close_notify (NewSessionTickets are processed on
// the way, which is how the cache gets them).  Returns false on failure.
func connectOne(cfg *tls.Config, o *clientOpts, req []byte, n int) bool {
	r := newReport("client", n)
	deadline := time.Now().Add(seconds(o.timeout))
	raw, err := net.DialTimeout("tcp", o.connect, time.Until(deadline))
	if err != nil {
		r.emit(err)
		return false
	}
	defer raw.Close()
	raw.SetDeadline(deadline)
	sn := &helloSniffer{}
	c := tls.Client(&sniffConn{Conn: raw, sn: sn, onReads: true}, cfg)
	err = c.Handshake()
	r.fill(c.ConnectionState(), sn)
	if err == nil {
		var got []byte
		got, err = exchange(c, req, o.halfClose)
		r.Received, r.ReceivedLen = string(got), len(got)
	}
	r.emit(err)
	return err == nil
}

func exchange(c *tls.Conn, req []byte, halfClose bool) ([]byte, error) {
	if _, err := c.Write(req); err != nil {
		return nil, err
	}
	if halfClose {
		if err := c.CloseWrite(); err != nil {
			return nil, err
		}
	}
	got, err := readAll(c, nil)
	if err != nil {
		return got, err
	}
	// Answer the server's close_notify with ours (a no-op after
	// --half-close).
	return got, c.CloseWrite()
}
