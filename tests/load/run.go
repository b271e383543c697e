package main

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// params of one load run against one server implementation.
type params struct {
	impl     string // ferrule or gotls
	conns    int    // concurrent connections held at once
	soak     int    // sequential handshakes
	sample   int    // soak: server stats every `sample` handshakes
	parallel int    // concurrent phase: handshakes in flight at once
	fault    string // passed to the server
	maxBytes int64  // verdict: bytes per connection at most this
	pki      *pki
	pool     *x509.CertPool
}

// sample is the server's state at one point of the soak.
type sample struct {
	after int // handshakes done
	st    stats
}

// result of one run: the figures and the verdicts.
type result struct {
	p params

	// The concurrent phase's server: before, with all held, after all closed.
	base, peak, afterConc stats
	// The soak's server (a fresh process): before, after.
	soakBase, final    stats
	clientErrs         int64
	mismatches         int64
	firstErr           string
	openTime, soakTime time.Duration
	soakDone           int
	samples            []sample
	q1Max, q4Max       int64
	verdicts           []verdict
}

type verdict struct {
	name   string
	ok     bool
	detail string
}

func (r *result) check(name string, ok bool, format string, a ...any) {
	r.verdicts = append(r.verdicts, verdict{name, ok, fmt.Sprintf(format, a...)})
}

func (r *result) failed() []string {
	var f []string
	for _, v := range r.verdicts {
		if !v.ok {
			f = append(f, v.name)
		}
	}
	return f
}

func (r *result) bytesPerConn() int64 {
	if r.p.conns == 0 {
		return 0
	}
	return (r.peak.RSS - r.base.RSS) / int64(r.p.conns)
}

// goBytesPerConn is the part of bytesPerConn in the Go heap and stacks;
// the rest is outside Go (C: the library, libcrypto, malloc's overhead).
func (r *result) goBytesPerConn() int64 {
	if r.p.conns == 0 {
		return 0
	}
	return (r.peak.GoMem - r.base.GoMem) / int64(r.p.conns)
}

func (r *result) handshakesPerSec() float64 {
	if r.soakTime <= 0 {
		return 0
	}
	return float64(r.soakDone) / r.soakTime.Seconds()
}

// child is the server process and its control pipe.
type child struct {
	cmd  *exec.Cmd
	in   io.WriteCloser
	out  *bufio.Reader
	addr string
}

func startServer(p params) (*child, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(exe, "serve", "-impl", p.impl, "-cert", p.pki.chainFile, "-key", p.pki.keyFile,
		"-fault", p.fault, "-nofile", fmt.Sprint(p.conns+1024))
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	outPipe, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	c := &child{cmd: cmd, in: in, out: bufio.NewReader(outPipe)}
	line, err := c.out.ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "listen ") {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return nil, fmt.Errorf("server did not start (%q, %v)", line, err)
	}
	c.addr = strings.TrimSpace(strings.TrimPrefix(line, "listen "))
	return c, nil
}

func (c *child) stats(idle bool) (stats, error) {
	cmd := "stats\n"
	if idle {
		cmd = "stats-idle\n"
	}
	var st stats
	if _, err := io.WriteString(c.in, cmd); err != nil {
		return st, err
	}
	line, err := c.out.ReadString('\n')
	if err != nil {
		return st, err
	}
	return st, json.Unmarshal([]byte(line), &st)
}

func (c *child) stop() {
	_, _ = io.WriteString(c.in, "quit\n")
	_ = c.in.Close()
	done := make(chan struct{})
	go func() { _ = c.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = c.cmd.Process.Kill()
		<-done
	}
}

// The client is Go's crypto/tls (independent of ferrule), verifying the
// server's chain against the run's root; X25519 only, as ferrule's
// build against OpenSSL 3.0 has no X25519MLKEM768 and the reference
// server must do the same work.
func (p params) clientConfig() *tls.Config {
	return &tls.Config{
		RootCAs: p.pool, ServerName: "localhost", MinVersion: tls.VersionTLS13,
		CurvePreferences: []tls.CurveID{tls.X25519},
	}
}

// payload is unique to (phase, connection): its number, then random bytes.
func payload(tag string, i, size int) []byte {
	b := make([]byte, size)
	n := copy(b, fmt.Sprintf("%s %07d ", tag, i))
	_, _ = rand.Read(b[n:])
	return b
}

