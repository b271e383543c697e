package main

/*
#include <malloc.h>
#include <stdlib.h>
#include <string.h>

// The leak-c fault: n bytes from malloc, written (so that they are
// resident) and never freed; chained from a global so that the compiler
// cannot drop the allocation as unused.
static void *load_leaked;
static void load_leak_c(size_t n) {
	void **p = malloc(n);
	if (!p) return;
	memset(p, 0x5a, n);
	*p = load_leaked;
	load_leaked = p;
}
*/
import "C"

// trimMalloc gives the C heap's free pages back to the system (glibc's
// malloc_trim), as debug.FreeOSMemory does for Go's: RSS is then what is
// in use, not what the allocator keeps for later.
func trimMalloc() { C.malloc_trim(0) }

func leakC(n int) { C.load_leak_c(C.size_t(n)) }
