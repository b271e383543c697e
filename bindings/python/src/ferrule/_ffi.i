/*
 * _ffi.i - SWIG interface of the low-level module ferrule._ffi.
 *
 * It is generated from the public header (abi/include/ferrule.h, found
 * through pkg-config), so functions added there are wrapped without
 * changes here.  Users never import this module: the Pythonic layer in
 * ferrule/ (Connection, ClientConfig, ServerConfig, ferrule.asyncio) is
 * the interface.
 *
 * Conventions applied to every wrapped function:
 *  - (const uint8_t *, size_t) and (const char *, size_t) pairs take any
 *    object with the buffer protocol (bytes, bytearray, memoryview, ...);
 *    the buffer is used in place, never copied.
 *  - (uint8_t *, size_t) pairs take a writable buffer (bytearray,
 *    memoryview of one) that the library fills in place.
 *  - size_t * / uint16_t * / uint32_t * / int64_t * out-parameters become
 *    return values, and so do const char ** ones (str, or None for NULL).
 *  - ferrule_config ** / ferrule_conn ** out-parameters become return values.
 *  - An int return value is a status class: FERRULE_OK returns normally,
 *    anything else raises the exception class the Pythonic layer
 *    registered for it (fpy_set_error_factory), with the handle's reason,
 *    alert and message (a ferrule_cert's reason is ferrule_cert_reason).  Exception: functions of the form
 *    `int f(const ferrule_xxx *)` are getters by the header's convention
 *    (ferrule_conn_alert, ferrule_conn_resumed, ...) and return the int;
 *    setup.py lists them in _ffi_gen.i, generated from the header.
 *    SWIG matches multi-argument typemaps by name, so _ffi_gen.i also
 *    applies the buffer typemaps to every (pointer, length) parameter
 *    pair the header declares.
 *  - Callback setters are replaced by the fpy_* helpers below (key log,
 *    clock, verification, 0-RTT accept and replay store, certificate and
 *    ALPN selection).
 *
 * The fpy_* helpers move whole buffers through the connection in one call
 * (feed / drive / take loops in C), so the Python layer pays per call, not
 * per TLS record.  The GIL is held throughout: a connection is driven by
 * one event loop or one thread, and the key-log callback calls Python.
 */
%module(package="ferrule") _ffi

%include <stdint.i>

%{
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <string.h>
#include <time.h>
#include <ferrule.h>

/* The Python layer's factory: (status, reason, alert, function) -> exception
 * instance.  Set once at import by ferrule/_errors.py. */
static PyObject *fpy_error_factory = NULL;

/*
 * An exception raised by a server selection callback (certificate, ALPN)
 * is never lost: the trampoline refuses the handshake and keeps the
 * exception here, with the connection it belongs to; the ferrule error
 * that the failed handshake raises next on that connection (on this
 * thread: callbacks run inside the driving call, under the GIL) gets it as
 * __cause__.  Callbacks whose failure does not end the handshake (0-RTT
 * accept, replay store, key log) report through sys.unraisablehook.
 */
static _Thread_local PyObject *fpy_cb_exc = NULL;
static _Thread_local const ferrule_conn *fpy_cb_exc_conn = NULL;

static void fpy_stash_callback_error(const ferrule_conn *conn) {
    PyObject *type = NULL, *value = NULL, *tb = NULL;
    PyErr_Fetch(&type, &value, &tb);
    PyErr_NormalizeException(&type, &value, &tb);
    if (value != NULL && tb != NULL) PyException_SetTraceback(value, tb);
    Py_XDECREF(type);
    Py_XDECREF(tb);
    Py_XSETREF(fpy_cb_exc, value);
    fpy_cb_exc_conn = conn;
}

static void fpy_raise_with(int status, uint32_t reason, int alert, const ferrule_conn *conn,
                           const char *fn);

static void fpy_raise(int status, const ferrule_conn *conn, const ferrule_config *cfg,
                      const char *fn) {
    uint32_t reason = 0;
    int alert = -1;
    if (conn != NULL) {
        reason = ferrule_conn_reason(conn);
        alert = ferrule_conn_alert(conn);
    } else if (cfg != NULL) {
        reason = ferrule_config_reason(cfg);
    }
    fpy_raise_with(status, reason, alert, conn, fn);
}

/* A failed X.509 accessor: the reason is the handle's last one. */
static void fpy_raise_cert(int status, const ferrule_cert *cert, const char *fn) {
    fpy_raise_with(status, ferrule_cert_reason(cert), -1, NULL, fn);
}

static void fpy_raise_with(int status, uint32_t reason, int alert, const ferrule_conn *conn,
                           const char *fn) {
    if (fpy_error_factory == NULL) {
        PyErr_Format(PyExc_RuntimeError, "%s: %s (%s)", fn, ferrule_status_name(status),
                     ferrule_reason_name(reason));
        return;
    }
    PyObject *exc = PyObject_CallFunction(fpy_error_factory, "iIis", status, (unsigned)reason,
                                          alert, fn);
    if (exc == NULL) return; /* the factory raised */
    if (conn != NULL && fpy_cb_exc != NULL && fpy_cb_exc_conn == conn) {
        PyException_SetCause(exc, fpy_cb_exc); /* steals the reference */
        fpy_cb_exc = NULL;
        fpy_cb_exc_conn = NULL;
    }
    PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
    Py_DECREF(exc);
}

/* The handle a status refers to, chosen by the type of the first argument. */
#define FPY_CONN_OF(a) _Generic((a), ferrule_conn *: (const ferrule_conn *)(a), \
    const ferrule_conn *: (const ferrule_conn *)(a), default: (const ferrule_conn *)NULL)
#define FPY_CFG_OF(a) _Generic((a), ferrule_config *: (const ferrule_config *)(a), \
    const ferrule_config *: (const ferrule_config *)(a), default: (const ferrule_config *)NULL)
#define FPY_CERT_OF(a) _Generic((a), const ferrule_cert *: (const ferrule_cert *)(a), \
    default: (const ferrule_cert *)NULL)

/* Buffer argument helpers. */
static int fpy_get_buffer(PyObject *o, Py_buffer *view, int writable) {
    if (PyObject_GetBuffer(o, view, writable ? (PyBUF_WRITABLE | PyBUF_C_CONTIGUOUS)
                                             : PyBUF_C_CONTIGUOUS) != 0)
        return -1;
    return 0;
}
%}

%init %{
%}

/* ---- status classes -> exceptions ----------------------------------------- */

%typemap(out) int {
    if ($1 != FERRULE_OK) {
        if (FPY_CERT_OF(arg1) != NULL)
            fpy_raise_cert($1, FPY_CERT_OF(arg1), "$symname");
        else
            fpy_raise($1, FPY_CONN_OF(arg1), FPY_CFG_OF(arg1), "$symname");
        SWIG_fail;
    }
    $result = SWIG_Py_Void();
}
/* Getters keep their int (see the header comment); _ffi_getters.i applies
 * this to each one. */
