// Package ferrule is the Go binding of ferrule, a TLS 1.3 library written
// in C, shaped like crypto/tls: wrap a net.Conn with Client or Server, or
// use Dial and Listen, and read and write through a *Conn that implements
// net.Conn.
//
// The binding is built with cgo against an installed libferrule, found
// through pkg-config (package "ferrule").  To build against a local
// checkout, install the library into a staging prefix and point
// PKG_CONFIG_PATH (and, for the shared library, LD_LIBRARY_PATH) at it:
//
//	cmake -S . -B build && cmake --build build
//	cmake --install build --prefix $PWD/build/stage
//	export PKG_CONFIG_PATH=$PWD/build/stage/lib/pkgconfig
//	export LD_LIBRARY_PATH=$PWD/build/stage/lib
//	cd bindings/go && go test ./...
//
// Only TLS 1.3 exists here.  Certificate verification is ferrule's own
// (RFC 5280 path validation, hostname checks, OCSP); peer certificates are
// handed to Go as *x509.Certificate values parsed by crypto/x509 for
// inspection only.
//
// Data moves through the engine's buffer API (no C-to-Go call per record):
// ciphertext is read from the transport straight into the connection's
// input buffer and written to it from the output buffer.
package ferrule

/*
#cgo pkg-config: ferrule
#include <stdlib.h>
#include <ferrule.h>
*/
import "C"

import (
	"errors"
	"fmt"
)

// Status classes of a failure (the C library's FERRULE_* status codes).
const (
	StatusClosed        = C.FERRULE_CLOSED         // the peer sent close_notify
	StatusTruncated     = C.FERRULE_TRUNCATED      // transport EOF without close_notify
	StatusDecode        = C.FERRULE_DECODE         // the peer sent malformed bytes; alert sent
	StatusAlertSent     = C.FERRULE_ALERT_SENT     // protocol violation by the peer; alert sent
	StatusAlertReceived = C.FERRULE_ALERT_RECEIVED // the peer sent a fatal alert
	StatusCertificate   = C.FERRULE_CERTIFICATE    // certificate verification failed
	StatusPolicy        = C.FERRULE_POLICY         // local policy refused (no common parameters, limits)
	StatusUsage         = C.FERRULE_USAGE          // API misuse
	StatusInternal      = C.FERRULE_INTERNAL       // allocation or crypto library failure
)

// Error is a failure reported by the library: its status class, the
// precise reason (a FERRULE_R_* code, named by ReasonName) and the alert
// that ended the connection, if any.
//
// Errors compare with errors.Is against the Err* values of this package
// by status class (errors.Is(err, ferrule.ErrCertificate)), and against
// another *Error with the same status and, when the target sets one, the
// same reason.
type Error struct {
	Op            string // the operation: "handshake", "read", "write", "config", ...
	Status        int    // status class (Status* constants)
	Reason        uint32 // FERRULE_R_* reason, 0 if none
	Alert         int    // AlertDescription (RFC 8446 §6), -1 if none
	AlertReceived bool   // the peer sent Alert (otherwise it is ours)
	// Cause is the error a Config hook (GetCertificate, SelectProtocol,
	// VerifyConnection) returned when that is why the handshake failed;
	// errors.Is and errors.As see through to it.
	Cause error
}

// Unwrap returns Cause.
func (e *Error) Unwrap() error { return e.Cause }

// Sentinel errors, one per status class, for errors.Is.
var (
	ErrTruncated     = &Error{Status: StatusTruncated, Alert: -1}
	ErrDecode        = &Error{Status: StatusDecode, Alert: -1}
	ErrAlertSent     = &Error{Status: StatusAlertSent, Alert: -1}
	ErrAlertReceived = &Error{Status: StatusAlertReceived, Alert: -1}
	ErrCertificate   = &Error{Status: StatusCertificate, Alert: -1}
	ErrPolicy        = &Error{Status: StatusPolicy, Alert: -1}
	ErrUsage         = &Error{Status: StatusUsage, Alert: -1}
	ErrInternal      = &Error{Status: StatusInternal, Alert: -1}
)

// ReasonName is the library's name of a FERRULE_R_* reason, e.g.
// "cert_expired".
func ReasonName(reason uint32) string {
	return C.GoString(C.ferrule_reason_name(C.uint32_t(reason)))
}

// AlertName is the name of a TLS AlertDescription, e.g. "bad_certificate".
func AlertName(alert int) string {
	if alert < 0 || alert > 255 {
		return "none"
	}
	return C.GoString(C.ferrule_alert_name(C.uint8_t(alert)))
}

func statusName(st int) string { return C.GoString(C.ferrule_status_name(C.int(st))) }

func (e *Error) Error() string {
	s := "ferrule: "
	if e.Op != "" {
		s += e.Op + ": "
	}
	s += statusName(e.Status)
	if e.Reason != 0 {
		s += ": " + ReasonName(e.Reason) + " (" + C.GoString(C.ferrule_reason_message(C.uint32_t(e.Reason))) + ")"
	}
	if e.Alert >= 0 {
		dir := "sent"
		if e.AlertReceived {
			dir = "received"
		}
		s += fmt.Sprintf(" [alert %d %s, %s]", e.Alert, AlertName(e.Alert), dir)
	}
	if e.Cause != nil {
		s += ": " + e.Cause.Error()
	}
	return s
}

// Is matches a target *Error of the same status class; a target with a
// reason also needs the same reason.
func (e *Error) Is(target error) bool {
	var t *Error
	if !errors.As(target, &t) {
		return false
	}
	return t.Status == e.Status && (t.Reason == 0 || t.Reason == e.Reason)
}

// Temporary and Timeout make *Error a net.Error-compatible value: no
// library failure is either.
func (e *Error) Timeout() bool   { return false }
func (e *Error) Temporary() bool { return false }

// configError is the error of a failed config call.
func configError(op string, st C.int, cfg *C.ferrule_config) error {
	e := &Error{Op: op, Status: int(st), Alert: -1}
	if cfg != nil {
		e.Reason = uint32(C.ferrule_config_reason(cfg))
	}
	return e
}
