package ferrule

/*
#include <stdlib.h>
#include <ferrule.h>

int ferrule_go_set_time(ferrule_config *cfg, uintptr_t h);
int ferrule_go_set_keylog(ferrule_config *cfg, uintptr_t h);
*/
import "C"

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"io"
	"os"
	"runtime"
	"runtime/cgo"
	"sync"
	"time"
	"unsafe"
)

// VersionTLS13 is the only protocol version ferrule speaks.
const VersionTLS13 = 0x0304

// TLS 1.3 cipher suites (the same values as crypto/tls).
const (
	TLS_AES_128_GCM_SHA256       uint16 = 0x1301
	TLS_AES_256_GCM_SHA384       uint16 = 0x1302
	TLS_CHACHA20_POLY1305_SHA256 uint16 = 0x1303
)

// CurveID is a TLS named group (the same values as crypto/tls).
type CurveID uint16

// The key-exchange groups ferrule supports.
const (
	CurveP256 CurveID = 23
	CurveP384 CurveID = 24
	X25519    CurveID = 29
)

// ClientAuthType says whether a server asks for a client certificate.
// The certificate, when sent, is always verified against ClientCAs.
type ClientAuthType int

const (
	// NoClientCert: no certificate is requested (the default).
	NoClientCert ClientAuthType = iota
	// VerifyClientCertIfGiven: a certificate is requested; a client
	// without one is accepted, one with a certificate that fails
	// verification is not.
	VerifyClientCertIfGiven
	// RequireAndVerifyClientCert: a verified client certificate is
	// required (certificate_required alert otherwise).
	RequireAndVerifyClientCert
)

// Certificate is a certificate chain (leaf first) with its private key,
// both PEM.  Leaf is the parsed leaf, for inspection.
type Certificate struct {
	chainPEM, keyPEM []byte
	Leaf             *x509.Certificate
	// OCSPStaple (server): a DER OCSP response for the leaf, stapled to
	// every handshake that uses this chain (as in crypto/tls).
	OCSPStaple []byte
}

// X509KeyPair takes a PEM chain (leaf first) and its PEM private key
// (PKCS#8, or traditional RSA/EC).  The pair is checked the way a config
// will use it: the key must match the leaf.
func X509KeyPair(certPEMBlock, keyPEMBlock []byte) (Certificate, error) {
	var leaf *x509.Certificate
	if b, _ := pem.Decode(certPEMBlock); b != nil && b.Type == "CERTIFICATE" {
		leaf, _ = x509.ParseCertificate(b.Bytes)
	}
	cert := Certificate{chainPEM: append([]byte(nil), certPEMBlock...),
		keyPEM: append([]byte(nil), keyPEMBlock...), Leaf: leaf}
	// A scratch server config tells whether the library accepts the pair.
	var cfg *C.ferrule_config
	if st := C.ferrule_config_new(&cfg, C.FERRULE_ROLE_SERVER, nil); st != C.FERRULE_OK {
		return Certificate{}, configError("config", st, nil)
	}
	defer C.ferrule_config_free(cfg)
	if err := addChain(cfg, &cert); err != nil {
		return Certificate{}, err
	}
	return cert, nil
}

// LoadX509KeyPair reads a PEM chain and key from files (see X509KeyPair).
func LoadX509KeyPair(certFile, keyFile string) (Certificate, error) {
	c, err := os.ReadFile(certFile)
	if err != nil {
		return Certificate{}, err
	}
	k, err := os.ReadFile(keyFile)
	if err != nil {
		return Certificate{}, err
	}
	return X509KeyPair(c, k)
}

func addChain(cfg *C.ferrule_config, cert *Certificate) error {
	if len(cert.chainPEM) == 0 || len(cert.keyPEM) == 0 {
		return &Error{Op: "config", Status: StatusUsage, Alert: -1}
	}
	st := C.ferrule_config_add_cert_chain_pem(cfg,
		(*C.uint8_t)(unsafe.Pointer(&cert.chainPEM[0])), C.size_t(len(cert.chainPEM)),
		(*C.uint8_t)(unsafe.Pointer(&cert.keyPEM[0])), C.size_t(len(cert.keyPEM)))
	if st != C.FERRULE_OK {
		return configError("certificate", st, cfg)
	}
	return nil
}

