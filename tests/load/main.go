// Command ferrule-load is the load test of issue 16 (docs/load.md): a
// server on ferrule's Go binding (or, for reference, Go's crypto/tls)
// and a load generator on Go's crypto/tls that holds N connections open
// at once and then runs M sequential handshakes, checking every echo,
// the server's connection count, RSS and descriptors.
//
//	ferrule-load serve -impl ferrule|gotls -cert F -key F [-fault F]
//	ferrule-load run [-impl ferrule|gotls|both] [-conns N] [-soak M] [-sample K] [-write docs/load.md]
//	ferrule-load selftest
package main

import (
	"crypto/x509"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	var rc int
	switch os.Args[1] {
	case "serve":
		rc = cmdServe(os.Args[2:])
	case "run":
		rc = cmdRun(os.Args[2:])
	case "selftest":
		rc = cmdSelftest(os.Args[2:])
	default:
		usage()
	}
	os.Exit(rc)
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: ferrule-load serve|run|selftest [flags] (-h for the flags)")
	os.Exit(2)
}

func logf(format string, a ...any) {
	fmt.Fprintf(os.Stderr, "%s "+format+"\n", append([]any{time.Now().UTC().Format("15:04:05")}, a...)...)
}

// setup makes the run's PKI in a temporary directory and raises the
// client's own descriptor limit.
func setup(conns int) (*pki, *x509.CertPool, func(), error) {
	if err := raiseNofile(uint64(conns + 1024)); err != nil {
		return nil, nil, nil, err
	}
	dir, err := os.MkdirTemp("", "ferrule-load-")
	if err != nil {
		return nil, nil, nil, err
	}
	cleanup := func() { _ = os.RemoveAll(dir) }
	k, err := newPKI(dir)
	if err != nil {
		cleanup()
		return nil, nil, nil, err
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(k.rootPEM)
	return k, pool, cleanup, nil
}

func cmdRun(args []string) int {
	fs := flag.NewFlagSet("run", flag.ExitOnError)
	impl := fs.String("impl", "both", "server under load: ferrule, gotls, or both (ferrule, then crypto/tls as the reference)")
	conns := fs.Int("conns", 10000, "connections held open at once")
	soak := fs.Int("soak", 100000, "sequential handshakes")
	sampleEvery := fs.Int("sample", 0, "server stats every K soak handshakes (0: soak/100)")
	parallel := fs.Int("parallel", 64, "handshakes in flight while opening the connections")
	fault := fs.String("fault", faultNone, "make the server misbehave (to see a verdict fail): "+strings.Join(faults, ", "))
	maxBytes := fs.Int64("max-bytes-per-conn", 128<<10, "verdict: server RSS per held connection at most this")
	timeout := fs.Duration("timeout", 30*time.Minute, "give up (exit 3) after this long")
	write := fs.String("write", "", "write the figures into this markdown file between the load-figures markers")
	_ = fs.Parse(args)
	impls := []string{*impl}
	if *impl == "both" {
		impls = []string{"ferrule", "gotls"}
	} else if *impl != "ferrule" && *impl != "gotls" {
		fmt.Fprintln(os.Stderr, "run: -impl ferrule|gotls|both")
		return 2
	}
	if *conns < 1 || *soak < 1 || *parallel < 1 {
		fmt.Fprintln(os.Stderr, "run: -conns, -soak and -parallel must be positive")
		return 2
	}
	if *sampleEvery <= 0 {
		*sampleEvery = atLeast1(*soak / 100)
	}
	time.AfterFunc(*timeout, func() {
		fmt.Fprintf(os.Stderr, "run: timed out after %s\n", *timeout)
		os.Exit(3)
	})
	k, pool, cleanup, err := setup(*conns)
	if err != nil {
		fmt.Fprintln(os.Stderr, "run:", err)
		return 1
	}
	defer cleanup()
	start := time.Now()
	var results []*result
	for _, im := range impls {
		p := params{impl: im, conns: *conns, soak: *soak, sample: *sampleEvery, parallel: *parallel,
			fault: *fault, maxBytes: *maxBytes, pki: k, pool: pool}
		r, err := runOne(p, logf)
		if err != nil {
			fmt.Fprintf(os.Stderr, "run: %s: %v\n", im, err)
			return 1
		}
		results = append(results, r)
	}
	elapsed := time.Since(start)
	md := figures(results, os.Args[1:], elapsed)
	fmt.Print(md)
	rc := 0
	for _, r := range results {
		if f := r.failed(); len(f) > 0 {
			fmt.Fprintf(os.Stderr, "run: %s: FAILED: %s\n", r.p.impl, strings.Join(f, ", "))
			rc = 1
		}
	}
	if *write != "" {
		if rc != 0 {
			fmt.Fprintf(os.Stderr, "run: not writing %s: a verdict failed\n", *write)
		} else if err := writeFigures(*write, md); err != nil {
			fmt.Fprintln(os.Stderr, "run:", err)
			return 1
		} else {
			fmt.Fprintf(os.Stderr, "run: wrote the figures into %s\n", *write)
		}
	}
	if rc == 0 {
		fmt.Fprintln(os.Stderr, "run: PASS")
	}
	return rc
}

// cmdSelftest: a small run with every verdict, then one run per fault,
// each of which must fail the verdict the fault is for.
func cmdSelftest(args []string) int {
	fs := flag.NewFlagSet("selftest", flag.ExitOnError)
	conns := fs.Int("conns", 200, "connections held open at once (good runs)")
	soak := fs.Int("soak", 2000, "sequential handshakes (good runs)")
	_ = fs.Parse(args)
	k, pool, cleanup, err := setup(*conns)
	if err != nil {
		fmt.Fprintln(os.Stderr, "selftest:", err)
		return 1
	}
	defer cleanup()
	quiet := func(string, ...any) {}
	cases := []struct {
		impl, fault string
		conns, soak int
		mustFail    string // "" : every verdict must pass
	}{
		{"ferrule", faultNone, *conns, *soak, ""},
		{"gotls", faultNone, *conns, *soak, ""},
		{"ferrule", faultCorrupt, 20, 100, "echo"},
		{"ferrule", faultLeakFD, 20, 100, "fd"},
		{"ferrule", faultLeakMem, 20, 1000, "soak-rss"},
		{"ferrule", faultLeakC, 20, 1000, "soak-rss"},
	}
	rc := 0
	for _, c := range cases {
		p := params{impl: c.impl, conns: c.conns, soak: c.soak, sample: atLeast1(c.soak / 50), parallel: 32,
			fault: c.fault, maxBytes: 256 << 10, pki: k, pool: pool}
		t0 := time.Now()
		r, err := runOne(p, quiet)
		if err != nil {
			fmt.Printf("FAIL %s fault=%s: %v\n", c.impl, c.fault, err)
			rc = 1
			continue
		}
		failed := r.failed()
		ok := len(failed) == 0
		if c.mustFail != "" {
			ok = len(failed) == 1 && failed[0] == c.mustFail
		}
		verdict := "ok  "
		if !ok {
			verdict = "FAIL"
			rc = 1
		}
		want := "all verdicts pass"
		if c.mustFail != "" {
			want = "only " + c.mustFail + " fails"
		}
		fmt.Printf("%s %-7s fault=%-8s %d held, %d sequential: failed [%s] (want %s) %.1fs, %d B/conn, %.0f hs/s\n",
			verdict, c.impl, c.fault, c.conns, c.soak, strings.Join(failed, " "), want,
			time.Since(t0).Seconds(), r.bytesPerConn(), r.handshakesPerSec())
		if !ok {
			for _, v := range r.verdicts {
				fmt.Printf("     %-10s %v: %s\n", v.name, v.ok, v.detail)
			}
			if r.firstErr != "" {
				fmt.Printf("     first error: %s\n", r.firstErr)
			}
		}
	}
	if rc == 0 {
		fmt.Println("selftest: PASS")
	} else {
		fmt.Println("selftest: FAIL")
	}
	return rc
}

func atLeast1(n int) int {
	if n < 1 {
		return 1
	}
	return n
}
