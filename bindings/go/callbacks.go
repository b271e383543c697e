package ferrule

// The C-to-Go callbacks: the key log (a few lines per handshake) and, only
// when Config.Time is set, the clock.  This file's preamble holds
// declarations only, as cgo requires next to //export.

/*
#include <stdint.h>
#include <ferrule.h>
*/
import "C"

import (
	"io"
	"runtime/cgo"
	"time"
	"unsafe"
)

//export ferruleGoTime
func ferruleGoTime(ctx unsafe.Pointer) C.int64_t {
	f := cgo.Handle(uintptr(ctx)).Value().(func() time.Time)
	return C.int64_t(f().Unix())
}

//export ferruleGoKeylog
func ferruleGoKeylog(ctx unsafe.Pointer, conn *C.ferrule_conn, line *C.char) {
	w := cgo.Handle(uintptr(ctx)).Value().(io.Writer)
	_, _ = w.Write([]byte(C.GoString(line) + "\n"))
}