%typemap(out) int FPY_PLAIN_INT "$result = PyLong_FromLong((long)$1);"

/* ---- buffers ------------------------------------------------------------------ */

%typemap(in) (const uint8_t *FPY_IN, size_t FPY_INLEN) (Py_buffer view), (const char *FPY_IN, size_t FPY_INLEN) (Py_buffer view) {
    if (fpy_get_buffer($input, &view, 0) != 0) SWIG_fail;
    $1 = ($1_ltype)view.buf;
    $2 = (size_t)view.len;
}
%typemap(freearg) (const uint8_t *FPY_IN, size_t FPY_INLEN), (const char *FPY_IN, size_t FPY_INLEN) {
    if (view$argnum.obj != NULL) PyBuffer_Release(&view$argnum);
}
%typemap(arginit) (const uint8_t *FPY_IN, size_t FPY_INLEN), (const char *FPY_IN, size_t FPY_INLEN) "view$argnum.obj = NULL;"

%typemap(in) (uint8_t *FPY_OUT, size_t FPY_OUTLEN) (Py_buffer view) {
    if (fpy_get_buffer($input, &view, 1) != 0) SWIG_fail;
    $1 = ($1_ltype)view.buf;
    $2 = (size_t)view.len;
}
%typemap(freearg) (uint8_t *FPY_OUT, size_t FPY_OUTLEN) {
    if (view$argnum.obj != NULL) PyBuffer_Release(&view$argnum);
}
%typemap(arginit) (uint8_t *FPY_OUT, size_t FPY_OUTLEN) "view$argnum.obj = NULL;"

/* Fixed-size byte arrays (ticket key name and key). */
%typemap(in) const uint8_t [ANY] (Py_buffer view) {
    if (fpy_get_buffer($input, &view, 0) != 0) SWIG_fail;
    if ((size_t)view.len != $1_dim0) {
        PyErr_Format(PyExc_ValueError, "expected %d bytes, got %zd", (int)$1_dim0, view.len);
        SWIG_fail;
    }
    $1 = ($1_ltype)view.buf;
}
%typemap(freearg) const uint8_t [ANY] {
    if (view$argnum.obj != NULL) PyBuffer_Release(&view$argnum);
}
%typemap(arginit) const uint8_t [ANY] "view$argnum.obj = NULL;"

/* Lists of 16-bit code points. */
%typemap(in) (const uint16_t *FPY_LIST, size_t FPY_LISTLEN) (uint16_t *tmp = NULL) {
    PyObject *seq = PySequence_Fast($input, "expected a sequence of integers");
    if (seq == NULL) SWIG_fail;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    tmp = (uint16_t *)PyMem_Malloc((size_t)(n > 0 ? n : 1) * sizeof(uint16_t));
    if (tmp == NULL) { Py_DECREF(seq); PyErr_NoMemory(); SWIG_fail; }
    for (Py_ssize_t i = 0; i < n; i++) {
        unsigned long v = PyLong_AsUnsignedLong(PySequence_Fast_GET_ITEM(seq, i));
        if (PyErr_Occurred() || v > 0xffff) {
            Py_DECREF(seq);
            if (!PyErr_Occurred()) PyErr_SetString(PyExc_OverflowError, "code point above 0xffff");
            SWIG_fail;
        }
        tmp[i] = (uint16_t)v;
    }
    Py_DECREF(seq);
    $1 = tmp;
    $2 = (size_t)n;
}
%typemap(freearg) (const uint16_t *FPY_LIST, size_t FPY_LISTLEN) { PyMem_Free(tmp$argnum); }

/* ---- out-parameters ------------------------------------------------------------ */

%typemap(in, numinputs=0) size_t * (size_t tmp = 0) "$1 = &tmp;"
%typemap(argout) size_t * { $result = SWIG_Python_AppendOutput($result, PyLong_FromSize_t(tmp$argnum)); }
%typemap(in, numinputs=0) uint16_t *out (uint16_t tmp = 0) "$1 = &tmp;"
%typemap(argout) uint16_t *out { $result = SWIG_Python_AppendOutput($result, PyLong_FromLong(tmp$argnum)); }

/* The X.509 accessors' scalar and text out-parameters (borrowed C strings
 * become str, NULL None). */
%typemap(in, numinputs=0) uint32_t * (uint32_t tmp = 0) "$1 = &tmp;"
%typemap(argout) uint32_t * { $result = SWIG_Python_AppendOutput($result, PyLong_FromUnsignedLong(tmp$argnum)); }
%typemap(in, numinputs=0) int64_t * (int64_t tmp = 0) "$1 = &tmp;"
%typemap(argout) int64_t * { $result = SWIG_Python_AppendOutput($result, PyLong_FromLongLong(tmp$argnum)); }
%typemap(in, numinputs=0) uint16_t *scheme (uint16_t tmp = 0) "$1 = &tmp;"
%typemap(argout) uint16_t *scheme { $result = SWIG_Python_AppendOutput($result, PyLong_FromLong(tmp$argnum)); }
%typemap(in, numinputs=0) const char ** (const char *tmp = NULL) "$1 = &tmp;"
%typemap(argout) const char ** {
    PyObject *o = tmp$argnum != NULL ? PyUnicode_FromString(tmp$argnum) : (Py_INCREF(Py_None), Py_None);
    $result = SWIG_Python_AppendOutput($result, o);
}

%typemap(in, numinputs=0) ferrule_config ** (ferrule_config *tmp = NULL) "$1 = &tmp;"
%typemap(argout) ferrule_config ** {
    $result = SWIG_Python_AppendOutput($result, SWIG_NewPointerObj(tmp$argnum, $descriptor(ferrule_config *), 0));
}
%typemap(in, numinputs=0) ferrule_conn ** (ferrule_conn *tmp = NULL) "$1 = &tmp;"
%typemap(argout) ferrule_conn ** {
    $result = SWIG_Python_AppendOutput($result, SWIG_NewPointerObj(tmp$argnum, $descriptor(ferrule_conn *), 0));
}

/* (const uint8_t **, size_t *) out-pairs: a bytes copy (the library keeps
 * the original, valid only while the handle lives). */
%typemap(in, numinputs=0) (const uint8_t **FPY_PTR, size_t *FPY_PTRLEN) (const uint8_t *p = NULL, size_t n = 0) {
    $1 = ($1_ltype)&p;
    $2 = &n;
}
%typemap(argout) (const uint8_t **FPY_PTR, size_t *FPY_PTRLEN) {
    PyObject *b = (p$argnum != NULL) ? PyBytes_FromStringAndSize((const char *)p$argnum, (Py_ssize_t)n$argnum)
                                     : (Py_INCREF(Py_None), Py_None);
    $result = SWIG_Python_AppendOutput($result, b);
}