// CertPool is a set of trust anchors.  Unlike crypto/x509's pool it only
// holds certificates (DER) for ferrule's own verifier; SystemCertPool
// stands for the system's bundle, read by the library.
type CertPool struct {
	ders   [][]byte
	system bool
}

// NewCertPool returns an empty pool.
func NewCertPool() *CertPool { return &CertPool{} }

// SystemCertPool returns a pool of the system's trust anchors
// ($SSL_CERT_FILE, /etc/ssl/certs/ca-certificates.crt, ...).
func SystemCertPool() *CertPool { return &CertPool{system: true} }

// AddCert adds a certificate as a trust anchor.
func (p *CertPool) AddCert(cert *x509.Certificate) {
	p.ders = append(p.ders, append([]byte(nil), cert.Raw...))
}

// AppendCertsFromPEM adds every CERTIFICATE block of pemCerts; it reports
// whether any was added.
func (p *CertPool) AppendCertsFromPEM(pemCerts []byte) (ok bool) {
	for len(pemCerts) > 0 {
		var b *pem.Block
		b, pemCerts = pem.Decode(pemCerts)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" || len(b.Headers) != 0 {
			continue
		}
		p.ders = append(p.ders, b.Bytes)
		ok = true
	}
	return ok
}

func (p *CertPool) load(cfg *C.ferrule_config) error {
	if p.system {
		if st := C.ferrule_config_add_trust_system(cfg); st != C.FERRULE_OK {
			return configError("trust", st, cfg)
		}
	}
	for _, d := range p.ders {
		st := C.ferrule_config_add_trust_der(cfg, (*C.uint8_t)(unsafe.Pointer(&d[0])), C.size_t(len(d)))
		if st != C.FERRULE_OK {
			return configError("trust", st, cfg)
		}
	}
	return nil
}

// Config configures a client or a server, like crypto/tls.Config.  A
// Config may be shared by many connections and must not be modified once
// it has been passed to Client, Server, Dial or Listen: the library's
// configuration is built from it on first use.
type Config struct {
	// Certificates: the server's chains (one is chosen per handshake by
	// SNI and signature algorithms), or the client's certificate for
	// client authentication.
	Certificates []Certificate
	// RootCAs: trust anchors for verifying servers; nil means the
	// system's.
	RootCAs *CertPool
	// ServerName: the name sent in SNI and verified in the server's
	// certificate (a DNS name or an IP address).  Dial fills it in from
	// the address when empty.
	ServerName string
	// NextProtos: ALPN protocols in preference order.
	NextProtos []string
	// CipherSuites: TLS 1.3 suites in preference order; nil means all
	// three, AES-128-GCM first.
	CipherSuites []uint16
	// CurvePreferences: key-exchange groups in preference order; nil
	// means X25519, P-256, P-384.
	CurvePreferences []CurveID
	// ClientAuth and ClientCAs: the server's policy for client
	// certificates and the anchors they are verified against.
	ClientAuth ClientAuthType
	ClientCAs  *CertPool
	// InsecureSkipVerify turns certificate verification off entirely.
	// For tests only.
	InsecureSkipVerify bool
	// SessionTicketsDisabled: a server issues and accepts no tickets; a
	// client neither stores nor offers sessions.
	SessionTicketsDisabled bool
	// ClientSessionCache: where a client keeps sessions by server name
	// to resume later; nil means no resumption.
	ClientSessionCache ClientSessionCache
	// KeyLogWriter receives NSS key-log lines (for Wireshark).  Secrets
	// leave the library through it: debugging only.
	KeyLogWriter io.Writer
	// Time is the clock for certificate validity and ticket ages; nil
	// means the system clock (then no Go call is made per operation).
	Time func() time.Time
	// MinVersion and MaxVersion may be 0 or VersionTLS13; ferrule has no
	// other version.
	MinVersion, MaxVersion uint16

	// GetCertificate (server) picks the chain for a ClientHello: one of
	// Certificates (crypto/tls lets it return any certificate; here the
	// chains are loaded with the Config), nil for ferrule's default
	// choice by SNI and signature algorithms, or an error to refuse the
	// handshake (handshake_failure).
	GetCertificate func(*ClientHelloInfo) (*Certificate, error)
	// SelectProtocol (server) picks the ALPN protocol among
	// hello.SupportedProtos, "" for none, or returns an error to refuse
	// with no_application_protocol.  Called only when the client offered
	// ALPN; nil means the first of NextProtos the client offered.
	SelectProtocol func(hello *ClientHelloInfo) (string, error)
	// VerifyConnection runs after ferrule's own verification accepted the
	// peer's chain (it can only restrict): an error ends the handshake
	// with bad_certificate, like crypto/tls's hook of the same name.  As
	// there, it also runs with InsecureSkipVerify (ferrule then accepted
	// any chain; VerifiedChains is empty).
	VerifyConnection func(ConnectionState) error
	// RequireOCSPStaple (client): the server must staple a valid, good
	// OCSP response (otherwise one is needed only for a must-staple leaf;
	// an invalid or revoked staple always fails).
	RequireOCSPStaple bool
	// MaxChainDepth: the longest accepted path below the trust anchor,
	// leaf included (0: the library's default, 8).
	MaxChainDepth int
	// EarlyData enables 0-RTT (nil: off, the default).  0-RTT data can be
	// replayed by an attacker: a client sends it only through
	// WriteReplaySafeEarlyData.
	EarlyData *EarlyDataConfig

	mu         sync.Mutex
	cache      *configCache
	ticketKeys [][32]byte
}

