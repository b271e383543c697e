package main

import "bytes"

// hrrRandom is the ServerHello.random that marks a HelloRetryRequest
// (RFC 8446 §4.1.3): SHA-256("HelloRetryRequest").
var hrrRandom = []byte{
	0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
	0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
}

// helloSniffer reads the plaintext records a server sends before its keys
// change: (HelloRetryRequest, ChangeCipherSpec,) ServerHello.  It notes
// whether an HRR came and the group of the ServerHello's key_share, and
// stops at the ServerHello or the first record it does not expect.  It only
// observes; crypto/tls does the real parsing and checking.
type helloSniffer struct {
	buf   []byte
	done  bool
	seen  bool // a ServerHello was parsed
	hrr   bool
	group uint16
}

const maxPlainRecord = 16384 + 256

func (s *helloSniffer) feed(p []byte) {
	if s.done || len(p) == 0 {
		return
	}
	s.buf = append(s.buf, p...)
	for !s.done && len(s.buf) >= 5 {
		n := int(s.buf[3])<<8 | int(s.buf[4])
		if n > maxPlainRecord {
			s.stop()
			return
		}
		if len(s.buf) < 5+n {
			return
		}
		typ, rec := s.buf[0], s.buf[5:5+n]
		s.buf = s.buf[5+n:]
		switch typ {
		case 20: // change_cipher_spec (middlebox compatibility, §D.4)
		case 22:
			s.hello(rec)
		default:
			s.stop()
		}
	}
}

func (s *helloSniffer) stop() {
	s.done = true
	s.buf = nil
}

// hello parses a handshake record that starts with a ServerHello.
func (s *helloSniffer) hello(rec []byte) {
	// msg_type(1) length(3) legacy_version(2) random(32) session_id<0..32>
	if len(rec) < 4+2+32+1 || rec[0] != 2 {
		s.stop()
		return
	}
	body := rec[4:]
	random := body[2:34]
	p := body[34:]
	sid := int(p[0])
	if len(p) < 1+sid+2+1+2 {
		s.stop()
		return
	}
	p = p[1+sid+3:] // session id, cipher_suite, legacy_compression_method
	group := keyShareGroup(p)
	if bytes.Equal(random, hrrRandom) {
		s.hrr = true
		return // the real ServerHello follows
	}
	s.seen, s.group = true, group
	s.stop()
}

// keyShareGroup finds key_share (51) in an extensions block and returns its
// first two bytes: the group of a ServerHello's KeyShareEntry, or an HRR's
// selected_group.
func keyShareGroup(p []byte) uint16 {
	if len(p) < 2 {
		return 0
	}
	n := int(p[0])<<8 | int(p[1])
	p = p[2:]
	if n < len(p) {
		p = p[:n]
	}
	for len(p) >= 4 {
		typ := int(p[0])<<8 | int(p[1])
		l := int(p[2])<<8 | int(p[3])
		if len(p) < 4+l {
			return 0
		}
		if typ == 51 && l >= 2 {
			return uint16(p[4])<<8 | uint16(p[5])
		}
		p = p[4+l:]
	}
	return 0
}
