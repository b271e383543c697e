package main

import (
	"bufio"
	"crypto/tls"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	ferrule "github.com/ferrule-tls/ferrule/bindings/go"
)

// Faults a server can be told to commit, so that the self-test can show
// that each verdict of `run` fails when it should.
const (
	faultNone    = "none"
	faultCorrupt = "corrupt"  // flip one byte of one echo (the 7th connection's first)
	faultLeakFD  = "leak-fd"  // open /dev/null once per connection and never close it
	faultLeakMem = "leak-mem" // keep 64 KiB (touched) of Go heap per connection forever
	faultLeakC   = "leak-c"   // malloc 16 KiB (touched) per connection, never freed
)

var faults = []string{faultNone, faultCorrupt, faultLeakFD, faultLeakMem, faultLeakC}

// stats is the server's answer to a `stats` command (one JSON line).
type stats struct {
	RSS        int64  `json:"rss"`        // VmRSS of /proc/self/status, bytes
	FDs        int    `json:"fds"`        // entries of /proc/self/fd
	Active     int64  `json:"active"`     // handshaken connections not yet closed
	Peak       int64  `json:"peak"`       // most Active at once since the last reset-peak
	Open       int64  `json:"open"`       // accepted transports not yet closed
	Accepted   int64  `json:"accepted"`   // transports accepted
	Handshakes int64  `json:"handshakes"` // handshakes completed
	Errors     int64  `json:"errors"`     // handshake, read, write and close errors
	LastError  string `json:"last_error,omitempty"`
	Goroutines int    `json:"goroutines"`
	GoMem      int64  `json:"go_mem"` // Go heap in use + goroutine stacks, bytes
}

type server struct {
	impl   string
	fault  string
	frCfg  *ferrule.Config
	tlsCfg *tls.Config

	active, peak, open, accepted, handshakes, errs atomic.Int64

	mu      sync.Mutex
	lastErr string
	leaked  []*os.File
	hoard   [][]byte
}

func (s *server) fail(err error) {
	s.errs.Add(1)
	s.mu.Lock()
	s.lastErr = err.Error()
	s.mu.Unlock()
}

// conn is what the echo loop needs of either TLS implementation.
type conn interface {
	net.Conn
	Handshake() error
}

func (s *server) handle(raw net.Conn, idx int64) {
	defer s.open.Add(-1)
	var c conn
	if s.impl == "ferrule" {
		c = ferrule.Server(raw, s.frCfg)
	} else {
		c = tls.Server(raw, s.tlsCfg)
	}
	_ = c.SetDeadline(time.Now().Add(60 * time.Second))
	if err := c.Handshake(); err != nil {
		s.fail(fmt.Errorf("handshake: %w", err))
		_ = c.Close()
		return
	}
	_ = c.SetDeadline(time.Time{})
	s.handshakes.Add(1)
	a := s.active.Add(1)
	for {
		p := s.peak.Load()
		if a <= p || s.peak.CompareAndSwap(p, a) {
			break
		}
	}
	switch s.fault {
	case faultLeakFD:
		if f, err := os.Open("/dev/null"); err == nil {
			s.mu.Lock()
			s.leaked = append(s.leaked, f)
			s.mu.Unlock()
		}
	case faultLeakMem:
		b := make([]byte, 64<<10)
		for i := range b {
			b[i] = byte(i)
		}
		s.mu.Lock()
		s.hoard = append(s.hoard, b)
		s.mu.Unlock()
	case faultLeakC:
		leakC(16 << 10)
	}
	// The echo: one buffer of 2 KiB per connection for both implementations.
	buf := make([]byte, 2048)
	corrupt := s.fault == faultCorrupt && idx == 7
	for {
		n, err := c.Read(buf)
		if n > 0 {
			if corrupt {
				buf[n/2] ^= 0x20
				corrupt = false
			}
			if _, werr := c.Write(buf[:n]); werr != nil {
				s.fail(fmt.Errorf("write: %w", werr))
				break
			}
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			s.fail(fmt.Errorf("read: %w", err))
			break
		}
	}
	if err := c.Close(); err != nil {
		s.fail(fmt.Errorf("close: %w", err))
	}
	s.active.Add(-1)
}

func rss() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb * 1024
		}
	}
	return -1
}

func fdCount() int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return -1
	}
	return len(ents) - 1 // ReadDir's own descriptor
}