// EarlyDataConfig are the 0-RTT settings (zero values: the library's
// defaults).
type EarlyDataConfig struct {
	// MaxSize (server): the most early data a ticket allows (default
	// 16384).
	MaxSize uint32
	// Window (server): how far the client's ticket age may be from ours,
	// and how long ClientHellos are remembered (default 10 s).
	Window time.Duration
	// ReplayCapacity (server): entries per generation of the built-in
	// replay store (default 65536).
	ReplayCapacity uint32
}

// configCache holds the library configs built from a Config, one per
// role; they are freed when the Config is collected (connections hold
// references of their own).
type configCache struct {
	built [3]*builtConfig
}

// builtConfig is the library's config made from a Config for one role.
type builtConfig struct {
	cfg     *C.ferrule_config
	handles []cgo.Handle
}

func (b *builtConfig) free() {
	C.ferrule_config_free(b.cfg)
	for _, h := range b.handles {
		h.Delete()
	}
}

// Clone returns a copy of c that can be modified and used on its own.
func (c *Config) Clone() *Config {
	if c == nil {
		return nil
	}
	return &Config{
		Certificates: append([]Certificate(nil), c.Certificates...), RootCAs: c.RootCAs,
		ServerName: c.ServerName, NextProtos: append([]string(nil), c.NextProtos...),
		CipherSuites: append([]uint16(nil), c.CipherSuites...), CurvePreferences: append([]CurveID(nil), c.CurvePreferences...),
		ClientAuth: c.ClientAuth, ClientCAs: c.ClientCAs, InsecureSkipVerify: c.InsecureSkipVerify,
		SessionTicketsDisabled: c.SessionTicketsDisabled, ClientSessionCache: c.ClientSessionCache,
		KeyLogWriter: c.KeyLogWriter, Time: c.Time, MinVersion: c.MinVersion, MaxVersion: c.MaxVersion,
		GetCertificate: c.GetCertificate, SelectProtocol: c.SelectProtocol, VerifyConnection: c.VerifyConnection,
		EarlyData: c.EarlyData, RequireOCSPStaple: c.RequireOCSPStaple, MaxChainDepth: c.MaxChainDepth, ticketKeys: append([][32]byte(nil), c.ticketKeys...),
	}
}

// library returns the library config for role, building it once.  The
// caller gets no reference of its own: ferrule_conn_new takes one.
func (c *Config) library(role C.uint32_t) (*C.ferrule_config, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cache == nil {
		c.cache = &configCache{}
		runtime.SetFinalizer(c.cache, func(cc *configCache) {
			for _, b := range cc.built {
				if b != nil {
					b.free()
				}
			}
		})
	}
	if b := c.cache.built[role]; b != nil {
		return b.cfg, nil
	}
	b, err := c.build(role)
	if err != nil {
		return nil, err
	}
	c.cache.built[role] = b
	return b.cfg, nil
}

