package main

import (
	"bytes"
	"fmt"
	"os"
	"runtime"
	"strings"
	"time"
)

const (
	beginMark = "<!-- load-figures:begin -->"
	endMark   = "<!-- load-figures:end -->"
)

func kernel() string {
	b, err := os.ReadFile("/proc/sys/kernel/osrelease")
	if err != nil {
		return "?"
	}
	return strings.TrimSpace(string(b))
}

// figures is the markdown of a run: the setting, one column per server,
// the ratio ferrule / crypto/tls when both ran, and the verdicts.
func figures(rs []*result, args []string, elapsed time.Duration) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Run of %s UTC, `ferrule-load %s`, %.0f s in all; %s, Linux %s, %d CPUs (shared with other jobs).\n\n",
		time.Now().UTC().Format("2006-01-02 15:04"), strings.Join(args, " "), elapsed.Seconds(),
		runtime.Version(), kernel(), runtime.NumCPU())
	fmt.Fprintf(&b, "| | %s |", strings.Join(names(rs), " | "))
	if len(rs) == 2 {
		b.WriteString(" ratio |")
	}
	b.WriteString("\n|---|" + strings.Repeat("---|", len(rs)))
	if len(rs) == 2 {
		b.WriteString("---|")
	}
	b.WriteString("\n")
	row := func(name string, f func(*result) string, ratio func(*result) float64) {
		fmt.Fprintf(&b, "| %s |", name)
		for _, r := range rs {
			fmt.Fprintf(&b, " %s |", f(r))
		}
		if len(rs) == 2 {
			if ratio != nil && ratio(rs[1]) != 0 {
				fmt.Fprintf(&b, " %.2f |", ratio(rs[0])/ratio(rs[1]))
			} else {
				b.WriteString(" |")
			}
		}
		b.WriteString("\n")
	}
	row("connections held at once (server's count)", func(r *result) string { return fmt.Sprint(r.peak.Active) }, nil)
	row("server RSS before / with all held / after all closed", func(r *result) string {
		return fmt.Sprintf("%s / %s / %s", mib(r.base.RSS), mib(r.peak.RSS), mib(r.afterConc.RSS))
	}, nil)
	row("**RSS per held connection**", func(r *result) string {
		return fmt.Sprintf("**%d B** (%.1f KiB)", r.bytesPerConn(), float64(r.bytesPerConn())/1024)
	}, func(r *result) float64 { return float64(r.bytesPerConn()) })
	row("of which Go heap + stacks / the rest (C, malloc)", func(r *result) string {
		g := r.goBytesPerConn()
		return fmt.Sprintf("%d B / %d B", g, r.bytesPerConn()-g)
	}, nil)
	row("time to open them (handshake + echo)", func(r *result) string {
		return fmt.Sprintf("%.1f s (%.0f /s)", r.openTime.Seconds(), float64(r.p.conns)/r.openTime.Seconds())
	}, func(r *result) float64 { return float64(r.p.conns) / r.openTime.Seconds() })
	row("sequential handshakes (each with an echo)", func(r *result) string { return fmt.Sprint(r.soakDone) }, nil)
	row("**sequential handshakes/s**", func(r *result) string { return fmt.Sprintf("**%.0f**", r.handshakesPerSec()) },
		func(r *result) float64 { return r.handshakesPerSec() })
	row("soak server RSS: before / first quarter max / last quarter max", func(r *result) string {
		return fmt.Sprintf("%s / %s / %s", mib(r.soakBase.RSS), mib(r.q1Max), mib(r.q4Max))
	}, nil)
	row("server descriptors: held phase before / after; soak before / after", func(r *result) string {
		return fmt.Sprintf("%d / %d; %d / %d", r.base.FDs, r.afterConc.FDs, r.soakBase.FDs, r.final.FDs)
	}, nil)
	row("errors (client + server) / wrong echoes", func(r *result) string {
		return fmt.Sprintf("%d / %d", r.clientErrs+r.serverErrs(), r.mismatches)
	}, nil)
	row("verdicts", func(r *result) string {
		if f := r.failed(); len(f) > 0 {
			return "FAIL: " + strings.Join(f, ", ")
		}
		return fmt.Sprintf("pass (%d)", len(r.verdicts))
	}, nil)
	b.WriteString("\nVerdicts:\n\n")
	for _, r := range rs {
		for _, v := range r.verdicts {
			ok := "pass"
			if !v.ok {
				ok = "FAIL"
			}
			fmt.Fprintf(&b, "- %s `%s` %s: %s\n", r.p.impl, v.name, ok, v.detail)
		}
	}
	return b.String()
}

func names(rs []*result) []string {
	var n []string
	for _, r := range rs {
		if r.p.impl == "ferrule" {
			n = append(n, "ferrule (Go binding)")
		} else {
			n = append(n, "Go crypto/tls (reference)")
		}
	}
	return n
}

// writeFigures replaces what is between the markers of path with md.
func writeFigures(path, md string) error {
	old, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	i := bytes.Index(old, []byte(beginMark))
	j := bytes.Index(old, []byte(endMark))
	if i < 0 || j < i {
		return fmt.Errorf("%s: no %s ... %s section", path, beginMark, endMark)
	}
	var out bytes.Buffer
	out.Write(old[:i+len(beginMark)])
	out.WriteString("\n" + md)
	out.Write(old[j:])
	return os.WriteFile(path, out.Bytes(), 0o644)
}