/* Versioned structs: the binding uses NULL (defaults) or the fpy_* helpers. */
%include "_ffi_gen.i"

%ignore ferrule_allocator;
%ignore ferrule_io_callbacks;
%ignore ferrule_verify_options;
%ignore ferrule_conn_options;
%ignore ferrule_conn_set_io;
%ignore ferrule_verify_chain;
%ignore ferrule_config_set_time_callback;   /* fpy_config_set_clock */
%ignore ferrule_config_set_keylog_callback;
%ignore ferrule_config_set_verify_callback; /* fpy_config_set_verify */
/* 0-RTT options and the replay store are versioned structs with callbacks:
 * fpy_config_set_early_data builds them (ferrule_config_set_early_data
 * stays wrapped for the defaults: pass None).  The selection callbacks are
 * set through fpy_config_set_cert_select / fpy_config_set_alpn_select. */
%ignore ferrule_replay_store;
%ignore ferrule_early_data_options;
/* Resumption policy: fpy_config_set_resumption takes its fields
 * (ferrule_config_set_resumption stays wrapped for the defaults). */
%ignore ferrule_resumption_options;
%ignore ferrule_config_set_cert_select_callback;
%ignore ferrule_config_set_alpn_select_callback;

/* ferrule_config_new / ferrule_conn_new take versioned structs we pass as
 * NULL or build in fpy_conn_new. */
%ignore ferrule_config_new;
%ignore ferrule_conn_new;
/* The certificate parsers report their reason through an out-parameter:
 * fpy_cert_parse / fpy_conn_peer_cert_parse raise with it. */
%ignore ferrule_cert_parse;
%ignore ferrule_conn_peer_cert_parse;

#define FERRULE_API
#define FERRULE_MUST_CHECK
%include "ferrule.h"

/* ---- helpers ----------------------------------------------------------------- */

%typemap(in) PyObject * "$1 = $input;"
%typemap(out) PyObject * "$result = $1;"

%inline %{
/* Install the Python layer's exception factory. */
PyObject *fpy_set_error_factory(PyObject *factory) {
    if (!PyCallable_Check(factory)) {
        PyErr_SetString(PyExc_TypeError, "factory must be callable");
        return NULL;
    }
    Py_XINCREF(factory);
    Py_XSETREF(fpy_error_factory, factory);
    Py_RETURN_NONE;
}

/* ferrule_config_new without an allocator. */
PyObject *fpy_config_new(uint32_t role) {
    ferrule_config *cfg = NULL;
    int st = ferrule_config_new(&cfg, role, NULL);
    if (st != FERRULE_OK) {
        fpy_raise(st, NULL, NULL, "ferrule_config_new");
        return NULL;
    }
    return SWIG_NewPointerObj(cfg, SWIGTYPE_p_ferrule_config, 0);
}

/* ferrule_conn_new with the server name and memory limit as arguments
 * (server_name None = no SNI). */
PyObject *fpy_conn_new(ferrule_config *cfg, PyObject *server_name, size_t memory_limit) {
    ferrule_conn_options o;
    memset(&o, 0, sizeof(o));
    o.struct_size = (uint32_t)sizeof(o);
    o.memory_limit = memory_limit;
    if (server_name != Py_None) {
        o.server_name = PyUnicode_AsUTF8(server_name);
        if (o.server_name == NULL) return NULL;
    }
    ferrule_conn *conn = NULL;
    int st = ferrule_conn_new(&conn, cfg, &o);
    if (st != FERRULE_OK) {
        fpy_raise(st, NULL, cfg, "ferrule_conn_new");
        return NULL;
    }
    return SWIG_NewPointerObj(conn, SWIGTYPE_p_ferrule_conn, 0);
}

%}

%inline %{
/* A ferrule_cert handle for DER bytes / a connection's peer certificate
 * `index` (free it with ferrule_cert_free). */
PyObject *fpy_cert_parse(PyObject *der) {
    Py_buffer in;
    if (fpy_get_buffer(der, &in, 0) != 0) return NULL;
    ferrule_cert *cert = NULL;
    uint32_t reason = 0;
    int st = ferrule_cert_parse((const uint8_t *)in.buf, (size_t)in.len, &cert, &reason);
    PyBuffer_Release(&in);
    if (st != FERRULE_OK) {
        fpy_raise_with(st, reason, -1, NULL, "ferrule_cert_parse");
        return NULL;
    }
    return SWIG_NewPointerObj(cert, SWIGTYPE_p_ferrule_cert, 0);
}

PyObject *fpy_conn_peer_cert_parse(const ferrule_conn *conn, size_t index) {
    ferrule_cert *cert = NULL;
    uint32_t reason = 0;
    int st = ferrule_conn_peer_cert_parse(conn, index, &cert, &reason);
    if (st != FERRULE_OK) {
        fpy_raise_with(st, reason, -1, NULL, "ferrule_conn_peer_cert_parse");
        return NULL;
    }
    return SWIG_NewPointerObj(cert, SWIGTYPE_p_ferrule_cert, 0);
}

%}

/* Static helpers stay out of %inline: SWIG wraps every function an
 * %inline block declares, static or not, and a trampoline called from
 * Python with a foreign ctx dereferences it as a PyObject. */
%{
/* Key log: the config keeps a strong reference to `cb` in the Python layer
 * for as long as it lives; we only borrow it here. */
static void fpy_keylog_trampoline(void *ctx, const ferrule_conn *conn, const char *line) {
    (void)conn;
    PyGILState_STATE g = PyGILState_Ensure();
    PyObject *r = PyObject_CallFunction((PyObject *)ctx, "s", line);
    if (r == NULL) PyErr_WriteUnraisable((PyObject *)ctx);
    Py_XDECREF(r);
    PyGILState_Release(g);
}

%}

%inline %{
PyObject *fpy_config_set_keylog(ferrule_config *cfg, PyObject *cb) {
    if (!PyCallable_Check(cb)) {
        PyErr_SetString(PyExc_TypeError, "key-log callback must be callable");
        return NULL;
    }
    int st = ferrule_config_set_keylog_callback(cfg, fpy_keylog_trampoline, cb);
    if (st != FERRULE_OK) {
        fpy_raise(st, NULL, cfg, "ferrule_config_set_keylog_callback");
        return NULL;
    }
    Py_RETURN_NONE;
}

%}

