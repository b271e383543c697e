package ferrule

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
)

// The Go example in the top-level README runs as written: it is copied
// into a module of its own (requiring this one through a replace
// directive) and run with the testdata PKI.
func TestReadmeExample(t *testing.T) {
	text, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?ms)^```go\n(.*?)^```").FindSubmatch(text)
	if m == nil {
		t.Fatal("no ```go block in README.md")
	}
	code := string(m[1])
	if n := strings.Count(code, "\n"); n > 45 {
		t.Fatalf("the README example has %d lines; keep it short", n)
	}
	here, _ := filepath.Abs(".")
	dir := t.TempDir()
	mod := "module readme\n\ngo 1.19\n\nrequire github.com/ferrule-tls/ferrule/bindings/go v0.0.0\n\n" +
		"replace github.com/ferrule-tls/ferrule/bindings/go => " + here + "\n"
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte(mod), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(code), 0o644); err != nil {
		t.Fatal(err)
	}
	gobin := filepath.Join(runtime.GOROOT(), "bin", "go")
	cmd := exec.Command(gobin, "run", ".", filepath.Join(here, "testdata/localhost.pem"),
		filepath.Join(here, "testdata/localhost.key"), filepath.Join(here, "testdata/root.pem"))
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOPROXY=off")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go run: %v\n%s", err, out)
	}
	if got := strings.TrimSpace(string(out)); got != "200 hello over HTTP/1.1" {
		t.Fatalf("the README example printed %q", got)
	}
}