// snapshot: with idle, first wait (up to 10 s) until every accepted
// transport is closed.  Before RSS is read the Go heap is collected and
// returned to the system, and so are the C heap's free pages, so that
// the figure is live memory (Go's and C's), not garbage waiting for the
// next cycle or free memory the allocator keeps.
func (s *server) snapshot(idle bool) stats {
	if idle {
		for end := time.Now().Add(10 * time.Second); s.open.Load() != 0 && time.Now().Before(end); {
			time.Sleep(time.Millisecond)
		}
	}
	debug.FreeOSMemory()
	trimMalloc()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	st := stats{
		GoMem: int64(ms.HeapInuse + ms.StackInuse),
		RSS:   rss(), FDs: fdCount(), Active: s.active.Load(), Peak: s.peak.Load(),
		Open: s.open.Load(), Accepted: s.accepted.Load(), Handshakes: s.handshakes.Load(),
		Errors: s.errs.Load(), Goroutines: runtime.NumGoroutine(),
	}
	s.mu.Lock()
	st.LastError = s.lastErr
	s.mu.Unlock()
	return st
}

// raiseNofile lifts RLIMIT_NOFILE to at least want (the hard limit too,
// when the process may).
func raiseNofile(want uint64) error {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return err
	}
	if lim.Cur >= want {
		return nil
	}
	if lim.Max < want {
		lim.Max = want
	}
	lim.Cur = want
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return fmt.Errorf("RLIMIT_NOFILE to %d: %w", want, err)
	}
	return nil
}

// cmdServe: `ferrule-load serve`.  It prints "listen ADDR", then answers
// commands on stdin, one line each: "stats" and "stats-idle" (a JSON
// stats line), "reset-peak", "quit".
func cmdServe(args []string) int {
	fs := flag.NewFlagSet("serve", flag.ExitOnError)
	impl := fs.String("impl", "ferrule", "server: ferrule (the Go binding) or gotls (Go crypto/tls)")
	addr := fs.String("addr", "127.0.0.1:0", "listen address (loopback)")
	chain := fs.String("cert", "", "PEM certificate chain")
	key := fs.String("key", "", "PEM private key")
	fault := fs.String("fault", faultNone, "deliberate fault: "+strings.Join(faults, ", "))
	nofile := fs.Uint64("nofile", 11000, "RLIMIT_NOFILE to ask for")
	_ = fs.Parse(args)
	ok := false
	for _, f := range faults {
		ok = ok || f == *fault
	}
	if !ok || (*impl != "ferrule" && *impl != "gotls") || *chain == "" || *key == "" {
		fmt.Fprintf(os.Stderr, "serve: need -impl ferrule|gotls, -cert, -key; -fault one of %s\n", strings.Join(faults, ", "))
		return 2
	}
	if err := raiseNofile(*nofile); err != nil {
		fmt.Fprintln(os.Stderr, "serve:", err)
		return 1
	}
	chainPEM, err := os.ReadFile(*chain)
	if err != nil {
		fmt.Fprintln(os.Stderr, "serve:", err)
		return 1
	}
	keyPEM, err := os.ReadFile(*key)
	if err != nil {
		fmt.Fprintln(os.Stderr, "serve:", err)
		return 1
	}
	s := &server{impl: *impl, fault: *fault}
	if *impl == "ferrule" {
		cert, err := ferrule.X509KeyPair(chainPEM, keyPEM)
		if err != nil {
			fmt.Fprintln(os.Stderr, "serve:", err)
			return 1
		}
		s.frCfg = &ferrule.Config{Certificates: []ferrule.Certificate{cert}}
	} else {
		cert, err := tls.X509KeyPair(chainPEM, keyPEM)
		if err != nil {
			fmt.Fprintln(os.Stderr, "serve:", err)
			return 1
		}
		s.tlsCfg = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS13}
	}
	l, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "serve:", err)
		return 1
	}
	go func() {
		var idx int64
		for {
			raw, err := l.Accept()
			if err != nil {
				if errors.Is(err, net.ErrClosed) {
					return
				}
				s.fail(fmt.Errorf("accept: %w", err))
				time.Sleep(10 * time.Millisecond)
				continue
			}
			s.accepted.Add(1)
			s.open.Add(1)
			go s.handle(raw, idx)
			idx++
		}
	}()
	out := bufio.NewWriter(os.Stdout)
	fmt.Fprintf(out, "listen %s\n", l.Addr())
	_ = out.Flush()
	enc := json.NewEncoder(out)
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		switch strings.TrimSpace(in.Text()) {
		case "stats":
			_ = enc.Encode(s.snapshot(false))
		case "stats-idle":
			_ = enc.Encode(s.snapshot(true))
		case "reset-peak":
			s.peak.Store(s.active.Load())
			fmt.Fprintln(out, "ok")
		case "quit":
			_ = l.Close()
			fmt.Fprintln(out, "bye")
			_ = out.Flush()
			return 0
		default:
			fmt.Fprintln(out, "error unknown command")
		}
		_ = out.Flush()
	}
	return 0
}
