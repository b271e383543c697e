package ferrule

import (
	"crypto/tls"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"sort"
	"strings"
	"testing"
	"time"
)

// Benchmarks of the binding against crypto/tls doing the same work: both
// ends of each connection in one process over net.Pipe, the same ECDSA
// P-256 certificate, X25519, the client verifying the chain and the name.
// `make bench-go` runs them several times and writes the medians and the
// ratios into docs/performance.md (-bench-report).

var benchReport = flag.String("bench-report", "", "run the benchmarks and write their section into this file")

type lib int

const (
	libFerrule lib = iota
	libStd
)

func (l lib) String() string { return [...]string{"ferrule", "crypto-tls"}[l] }

// benchPeers returns client and server configs of one library.
type benchPeers struct {
	fc, fs    *Config
	sc, ss    *tls.Config
	fcFresh   *Config     // fc without a session cache: full handshakes
	scFresh   *tls.Config // sc without one
	fcBySuite map[uint16]*Config
}

func newBenchPeers(tb testing.TB) *benchPeers {
	pki(tb)
	p := &benchPeers{
		fc: &Config{RootCAs: pkiCAs["ecdsa"].pool(), ServerName: "localhost", CurvePreferences: []CurveID{X25519},
			ClientSessionCache: NewLRUClientSessionCache(1)},
		fs: &Config{Certificates: []Certificate{pkiLeaf["ecdsa"].ferrule(tb)}},
		sc: &tls.Config{RootCAs: pkiCAs["ecdsa"].stdPool(), ServerName: "localhost",
			CurvePreferences: []tls.CurveID{tls.X25519}, ClientSessionCache: tls.NewLRUClientSessionCache(1)},
		ss: &tls.Config{Certificates: []tls.Certificate{pkiLeaf["ecdsa"].std(tb)}, MinVersion: tls.VersionTLS13,
			CurvePreferences: []tls.CurveID{tls.X25519}},
		fcBySuite: map[uint16]*Config{},
	}
	// Configs are made once, as an application makes them: a Config is
	// turned into the library's configuration on first use, per Config.
	p.fcFresh = p.fc.Clone()
	p.fcFresh.ClientSessionCache = nil
	p.scFresh = p.sc.Clone()
	p.scFresh.ClientSessionCache = nil
	for _, s := range suites {
		c := p.fcFresh.Clone()
		c.CipherSuites = []uint16{s}
		p.fcBySuite[s] = c
	}
	return p
}

// pair makes a connected client and server of library l; the client
// reads one byte the server sends after the handshake, so its tickets are
// in (a resumable session, as in real use).
func (p *benchPeers) pair(tb testing.TB, l lib, resumable bool, suite uint16) (net.Conn, net.Conn) {
	a, b := net.Pipe()
	var cli, srv net.Conn
	switch l {
	case libFerrule:
		cc := p.fc
		if !resumable {
			cc = p.fcFresh
		}
		if suite != 0 {
			cc = p.fcBySuite[suite]
		}
		cli, srv = Client(a, cc), Server(b, p.fs)
	default:
		cc := p.sc
		if !resumable {
			cc = p.scFresh
		}
		cli, srv = tls.Client(a, cc), tls.Server(b, p.ss)
	}
	done := make(chan error, 1)
	go func() {
		_, err := srv.Write([]byte{1})
		done <- err
	}()
	one := make([]byte, 1)
	if _, err := io.ReadFull(cli, one); err != nil {
		tb.Fatalf("%v client: %v", l, err)
	}
	if err := <-done; err != nil {
		tb.Fatalf("%v server: %v", l, err)
	}
	return cli, srv
}

func closePair(cli, srv net.Conn) {
	go func() { _, _ = io.Copy(io.Discard, srv) }() // take the client's close_notify
	cli.Close()
	srv.Close()
}

func benchHandshakes(b *testing.B, l lib, resumed bool) {
	p := newBenchPeers(b)
	if resumed {
		cli, srv := p.pair(b, l, true, 0)
		closePair(cli, srv)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		cli, srv := p.pair(b, l, resumed, 0)
		if resumed {
			var did bool
			if fc, ok := cli.(*Conn); ok {
				did = fc.ConnectionState().DidResume
			} else {
				did = cli.(*tls.Conn).ConnectionState().DidResume
			}
			if !did {
				b.Fatal("did not resume")
			}
		}
		closePair(cli, srv)
	}
}

