//! ferrule-s2n-peer: an s2n-tls peer of the interop matrix, speaking
//! interop/peers/PROTOCOL.md.
//!
//! It uses the C API that the `s2n-tls` crate builds and re-exports
//! (`s2n_tls::ffi`), because the crate's safe wrapper does not expose early
//! data: configs, connections, send/recv callbacks on a non-blocking
//! std::net socket, driven by poll(2) whenever s2n-tls says it is blocked.

use std::ffi::{c_char, c_int, c_void, CStr, CString};
use std::io::Read;
use std::net::TcpStream;
use std::os::fd::{AsRawFd, RawFd};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use peer_common::{self as common, Caps, Close, Opts, Report, Role, Tap};
use s2n_tls::ffi::*;

const IMPL: &str = "s2n-tls";

/// The security policy: s2n-tls is configured only through named policies.
/// "AWS-CRT-SDK-TLSv1.3" is TLS 1.3 only, with the three TLS 1.3 suites and
/// x25519, secp256r1, secp384r1 (x25519 first, so it gets the client's key
/// share, as ferrule's default does).
const POLICY: &str = "AWS-CRT-SDK-TLSv1.3";

fn caps() -> Caps {
    Caps {
        impl_name: IMPL,
        version: env!("S2N_TLS_VERSION").to_string(),
        features: vec![
            ("suites", Err("s2n-tls selects suites only through named security policies, and none of them limits TLS 1.3 to one chosen suite")),
            ("groups", Err("s2n-tls selects groups only through named security policies, and none of them limits TLS 1.3 to a chosen group list")),
            ("hrr", Err("as server s2n-tls needs --groups to send a HelloRetryRequest, which its named security policies cannot express (as client it follows one: it shares x25519 first)")),
            ("resumption", Ok(())),
            ("early_data", Ok(())),
            ("key_update", Err("s2n-tls only sends KeyUpdate with update_not_requested (s2n_connection_request_key_update rejects KEY_UPDATE_REQUESTED); it does answer a peer's request")),
            ("client_auth", Ok(())),
            // As server it goes on without ALPN when nothing overlaps
            // (never no_application_protocol); PROTOCOL.md allows that.
            ("alpn", Ok(())),
            ("sni", Ok(())),
            ("ocsp", Ok(())),
            ("record_size_limit", Err("s2n-tls does not implement the record_size_limit extension (RFC 8449); it has only max_fragment_length (RFC 6066)")),
        ],
    }
}

fn main() {
    s2n_tls::init::init();
    common::run_main(caps(), server, client)
}

// ---- errors -------------------------------------------------------------------

struct S2nError {
    msg: String,
    kind: c_int,
    errno: c_int,
}

extern "C" {
    // S2N_API, declared in s2n-tls's QUIC support header (the crate binds it
    // only with its `quic` feature): the alert s2n-tls sends for an error.
    fn s2n_error_get_alert(error: c_int, alert: *mut u8) -> c_int;
}

/// The alert s2n-tls sent for this error, if it sends one.
fn alert_sent(e: &S2nError) -> Option<String> {
    let mut a = 0u8;
    if unsafe { s2n_error_get_alert(e.errno, &mut a) } == 0 {
        Some(common::alert_name(a))
    } else {
        None
    }
}

fn last_error() -> S2nError {
    unsafe {
        let errno = *s2n_errno_location();
        let text = |p: *const c_char| {
            if p.is_null() {
                String::new()
            } else {
                CStr::from_ptr(p).to_string_lossy().into_owned()
            }
        };
        let msg = text(s2n_strerror(errno, c"EN".as_ptr()));
        let name = text(s2n_strerror_name(errno));
        S2nError {
            msg: format!("{name}: {msg}"),
            kind: s2n_error_get_type(errno),
            errno,
        }
    }
}

fn check(rc: c_int, what: &str) -> Result<(), String> {
    if rc < 0 {
        Err(format!("{what}: {}", last_error().msg))
    } else {
        Ok(())
    }
}

