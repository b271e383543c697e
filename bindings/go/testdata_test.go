package ferrule

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// testdata/ holds a long-lived ECDSA P-256 PKI (root, localhost leaf)
// for the examples and the README test, made by
//
//	go test -run TestTestdata -update-testdata
//
// and committed: examples cannot create files before they run.
var updateTestdata = flag.Bool("update-testdata", false, "rewrite testdata/ (PKI for the examples)")

func TestTestdata(t *testing.T) {
	if *updateTestdata {
		writeTestdata(t)
	}
	for _, f := range []string{"root.pem", "localhost.pem", "localhost.key"} {
		if _, err := os.Stat(filepath.Join("testdata", f)); err != nil {
			t.Fatalf("testdata/%s: %v (go test -run TestTestdata -update-testdata)", f, err)
		}
	}
	cert, err := LoadX509KeyPair("testdata/localhost.pem", "testdata/localhost.key")
	if err != nil {
		t.Fatal(err)
	}
	if time.Until(cert.Leaf.NotAfter) < 10*365*24*time.Hour {
		t.Fatalf("testdata certificate expires %v: regenerate it", cert.Leaf.NotAfter)
	}
}

func writeTestdata(t *testing.T) {
	write := func(name string, block *pem.Block) {
		if err := os.WriteFile(filepath.Join("testdata", name), pem.EncodeToMemory(block), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	_ = os.MkdirAll("testdata", 0o755)
	from, to := time.Now().Add(-time.Hour), time.Now().AddDate(100, 0, 0)
	rk, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	root := &x509.Certificate{SerialNumber: nextSerial(), Subject: pkix.Name{CommonName: "ferrule example root"},
		NotBefore: from, NotAfter: to, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}
	rder, err := x509.CreateCertificate(rand.Reader, root, root, rk.Public(), rk)
	if err != nil {
		t.Fatal(err)
	}
	root, _ = x509.ParseCertificate(rder)
	lk, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	leaf := &x509.Certificate{SerialNumber: nextSerial(), Subject: pkix.Name{CommonName: "localhost"},
		NotBefore: from, NotAfter: to, DNSNames: []string{"localhost"},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	lder, err := x509.CreateCertificate(rand.Reader, leaf, root, lk.Public(), rk)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalPKCS8PrivateKey(lk)
	write("root.pem", &pem.Block{Type: "CERTIFICATE", Bytes: rder})
	write("localhost.pem", &pem.Block{Type: "CERTIFICATE", Bytes: lder})
	write("localhost.key", &pem.Block{Type: "PRIVATE KEY", Bytes: kder})
}