func BenchmarkHandshakeFull(b *testing.B) {
	for _, l := range []lib{libFerrule, libStd} {
		b.Run(l.String(), func(b *testing.B) { benchHandshakes(b, l, false) })
	}
}

func BenchmarkHandshakeResumed(b *testing.B) {
	for _, l := range []lib{libFerrule, libStd} {
		b.Run(l.String(), func(b *testing.B) { benchHandshakes(b, l, true) })
	}
}

func benchBulk(b *testing.B, l lib, suite uint16, size int) {
	p := newBenchPeers(b)
	cli, srv := p.pair(b, l, false, suite)
	defer closePair(cli, srv)
	buf := make([]byte, size)
	got := make([]byte, size)
	errs := make(chan error, 1)
	b.SetBytes(int64(size))
	b.ReportAllocs()
	b.ResetTimer()
	go func() {
		var err error
		for i := 0; i < b.N && err == nil; i++ {
			_, err = io.ReadFull(srv, got)
		}
		errs <- err
	}()
	for i := 0; i < b.N; i++ {
		if _, err := cli.Write(buf); err != nil {
			b.Fatal(err)
		}
	}
	if err := <-errs; err != nil {
		b.Fatal(err)
	}
}

// crypto/tls picks its TLS 1.3 suite itself (AES-128-GCM on hardware with
// AES): only that suite compares like for like; the others run for
// ferrule alone.
func BenchmarkBulk(b *testing.B) {
	for _, size := range []int{16384, 1024} {
		for _, s := range suites {
			b.Run(fmt.Sprintf("ferrule/%s/%d", suiteName(s), size), func(b *testing.B) { benchBulk(b, libFerrule, s, size) })
		}
		b.Run(fmt.Sprintf("crypto-tls/%s/%d", suiteName(TLS_AES_128_GCM_SHA256), size), func(b *testing.B) {
			benchBulk(b, libStd, 0, size)
		})
	}
}

func suiteName(s uint16) string {
	return map[uint16]string{TLS_AES_128_GCM_SHA256: "AES-128-GCM", TLS_AES_256_GCM_SHA384: "AES-256-GCM",
		TLS_CHACHA20_POLY1305_SHA256: "ChaCha20-Poly1305"}[s]
}

// heldBytes is the heap one established, idle client+server pair holds:
// the Go heap (both libraries) plus, for ferrule, the C library's own
// accounting of both connections.
func heldBytes(tb testing.TB, l lib) float64 {
	p := newBenchPeers(tb)
	const n = 64
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	pairs := make([][2]net.Conn, n)
	for i := range pairs {
		pairs[i][0], pairs[i][1] = p.pair(tb, l, false, 0)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	c := 0
	for _, pr := range pairs {
		if fc, ok := pr[0].(*Conn); ok {
			c += fc.MemoryUsed() + pr[1].(*Conn).MemoryUsed()
		}
	}
	for _, pr := range pairs {
		closePair(pr[0], pr[1])
	}
	return (float64(after.HeapAlloc) - float64(before.HeapAlloc) + float64(c)) / n
}

func median(xs []float64) float64 {
	sort.Float64s(xs)
	return xs[len(xs)/2]
}

// TestMain runs the tests, or with -bench-report FILE only the
// benchmark report (make bench-go).
func TestMain(m *testing.M) {
	flag.Parse()
	if *benchReport != "" {
		os.Exit(runBenchReport(*benchReport))
	}
	os.Exit(m.Run())
}

// reportT is the testing.TB the report's set-up code runs under.
type reportT struct{ testing.TB }

func (reportT) Helper()           {}
func (reportT) Fatal(args ...any) { fmt.Fprintln(os.Stderr, args...); os.Exit(1) }
func (reportT) Fatalf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, format+"\n", args...)
	os.Exit(1)
}