// ---- config -------------------------------------------------------------------

struct Config(*mut s2n_config);

impl Drop for Config {
    fn drop(&mut self) {
        unsafe { s2n_config_free(self.0) };
    }
}

struct ChainAndKey(*mut s2n_cert_chain_and_key);

impl Drop for ChainAndKey {
    fn drop(&mut self) {
        unsafe { s2n_cert_chain_and_key_free(self.0) };
    }
}

/// What a config's callbacks share with the peer.
#[derive(Default)]
struct Shared {
    /// client: the newest session (ticket) received
    session: Mutex<Option<Vec<u8>>>,
    /// server: ticket identities whose early data was accepted once
    used_early: Mutex<Vec<Vec<u8>>>,
}

unsafe extern "C" fn accept_any_host(_: *const c_char, _: usize, _: *mut c_void) -> u8 {
    // Server side: client certificates are verified against --ca; their
    // names are not matched against anything (as other TLS servers do).
    1
}

unsafe extern "C" fn on_ticket(
    _conn: *mut s2n_connection,
    ctx: *mut c_void,
    ticket: *mut s2n_session_ticket,
) -> c_int {
    let shared = &*(ctx as *const Shared);
    let mut len = 0usize;
    if s2n_session_ticket_get_data_len(ticket, &mut len) < 0 {
        return -1;
    }
    let mut data = vec![0u8; len];
    if s2n_session_ticket_get_data(ticket, len, data.as_mut_ptr()) < 0 {
        return -1;
    }
    *shared.session.lock().unwrap() = Some(data);
    0
}

/// Server anti-replay: s2n-tls session tickets can be used many times, and
/// s2n-tls leaves 0-RTT replay protection to the application (its
/// s2n_early_data_cb).  Early data is accepted once per ticket identity.
unsafe extern "C" fn on_early_data(
    conn: *mut s2n_connection,
    early: *mut s2n_offered_early_data,
) -> c_int {
    let shared = &*(SHARED_FOR_EARLY.load(std::sync::atomic::Ordering::SeqCst) as *const Shared);
    let mut len = 0u16;
    let mut ident = Vec::new();
    if s2n_connection_get_negotiated_psk_identity_length(conn, &mut len) == 0 {
        ident = vec![0u8; len as usize];
        if s2n_connection_get_negotiated_psk_identity(conn, ident.as_mut_ptr(), len) < 0 {
            ident.clear();
        }
    }
    let mut used = shared.used_early.lock().unwrap();
    if ident.is_empty() || used.contains(&ident) {
        s2n_offered_early_data_reject(early)
    } else {
        used.push(ident);
        s2n_offered_early_data_accept(early)
    }
}

static SHARED_FOR_EARLY: std::sync::atomic::AtomicPtr<c_void> =
    std::sync::atomic::AtomicPtr::new(std::ptr::null_mut());

fn random_bytes(n: usize) -> Result<Vec<u8>, String> {
    let mut b = vec![0u8; n];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut b))
        .map_err(|e| format!("/dev/urandom: {e}"))?;
    Ok(b)
}