/* Trampolines of the clock and verification callbacks (not wrapped). */
%{
/* ---- clock and verification callbacks ------------------------------------------ */

/* clock() -> int seconds since the Unix epoch.  The library has no way to
 * fail a clock read, so a callable that raises (or returns something other
 * than an int) is reported through sys.unraisablehook and the system clock
 * is used for that reading.  ctx is borrowed: the Python config keeps it
 * alive.  An exception already pending in the caller is kept as is. */
static int64_t fpy_time_trampoline(void *ctx) {
    PyGILState_STATE g = PyGILState_Ensure();
    PyObject *et = NULL, *ev = NULL, *etb = NULL;
    PyErr_Fetch(&et, &ev, &etb);
    int64_t now = 0;
    int ok = 0;
    PyObject *r = PyObject_CallNoArgs((PyObject *)ctx);
    if (r != NULL) {
        if (PyLong_Check(r) && !PyBool_Check(r)) {
            int overflow = 0;
            long long v = PyLong_AsLongLongAndOverflow(r, &overflow);
            if (overflow != 0) {
                PyErr_SetString(PyExc_OverflowError, "clock: the result does not fit in int64");
            } else if (!(v == -1 && PyErr_Occurred())) {
                now = (int64_t)v;
                ok = 1;
            }
        } else {
            PyErr_Format(PyExc_TypeError,
                         "clock must return an int (seconds since the epoch), not %.100s",
                         Py_TYPE(r)->tp_name);
        }
        Py_DECREF(r);
    }
    if (!ok) {
        PyErr_WriteUnraisable((PyObject *)ctx);
        now = (int64_t)time(NULL);
    }
    PyErr_Restore(et, ev, etb);
    PyGILState_Release(g);
    return now;
}

/* ctx(conn_pointer, result_pointer) -> True to accept.  Restrict-only: the
 * library calls it only for a chain it accepted, and anything but True
 * (False, another object, an exception) rejects with cert_rejected; an
 * exception becomes the __cause__ of the CertificateError the handshake
 * raises.  The Python layer builds the view and checks the result. */
static int fpy_verify_trampoline(void *ctx, const ferrule_conn *conn,
                                 const ferrule_verify_result *result) {
    PyGILState_STATE g = PyGILState_Ensure();
    int rv = 1; /* reject unless told otherwise */
    PyObject *c = SWIG_NewPointerObj((void *)conn, SWIGTYPE_p_ferrule_conn, 0);
    PyObject *v = c != NULL ? SWIG_NewPointerObj((void *)result,
                                                 SWIGTYPE_p_ferrule_verify_result, 0)
                            : NULL;
    PyObject *r = v != NULL ? PyObject_CallFunctionObjArgs((PyObject *)ctx, c, v, NULL) : NULL;
    Py_XDECREF(c);
    Py_XDECREF(v);
    if (r != NULL) {
        if (r == Py_True) rv = 0;
        Py_DECREF(r);
    }
    if (PyErr_Occurred()) {
        fpy_stash_callback_error(conn);
        rv = 1;
    }
    PyGILState_Release(g);
    return rv;
}


/* Move all pending ciphertext out of the connection into one bytes object
 * (b"" when there is none), copied once from the borrowed output buffer
 * (ferrule_conn_output_buf).  Owed output (a KeyUpdate answer, the alert
 * of a failure) is produced first, by the borrow itself. */
static PyObject *fpy_take_all_raw(ferrule_conn *conn) {
    const uint8_t *p;
    size_t len = 0;
    if (conn == NULL) return PyBytes_FromStringAndSize(NULL, 0); /* freed: nothing to send */
    int st = ferrule_conn_output_buf(conn, &p, &len);
    if (st != FERRULE_OK) {
        fpy_raise(st, conn, NULL, "ferrule_conn_output_buf");
        return NULL;
    }
    PyObject *b = PyBytes_FromStringAndSize((const char *)p, (Py_ssize_t)len);
    st = ferrule_conn_output_ack(conn, b != NULL ? len : 0);
    if (b != NULL && st != FERRULE_OK) {
        Py_DECREF(b);
        fpy_raise(st, conn, NULL, "ferrule_conn_output_ack");
        return NULL;
    }
    return b;
}

/* Copy from `src` (starting at *off) into the borrowed input buffer as
 * much as it takes.  1 if bytes went in, 0 if none, -1 on error. */
static int fpy_feed_some(ferrule_conn *conn, const Py_buffer *src, Py_ssize_t *off) {
    if (*off >= src->len) return 0;
    uint8_t *dst;
    size_t cap, n = (size_t)(src->len - *off);
    if (ferrule_conn_input_buf(conn, &dst, &cap) != FERRULE_OK) return -1;
    if (n > cap) n = cap;
    if (n > 0) memcpy(dst, (const uint8_t *)src->buf + *off, n);
    if (ferrule_conn_input_ack(conn, n) != FERRULE_OK) return -1;
    *off += (Py_ssize_t)n;
    return n > 0;
}

%}