// runBenchReport runs the benchmarks and writes the section "## make
// bench-go" of path.
func runBenchReport(path string) int {
	t := reportT{}
	const rounds = 5
	type row struct {
		name        string
		unit        string
		f, s        func(*testing.B)
		higherIsBad bool
	}
	rows := []row{
		{"full handshake pairs / s", "op/s", func(b *testing.B) { benchHandshakes(b, libFerrule, false) },
			func(b *testing.B) { benchHandshakes(b, libStd, false) }, false},
		{"resumed handshake pairs / s", "op/s", func(b *testing.B) { benchHandshakes(b, libFerrule, true) },
			func(b *testing.B) { benchHandshakes(b, libStd, true) }, false},
	}
	for _, size := range []int{16384, 1024} {
		size := size
		rows = append(rows, row{fmt.Sprintf("bulk AES-128-GCM, %d B writes, MB/s", size), "MB/s",
			func(b *testing.B) { benchBulk(b, libFerrule, TLS_AES_128_GCM_SHA256, size) },
			func(b *testing.B) { benchBulk(b, libStd, 0, size) }, false})
	}
	var out strings.Builder
	fmt.Fprintf(&out, "| measure | ferrule | crypto/tls | ferrule / crypto/tls |\n| --- | ---: | ---: | ---: |\n")
	for _, r := range rows {
		var fv, sv, fa, sa []float64
		for i := 0; i < rounds; i++ { // interleaved
			for k, fn := range []func(*testing.B){r.f, r.s} {
				res := testing.Benchmark(fn)
				v := float64(res.N) / res.T.Seconds()
				if r.unit == "MB/s" {
					v = float64(res.Bytes) * float64(res.N) / res.T.Seconds() / 1e6
				}
				if k == 0 {
					fv, fa = append(fv, v), append(fa, float64(res.AllocedBytesPerOp()))
				} else {
					sv, sa = append(sv, v), append(sa, float64(res.AllocedBytesPerOp()))
				}
			}
		}
		f, s := median(fv), median(sv)
		fmt.Fprintf(&out, "| %s | %.1f | %.1f | %.2f |\n", r.name, f, s, f/s)
		if r.unit == "op/s" {
			fmt.Fprintf(&out, "| %s: Go bytes allocated per pair | %.0f | %.0f | %.2f |\n",
				strings.TrimSuffix(r.name, " / s"), median(fa), median(sa), median(fa)/median(sa))
		}
	}
	var fh, sh []float64
	for i := 0; i < rounds; i++ {
		fh, sh = append(fh, heldBytes(t, libFerrule)), append(sh, heldBytes(t, libStd))
	}
	fmt.Fprintf(&out, "| heap held per idle established pair (Go heap, + C heap for ferrule), bytes | %.0f | %.0f | %.2f |\n",
		median(fh), median(sh), median(fh)/median(sh))
	if err := writeBenchSection(path, out.String(), rounds); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Printf("wrote %s:\n%s", path, out.String())
	return 0
}

const benchSection = "## make bench-go: the Go binding vs crypto/tls"

func writeBenchSection(path, table string, rounds int) error {
	text := benchSection + "\n\n" +
		"`make bench-go` (bindings/go/bench_test.go): the binding and Go's crypto/tls doing the same work, both\n" +
		"ends of each connection in one process over `net.Pipe`, the same ECDSA P-256 certificate, X25519,\n" +
		"TLS_AES_128_GCM_SHA256 (crypto/tls picks its TLS 1.3 suite itself), the client verifying the chain\n" +
		"and the name and reading one byte after the handshake (so its tickets are in). " +
		fmt.Sprintf("%d interleaved rounds of `testing.Benchmark`, medians. ", rounds) +
		"Allocated bytes are the Go heap's (`B/op`); the held heap adds the C library's\n" +
		"own accounting (`MemoryUsed`) for ferrule. Rates: higher is better; bytes: lower.\n\n" +
		fmt.Sprintf("Machine: %d CPUs, %s/%s, %s; %s.\n\n", runtime.NumCPU(), runtime.GOOS, runtime.GOARCH,
			runtime.Version(), time.Now().UTC().Format("2006-01-02")) + table
	old, _ := os.ReadFile(path)
	s := string(old)
	if i := strings.Index(s, benchSection); i >= 0 {
		end := len(s)
		if j := strings.Index(s[i+1:], "\n## "); j >= 0 {
			end = i + 1 + j + 1
		}
		s = s[:i] + text + "\n" + s[end:]
	} else {
		s = strings.TrimRight(s, "\n") + "\n\n" + text
	}
	return os.WriteFile(path, []byte(s), 0o644)
}