fn new_config(o: &Opts, role: Role, shared: &Arc<Shared>) -> Result<(Config, Option<ChainAndKey>), String> {
    unsafe {
        // Minimal: no system trust store, only --ca.
        let cfg = Config(s2n_config_new_minimal());
        if cfg.0.is_null() {
            return Err(format!("s2n_config_new_minimal: {}", last_error().msg));
        }
        let policy = CString::new(POLICY).unwrap();
        check(s2n_config_set_cipher_preferences(cfg.0, policy.as_ptr()), "security policy")?;
        let mut chain = None;
        if let (Some(c), Some(k)) = (&o.cert, &o.key) {
            let mut pem_c = common::read_file(c)?;
            let mut pem_k = common::read_file(k)?;
            let ck = ChainAndKey(s2n_cert_chain_and_key_new());
            check(
                s2n_cert_chain_and_key_load_pem_bytes(
                    ck.0,
                    pem_c.as_mut_ptr(),
                    pem_c.len() as u32,
                    pem_k.as_mut_ptr(),
                    pem_k.len() as u32,
                ),
                "--cert/--key",
            )?;
            if let Some(f) = &o.ocsp_file {
                let der = common::read_file(f)?;
                check(
                    s2n_cert_chain_and_key_set_ocsp_data(ck.0, der.as_ptr(), der.len() as u32),
                    "--ocsp",
                )?;
            }
            check(s2n_config_add_cert_chain_and_key_to_store(cfg.0, ck.0), "certificate")?;
            chain = Some(ck);
        }
        if let Some(ca) = &o.ca {
            let pem = CString::new(common::read_file(ca)?).map_err(|_| format!("{ca}: NUL byte"))?;
            check(s2n_config_add_pem_to_trust_store(cfg.0, pem.as_ptr()), "--ca")?;
        }
        if !o.alpn.is_empty() {
            let protos: Vec<CString> = o.alpn.iter().map(|a| CString::new(a.as_str()).unwrap()).collect();
            let ptrs: Vec<*const c_char> = protos.iter().map(|p| p.as_ptr()).collect();
            check(
                s2n_config_set_protocol_preferences(cfg.0, ptrs.as_ptr(), ptrs.len() as c_int),
                "--alpn",
            )?;
        }
        check(s2n_config_set_session_tickets_onoff(cfg.0, 1), "session tickets")?;
        let shared_ptr = Arc::as_ptr(shared) as *mut c_void;
        match role {
            Role::Server => {
                check(
                    s2n_config_set_client_auth_type(
                        cfg.0,
                        if o.verify_client_require {
                            s2n_cert_auth_type::REQUIRED
                        } else {
                            s2n_cert_auth_type::NONE
                        },
                    ),
                    "client auth",
                )?;
                check(
                    s2n_config_set_verify_host_callback(cfg.0, Some(accept_any_host), std::ptr::null_mut()),
                    "verify host callback",
                )?;
                let mut key = random_bytes(32)?;
                let name = b"ferrule-s2n-peer";
                let now = SystemTime::now()
                    .duration_since(SystemTime::UNIX_EPOCH)
                    .unwrap()
                    .as_secs();
                check(
                    s2n_config_add_ticket_crypto_key(
                        cfg.0,
                        name.as_ptr(),
                        name.len() as u32,
                        key.as_mut_ptr(),
                        key.len() as u32,
                        now,
                    ),
                    "ticket key",
                )?;
                if let Some(n) = o.early_data {
                    check(s2n_config_set_server_max_early_data_size(cfg.0, n), "--early-data")?;
                    SHARED_FOR_EARLY.store(shared_ptr, std::sync::atomic::Ordering::SeqCst);
                    check(s2n_config_set_early_data_cb(cfg.0, Some(on_early_data)), "early data callback")?;
                }
            }
            Role::Client => {
                check(
                    s2n_config_set_client_auth_type(cfg.0, s2n_cert_auth_type::OPTIONAL),
                    "client auth",
                )?;
                check(
                    s2n_config_set_session_ticket_cb(cfg.0, Some(on_ticket), shared_ptr),
                    "session ticket callback",
                )?;
                if o.ocsp_request {
                    check(
                        s2n_config_set_status_request_type(cfg.0, s2n_status_request_type::OCSP),
                        "--ocsp",
                    )?;
                }
            }
        }
        Ok((cfg, chain))
    }
}

// ---- connection and I/O ----------------------------------------------------------

/// The socket side of the send/recv callbacks.
struct IoCtx {
    fd: RawFd,
    tap: Option<Tap>,
}