%inline %{
/* Install (callable) or remove (None: the system clock) the clock. */
PyObject *fpy_config_set_clock(ferrule_config *cfg, PyObject *cb) {
    int rc;
    if (cb == Py_None) {
        rc = ferrule_config_set_time_callback(cfg, NULL, NULL);
    } else if (!PyCallable_Check(cb)) {
        PyErr_SetString(PyExc_TypeError, "clock must be callable");
        return NULL;
    } else {
        rc = ferrule_config_set_time_callback(cfg, fpy_time_trampoline, cb);
    }
    if (rc != FERRULE_OK) {
        fpy_raise(rc, NULL, cfg, "ferrule_config_set_time_callback");
        return NULL;
    }
    Py_RETURN_NONE;
}

PyObject *fpy_config_set_verify(ferrule_config *cfg, PyObject *cb) {
    int rc;
    if (cb == Py_None) {
        rc = ferrule_config_set_verify_callback(cfg, NULL, NULL);
    } else if (!PyCallable_Check(cb)) {
        PyErr_SetString(PyExc_TypeError, "verify_callback must be callable");
        return NULL;
    } else {
        rc = ferrule_config_set_verify_callback(cfg, fpy_verify_trampoline, cb);
    }
    if (rc != FERRULE_OK) {
        fpy_raise(rc, NULL, cfg, "ferrule_config_set_verify_callback");
        return NULL;
    }
    Py_RETURN_NONE;
}

/* The validated path (leaf first, trust anchor last) as a list of bytes. */
PyObject *fpy_verify_path(const ferrule_verify_result *r) {
    size_t n = ferrule_verify_result_path_length(r);
    PyObject *list = PyList_New((Py_ssize_t)n);
    if (list == NULL) return NULL;
    for (size_t i = 0; i < n; i++) {
        const uint8_t *der = NULL;
        size_t len = 0;
        if (ferrule_verify_result_path_cert(r, i, &der, &len) != FERRULE_OK) {
            Py_DECREF(list);
            PyErr_SetString(PyExc_RuntimeError, "ferrule_verify_result_path_cert failed");
            return NULL;
        }
        PyObject *b = PyBytes_FromStringAndSize((const char *)der, (Py_ssize_t)len);
        if (b == NULL) { Py_DECREF(list); return NULL; }
        PyList_SET_ITEM(list, (Py_ssize_t)i, b);
    }
    return list;
}

PyObject *fpy_take_all(ferrule_conn *conn) { return fpy_take_all_raw(conn); }

/*
 * Drive the handshake with the ciphertext in `src`: feed, advance, feed
 * more, until the handshake completes or needs input beyond `src`.
 * Returns (consumed, status) with status FERRULE_OK, FERRULE_WANT_READ or
 * FERRULE_WANT_WRITE; raises for anything else.
 */
PyObject *fpy_handshake(ferrule_conn *conn, PyObject *src) {
    Py_buffer in;
    if (fpy_get_buffer(src, &in, 0) != 0) return NULL;
    Py_ssize_t off = 0;
    int st;
    /* ferrule_conn_process feeds what fits and advances; its output stays
     * pending for fpy_take_all (out_cap 0).  Once no more input fits or
     * helps, the handshake's own status says where it stands. */
    for (;;) {
        size_t used = 0, w = 0;
        uint8_t none[1];
        st = ferrule_conn_process(conn, (const uint8_t *)in.buf + off, (size_t)(in.len - off),
                                  &used, none, 0, &w, NULL);
        off += (Py_ssize_t)used;
        if (st != FERRULE_OK || used == 0 || off == in.len) break;
    }
    if (st == FERRULE_OK) st = ferrule_conn_handshake(conn);
    PyBuffer_Release(&in);
    if (st != FERRULE_OK && st != FERRULE_WANT_READ && st != FERRULE_WANT_WRITE) {
        fpy_raise(st, conn, NULL, "ferrule_conn_handshake");
        return NULL;
    }
    return Py_BuildValue("(ni)", off, st);
}

/*
 * Decrypt: feed ciphertext from `src` and read up to `maxlen` bytes of
 * plaintext.  Returns (consumed, data, status): status FERRULE_OK when
 * data was read (and maybe more is buffered), FERRULE_WANT_READ when input
 * ran out, FERRULE_CLOSED after the peer's close_notify.  A fatal status
 * raises, but only once the plaintext before it was returned.
 * With `into` (a writable buffer, maxlen ignored) the plaintext is stored
 * there and `data` is the byte count.
 */
PyObject *fpy_recv(ferrule_conn *conn, PyObject *src, long maxlen_arg, PyObject *into) {
    Py_ssize_t maxlen = (Py_ssize_t)maxlen_arg;
    Py_buffer in, dst;
    PyObject *out = NULL;
    uint8_t *p;
    if (into != Py_None) {
        if (fpy_get_buffer(into, &dst, 1) != 0) return NULL;
        p = (uint8_t *)dst.buf;
        maxlen = dst.len;
    } else {
        if (maxlen <= 0) maxlen = 16384;
        out = PyBytes_FromStringAndSize(NULL, maxlen);
        if (out == NULL) return NULL;
        p = (uint8_t *)PyBytes_AS_STRING(out);
    }
    if (fpy_get_buffer(src, &in, 0) != 0) {
        Py_XDECREF(out);
        if (into != Py_None) PyBuffer_Release(&dst);
        return NULL;
    }
    Py_ssize_t off = 0, n = 0;
    int st = FERRULE_OK;
    while (n < maxlen) {
        /* Plaintext is copied once, from where its record was decrypted. */
        const uint8_t *d;
        size_t k = 0;
        st = ferrule_conn_read_buf(conn, &d, &k);
        if (st == FERRULE_OK) {
            if (k > (size_t)(maxlen - n)) k = (size_t)(maxlen - n);
            memcpy(p + n, d, k);
            st = ferrule_conn_read_ack(conn, k);
            if (st != FERRULE_OK) break;
            n += (Py_ssize_t)k;
            continue;
        }
        if (st == FERRULE_WANT_READ) {
            int fed = fpy_feed_some(conn, &in, &off);
            if (fed > 0) continue;
        }
        break;
    }
    PyBuffer_Release(&in);
    if (into != Py_None) PyBuffer_Release(&dst);
    if (n == maxlen) st = FERRULE_OK;
    if (st != FERRULE_OK && st != FERRULE_WANT_READ && st != FERRULE_CLOSED) {
        if (n == 0) {
            Py_XDECREF(out);
            fpy_raise(st, conn, NULL, "ferrule_conn_read");
            return NULL;
        }
        st = FERRULE_OK; /* the error sticks: the next call reports it */
    }
    if (out != NULL) {
        if (n != maxlen && _PyBytes_Resize(&out, n) != 0) return NULL;
        return Py_BuildValue("(nNi)", off, out, st);
    }
    return Py_BuildValue("(nni)", off, n, st);
}

/*
 * Encrypt all of `data` and return the ciphertext (with any output that
 * was already pending in front of it) as one bytes object.
 */
PyObject *fpy_send(ferrule_conn *conn, PyObject *data) {
    Py_buffer in;
    if (fpy_get_buffer(data, &in, 0) != 0) return NULL;
    size_t len = (size_t)in.len;
    /* Each record adds a 5-byte header, the inner content type and a
     * 16-byte tag; slack for owed records (KeyUpdate). */
    size_t recs = len / 16384 + 1;
    size_t cap = ferrule_conn_pending_output(conn) + len + recs * 22 + 1024;
    PyObject *out = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)cap);
    if (out == NULL) { PyBuffer_Release(&in); return NULL; }
    size_t done = 0, olen = 0;
    int st = FERRULE_OK;
    const uint8_t *src = (const uint8_t *)in.buf;
    for (;;) {
        size_t k = 0;
        if (done < len) {
            st = ferrule_conn_write(conn, src + done, len - done, &k);
            if (st != FERRULE_OK && st != FERRULE_WANT_WRITE) break;
            done += k;
            st = FERRULE_OK;
        }
        /* Records are copied once, from the borrowed output buffer (which
         * also produces owed output first). */
        const uint8_t *rec;
        size_t got = 0;
        st = ferrule_conn_output_buf(conn, &rec, &got);
        if (st != FERRULE_OK) break;
        if (got > cap - olen) {
            cap = olen + got + (len - done) + ((len - done) / 16384 + 1) * 22 + 1024;
            if (_PyBytes_Resize(&out, (Py_ssize_t)cap) != 0) {
                if (ferrule_conn_output_ack(conn, 0) != FERRULE_OK) { /* nothing to undo */ }
                PyBuffer_Release(&in);
                return NULL;
            }
        }
        if (got > 0) memcpy(PyBytes_AS_STRING(out) + olen, rec, got);
        st = ferrule_conn_output_ack(conn, got);
        if (st != FERRULE_OK) break;
        olen += got;
        if (done >= len) break;
        if (k == 0 && got == 0) {
            /* No progress either way: never spin.  (Not expected: the
             * library accepts more once its output was taken.) */
            st = ferrule_conn_status(conn) != FERRULE_OK ? ferrule_conn_status(conn)
                                                         : FERRULE_INTERNAL;
            break;
        }
    }
    PyBuffer_Release(&in);
    if (st != FERRULE_OK) {
        Py_DECREF(out);
        fpy_raise(st, conn, NULL, "ferrule_conn_write");
        return NULL;
    }
    if (olen != cap && _PyBytes_Resize(&out, (Py_ssize_t)olen) != 0) return NULL;
    return out;
}

