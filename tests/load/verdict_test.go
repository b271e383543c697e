package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// judged is a result whose held phase and descriptors pass, with the
// given soak RSS samples (one per 100 handshakes).
func judged(rss []int64) *result {
	p := params{conns: 10, soak: 100 * len(rss), maxBytes: 1 << 20}
	ok := stats{RSS: 10 << 20, FDs: 8}
	held := stats{RSS: 11 << 20, FDs: 8, Active: 10, Peak: 10}
	r := &result{p: p, base: ok, peak: held, afterConc: ok, soakBase: ok, final: ok}
	r.afterConc.Handshakes, r.final.Handshakes = 10, int64(p.soak)
	for i, v := range rss {
		r.samples = append(r.samples, sample{after: 100 * (i + 1), st: stats{RSS: v, FDs: 8}})
	}
	r.judge()
	return r
}

func flat(n int, v int64) []int64 {
	s := make([]int64, n)
	for i := range s {
		s[i] = v
	}
	return s
}

func TestSoakFlat(t *testing.T) {
	if f := judged(flat(40, 20<<20)).failed(); len(f) != 0 {
		t.Fatalf("flat soak failed %v", f)
	}
}

func TestSoakWarmupIgnored(t *testing.T) {
	// The first tenth may be anything (here: lower, growing to the plateau).
	s := flat(40, 20<<20)
	for i := 0; i < 4; i++ {
		s[i] = int64(i+1) << 20
	}
	if f := judged(s).failed(); len(f) != 0 {
		t.Fatalf("soak with a warm-up failed %v", f)
	}
}

func TestSoakGrowthFails(t *testing.T) {
	// 200 KiB more per sample: the last quarter's largest is 5.3 MiB
	// above the first's (22.3 MiB), over its 10 % + 2 MiB.
	s := make([]int64, 40)
	for i := range s {
		s[i] = 20<<20 + int64(i)*200<<10
	}
	f := judged(s).failed()
	if len(f) != 1 || f[0] != "soak-rss" {
		t.Fatalf("growing soak: failed %v, want [soak-rss]", f)
	}
}

func TestSoakWithinToleranceAndJustOver(t *testing.T) {
	base := int64(20 << 20)
	limit := base + base*flatPct/100 + flatSlack
	s := flat(40, base)
	s[39] = limit
	if f := judged(s).failed(); len(f) != 0 {
		t.Fatalf("last sample at the limit failed %v", f)
	}
	s[39] = limit + 1
	if f := judged(s).failed(); len(f) != 1 || f[0] != "soak-rss" {
		t.Fatalf("last sample 1 byte over the limit: failed %v, want [soak-rss]", f)
	}
}

func TestSoakTooFewSamples(t *testing.T) {
	if f := judged(flat(5, 20<<20)).failed(); len(f) != 1 || f[0] != "soak-rss" {
		t.Fatalf("5 samples: failed %v, want [soak-rss]", f)
	}
}

func TestOtherVerdicts(t *testing.T) {
	cases := []struct {
		name string
		hurt func(r *result)
	}{
		{"errors", func(r *result) { r.final.Errors = 1 }},
		{"errors", func(r *result) { r.clientErrs = 1 }},
		{"echo", func(r *result) { r.mismatches = 1 }},
		{"concurrent", func(r *result) { r.peak.Active = 9 }},
		{"handshakes", func(r *result) { r.final.Handshakes-- }},
		{"rss-bound", func(r *result) { r.peak.RSS = r.base.RSS + 10*(1<<20) + 10 }},
		{"fd", func(r *result) { r.afterConc.FDs++ }},
		{"fd", func(r *result) { r.samples[3].st.FDs++ }},
		{"fd", func(r *result) { r.final.Open = 1 }},
	}
	for _, c := range cases {
		r := judged(flat(40, 20<<20))
		c.hurt(r)
		r.verdicts = nil
		r.judge()
		if f := r.failed(); len(f) != 1 || f[0] != c.name {
			t.Errorf("%s fault: failed %v", c.name, f)
		}
	}
}

func TestWriteFigures(t *testing.T) {
	path := filepath.Join(t.TempDir(), "load.md")
	doc := "# Load\n\nintro\n\n" + beginMark + "\nold figures\n" + endMark + "\n\nlimits\n"
	if err := os.WriteFile(path, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := writeFigures(path, "new figures\n"); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(path)
	want := "# Load\n\nintro\n\n" + beginMark + "\nnew figures\n" + endMark + "\n\nlimits\n"
	if string(got) != want {
		t.Fatalf("got %q\nwant %q", got, want)
	}
}

func TestWriteFiguresNoMarkers(t *testing.T) {
	path := filepath.Join(t.TempDir(), "load.md")
	doc := "# Load\n" + endMark + "\n" + beginMark + "\n"
	if err := os.WriteFile(path, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	err := writeFigures(path, "x\n")
	if err == nil || !strings.Contains(err.Error(), "load-figures") {
		t.Fatalf("markers in the wrong order: err %v", err)
	}
	if got, _ := os.ReadFile(path); string(got) != doc {
		t.Fatalf("file changed: %q", got)
	}
}