unsafe extern "C" fn recv_cb(ctx: *mut c_void, buf: *mut u8, len: u32) -> c_int {
    let io = &mut *(ctx as *mut IoCtx);
    let n = libc::recv(io.fd, buf as *mut c_void, len as usize, 0);
    if n > 0 {
        if let Some(t) = io.tap.as_mut() {
            t.feed(std::slice::from_raw_parts(buf, n as usize));
        }
    }
    // -1 with errno EAGAIN is "blocked" to s2n-tls; 0 is EOF.
    n as c_int
}

unsafe extern "C" fn send_cb(ctx: *mut c_void, buf: *const u8, len: u32) -> c_int {
    let io = &mut *(ctx as *mut IoCtx);
    libc::send(io.fd, buf as *const c_void, len as usize, libc::MSG_NOSIGNAL) as c_int
}

struct Conn {
    ptr: *mut s2n_connection,
    io: Box<IoCtx>,
    _tcp: TcpStream,
    timeout: Duration,
    client: bool,
}

impl Drop for Conn {
    fn drop(&mut self) {
        unsafe { s2n_connection_free(self.ptr) };
    }
}

enum Fail {
    /// A TLS / library error: its text and type
    Tls(S2nError),
    Timeout,
}

impl Conn {
    fn new(tcp: TcpStream, cfg: &Config, mode: s2n_mode::Type, o: &Opts, tap: bool) -> Result<Conn, String> {
        tcp.set_nonblocking(true).map_err(|e| e.to_string())?;
        tcp.set_nodelay(true).map_err(|e| e.to_string())?;
        unsafe {
            let ptr = s2n_connection_new(mode);
            if ptr.is_null() {
                return Err(format!("s2n_connection_new: {}", last_error().msg));
            }
            let mut c = Conn {
                ptr,
                io: Box::new(IoCtx { fd: tcp.as_raw_fd(), tap: if tap { Some(Tap::default()) } else { None } }),
                _tcp: tcp,
                timeout: o.timeout,
                client: mode == s2n_mode::CLIENT,
            };
            check(s2n_connection_set_config(ptr, cfg.0), "set config")?;
            // No sleeping after errors (s2n-tls's default blinding): this is
            // a test peer, and the harness waits for its report.
            check(s2n_connection_set_blinding(ptr, s2n_blinding::SELF_SERVICE_BLINDING), "blinding")?;
            let ctx = &mut *c.io as *mut IoCtx as *mut c_void;
            check(s2n_connection_set_recv_cb(ptr, Some(recv_cb)), "recv cb")?;
            check(s2n_connection_set_recv_ctx(ptr, ctx), "recv ctx")?;
            check(s2n_connection_set_send_cb(ptr, Some(send_cb)), "send cb")?;
            check(s2n_connection_set_send_ctx(ptr, ctx), "send ctx")?;
            Ok(c)
        }
    }

    fn deadline(&self) -> Instant {
        Instant::now() + self.timeout
    }

    /// Waits for the direction s2n-tls is blocked on.
    fn wait(&self, blocked: s2n_blocked_status::Type) -> Result<(), Fail> {
        let (r, w) = match blocked {
            s2n_blocked_status::BLOCKED_ON_WRITE => (false, true),
            s2n_blocked_status::BLOCKED_ON_READ => (true, false),
            _ => return Ok(()),
        };
        common::wait_fd(self.io.fd, r, w, self.deadline()).map_err(|_| Fail::Timeout)?;
        Ok(())
    }

    /// Repeats an s2n-tls call until it is no longer blocked on I/O.
    fn drive(&self, mut f: impl FnMut(*mut s2n_blocked_status::Type) -> isize) -> Result<isize, Fail> {
        loop {
            let mut blocked = s2n_blocked_status::NOT_BLOCKED;
            let r = f(&mut blocked);
            if r >= 0 {
                return Ok(r);
            }
            let e = last_error();
            if e.kind != s2n_error_type::BLOCKED as c_int {
                return Err(Fail::Tls(e));
            }
            self.wait(blocked)?;
        }
    }

