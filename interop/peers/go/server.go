package main

import (
	"bytes"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"time"
)

type serverOpts struct {
	listen, cert, key, ca, alpn, curves string
	verifyClient, mode, tickets         string
	count                               int
	timeout                             float64
}

func serverMain(args []string) {
	var o serverOpts
	fs := flag.NewFlagSet("server", flag.ExitOnError)
	fs.StringVar(&o.listen, "listen", "127.0.0.1:0", "address to listen on; port 0 picks a free port")
	fs.StringVar(&o.cert, "cert", "", "PEM certificate chain, leaf first (required)")
	fs.StringVar(&o.key, "key", "", "PEM private key (required)")
	fs.StringVar(&o.ca, "ca", "", "PEM trust anchors for client certificates")
	fs.StringVar(&o.verifyClient, "verify-client", "none", "none, request or require (needs --ca)")
	fs.StringVar(&o.alpn, "alpn", "", "ALPN protocols, comma separated, in preference order")
	fs.StringVar(&o.curves, "curves", "", "key exchange groups in preference order (e.g. P-384 to force an HRR)")
	fs.StringVar(&o.tickets, "tickets", "on", "on or off: send a NewSessionTicket and accept tickets")
	fs.StringVar(&o.mode, "mode", "http", "http: read a request up to an empty line, answer a fixed page; echo: send back what arrives")
	fs.IntVar(&o.count, "count", 0, "serve this many connections, then exit (0: until killed)")
	fs.Float64Var(&o.timeout, "timeout", 10, "seconds per connection (handshake and data)")
	fs.Parse(args)
	cfg, err := serverConfig(&o)
	if err != nil {
		fatalf("server: %v", err)
	}
	ln, err := net.Listen("tcp", o.listen)
	if err != nil {
		fmt.Fprintf(os.Stderr, "ferrule-go-peer: listen %s: %v\n", o.listen, err)
		os.Exit(1)
	}
	// Scripts wait for this line (the format of openssl s_server and
	// ferrule server), then connect to the address it names.
	fmt.Printf("ACCEPT %s\n", ln.Addr().String())
	failed := 0
	for n := 1; o.count == 0 || n <= o.count; n++ {
		c, err := ln.Accept()
		if err != nil {
			fmt.Fprintf(os.Stderr, "ferrule-go-peer: accept: %v\n", err)
			os.Exit(1)
		}
		if !serveOne(c, cfg, &o, n) {
			failed++
		}
	}
	if failed > 0 {
		os.Exit(1)
	}
}

func serverConfig(o *serverOpts) (*tls.Config, error) {
	if o.cert == "" || o.key == "" {
		return nil, errors.New("--cert and --key are required")
	}
	pair, err := tls.LoadX509KeyPair(o.cert, o.key)
	if err != nil {
		return nil, err
	}
	curves, err := parseCurves(o.curves)
	if err != nil {
		return nil, err
	}
	tickets, err := parseOnOff("tickets", o.tickets)
	if err != nil {
		return nil, err
	}
	if o.mode != "http" && o.mode != "echo" {
		return nil, fmt.Errorf("--mode: want http or echo, got %q", o.mode)
	}
	cfg := &tls.Config{
		MinVersion:             tls.VersionTLS13,
		MaxVersion:             tls.VersionTLS13,
		Certificates:           []tls.Certificate{pair},
		NextProtos:             parseALPN(o.alpn),
		CurvePreferences:       curves,
		SessionTicketsDisabled: !tickets,
	}
	switch o.verifyClient {
	case "none":
		return cfg, nil
	case "request":
		cfg.ClientAuth = tls.VerifyClientCertIfGiven
	case "require":
		cfg.ClientAuth = tls.RequireAndVerifyClientCert
	default:
		return nil, fmt.Errorf("--verify-client: want none, request or require, got %q", o.verifyClient)
	}
	if o.ca == "" {
		return nil, errors.New("--verify-client " + o.verifyClient + " needs --ca")
	}
	if cfg.ClientCAs, err = loadPool(o.ca); err != nil {
		return nil, err
	}
	return cfg, nil
}

// serveOne runs one connection to its end and prints its report.  It
// returns false when the connection failed.
func serveOne(raw net.Conn, cfg *tls.Config, o *serverOpts, n int) bool {
	defer raw.Close()
	raw.SetDeadline(time.Now().Add(seconds(o.timeout)))
	sn := &helloSniffer{}
	c := tls.Server(&sniffConn{Conn: raw, sn: sn}, cfg)
	r := newReport("server", n)
	err := c.Handshake()
	r.fill(c.ConnectionState(), sn)
	if err == nil {
		var got []byte
		got, err = serveData(c, o.mode, r)
		r.Received, r.ReceivedLen = string(got), len(got)
	}
	r.emit(err)
	return err == nil
}

// serveData exchanges application data, then closes cleanly: our
// close_notify, then the client's (or EOF) is awaited, so that no unread
// data makes the kernel reset the connection under the client's last read.
func serveData(c *tls.Conn, mode string, r *report) ([]byte, error) {
	var got []byte
	var err error
	if mode == "echo" {
		got, err = readAll(c, c)
	} else {
		got, err = readRequest(c)
		if err == nil {
			_, err = c.Write(page(r, len(got)))
		}
	}
	if err != nil {
		return got, err
	}
	if err = c.CloseWrite(); err != nil {
		return got, err
	}
	rest, err := readAll(c, nil)
	return append(got, rest...), err
}

// readAll reads until the peer's close_notify, copying to echo if set.
func readAll(c *tls.Conn, echo io.Writer) ([]byte, error) {
	var got []byte
	buf := make([]byte, 16384)
	for {
		n, err := c.Read(buf)
		got = append(got, buf[:n]...)
		if n > 0 && echo != nil {
			if _, werr := echo.Write(buf[:n]); werr != nil {
				return got, werr
			}
		}
		if err == io.EOF {
			return got, nil
		}
		if err != nil {
			return got, err
		}
	}
}

// readRequest reads up to the first empty line ("\r\n\r\n") or the
// client's close_notify.
func readRequest(c *tls.Conn) ([]byte, error) {
	var got []byte
	buf := make([]byte, 16384)
	for !bytes.Contains(got, []byte("\r\n\r\n")) {
		n, err := c.Read(buf)
		got = append(got, buf[:n]...)
		if err == io.EOF {
			break
		}
		if err != nil {
			return got, err
		}
	}
	return got, nil
}

// page is the fixed answer of --mode http, with what the server saw.
func page(r *report, received int) []byte {
	resumed := "no"
	if r.DidResume {
		resumed = "yes"
	}
	body := fmt.Sprintf("ferrule-go-peer\nprotocol: %v\ncipher_suite: %v\nresumed: %s\nreceived: %d\n",
		r.Version, r.Cipher, resumed, received)
	return []byte(fmt.Sprintf("HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n%s",
		len(body), body))
}