// echo writes a payload and reads back exactly as many bytes; a
// mismatch is reported apart from transport or TLS errors.
func echo(c *tls.Conn, want []byte) (mismatch bool, err error) {
	if _, err := c.Write(want); err != nil {
		return false, fmt.Errorf("write: %w", err)
	}
	got := make([]byte, len(want))
	if _, err := io.ReadFull(c, got); err != nil {
		return false, fmt.Errorf("read echo: %w", err)
	}
	return !bytes.Equal(got, want), nil
}

// closeConn is the orderly end: our close_notify, then the server's
// (Read returns io.EOF), then the transport.
func closeConn(c *tls.Conn) error {
	if err := c.CloseWrite(); err != nil {
		_ = c.Close()
		return fmt.Errorf("close_notify: %w", err)
	}
	var one [1]byte
	n, err := c.Read(one[:])
	_ = c.Close()
	if n != 0 || !errors.Is(err, io.EOF) {
		return fmt.Errorf("after close_notify: %d bytes, %v (want io.EOF)", n, err)
	}
	return nil
}

type counters struct {
	errs, mismatches atomic.Int64
	mu               sync.Mutex
	first            string
}

func (k *counters) fail(err error) {
	if k.errs.Add(1) == 1 {
		k.mu.Lock()
		k.first = err.Error()
		k.mu.Unlock()
	}
}

// parallelDo runs f(0..n-1) on `workers` goroutines.
func parallelDo(n, workers int, f func(i int)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				f(i)
			}
		}()
	}
	wg.Wait()
}

func runOne(p params, logf func(string, ...any)) (*result, error) {
	r := &result{p: p}
	srv, err := startServer(p)
	if err != nil {
		return nil, err
	}
	stopped := false
	defer func() {
		if !stopped {
			srv.stop()
		}
	}()
	if r.base, err = srv.stats(true); err != nil {
		return nil, err
	}
	cfg := p.clientConfig()
	dialer := &net.Dialer{Timeout: 30 * time.Second}
	var k counters
	mismatch := func(phase string, i int) {
		if k.mismatches.Add(1) == 1 {
			k.mu.Lock()
			if k.first == "" {
				k.first = fmt.Sprintf("%s: connection %d: echo differs", phase, i)
			}
			k.mu.Unlock()
		}
	}

	// Concurrent phase: open p.conns connections, each with a first echo,
	// and keep every one open.
	logf("%s: opening %d connections (%d in flight)", p.impl, p.conns, p.parallel)
	conns := make([]*tls.Conn, p.conns)
	t0 := time.Now()
	parallelDo(p.conns, p.parallel, func(i int) {
		c, err := tls.DialWithDialer(dialer, "tcp", srv.addr, cfg)
		if err != nil {
			k.fail(fmt.Errorf("dial %d: %w", i, err))
			return
		}
		_ = c.SetDeadline(time.Now().Add(60 * time.Second))
		bad, err := echo(c, payload("open", i, 200))
		if err != nil {
			k.fail(fmt.Errorf("open %d: %w", i, err))
			_ = c.Close()
			return
		}
		if bad {
			mismatch("open", i)
		}
		conns[i] = c
	})
	r.openTime = time.Since(t0)
	// All open: a second echo on every connection proves each is alive
	// while all the others are, then the server is measured.
	parallelDo(p.conns, p.parallel, func(i int) {
		c := conns[i]
		if c == nil {
			return
		}
		_ = c.SetDeadline(time.Now().Add(60 * time.Second))
		bad, err := echo(c, payload("held", i, 100))
		if err != nil {
			k.fail(fmt.Errorf("held %d: %w", i, err))
			return
		}
		if bad {
			mismatch("held", i)
		}
	})
	if r.peak, err = srv.stats(false); err != nil {
		return nil, err
	}
	logf("%s: %d active on the server, RSS %s (before %s)", p.impl, r.peak.Active, mib(r.peak.RSS), mib(r.base.RSS))
	parallelDo(p.conns, p.parallel, func(i int) {
		if c := conns[i]; c != nil {
			if err := closeConn(c); err != nil {
				k.fail(fmt.Errorf("close %d: %w", i, err))
			}
			conns[i] = nil
		}
	})
	conns = nil
	if r.afterConc, err = srv.stats(true); err != nil {
		return nil, err
	}
	srv.stop()
	stopped = true

	// The soak runs on a fresh server process: memory the allocator kept
	// after the concurrent phase would otherwise absorb a slow leak.
	soakSrv, err := startServer(p)
	if err != nil {
		return nil, err
	}
	defer soakSrv.stop()
	if r.soakBase, err = soakSrv.stats(true); err != nil {
		return nil, err
	}

	// Soak: sequential handshakes, each with a small echo and an orderly
	// close; the server's stats every p.sample handshakes (time spent
	// sampling is not counted in the handshake rate).
	logf("%s: soak of %d sequential handshakes", p.impl, p.soak)
	var sampling time.Duration
	t0 = time.Now()
	for i := 0; i < p.soak; i++ {
		c, err := tls.DialWithDialer(dialer, "tcp", soakSrv.addr, cfg)
		if err != nil {
			k.fail(fmt.Errorf("soak dial %d: %w", i, err))
			continue
		}
		_ = c.SetDeadline(time.Now().Add(30 * time.Second))
		bad, err := echo(c, payload("soak", i, 64))
		if err == nil {
			err = closeConn(c)
		} else {
			_ = c.Close()
		}
		if err != nil {
			k.fail(fmt.Errorf("soak %d: %w", i, err))
		}
		if bad {
			mismatch("soak", i)
		}
		r.soakDone++
		if (i+1)%p.sample == 0 {
			ts := time.Now()
			st, err := soakSrv.stats(true)
			if err != nil {
				return nil, err
			}
			r.samples = append(r.samples, sample{i + 1, st})
			sampling += time.Since(ts)
		}
	}
	r.soakTime = time.Since(t0) - sampling
	if r.final, err = soakSrv.stats(true); err != nil {
		return nil, err
	}
	r.clientErrs, r.mismatches = k.errs.Load(), k.mismatches.Load()
	r.firstErr = k.first
	for _, st := range []stats{r.afterConc, r.final} {
		if r.firstErr == "" && st.LastError != "" {
			r.firstErr = "server: " + st.LastError
		}
	}
	r.judge()
	return r, nil
}