    fn negotiate(&self) -> Result<(), Fail> {
        let p = self.ptr;
        self.drive(|b| unsafe { s2n_negotiate(p, b) as isize }).map(|_| ())
    }

    fn shutdown_send(&self) -> Result<(), Fail> {
        let p = self.ptr;
        self.drive(|b| unsafe { s2n_shutdown_send(p, b) as isize }).map(|_| ())
    }

    fn alert(&self) -> Option<String> {
        let a = unsafe { s2n_connection_get_alert(self.ptr) };
        if a >= 0 {
            Some(common::alert_name(a as u8))
        } else {
            None
        }
    }

    fn fill(&self, r: &mut Report) {
        unsafe {
            let p = self.ptr;
            let v = s2n_connection_get_actual_protocol_version(p);
            r.version = match v {
                34 => Some("TLSv1.3".into()),
                33 => Some("TLSv1.2".into()),
                _ => None,
            };
            if s2n_connection_handshake_complete(p) || v == 34 {
                let c = s2n_connection_get_cipher(p);
                if !c.is_null() {
                    let name = CStr::from_ptr(c).to_string_lossy().into_owned();
                    if name != "TLS_NULL_WITH_NULL_NULL" {
                        r.cipher = Some(name);
                    }
                }
                let mut g: *const c_char = std::ptr::null();
                if s2n_connection_get_key_exchange_group(p, &mut g) == 0 && !g.is_null() {
                    r.group = Some(CStr::from_ptr(g).to_string_lossy().into_owned());
                }
            }
            r.resumed = Some(s2n_connection_is_session_resumed(p) == 1);
            let a = s2n_get_application_protocol(p);
            r.alpn = if a.is_null() { None } else { Some(CStr::from_ptr(a).to_string_lossy().into_owned()) };
            r.peer_certs = self.peer_certs();
        }
    }

    /// Server: the number of certificates the client sent, from the chain
    /// as received.  Client: `None`, since s2n-tls gives a client only the
    /// validated chain, which includes the root even when the server did not
    /// send it (s2n_connection_get_peer_cert_chain).
    fn peer_certs(&self) -> Option<usize> {
        if self.client {
            return None;
        }
        unsafe {
            let mut der: *mut u8 = std::ptr::null_mut();
            let mut len = 0u32;
            if s2n_connection_get_client_cert_chain(self.ptr, &mut der, &mut len) < 0 || der.is_null() {
                return Some(0);
            }
            // A list of (3-byte length, DER certificate).
            let b = std::slice::from_raw_parts(der, len as usize);
            let (mut i, mut n) = (0, 0);
            while i + 3 <= b.len() {
                i += 3 + (((b[i] as usize) << 16) | ((b[i + 1] as usize) << 8) | b[i + 2] as usize);
                n += 1;
            }
            Some(n)
        }
    }

    fn early_status(&self) -> &'static str {
        let mut s = s2n_early_data_status_t::NOT_REQUESTED;
        unsafe { s2n_connection_get_early_data_status(self.ptr, &mut s) };
        match s {
            s2n_early_data_status_t::OK | s2n_early_data_status_t::END => "accepted",
            s2n_early_data_status_t::REJECTED => "rejected",
            _ => "not_offered",
        }
    }
}

fn record_fail(r: &mut Report, c: &Conn, f: Fail) {
    match f {
        Fail::Timeout => {
            r.fail("timeout");
            r.close = Some(Close::Error);
        }
        Fail::Tls(e) => {
            // The alert received, else the one s2n-tls sent.
            r.alert = c.alert().filter(|a| a != "close_notify").or_else(|| alert_sent(&e));
            let closed = e.kind == s2n_error_type::CLOSED as c_int;
            r.fail(if closed { format!("TCP EOF without close_notify ({})", e.msg) } else { e.msg });
            r.close = Some(if closed { Close::Eof } else { Close::Error });
        }
    }
}