var errVersion = errors.New("ferrule: only TLS 1.3 (VersionTLS13) is supported")

func (c *Config) build(role C.uint32_t) (*builtConfig, error) {
	for _, v := range []uint16{c.MinVersion, c.MaxVersion} {
		if v != 0 && v != VersionTLS13 {
			return nil, errVersion
		}
	}
	var cfg *C.ferrule_config
	if st := C.ferrule_config_new(&cfg, role, nil); st != C.FERRULE_OK {
		return nil, configError("config", st, nil)
	}
	b := &builtConfig{cfg: cfg}
	if err := c.fill(b, role); err != nil {
		b.free()
		return nil, err
	}
	return b, nil
}

func (c *Config) fill(b *builtConfig, role C.uint32_t) error {
	cfg := b.cfg
	server := role == C.FERRULE_ROLE_SERVER
	if len(c.CipherSuites) > 0 {
		if st := C.ferrule_config_set_cipher_suites(cfg, (*C.uint16_t)(unsafe.Pointer(&c.CipherSuites[0])),
			C.size_t(len(c.CipherSuites))); st != C.FERRULE_OK {
			return configError("cipher suites", st, cfg)
		}
	}
	if len(c.CurvePreferences) > 0 {
		gs := make([]C.uint16_t, len(c.CurvePreferences))
		for i, g := range c.CurvePreferences {
			gs[i] = C.uint16_t(g)
		}
		if st := C.ferrule_config_set_groups(cfg, &gs[0], C.size_t(len(gs))); st != C.FERRULE_OK {
			return configError("groups", st, cfg)
		}
	}
	for _, p := range c.NextProtos {
		if len(p) == 0 {
			return &Error{Op: "alpn", Status: StatusUsage, Alert: -1}
		}
		bs := []byte(p)
		if st := C.ferrule_config_add_alpn(cfg, (*C.uint8_t)(unsafe.Pointer(&bs[0])), C.size_t(len(bs))); st != C.FERRULE_OK {
			return configError("alpn", st, cfg)
		}
	}
	for i := range c.Certificates {
		if err := addChain(cfg, &c.Certificates[i]); err != nil {
			return err
		}
		if st := c.Certificates[i].OCSPStaple; server && len(st) > 0 {
			if r := C.ferrule_config_set_ocsp_staple(cfg, C.size_t(i), (*C.uint8_t)(unsafe.Pointer(&st[0])),
				C.size_t(len(st))); r != C.FERRULE_OK {
				return configError("ocsp staple", r, cfg)
			}
		}
	}
	if c.RequireOCSPStaple {
		if st := C.ferrule_config_set_ocsp_policy(cfg, C.FERRULE_OCSP_REQUIRE); st != C.FERRULE_OK {
			return configError("ocsp policy", st, cfg)
		}
	}
	if c.MaxChainDepth != 0 {
		if c.MaxChainDepth < 0 {
			return &Error{Op: "chain depth", Status: StatusUsage, Alert: -1}
		}
		if st := C.ferrule_config_set_max_chain_depth(cfg, C.uint32_t(c.MaxChainDepth)); st != C.FERRULE_OK {
			return configError("chain depth", st, cfg)
		}
	}
	if server {
		if err := c.fillServer(cfg); err != nil {
			return err
		}
	} else if err := c.fillClient(cfg); err != nil {
		return err
	}
	if c.KeyLogWriter != nil {
		h := cgo.NewHandle(c.KeyLogWriter)
		b.handles = append(b.handles, h)
		if st := C.ferrule_go_set_keylog(cfg, C.uintptr_t(h)); st != C.FERRULE_OK {
			return configError("keylog", st, cfg)
		}
	}
	if bits := c.decisionBits(server); bits != 0 {
		if st := C.ferrule_config_set_decisions(cfg, bits); st != C.FERRULE_OK {
			return configError("decisions", st, cfg)
		}
	}
	if e := c.EarlyData; e != nil {
		opts := C.ferrule_early_data_options{struct_size: C.uint32_t(C.ferrule_sizeof_early_data_options()),
			max_early_data_size: C.uint32_t(e.MaxSize), window_ms: C.uint32_t(e.Window.Milliseconds()),
			capacity: C.uint32_t(e.ReplayCapacity)}
		if st := C.ferrule_config_set_early_data(cfg, &opts); st != C.FERRULE_OK {
			return configError("early data", st, cfg)
		}
	}
	if server {
		for i := len(c.ticketKeys) - 1; i >= 0; i-- {
			if err := installTicketKey(cfg, c.ticketKeys[i]); err != nil {
				return err
			}
		}
	}
	if c.Time != nil {
		h := cgo.NewHandle(c.Time)
		b.handles = append(b.handles, h)
		if st := C.ferrule_go_set_time(cfg, C.uintptr_t(h)); st != C.FERRULE_OK {
			return configError("time", st, cfg)
		}
	}
	return nil
}