/* The session blob of the newest ticket (client), or None if none yet. */
PyObject *fpy_session(ferrule_conn *conn) {
    size_t need = 0;
    uint8_t probe[1];
    int st = ferrule_conn_session(conn, probe, 0, &need);
    if (st != FERRULE_OK && ferrule_conn_reason(conn) == FERRULE_R_WRONG_STATE) Py_RETURN_NONE;
    if (st != FERRULE_OK && ferrule_conn_reason(conn) != FERRULE_R_BUFFER_TOO_SMALL) {
        fpy_raise(st, conn, NULL, "ferrule_conn_session");
        return NULL;
    }
    PyObject *b = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)need);
    if (b == NULL) return NULL;
    size_t got = 0;
    st = ferrule_conn_session(conn, (uint8_t *)PyBytes_AS_STRING(b), need, &got);
    if (st != FERRULE_OK) {
        Py_DECREF(b);
        fpy_raise(st, conn, NULL, "ferrule_conn_session");
        return NULL;
    }
    return b;
}
%}

/* Trampolines and state of the helpers below (not wrapped). */
%{
/* accept(server_name, alpn) -> bool.  ctx is borrowed: the Python config
 * keeps it alive as long as it lives, and every Connection keeps its
 * config.  An exception refuses the 0-RTT (the handshake goes on in 1-RTT)
 * and is reported through sys.unraisablehook. */
static int fpy_accept_trampoline(void *ctx, const ferrule_conn *conn) {
    PyGILState_STATE g = PyGILState_Ensure();
    int rv = 0;
    const char *sni = ferrule_conn_server_name(conn);
    const uint8_t *proto = NULL;
    size_t plen = 0;
    ferrule_conn_alpn(conn, &proto, &plen);
    PyObject *r = PyObject_CallFunction((PyObject *)ctx, "zy#", sni, (const char *)proto,
                                        (Py_ssize_t)(proto != NULL ? plen : 0));
    if (r != NULL) {
        int t = PyObject_IsTrue(r);
        Py_DECREF(r);
        if (t >= 0) rv = t;
    }
    if (PyErr_Occurred()) {
        PyErr_WriteUnraisable((PyObject *)ctx);
        rv = 0;
    }
    PyGILState_Release(g);
    return rv;
}

/* store.check_and_insert(key: bytes, expires: int) -> bool; an exception
 * is a store failure (-1: 0-RTT refused), reported like above. */
static int fpy_store_trampoline(void *ctx, const uint8_t key[32], int64_t expires) {
    PyGILState_STATE g = PyGILState_Ensure();
    int rv = -1;
    PyObject *r = PyObject_CallMethod((PyObject *)ctx, "check_and_insert", "y#L",
                                      (const char *)key, (Py_ssize_t)32, (long long)expires);
    if (r != NULL) {
        int t = PyObject_IsTrue(r);
        Py_DECREF(r);
        if (t >= 0) rv = t;
    }
    if (PyErr_Occurred()) {
        PyErr_WriteUnraisable((PyObject *)ctx);
        rv = -1;
    }
    PyGILState_Release(g);
    return rv;
}

static PyObject *fpy_conn_alpn_bytes(const ferrule_conn *conn) {
    const uint8_t *proto = NULL;
    size_t len = 0;
    ferrule_conn_alpn(conn, &proto, &len);
    if (proto == NULL) Py_RETURN_NONE;
    return PyBytes_FromStringAndSize((const char *)proto, (Py_ssize_t)len);
}

/* ctx(hello_pointer, selected_alpn) -> int (a chain index or a
 * FERRULE_CERT_SELECT_* value); the Python layer wraps the application's
 * callable and invalidates the view when it returns.  An exception refuses
 * the handshake (handshake_failure) and becomes the __cause__ of the error
 * the handshake raises. */
static int fpy_cert_select_trampoline(void *ctx, const ferrule_conn *conn,
                                      const ferrule_client_hello *hello) {
    PyGILState_STATE g = PyGILState_Ensure();
    int rv = FERRULE_CERT_SELECT_REFUSE;
    PyObject *h = SWIG_NewPointerObj((void *)hello, SWIGTYPE_p_ferrule_client_hello, 0);
    PyObject *alpn = h != NULL ? fpy_conn_alpn_bytes(conn) : NULL;
    PyObject *r = (h != NULL && alpn != NULL) ? PyObject_CallFunctionObjArgs((PyObject *)ctx,
                                                                             h, alpn, NULL)
                                              : NULL;
    Py_XDECREF(h);
    Py_XDECREF(alpn);
    if (r != NULL) {
        long v = PyLong_AsLong(r);
        Py_DECREF(r);
        if (!PyErr_Occurred())
            rv = (v < -1000 || v > 1000000) ? -1000 /* unknown: callback_result */ : (int)v;
    }
    if (PyErr_Occurred()) {
        fpy_stash_callback_error(conn);
        rv = FERRULE_CERT_SELECT_REFUSE;
    }
    PyGILState_Release(g);
    return rv;
}

/* The protocol chosen by the ALPN callback, copied here (the library
 * compares and copies it as soon as the callback returns). */
static _Thread_local uint8_t fpy_alpn_choice[255];

/* ctx(hello_pointer) -> bytes (1..255, the choice) or an int
 * FERRULE_ALPN_* value.  An exception refuses (no_application_protocol)
 * and becomes the __cause__ of the handshake's error. */
static int fpy_alpn_select_trampoline(void *ctx, const ferrule_conn *conn,
                                      const ferrule_client_hello *hello,
                                      const uint8_t **proto, size_t *len) {
    PyGILState_STATE g = PyGILState_Ensure();
    int rv = FERRULE_ALPN_NO_OVERLAP;
    PyObject *h = SWIG_NewPointerObj((void *)hello, SWIGTYPE_p_ferrule_client_hello, 0);
    PyObject *r = h != NULL ? PyObject_CallFunctionObjArgs((PyObject *)ctx, h, NULL) : NULL;
    Py_XDECREF(h);
    if (r != NULL) {
        if (PyBytes_Check(r)) {
            Py_ssize_t n = PyBytes_GET_SIZE(r);
            if (n < 1 || n > (Py_ssize_t)sizeof(fpy_alpn_choice)) {
                PyErr_Format(PyExc_ValueError, "select_alpn: a protocol name is 1..255 bytes, "
                             "not %zd", n);
            } else {
                memcpy(fpy_alpn_choice, PyBytes_AS_STRING(r), (size_t)n);
                *proto = fpy_alpn_choice;
                *len = (size_t)n;
                rv = FERRULE_ALPN_SELECTED;
            }
        } else {
            long v = PyLong_AsLong(r);
            if (!PyErr_Occurred()) rv = (v < 0 || v > 1000) ? 1000 : (int)v;
        }
        Py_DECREF(r);
    }
    if (PyErr_Occurred()) {
        fpy_stash_callback_error(conn);
        rv = FERRULE_ALPN_NO_OVERLAP;
    }
    PyGILState_Release(g);
    return rv;
}
%}