/// One step of the data plane: a non-blocking s2n_send of `buf` (which the
/// caller must offer again, unchanged, while it is blocked).
enum Sent {
    All(usize),
    Blocked(s2n_blocked_status::Type),
}

fn try_send(c: &Conn, buf: &[u8]) -> Result<Sent, Fail> {
    let mut blocked = s2n_blocked_status::NOT_BLOCKED;
    let r = unsafe { s2n_send(c.ptr, buf.as_ptr() as *const c_void, buf.len() as isize, &mut blocked) };
    if r >= 0 {
        return Ok(Sent::All(r as usize));
    }
    let e = last_error();
    if e.kind == s2n_error_type::BLOCKED as c_int {
        Ok(Sent::Blocked(blocked))
    } else {
        Err(Fail::Tls(e))
    }
}

enum Got {
    Data(usize),
    CloseNotify,
    Blocked,
}

fn try_recv(c: &Conn, buf: &mut [u8]) -> Result<Got, Fail> {
    let mut blocked = s2n_blocked_status::NOT_BLOCKED;
    let r = unsafe { s2n_recv(c.ptr, buf.as_mut_ptr() as *mut c_void, buf.len() as isize, &mut blocked) };
    if r > 0 {
        return Ok(Got::Data(r as usize));
    }
    if r == 0 {
        return Ok(Got::CloseNotify);
    }
    let e = last_error();
    if e.kind == s2n_error_type::BLOCKED as c_int {
        Ok(Got::Blocked)
    } else {
        Err(Fail::Tls(e))
    }
}

const CHUNK: usize = 1 << 14;

// ---- server ----------------------------------------------------------------

fn server(_caps: &Caps, o: Opts) -> bool {
    let shared = Arc::new(Shared::default());
    let (cfg, _chain) = match new_config(&o, Role::Server, &shared) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("ferrule-s2n-peer: {e}");
            return false;
        }
    };
    let Some(listener) = common::listen(&o.listen, "ferrule-s2n-peer") else {
        return false;
    };
    let mut all_ok = true;
    for k in 1..=o.count {
        let mut r = Report::new(Role::Server, IMPL, k);
        match listener.accept() {
            Ok((tcp, _)) => match Conn::new(tcp, &cfg, s2n_mode::SERVER, &o, true) {
                Ok(c) => serve_one(&o, &c, &mut r),
                Err(e) => r.fail(e),
            },
            Err(e) => r.fail(format!("accept: {e}")),
        }
        r.print();
        all_ok &= r.ok;
    }
    all_ok
}

