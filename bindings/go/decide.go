package ferrule

/*
#include <stdlib.h>
#include <ferrule.h>
*/
import "C"

import (
	"errors"
	"fmt"
	"net"
	"unsafe"
)

// Host decisions.  A Config's GetCertificate, SelectProtocol and
// VerifyConnection are answered through the library's pause/resume
// decisions (docs/decisions.md): the handshake pauses, the goroutine
// driving it calls the Go function and answers, and the handshake goes on.
// No C code calls back into Go for them.

// SignatureScheme is a TLS SignatureScheme code point (as in crypto/tls).
type SignatureScheme uint16

// ClientHelloInfo is what a server knows of a ClientHello when it picks a
// certificate or a protocol (like crypto/tls's).
type ClientHelloInfo struct {
	ServerName        string
	CipherSuites      []uint16
	SignatureSchemes  []SignatureScheme
	SupportedProtos   []string
	SupportedVersions []uint16
	Conn              net.Conn

	fits []uint32 // FERRULE_CHAIN_FIT_* per configured chain
}

// SupportsCertificate reports whether the client can use one of the
// config's certificates: its key signs a scheme the client offered (the
// library's own check, FERRULE_CHAIN_FIT_KEY).
func (h *ClientHelloInfo) SupportsCertificate(index int) bool {
	return index >= 0 && index < len(h.fits) && h.fits[index]&C.FERRULE_CHAIN_FIT_KEY != 0
}

func u16s(p *C.uint16_t, n C.size_t) []uint16 {
	if p == nil || n == 0 {
		return nil
	}
	return append([]uint16(nil), unsafe.Slice((*uint16)(unsafe.Pointer(p)), int(n))...)
}

func (c *Conn) clientHelloInfo() *ClientHelloInfo {
	h := C.ferrule_conn_client_hello(c.c)
	info := &ClientHelloInfo{Conn: c.conn, SupportedVersions: []uint16{VersionTLS13}}
	if h == nil {
		return info
	}
	if name := C.ferrule_client_hello_server_name(h); name != nil {
		info.ServerName = C.GoString(name)
	}
	var n C.size_t
	info.CipherSuites = u16s(C.ferrule_client_hello_cipher_suites(h, &n), n)
	for _, s := range u16s(C.ferrule_client_hello_signature_schemes(h, &n), n) {
		info.SignatureSchemes = append(info.SignatureSchemes, SignatureScheme(s))
	}
	for i := C.size_t(0); i < C.ferrule_client_hello_alpn_count(h); i++ {
		var p *C.uint8_t
		var l C.size_t
		if C.ferrule_client_hello_alpn(h, i, &p, &l) == C.FERRULE_OK {
			info.SupportedProtos = append(info.SupportedProtos, C.GoStringN((*C.char)(unsafe.Pointer(p)), C.int(l)))
		}
	}
	for i := range c.config.Certificates {
		info.fits = append(info.fits, uint32(C.ferrule_client_hello_chain_fit(h, C.size_t(i))))
	}
	return info
}

// decide answers the pending decision (both halves held).
func (c *Conn) decide() error {
	d := C.ferrule_conn_pending_decision(c.c)
	var st C.int
	switch d {
	case C.FERRULE_DECISION_CERTIFICATE:
		st = C.ferrule_conn_select_certificate(c.c, C.int(c.chooseCertificate()))
	case C.FERRULE_DECISION_ALPN:
		st = c.chooseProtocol()
	case C.FERRULE_DECISION_VERIFY:
		verdict := C.int(C.FERRULE_VERIFY_ACCEPT)
		if err := c.config.VerifyConnection(c.stateLocked()); err != nil {
			c.hookErr = err
			verdict = C.FERRULE_VERIFY_REJECT
		}
		st = C.ferrule_conn_verify_done(c.c, verdict)
	default:
		return fmt.Errorf("ferrule: unexpected decision %d", uint32(d))
	}
	if st != C.FERRULE_OK {
		return c.connError("decision", st)
	}
	return nil
}

// chooseCertificate runs GetCertificate: the chain it returns (one of
// Config.Certificates), the default selection for nil, a refusal
// (handshake_failure) for an error.
func (c *Conn) chooseCertificate() int {
	cert, err := c.config.GetCertificate(c.clientHelloInfo())
	if err != nil {
		c.hookErr = err
		return C.FERRULE_CERT_SELECT_REFUSE
	}
	if cert == nil {
		return C.FERRULE_CERT_SELECT_DEFAULT
	}
	for i := range c.config.Certificates {
		if &c.config.Certificates[i] == cert || string(c.config.Certificates[i].chainPEM) == string(cert.chainPEM) {
			return i
		}
	}
	c.hookErr = errors.New("ferrule: GetCertificate returned a certificate that is not in Config.Certificates")
	return C.FERRULE_CERT_SELECT_REFUSE
}

// chooseProtocol runs SelectProtocol: one of the offered protocols, ""
// for none, an error for no_application_protocol.
func (c *Conn) chooseProtocol() C.int {
	proto, err := c.config.SelectProtocol(c.clientHelloInfo())
	if err != nil {
		c.hookErr = err
		return C.ferrule_conn_select_alpn(c.c, C.FERRULE_ALPN_NO_OVERLAP, nil, 0)
	}
	if proto == "" {
		return C.ferrule_conn_select_alpn(c.c, C.FERRULE_ALPN_NONE, nil, 0)
	}
	b := []byte(proto)
	return C.ferrule_conn_select_alpn(c.c, C.FERRULE_ALPN_SELECTED, (*C.uint8_t)(unsafe.Pointer(&b[0])), C.size_t(len(b)))
}

// decisionBits are the decisions a Config leaves to Go.
func (c *Config) decisionBits(server bool) C.uint32_t {
	var bits C.uint32_t
	if server && c.GetCertificate != nil {
		bits |= C.FERRULE_DECIDE_CERTIFICATE
	}
	if server && c.SelectProtocol != nil {
		bits |= C.FERRULE_DECIDE_ALPN
	}
	if c.VerifyConnection != nil {
		bits |= C.FERRULE_DECIDE_VERIFY
	}
	return bits
}