%inline %{
/* ---- 0-RTT (docs/early-data.md) ------------------------------------------------ */

/* ferrule_config_set_early_data with the options as arguments (0 = the
 * default); accept and store are None or Python objects that the caller
 * keeps alive (store: an object with check_and_insert and a 16-byte id). */
PyObject *fpy_config_set_early_data(ferrule_config *cfg, uint32_t max_early_data_size,
                                    uint32_t window_ms, uint32_t capacity, PyObject *accept,
                                    PyObject *store, PyObject *store_id) {
    ferrule_early_data_options o;
    ferrule_replay_store st;
    memset(&o, 0, sizeof(o));
    memset(&st, 0, sizeof(st));
    o.struct_size = (uint32_t)sizeof(o);
    o.max_early_data_size = max_early_data_size;
    o.window_ms = window_ms;
    o.capacity = capacity;
    if (accept != Py_None) {
        if (!PyCallable_Check(accept)) {
            PyErr_SetString(PyExc_TypeError, "accept_early_data must be callable");
            return NULL;
        }
        o.accept = fpy_accept_trampoline;
        o.accept_ctx = accept;
    }
    if (store != Py_None) {
        Py_buffer id;
        if (fpy_get_buffer(store_id, &id, 0) != 0) return NULL;
        if (id.len != (Py_ssize_t)sizeof(st.id)) {
            PyBuffer_Release(&id);
            PyErr_Format(PyExc_ValueError, "replay_store.id must be %d bytes, got %zd",
                         (int)sizeof(st.id), id.len);
            return NULL;
        }
        memcpy(st.id, id.buf, sizeof(st.id));
        PyBuffer_Release(&id);
        st.struct_size = (uint32_t)sizeof(st);
        st.check_and_insert = fpy_store_trampoline;
        st.ctx = store;
        o.store = &st; /* copied by the library */
    }
    int rc = ferrule_config_set_early_data(cfg, &o);
    if (rc != FERRULE_OK) {
        fpy_raise(rc, NULL, cfg, "ferrule_config_set_early_data");
        return NULL;
    }
    Py_RETURN_NONE;
}

/* ferrule_config_set_resumption with the fields as arguments
 * (docs/resumption.md): FERRULE_RESUME_ACCEPT / _REFUSE and
 * FERRULE_RESUME_IDENTITY_RECHECK / _KEEP. */
PyObject *fpy_config_set_resumption(ferrule_config *cfg, uint32_t accept,
                                    uint32_t client_identity) {
    ferrule_resumption_options o;
    memset(&o, 0, sizeof(o));
    o.struct_size = (uint32_t)sizeof(o);
    o.accept = accept;
    o.client_identity = client_identity;
    int rc = ferrule_config_set_resumption(cfg, &o);
    if (rc != FERRULE_OK) {
        fpy_raise(rc, NULL, cfg, "ferrule_config_set_resumption");
        return NULL;
    }
    Py_RETURN_NONE;
}

/*
 * Server: read early data, feeding ciphertext from `src` as needed.
 * Returns (consumed, data, status): data non-empty, or b"" with status
 * FERRULE_OK when no (more) early data will come, or b"" with
 * FERRULE_WANT_READ / FERRULE_WANT_WRITE.  Raises on fatal statuses.
 */
PyObject *fpy_read_early_data(ferrule_conn *conn, PyObject *src, long maxlen_arg) {
    Py_ssize_t maxlen = maxlen_arg > 0 ? (Py_ssize_t)maxlen_arg : 16384;
    Py_buffer in;
    PyObject *out = PyBytes_FromStringAndSize(NULL, maxlen);
    if (out == NULL) return NULL;
    if (fpy_get_buffer(src, &in, 0) != 0) { Py_DECREF(out); return NULL; }
    uint8_t *p = (uint8_t *)PyBytes_AS_STRING(out);
    Py_ssize_t off = 0, n = 0;
    int st = FERRULE_OK;
    while (n < maxlen) {
        size_t k = 0;
        st = ferrule_conn_read_early_data(conn, p + n, (size_t)(maxlen - n), &k);
        if (st == FERRULE_OK) {
            if (k == 0) break; /* no more early data */
            n += (Py_ssize_t)k;
            continue;
        }
        if (st == FERRULE_WANT_READ) {
            int fed = fpy_feed_some(conn, &in, &off);
            if (fed > 0) continue;
        }
        break;
    }
    PyBuffer_Release(&in);
    if (st != FERRULE_OK && st != FERRULE_WANT_READ && st != FERRULE_WANT_WRITE) {
        if (n == 0) {
            Py_DECREF(out);
            fpy_raise(st, conn, NULL, "ferrule_conn_read_early_data");
            return NULL;
        }
        st = FERRULE_OK; /* sticky: the next call reports it */
    }
    if (n != maxlen && _PyBytes_Resize(&out, n) != 0) return NULL;
    return Py_BuildValue("(nNi)", off, out, st);
}

/* ---- server selection callbacks (docs/server-callbacks.md) -------------------- */

/* Install (callable) or remove (None) the selection callbacks; the Python
 * config keeps the callable alive. */
PyObject *fpy_config_set_cert_select(ferrule_config *cfg, PyObject *cb) {
    int rc;
    if (cb == Py_None) {
        rc = ferrule_config_set_cert_select_callback(cfg, NULL, NULL);
    } else if (!PyCallable_Check(cb)) {
        PyErr_SetString(PyExc_TypeError, "select_certificate must be callable");
        return NULL;
    } else {
        rc = ferrule_config_set_cert_select_callback(cfg, fpy_cert_select_trampoline, cb);
    }
    if (rc != FERRULE_OK) {
        fpy_raise(rc, NULL, cfg, "ferrule_config_set_cert_select_callback");
        return NULL;
    }
    Py_RETURN_NONE;
}

PyObject *fpy_config_set_alpn_select(ferrule_config *cfg, PyObject *cb) {
    int rc;
    if (cb == Py_None) {
        rc = ferrule_config_set_alpn_select_callback(cfg, NULL, NULL);
    } else if (!PyCallable_Check(cb)) {
        PyErr_SetString(PyExc_TypeError, "select_alpn must be callable");
        return NULL;
    } else {
        rc = ferrule_config_set_alpn_select_callback(cfg, fpy_alpn_select_trampoline, cb);
    }
    if (rc != FERRULE_OK) {
        fpy_raise(rc, NULL, cfg, "ferrule_config_set_alpn_select_callback");
        return NULL;
    }
    Py_RETURN_NONE;
}

/* The ClientHello's 16-bit lists as Python lists: which = 0 signature
 * schemes, 1 signature schemes for certificates, 2 cipher suites. */
PyObject *fpy_hello_list(const ferrule_client_hello *hello, int which) {
    size_t n = 0;
    const uint16_t *v = which == 0 ? ferrule_client_hello_signature_schemes(hello, &n)
                      : which == 1 ? ferrule_client_hello_signature_schemes_cert(hello, &n)
                                   : ferrule_client_hello_cipher_suites(hello, &n);
    PyObject *list = PyList_New((Py_ssize_t)n);
    if (list == NULL) return NULL;
    for (size_t i = 0; i < n; i++) {
        PyObject *x = PyLong_FromLong((long)v[i]);
        if (x == NULL) { Py_DECREF(list); return NULL; }
        PyList_SET_ITEM(list, (Py_ssize_t)i, x);
    }
    return list;
}

/* The offered ALPN protocols as a list of bytes. */
PyObject *fpy_hello_alpn(const ferrule_client_hello *hello) {
    size_t n = ferrule_client_hello_alpn_count(hello);
    PyObject *list = PyList_New((Py_ssize_t)n);
    if (list == NULL) return NULL;
    for (size_t i = 0; i < n; i++) {
        const uint8_t *p = NULL;
        size_t len = 0;
        if (ferrule_client_hello_alpn(hello, i, &p, &len) != FERRULE_OK) {
            Py_DECREF(list);
            PyErr_SetString(PyExc_RuntimeError, "ferrule_client_hello_alpn failed");
            return NULL;
        }
        PyObject *b = PyBytes_FromStringAndSize((const char *)p, (Py_ssize_t)len);
        if (b == NULL) { Py_DECREF(list); return NULL; }
        PyList_SET_ITEM(list, (Py_ssize_t)i, b);
    }
    return list;
}
%}