fn serve_one(o: &Opts, c: &Conn, r: &mut Report) {
    let mut pending: Vec<u8> = Vec::new();
    let hs = (|| -> Result<(), Fail> {
        if o.early_data.is_some() {
            let mut buf = vec![0u8; CHUNK];
            let p = c.ptr;
            loop {
                let mut got: isize = 0;
                let mut blocked = s2n_blocked_status::NOT_BLOCKED;
                let rc = unsafe {
                    s2n_recv_early_data(p, buf.as_mut_ptr(), buf.len() as isize, &mut got, &mut blocked)
                };
                pending.extend_from_slice(&buf[..got.max(0) as usize]);
                if rc == 0 {
                    break;
                }
                let e = last_error();
                if e.kind != s2n_error_type::BLOCKED as c_int {
                    return Err(Fail::Tls(e));
                }
                c.wait(blocked)?;
            }
        }
        c.negotiate()
    })();
    unsafe {
        let sn = s2n_get_server_name(c.ptr);
        r.server_name = if sn.is_null() { None } else { Some(CStr::from_ptr(sn).to_string_lossy().into_owned()) };
    }
    c.fill(r);
    r.early_data = Some(match c.early_status() {
        "not_offered" => match c.io.tap.as_ref().and_then(|t| t.offers_early_data()) {
            Some(true) => "rejected",
            _ => "not_offered",
        },
        s => s,
    });
    if let Err(f) = hs {
        record_fail(r, c, f);
        return;
    }
    r.received = pending.len();
    // Echo until the client's close_notify.
    let mut buf = vec![0u8; CHUNK];
    let mut inflight = 0usize; // bytes of `pending` offered to a blocked s2n_send
    let mut peer_closed = false;
    loop {
        let mut progress = false;
        let mut want_write = false;
        if !pending.is_empty() {
            if inflight == 0 {
                inflight = pending.len().min(CHUNK);
            }
            match try_send(c, &pending[..inflight]) {
                Ok(Sent::All(n)) => {
                    r.sent += n;
                    pending.drain(..n);
                    inflight = 0;
                    progress = true;
                }
                Ok(Sent::Blocked(b)) => want_write = b == s2n_blocked_status::BLOCKED_ON_WRITE,
                Err(f) => return record_fail(r, c, f),
            }
        }
        if !peer_closed && pending.len() < (1 << 20) {
            match try_recv(c, &mut buf) {
                Ok(Got::Data(n)) => {
                    pending.extend_from_slice(&buf[..n]);
                    r.received += n;
                    progress = true;
                }
                Ok(Got::CloseNotify) => {
                    peer_closed = true;
                    progress = true;
                }
                Ok(Got::Blocked) => {}
                Err(f) => return record_fail(r, c, f),
            }
        }
        if peer_closed && pending.is_empty() {
            break;
        }
        if !progress {
            let read = !peer_closed && pending.len() < (1 << 20);
            if let Err(_) = common::wait_fd(c.io.fd, read, want_write, c.deadline()) {
                return record_fail(r, c, Fail::Timeout);
            }
        }
    }
    if let Err(f) = c.shutdown_send() {
        return record_fail(r, c, f);
    }
    r.close = Some(Close::CloseNotify);
    r.ok = r.error.is_none();
}

// ---- client ----------------------------------------------------------------

fn client(_caps: &Caps, o: Opts) -> bool {
    let shared = Arc::new(Shared::default());
    let (cfg, _chain) = match new_config(&o, Role::Client, &shared) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("ferrule-s2n-peer: {e}");
            return false;
        }
    };
    let mut all_ok = true;
    for k in 1..=o.count {
        let mut r = Report::new(Role::Client, IMPL, k);
        r.server_name = o.servername.clone();
        let addr = o.connect.as_ref().unwrap();
        let tcp = std::net::ToSocketAddrs::to_socket_addrs(addr.as_str())
            .map_err(|e| e.to_string())
            .and_then(|mut a| a.next().ok_or_else(|| "no address".to_string()))
            .and_then(|a| TcpStream::connect_timeout(&a, o.timeout).map_err(|e| e.to_string()));
        match tcp {
            Ok(tcp) => match Conn::new(tcp, &cfg, s2n_mode::CLIENT, &o, false) {
                Ok(c) => connect_one(&o, &c, &shared, k, &mut r),
                Err(e) => r.fail(e),
            },
            Err(e) => r.fail(format!("connect {addr}: {e}")),
        }
        r.print();
        all_ok &= r.ok;
    }
    all_ok
}