// SetSessionTicketKeys sets the keys that protect a server's tickets,
// like crypto/tls's: the first encrypts new tickets, the first three
// decrypt (the library keeps the current key and the two before it).
// Every server of a fleet given the same keys resumes the others'
// tickets.  Each 32-byte key is expanded into the library's 16-byte key
// name and 32-byte key (SHA-256 with distinct labels).  May be called
// while the Config is in use (rotation).
func (c *Config) SetSessionTicketKeys(keys [][32]byte) error {
	if len(keys) == 0 {
		return errors.New("ferrule: SetSessionTicketKeys needs at least one key")
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ticketKeys = append([][32]byte(nil), keys...)
	if c.cache != nil {
		if b := c.cache.built[C.FERRULE_ROLE_SERVER]; b != nil {
			for i := len(keys) - 1; i >= 0; i-- {
				if err := installTicketKey(b.cfg, keys[i]); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func installTicketKey(cfg *C.ferrule_config, k [32]byte) error {
	name := sha256.Sum256(append([]byte("ferrule go ticket key name\x00"), k[:]...))
	key := sha256.Sum256(append([]byte("ferrule go ticket key\x00"), k[:]...))
	st := C.ferrule_config_set_ticket_key(cfg, (*C.uint8_t)(unsafe.Pointer(&name[0])), (*C.uint8_t)(unsafe.Pointer(&key[0])))
	for i := range key {
		key[i] = 0
	}
	if st != C.FERRULE_OK {
		return configError("ticket key", st, cfg)
	}
	return nil
}

func (c *Config) fillServer(cfg *C.ferrule_config) error {
	mode := map[ClientAuthType]C.uint32_t{NoClientCert: C.FERRULE_CLIENT_AUTH_NONE,
		VerifyClientCertIfGiven: C.FERRULE_CLIENT_AUTH_REQUEST, RequireAndVerifyClientCert: C.FERRULE_CLIENT_AUTH_REQUIRE}
	m, ok := mode[c.ClientAuth]
	if !ok {
		return &Error{Op: "client auth", Status: StatusUsage, Alert: -1}
	}
	if m != C.FERRULE_CLIENT_AUTH_NONE {
		if c.ClientCAs == nil {
			return errors.New("ferrule: ClientAuth needs ClientCAs")
		}
		if err := c.ClientCAs.load(cfg); err != nil {
			return err
		}
		if st := C.ferrule_config_set_client_auth(cfg, m); st != C.FERRULE_OK {
			return configError("client auth", st, cfg)
		}
	}
	if c.SessionTicketsDisabled {
		opts := C.ferrule_resumption_options{struct_size: C.uint32_t(C.ferrule_sizeof_resumption_options()),
			accept: C.FERRULE_RESUME_REFUSE}
		if st := C.ferrule_config_set_resumption(cfg, &opts); st != C.FERRULE_OK {
			return configError("resumption", st, cfg)
		}
	}
	return nil
}

func (c *Config) fillClient(cfg *C.ferrule_config) error {
	if c.InsecureSkipVerify {
		if st := C.ferrule_config_dangerous_no_verification(cfg); st != C.FERRULE_OK {
			return configError("verification", st, cfg)
		}
		return nil
	}
	roots := c.RootCAs
	if roots == nil {
		roots = SystemCertPool()
	}
	return roots.load(cfg)
}