/* ---- standalone path validation (docs/x509.md) ------------------------------- */

%{
/* The buffers of a sequence of bytes-like objects, held for one call. */
typedef struct {
    Py_ssize_t n;
    Py_buffer *views;
    const uint8_t **ptrs;
    size_t *lens;
} fpy_bufseq;

static void fpy_bufseq_release(fpy_bufseq *b) {
    for (Py_ssize_t i = 0; i < b->n; i++) PyBuffer_Release(&b->views[i]);
    PyMem_Free(b->views);
    PyMem_Free(b->ptrs);
    PyMem_Free(b->lens);
    memset(b, 0, sizeof(*b));
}

/* 0, or -1 with an exception (not a sequence, an item without the buffer
 * protocol, memory). */
static int fpy_bufseq_get(PyObject *seq_obj, const char *what, fpy_bufseq *b) {
    memset(b, 0, sizeof(*b));
    PyObject *seq = PySequence_Fast(seq_obj, what);
    if (seq == NULL) return -1;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    size_t cnt = (size_t)(n > 0 ? n : 1);
    b->views = PyMem_Calloc(cnt, sizeof(Py_buffer));
    b->ptrs = PyMem_Calloc(cnt, sizeof(const uint8_t *));
    b->lens = PyMem_Calloc(cnt, sizeof(size_t));
    if (b->views == NULL || b->ptrs == NULL || b->lens == NULL) {
        Py_DECREF(seq);
        fpy_bufseq_release(b);
        PyErr_NoMemory();
        return -1;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        if (fpy_get_buffer(PySequence_Fast_GET_ITEM(seq, i), &b->views[i], 0) != 0) {
            Py_DECREF(seq);
            fpy_bufseq_release(b);
            return -1;
        }
        b->n = i + 1;
        b->ptrs[i] = (const uint8_t *)b->views[i].buf;
        b->lens[i] = (size_t)b->views[i].len;
    }
    Py_DECREF(seq);
    return 0;
}
%}

%inline %{
/*
 * ferrule_verify_chain with the options as arguments: chain and crls are
 * sequences of bytes-like DER (crls may be None), peer_name None or a str,
 * use_time non-zero to validate at `at_time` (else the config's clock),
 * max_depth 0 = the config's.  Returns (status, reason, path): status
 * FERRULE_OK with the validated path (DER, leaf to anchor), or the failing
 * status with the result's reason and [].  A call the library refuses
 * without a result (misuse) returns (status, 0, []).
 */
PyObject *fpy_verify_chain(const ferrule_config *cfg, PyObject *chain, uint32_t purpose,
                           int use_time, int64_t at_time, uint32_t max_depth,
                           PyObject *peer_name, PyObject *crls) {
    ferrule_verify_options o;
    memset(&o, 0, sizeof(o));
    o.struct_size = (uint32_t)sizeof(o);
    o.purpose = purpose;
    o.flags = use_time ? FERRULE_VERIFY_USE_TIME : 0;
    o.time = at_time;
    o.max_depth = max_depth;
    if (peer_name != Py_None) {
        if (!PyUnicode_Check(peer_name)) {
            PyErr_SetString(PyExc_TypeError, "peer_name must be a str or None");
            return NULL;
        }
        Py_ssize_t len = 0;
        o.peer_name = PyUnicode_AsUTF8AndSize(peer_name, &len);
        if (o.peer_name == NULL) return NULL;
        if ((size_t)len != strlen(o.peer_name)) {
            PyErr_SetString(PyExc_ValueError, "peer_name contains a NUL character");
            return NULL;
        }
    }
    fpy_bufseq certs, cl;
    if (fpy_bufseq_get(chain, "chain must be a sequence of DER certificates", &certs) != 0)
        return NULL;
    memset(&cl, 0, sizeof(cl));
    if (crls != Py_None &&
        fpy_bufseq_get(crls, "crls must be a sequence of DER CRLs", &cl) != 0) {
        fpy_bufseq_release(&certs);
        return NULL;
    }
    o.crls = cl.ptrs;
    o.crl_lens = cl.lens;
    o.n_crls = (size_t)cl.n;
    ferrule_verify_result *r = NULL;
    int st = ferrule_verify_chain(cfg, certs.ptrs, certs.lens, (size_t)certs.n, &o, &r);
    fpy_bufseq_release(&certs);
    fpy_bufseq_release(&cl);
    PyObject *path = st == FERRULE_OK ? fpy_verify_path(r) : PyList_New(0);
    unsigned reason = r != NULL ? (unsigned)ferrule_verify_result_reason(r) : 0u;
    ferrule_verify_result_free(r);
    if (path == NULL) return NULL;
    return Py_BuildValue("(iIN)", st, reason, path);
}
%}