fn connect_one(o: &Opts, c: &Conn, shared: &Shared, k: u32, r: &mut Report) {
    let p = c.ptr;
    let name = CString::new(o.servername.clone().unwrap()).unwrap();
    if let Err(e) = check(unsafe { s2n_set_server_name(p, name.as_ptr()) }, "--servername") {
        return r.fail(e);
    }
    let session = if k > 1 { shared.session.lock().unwrap().clone() } else { None };
    if let Some(s) = &session {
        if let Err(e) = check(unsafe { s2n_connection_set_session(p, s.as_ptr(), s.len()) }, "session") {
            return r.fail(e);
        }
    }
    let data = common::pattern(0, o.send_bytes);
    let mut sent_early = 0usize;
    let hs = (|| -> Result<(), Fail> {
        if let (Some(n), Some(_)) = (o.early_data_bytes, &session) {
            let mut remaining_allowed = 0u32;
            unsafe { s2n_connection_get_remaining_early_data_size(p, &mut remaining_allowed) };
            loop {
                let mut sent: isize = 0;
                let mut blocked = s2n_blocked_status::NOT_BLOCKED;
                let rc = unsafe {
                    s2n_send_early_data(p, data[sent_early..n].as_ptr(), (n - sent_early) as isize, &mut sent, &mut blocked)
                };
                sent_early += sent.max(0) as usize;
                if rc == 0 {
                    break;
                }
                let e = last_error();
                if e.kind != s2n_error_type::BLOCKED as c_int {
                    return Err(Fail::Tls(e));
                }
                c.wait(blocked)?;
            }
        }
        c.negotiate()
    })();
    c.fill(r);
    unsafe { r.ocsp_stapled = Some(s2n_connection_is_ocsp_stapled(p) == 1) };
    r.early_data = Some(c.early_status());
    if let Err(f) = hs {
        return record_fail(r, c, f);
    }
    // Early data the server rejected is sent again now.
    let mut off = if r.early_data == Some("accepted") { sent_early } else { 0 };
    r.sent = off;
    let mut got: Vec<u8> = Vec::with_capacity(data.len());
    let mut buf = vec![0u8; CHUNK];
    let mut inflight = 0usize;
    let mut peer_closed = false;
    while got.len() < data.len() {
        let mut progress = false;
        let mut want_write = false;
        if off < data.len() {
            if inflight == 0 {
                inflight = (data.len() - off).min(CHUNK);
            }
            match try_send(c, &data[off..off + inflight]) {
                Ok(Sent::All(n)) => {
                    off += n;
                    r.sent = off;
                    inflight = 0;
                    progress = true;
                }
                Ok(Sent::Blocked(b)) => want_write = b == s2n_blocked_status::BLOCKED_ON_WRITE,
                Err(f) => return record_fail(r, c, f),
            }
        }
        match try_recv(c, &mut buf) {
            Ok(Got::Data(n)) => {
                got.extend_from_slice(&buf[..n]);
                progress = true;
            }
            Ok(Got::CloseNotify) => {
                peer_closed = true;
                break;
            }
            Ok(Got::Blocked) => {}
            Err(f) => {
                r.received = got.len();
                r.echo_ok = Some(false);
                return record_fail(r, c, f);
            }
        }
        if !progress && got.len() < data.len() {
            if common::wait_fd(c.io.fd, true, want_write, c.deadline()).is_err() {
                r.received = got.len();
                r.echo_ok = Some(false);
                return record_fail(r, c, Fail::Timeout);
            }
        }
    }
    r.received = got.len();
    let echo_ok = got.len() == data.len() && common::is_pattern(0, &got);
    r.echo_ok = Some(echo_ok);
    if !echo_ok {
        r.fail(format!("echo mismatch: sent {} bytes, got {} back", data.len(), got.len()));
    }
    if o.hold {
        common::println_flush("ECHOED");
        let mut sink = Vec::new();
        let _ = std::io::stdin().read_to_end(&mut sink);
    }
    if let Err(f) = c.shutdown_send() {
        return record_fail(r, c, f);
    }
    // Read until the server's close_notify or EOF (late tickets are kept).
    while !peer_closed {
        match try_recv(c, &mut buf) {
            Ok(Got::Data(n)) => r.fail(format!("{n} unexpected bytes after the echo")),
            Ok(Got::CloseNotify) => peer_closed = true,
            Ok(Got::Blocked) => {
                if common::wait_fd(c.io.fd, true, false, c.deadline()).is_err() {
                    return record_fail(r, c, Fail::Timeout);
                }
            }
            Err(f) => return record_fail(r, c, f),
        }
    }
    r.close = Some(Close::CloseNotify);
    r.ok = r.error.is_none();
}
