package ferrule

/*
#include <ferrule.h>
*/
import "C"

import (
	"errors"
	"net"
	"unsafe"
)

// EarlyDataStatus is the 0-RTT outcome of a connection.
type EarlyDataStatus int

const (
	EarlyDataNotOffered EarlyDataStatus = C.FERRULE_EARLY_NOT_OFFERED // no 0-RTT attempted
	EarlyDataAccepted   EarlyDataStatus = C.FERRULE_EARLY_ACCEPTED    // the server took the early data
	EarlyDataRejected   EarlyDataStatus = C.FERRULE_EARLY_REJECTED    // refused: none of it was delivered
	EarlyDataOffered    EarlyDataStatus = C.FERRULE_EARLY_OFFERED     // client: sent, answer not known yet
)

// WriteReplaySafeEarlyData sends p as 0-RTT data, before the handshake
// (client; Config.EarlyData set, and a cached session whose ticket allows
// early data).  By calling it the caller states that p may be delivered
// twice without harm: an attacker can replay 0-RTT data (RFC 8446 §8).
// It returns how much was taken (at most what the ticket allows).  After
// Handshake, ConnectionState().EarlyData tells whether the server took
// it; if it was rejected, nothing of it was delivered: send it again with
// Write.
func (c *Conn) WriteReplaySafeEarlyData(p []byte) (int, error) {
	if !c.isClient {
		return 0, errors.New("ferrule: WriteReplaySafeEarlyData on a server")
	}
	if len(p) == 0 {
		return 0, nil
	}
	c.handshakeMu.Lock()
	defer c.handshakeMu.Unlock()
	c.in.Lock()
	defer c.in.Unlock()
	c.out.Lock()
	defer c.out.Unlock()
	if c.freed {
		return 0, net.ErrClosed
	}
	if c.handshakeDone.Load() {
		return 0, errors.New("ferrule: WriteReplaySafeEarlyData after the handshake")
	}
	if err := c.open(); err != nil {
		return 0, err
	}
	var n C.size_t
	st := C.ferrule_conn_write_early_data(c.c, (*C.uint8_t)(unsafe.Pointer(&p[0])), C.size_t(len(p)),
		C.FERRULE_EARLY_DATA_REPLAY_SAFE, &n)
	if st != C.FERRULE_OK {
		return int(n), c.connError("early data", st)
	}
	return int(n), c.drain()
}
