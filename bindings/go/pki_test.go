package ferrule

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"sync"
	"testing"
	"time"
)

// A test PKI made with crypto/x509: a root per key type, leaves for
// "localhost" / 127.0.0.1 (and other names) under it, client leaves.

type testCA struct {
	cert *x509.Certificate
	key  crypto.Signer
	pem  []byte
}

type testLeaf struct {
	chainPEM, keyPEM []byte
	cert             *x509.Certificate
	key              crypto.Signer
}

var serial int64 = 1000
var serialMu sync.Mutex

func nextSerial() *big.Int {
	serialMu.Lock()
	defer serialMu.Unlock()
	serial++
	return big.NewInt(serial)
}

func newKey(t testing.TB, kind string) crypto.Signer {
	t.Helper()
	var k crypto.Signer
	var err error
	switch kind {
	case "ecdsa":
		k, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case "rsa":
		k, err = rsa.GenerateKey(rand.Reader, 2048)
	case "ed25519":
		_, k, err = ed25519.GenerateKey(rand.Reader)
	default:
		t.Fatalf("key kind %q", kind)
	}
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func keyPEM(t testing.TB, k crypto.Signer) []byte {
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

func newCA(t testing.TB, kind string) *testCA {
	k := newKey(t, kind)
	tmpl := &x509.Certificate{
		SerialNumber: nextSerial(), Subject: pkix.Name{CommonName: "ferrule go test root " + kind},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, k.Public(), k)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return &testCA{cert: cert, key: k, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

func (ca *testCA) leaf(t testing.TB, kind string, client bool, names ...string) *testLeaf {
	k := newKey(t, kind)
	tmpl := &x509.Certificate{
		SerialNumber: nextSerial(), Subject: pkix.Name{CommonName: "leaf"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	if client {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	}
	for _, n := range names {
		if ip := net.ParseIP(n); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, n)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, k.Public(), ca.key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return &testLeaf{chainPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		keyPEM: keyPEM(t, k), cert: cert, key: k}
}

// ferrule returns the leaf as a ferrule Certificate.
func (l *testLeaf) ferrule(t testing.TB) Certificate {
	c, err := X509KeyPair(l.chainPEM, l.keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// std returns the leaf as a crypto/tls Certificate.
func (l *testLeaf) std(t testing.TB) tls.Certificate {
	c, err := tls.X509KeyPair(l.chainPEM, l.keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (ca *testCA) pool() *CertPool {
	p := NewCertPool()
	p.AddCert(ca.cert)
	return p
}

func (ca *testCA) stdPool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(ca.cert)
	return p
}

// The PKIs are made once per test binary.
var (
	pkiOnce sync.Once
	pkiCAs  map[string]*testCA
	pkiLeaf map[string]*testLeaf
	pkiCli  map[string]*testLeaf
)

func pki(t testing.TB) {
	pkiOnce.Do(func() {
		pkiCAs, pkiLeaf, pkiCli = map[string]*testCA{}, map[string]*testLeaf{}, map[string]*testLeaf{}
		for _, kind := range []string{"ecdsa", "rsa", "ed25519"} {
			ca := newCA(t, kind)
			pkiCAs[kind] = ca
			pkiLeaf[kind] = ca.leaf(t, kind, false, "localhost", "127.0.0.1")
			pkiCli[kind] = ca.leaf(t, kind, true, "client.test")
		}
	})
}