// Soak flatness: samples of the first tenth of the soak are warm-up and
// ignored; of the rest, the largest RSS of the last quarter may exceed
// the largest of the first quarter by at most flatPct percent plus
// flatSlack bytes.
const (
	flatPct   = 10
	flatSlack = 2 << 20
)

func (r *result) serverErrs() int64 { return r.afterConc.Errors + r.final.Errors }

func (r *result) judge() {
	p := r.p
	r.check("errors", r.clientErrs == 0 && r.serverErrs() == 0,
		"client %d, server %d", r.clientErrs, r.serverErrs())
	r.check("echo", r.mismatches == 0, "%d echoes differ", r.mismatches)
	r.check("concurrent", r.peak.Active == int64(p.conns) && r.peak.Peak == int64(p.conns),
		"server: %d active, peak %d, want %d", r.peak.Active, r.peak.Peak, p.conns)
	r.check("handshakes", r.afterConc.Handshakes == int64(p.conns) && r.final.Handshakes == int64(p.soak),
		"servers completed %d + %d, want %d + %d", r.afterConc.Handshakes, r.final.Handshakes, p.conns, p.soak)
	bpc := r.bytesPerConn()
	r.check("rss-bound", bpc <= p.maxBytes, "%d bytes per connection (at most %d)", bpc, p.maxBytes)
	fdOK := r.afterConc.FDs == r.base.FDs && r.afterConc.Open == 0 &&
		r.final.FDs == r.soakBase.FDs && r.final.Open == 0
	for _, s := range r.samples {
		fdOK = fdOK && s.st.FDs == r.soakBase.FDs
	}
	r.check("fd", fdOK, "concurrent phase: %d before, %d after; soak: %d before, %d after",
		r.base.FDs, r.afterConc.FDs, r.soakBase.FDs, r.final.FDs)
	// Flatness over the samples after warm-up.
	var rest []sample
	for _, s := range r.samples {
		if s.after > p.soak/10 {
			rest = append(rest, s)
		}
	}
	if len(rest) < 8 {
		r.check("soak-rss", false, "%d samples after warm-up, need 8 (raise -soak or lower -sample)", len(rest))
		return
	}
	q := len(rest) / 4
	r.q1Max, r.q4Max = 0, 0
	for _, s := range rest[:q] {
		if s.st.RSS > r.q1Max {
			r.q1Max = s.st.RSS
		}
	}
	for _, s := range rest[len(rest)-q:] {
		if s.st.RSS > r.q4Max {
			r.q4Max = s.st.RSS
		}
	}
	limit := r.q1Max + r.q1Max*flatPct/100 + flatSlack
	r.check("soak-rss", r.q4Max <= limit, "last quarter max %s, first quarter max %s, limit %s",
		mib(r.q4Max), mib(r.q1Max), mib(limit))
}

func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }
