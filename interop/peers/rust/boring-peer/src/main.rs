//! ferrule-boring-peer: a BoringSSL peer of the interop matrix (the `boring`
//! crate, which builds BoringSSL), speaking interop/peers/PROTOCOL.md.
//!
//! Contexts are built with boring's safe API; each connection is a raw
//! `SSL` on the non-blocking socket's fd (boring-sys), driven by poll(2),
//! since early data and KeyUpdate are not in boring's safe API.

use std::cell::RefCell;
use std::collections::HashSet;
use std::ffi::{c_char, c_int, c_uint, c_void, CStr};
use std::io::Read;
use std::net::TcpStream;
use std::os::fd::AsRawFd;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use boring::ssl::{
    AlpnError, Ssl, SslContext, SslContextBuilder, SslFiletype, SslMethod,
    SslSession, SslSessionCacheMode, SslVerifyMode, SslVersion,
};
use boring_sys as ffi;
use foreign_types::ForeignType;
use peer_common::{self as common, Caps, Close, Opts, Report, Role};

const IMPL: &str = "boringssl";

fn caps() -> Caps {
    Caps {
        impl_name: IMPL,
        version: env!("BORING_VERSION").to_string(),
        features: vec![
            ("suites", Err("BoringSSL has no API to choose TLS 1.3 cipher suites (it always offers all three)")),
            ("groups", Ok(())),
            ("hrr", Ok(())),
            ("resumption", Ok(())),
            ("early_data", Ok(())),
            ("key_update", Ok(())),
            ("client_auth", Ok(())),
            ("alpn", Ok(())),
            ("sni", Ok(())),
            ("ocsp", Ok(())),
            ("record_size_limit", Err("BoringSSL does not implement the record_size_limit extension (RFC 8449)")),
        ],
    }
}

fn main() {
    ffi::init();
    common::run_main(caps(), server, client)
}

fn errors() -> String {
    let s = boring::error::ErrorStack::get().to_string();
    if s.is_empty() {
        "unknown BoringSSL error".into()
    } else {
        s
    }
}

// ---- alerts, through the info callback ---------------------------------------

#[derive(Default, Clone, Copy)]
struct Alerts {
    sent: Option<u8>,
    received: Option<u8>,
}

thread_local! {
    // One connection at a time per process, so one slot is enough.
    static ALERTS: RefCell<Alerts> = RefCell::new(Alerts::default());
}

unsafe extern "C" fn info_cb(_ssl: *const ffi::SSL, kind: c_int, value: c_int) {
    let desc = (value & 0xff) as u8;
    if desc == 0 {
        return; // close_notify
    }
    ALERTS.with(|a| {
        let mut a = a.borrow_mut();
        if kind == ffi::SSL_CB_WRITE_ALERT && a.sent.is_none() {
            a.sent = Some(desc);
        } else if kind == ffi::SSL_CB_READ_ALERT && a.received.is_none() {
            a.received = Some(desc);
        }
    });
}

// ---- single-use session tickets (the server's anti-replay) -------------------

/// BoringSSL's server accepts any valid ticket any number of times and
/// leaves 0-RTT replay protection to the application.  The peer encrypts its
/// tickets itself (SSL_CTX_set_tlsext_ticket_key_cb) and takes each ticket's
/// IV once: a replayed ticket is not accepted, so neither is its early data.
struct TicketKeys {
    name: [u8; 16],
    aes: [u8; 16],
    hmac: [u8; 32],
    used: Mutex<HashSet<[u8; 16]>>,
}

static mut TICKET_KEYS: Option<&'static TicketKeys> = None;

unsafe extern "C" fn ticket_cb(
    _ssl: *mut ffi::SSL,
    key_name: *mut u8,
    iv: *mut u8,
    cctx: *mut ffi::EVP_CIPHER_CTX,
    hctx: *mut ffi::HMAC_CTX,
    encrypt: c_int,
) -> c_int {
    let Some(k) = *std::ptr::addr_of!(TICKET_KEYS) else {
        return -1;
    };
    let name = std::slice::from_raw_parts_mut(key_name, 16);
    let iv16 = std::slice::from_raw_parts_mut(iv, 16);
    if encrypt == 1 {
        if ffi::RAND_bytes(iv, 16) != 1 {
            return -1;
        }
        name.copy_from_slice(&k.name);
        if ffi::EVP_EncryptInit_ex(cctx, ffi::EVP_aes_128_cbc(), std::ptr::null_mut(), k.aes.as_ptr(), iv) != 1 {
            return -1;
        }
    } else {
        if name != k.name {
            return 0; // not ours: full handshake
        }
        let mut id = [0u8; 16];
        id.copy_from_slice(iv16);
        if !k.used.lock().unwrap().insert(id) {
            return 0; // used before: a replay, full handshake
        }
        if ffi::EVP_DecryptInit_ex(cctx, ffi::EVP_aes_128_cbc(), std::ptr::null_mut(), k.aes.as_ptr(), iv) != 1 {
            return -1;
        }
    }
    if ffi::HMAC_Init_ex(hctx, k.hmac.as_ptr() as *const c_void, 32, ffi::EVP_sha256(), std::ptr::null_mut()) != 1 {
        return -1;
    }
    1
}

fn random<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    unsafe { ffi::RAND_bytes(b.as_mut_ptr(), N) };
    b
}

// ---- contexts ------------------------------------------------------------------

fn group_list(o: &Opts) -> Option<String> {
    if o.groups.is_empty() {
        return None;
    }
    Some(
        o.groups
            .iter()
            .map(|g| match g.as_str() {
                "x25519" => "X25519",
                "secp256r1" => "P-256",
                "secp384r1" => "P-384",
                other => other, // X25519MLKEM768
            })
            .collect::<Vec<_>>()
            .join(":"),
    )
}

fn alpn_wire(list: &[String]) -> Vec<u8> {
    let mut w = Vec::new();
    for a in list {
        w.push(a.len() as u8);
        w.extend_from_slice(a.as_bytes());
    }
    w
}

/// The first of our protocols (wire format) that the client offers, as a
/// slice of the client's list.
fn select_alpn<'a>(ours: &[u8], client: &'a [u8]) -> Option<&'a [u8]> {
    let mut i = 0;
    while i < ours.len() {
        let want = ours.get(i + 1..i + 1 + ours[i] as usize)?;
        let mut j = 0;
        while j < client.len() {
            let got = client.get(j + 1..j + 1 + client[j] as usize)?;
            if got == want {
                return Some(got);
            }
            j += 1 + client[j] as usize;
        }
        i += 1 + ours[i] as usize;
    }
    None
}

fn base(o: &Opts) -> Result<SslContextBuilder, String> {
    let e = |x: boring::error::ErrorStack| x.to_string();
    let mut b = SslContextBuilder::new(SslMethod::tls()).map_err(e)?;
    b.set_min_proto_version(Some(SslVersion::TLS1_3)).map_err(e)?;
    b.set_max_proto_version(Some(SslVersion::TLS1_3)).map_err(e)?;
    if let Some(g) = group_list(o) {
        b.set_curves_list(&g).map_err(|x| format!("--groups: {x}"))?;
    }
    if let (Some(c), Some(k)) = (&o.cert, &o.key) {
        b.set_certificate_chain_file(c).map_err(|x| format!("{c}: {x}"))?;
        b.set_private_key_file(k, SslFiletype::PEM).map_err(|x| format!("{k}: {x}"))?;
    }
    if let Some(ca) = &o.ca {
        b.set_ca_file(ca).map_err(|x| format!("{ca}: {x}"))?;
    }
    unsafe { ffi::SSL_CTX_set_info_callback(b.as_ptr(), Some(info_cb)) };
    Ok(b)
}

fn server_ctx(o: &Opts) -> Result<SslContext, String> {
    let mut b = base(o)?;
    if o.verify_client_require {
        b.set_verify(SslVerifyMode::PEER | SslVerifyMode::FAIL_IF_NO_PEER_CERT);
    } else {
        b.set_verify(SslVerifyMode::NONE);
    }
    if !o.alpn.is_empty() {
        let ours = alpn_wire(&o.alpn);
        // Our order wins; no overlap is fatal (no_application_protocol).
        b.set_alpn_select_callback(move |_, client| {
            select_alpn(&ours, client).ok_or(AlpnError::ALERT_FATAL)
        });
    }
    if let Some(f) = &o.ocsp_file {
        let der = common::read_file(f)?;
        if unsafe { ffi::SSL_CTX_set_ocsp_response(b.as_ptr(), der.as_ptr(), der.len()) } != 1 {
            return Err(format!("--ocsp: {}", errors()));
        }
    }
    let keys: &'static TicketKeys = Box::leak(Box::new(TicketKeys {
        name: random(),
        aes: random(),
        hmac: random(),
        used: Mutex::new(HashSet::new()),
    }));
    unsafe {
        *std::ptr::addr_of_mut!(TICKET_KEYS) = Some(keys);
        ffi::SSL_CTX_set_tlsext_ticket_key_cb(b.as_ptr(), Some(ticket_cb));
        if o.early_data.is_some() {
            // BoringSSL announces its own fixed max_early_data_size (14336).
            ffi::SSL_CTX_set_early_data_enabled(b.as_ptr(), 1);
        }
    }
    Ok(b.build())
}

fn client_ctx(o: &Opts, store: Arc<Mutex<Option<SslSession>>>) -> Result<SslContext, String> {
    let mut b = base(o)?;
    b.set_verify(SslVerifyMode::PEER);
    if !o.alpn.is_empty() {
        b.set_alpn_protos(&alpn_wire(&o.alpn)).map_err(|x| x.to_string())?;
    }
    b.set_session_cache_mode(SslSessionCacheMode::CLIENT);
    b.set_new_session_callback(move |_, s| {
        *store.lock().unwrap() = Some(s);
    });
    if o.early_data_bytes.is_some() {
        unsafe { ffi::SSL_CTX_set_early_data_enabled(b.as_ptr(), 1) };
    }
    Ok(b.build())
}

// ---- a connection ---------------------------------------------------------------

struct Conn {
    ssl: Ssl,
    tcp: TcpStream,
    timeout: Duration,
}

enum Fail {
    Tls(String),
    Eof,
    Timeout,
}

enum Io {
    Done(usize),
    CloseNotify,
    Want(bool, bool), // (read, write)
    EarlyRejected,
}

impl Conn {
    fn new(ctx: &SslContext, tcp: TcpStream, o: &Opts) -> Result<Conn, String> {
        tcp.set_nonblocking(true).map_err(|e| e.to_string())?;
        tcp.set_nodelay(true).map_err(|e| e.to_string())?;
        let ssl = Ssl::new(ctx).map_err(|e| e.to_string())?;
        if unsafe { ffi::SSL_set_fd(ssl.as_ptr(), tcp.as_raw_fd()) } != 1 {
            return Err(errors());
        }
        ALERTS.with(|a| *a.borrow_mut() = Alerts::default());
        Ok(Conn { ssl, tcp, timeout: o.timeout })
    }

    fn p(&self) -> *mut ffi::SSL {
        self.ssl.as_ptr()
    }

    /// Classifies the result `rc` of an SSL_* call.
    fn classify(&self, rc: c_int) -> Result<Io, Fail> {
        if rc > 0 {
            return Ok(Io::Done(rc as usize));
        }
        match unsafe { ffi::SSL_get_error(self.p(), rc) } {
            ffi::SSL_ERROR_WANT_READ => Ok(Io::Want(true, false)),
            ffi::SSL_ERROR_WANT_WRITE => Ok(Io::Want(false, true)),
            ffi::SSL_ERROR_ZERO_RETURN => Ok(Io::CloseNotify),
            ffi::SSL_ERROR_EARLY_DATA_REJECTED => Ok(Io::EarlyRejected),
            ffi::SSL_ERROR_SYSCALL => {
                let e = errors();
                if e == "unknown BoringSSL error" {
                    Err(Fail::Eof)
                } else {
                    Err(Fail::Tls(e))
                }
            }
            _ => Err(Fail::Tls(errors())),
        }
    }

    fn wait(&self, r: bool, w: bool) -> Result<(), Fail> {
        common::wait_fd(self.tcp.as_raw_fd(), r, w, Instant::now() + self.timeout)
            .map(|_| ())
            .map_err(|_| Fail::Timeout)
    }

    /// SSL_do_handshake until it returns 1.  Client: Err(None) is
    /// "early data rejected" (already reset, call again).
    fn handshake(&self) -> Result<bool, Fail> {
        loop {
            let rc = unsafe { ffi::SSL_do_handshake(self.p()) };
            match self.classify(rc)? {
                Io::Done(_) => return Ok(true),
                Io::Want(r, w) => self.wait(r, w)?,
                Io::EarlyRejected => {
                    unsafe { ffi::SSL_reset_early_data_reject(self.p()) };
                    return Ok(false);
                }
                Io::CloseNotify => return Err(Fail::Tls("close_notify during the handshake".into())),
            }
        }
    }

    fn try_write(&self, buf: &[u8]) -> Result<Io, Fail> {
        let rc = unsafe { ffi::SSL_write(self.p(), buf.as_ptr() as *const c_void, buf.len().min(i32::MAX as usize) as c_int) };
        self.classify(rc)
    }

    fn try_read(&self, buf: &mut [u8]) -> Result<Io, Fail> {
        let rc = unsafe { ffi::SSL_read(self.p(), buf.as_mut_ptr() as *mut c_void, buf.len() as c_int) };
        self.classify(rc)
    }

    fn in_early_data(&self) -> bool {
        unsafe { ffi::SSL_in_early_data(self.p()) == 1 }
    }

    fn close_notify(&self) -> Result<(), Fail> {
        loop {
            let rc = unsafe { ffi::SSL_shutdown(self.p()) };
            if rc >= 0 {
                return Ok(()); // 0: sent, the peer's not yet read; 1: both
            }
            match self.classify(rc)? {
                Io::Want(r, w) => self.wait(r, w)?,
                _ => return Ok(()),
            }
        }
    }

    fn fill(&self, r: &mut Report) {
        unsafe {
            let p = self.p();
            let s = |c: *const c_char| (!c.is_null()).then(|| CStr::from_ptr(c).to_string_lossy().into_owned());
            if ffi::SSL_in_init(p) == 0 || ffi::SSL_in_early_data(p) == 1 {
                r.version = s(ffi::SSL_get_version(p));
                let c = ffi::SSL_get_current_cipher(p);
                if !c.is_null() {
                    r.cipher = s(ffi::SSL_CIPHER_standard_name(c));
                }
                let g = ffi::SSL_get_curve_id(p);
                if g != 0 {
                    r.group = s(ffi::SSL_get_curve_name(g)).map(|n| match n.as_str() {
                        "X25519" => "x25519".to_string(),
                        "P-256" => "secp256r1".to_string(),
                        "P-384" => "secp384r1".to_string(),
                        _ => n,
                    });
                }
                r.resumed = Some(ffi::SSL_session_reused(p) == 1);
            }
            let mut a: *const u8 = std::ptr::null();
            let mut alen: c_uint = 0;
            ffi::SSL_get0_alpn_selected(p, &mut a, &mut alen);
            if alen > 0 {
                r.alpn = Some(String::from_utf8_lossy(std::slice::from_raw_parts(a, alen as usize)).into_owned());
            }
            let certs = ffi::SSL_get0_peer_certificates(p);
            r.peer_certs = Some(if certs.is_null() { 0 } else { ffi::OPENSSL_sk_num(certs as *const ffi::OPENSSL_STACK) });
        }
    }

    fn early_status(&self) -> &'static str {
        unsafe {
            if ffi::SSL_early_data_accepted(self.p()) == 1 {
                "accepted"
            } else if ffi::SSL_get_early_data_reason(self.p()) == ffi::ssl_early_data_reason_t::ssl_early_data_peer_declined
                || ffi::SSL_get_early_data_reason(self.p()) == ffi::ssl_early_data_reason_t::ssl_early_data_disabled
                || ffi::SSL_get_early_data_reason(self.p()) == ffi::ssl_early_data_reason_t::ssl_early_data_no_session_offered
                || ffi::SSL_get_early_data_reason(self.p()) == ffi::ssl_early_data_reason_t::ssl_early_data_unknown
            {
                "not_offered"
            } else {
                "rejected"
            }
        }
    }
}

fn record_fail(r: &mut Report, f: Fail) {
    let a = ALERTS.with(|a| *a.borrow());
    r.alert = a.received.or(a.sent).map(common::alert_name);
    match f {
        Fail::Tls(e) => {
            r.fail(e);
            r.close = Some(Close::Error);
        }
        Fail::Eof => {
            r.fail("TCP EOF without close_notify");
            r.close = Some(Close::Eof);
        }
        Fail::Timeout => {
            r.fail("timeout");
            r.close = Some(Close::Error);
        }
    }
}

fn key_update(c: &Conn, r: &mut Report) -> Result<(), Fail> {
    if unsafe { ffi::SSL_key_update(c.p(), ffi::SSL_KEY_UPDATE_REQUESTED) } != 1 {
        return Err(Fail::Tls(format!("SSL_key_update: {}", errors())));
    }
    r.key_updates_sent += 1;
    Ok(())
}

const CHUNK: usize = 1 << 14;

// ---- server ----------------------------------------------------------------

fn server(_caps: &Caps, o: Opts) -> bool {
    let ctx = match server_ctx(&o) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("ferrule-boring-peer: {e}");
            return false;
        }
    };
    let Some(listener) = common::listen(&o.listen, "ferrule-boring-peer") else {
        return false;
    };
    let mut all_ok = true;
    for k in 1..=o.count {
        let mut r = Report::new(Role::Server, IMPL, k);
        match listener.accept() {
            Ok((tcp, _)) => match Conn::new(&ctx, tcp, &o) {
                Ok(c) => {
                    unsafe { ffi::SSL_set_accept_state(c.p()) };
                    serve_one(&o, &c, &mut r)
                }
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
    let hs = c.handshake();
    unsafe {
        let sn = ffi::SSL_get_servername(c.p(), ffi::TLSEXT_NAMETYPE_host_name);
        r.server_name = (!sn.is_null()).then(|| CStr::from_ptr(sn).to_string_lossy().into_owned());
    }
    c.fill(r);
    r.early_data = Some(c.early_status());
    if let Err(f) = hs {
        return record_fail(r, f);
    }
    // SSL_do_handshake returns at the start of accepted early data; SSL_read
    // then returns it and completes the handshake.  Nothing is written back
    // before the handshake is complete.
    let mut pending: Vec<u8> = Vec::new();
    let mut buf = vec![0u8; CHUNK];
    let mut inflight = 0usize;
    let mut peer_closed = false;
    let mut key_update_due = o.key_update;
    loop {
        let mut progress = false;
        let (mut want_r, mut want_w) = (false, false);
        let complete = !c.in_early_data() && unsafe { ffi::SSL_in_init(c.p()) } == 0;
        if complete && key_update_due {
            if let Err(f) = key_update(c, r) {
                return record_fail(r, f);
            }
            key_update_due = false;
        }
        if complete && !pending.is_empty() {
            if inflight == 0 {
                inflight = pending.len().min(CHUNK);
            }
            match c.try_write(&pending[..inflight]) {
                Ok(Io::Done(n)) => {
                    r.sent += n;
                    pending.drain(..n);
                    inflight = 0;
                    progress = true;
                }
                Ok(Io::Want(a, b)) => {
                    want_r |= a;
                    want_w |= b;
                }
                Ok(_) => {}
                Err(f) => return record_fail(r, f),
            }
        }
        if !peer_closed && pending.len() < (1 << 20) {
            match c.try_read(&mut buf) {
                Ok(Io::Done(n)) => {
                    pending.extend_from_slice(&buf[..n]);
                    r.received += n;
                    progress = true;
                }
                Ok(Io::CloseNotify) => {
                    peer_closed = true;
                    progress = true;
                }
                Ok(Io::Want(a, b)) => {
                    want_r |= a;
                    want_w |= b;
                }
                Ok(_) => {}
                Err(f) => {
                    r.early_data = Some(c.early_status());
                    return record_fail(r, f);
                }
            }
        }
        if peer_closed && pending.is_empty() {
            break;
        }
        if !progress {
            if let Err(f) = c.wait(want_r || !peer_closed, want_w) {
                return record_fail(r, f);
            }
        }
    }
    r.early_data = Some(c.early_status());
    c.fill(r);
    if let Err(f) = c.close_notify() {
        return record_fail(r, f);
    }
    r.close = Some(Close::CloseNotify);
    r.ok = r.error.is_none();
}

// ---- client ----------------------------------------------------------------

fn client(_caps: &Caps, o: Opts) -> bool {
    let store: Arc<Mutex<Option<SslSession>>> = Arc::new(Mutex::new(None));
    let ctx = match client_ctx(&o, store.clone()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("ferrule-boring-peer: {e}");
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
        let session = store.lock().unwrap().clone();
        match tcp {
            Ok(tcp) => match Conn::new(&ctx, tcp, &o) {
                Ok(mut c) => connect_one(&o, &mut c, session, &mut r),
                Err(e) => r.fail(e),
            },
            Err(e) => r.fail(format!("connect {addr}: {e}")),
        }
        r.print();
        all_ok &= r.ok;
    }
    all_ok
}

fn connect_one(o: &Opts, c: &mut Conn, session: Option<SslSession>, r: &mut Report) {
    let name = o.servername.clone().unwrap();
    {
        let ssl = &mut c.ssl;
        if let Err(e) = ssl.set_hostname(&name) {
            return r.fail(format!("--servername: {e}"));
        }
        if let Err(e) = ssl.param_mut().set_host(&name) {
            return r.fail(format!("--servername: {e}"));
        }
        if let Some(s) = &session {
            if let Err(e) = unsafe { ssl.set_session(s) } {
                return r.fail(format!("session: {e}"));
            }
        }
    }
    unsafe {
        if o.ocsp_request {
            ffi::SSL_enable_ocsp_stapling(c.p());
        }
        ffi::SSL_set_connect_state(c.p());
    }
    let data = common::pattern(0, o.send_bytes);
    let mut sent_early = 0usize;
    let mut rejected = false;
    let hs = (|| -> Result<(), Fail> {
        let mut done = c.handshake()?;
        if done && c.in_early_data() {
            // 0-RTT: write the early part now, then finish the handshake.
            let n = o.early_data_bytes.unwrap_or(0);
            while sent_early < n && c.in_early_data() {
                match c.try_write(&data[sent_early..n])? {
                    Io::Done(w) => sent_early += w,
                    Io::Want(a, b) => c.wait(a, b)?,
                    Io::EarlyRejected => {
                        unsafe { ffi::SSL_reset_early_data_reject(c.p()) };
                        rejected = true;
                        break;
                    }
                    Io::CloseNotify => return Err(Fail::Tls("close_notify during the handshake".into())),
                }
            }
            done = false;
        }
        while !done || c.in_early_data() || unsafe { ffi::SSL_in_init(c.p()) } == 1 {
            done = c.handshake()?;
            if !done {
                rejected = true;
            }
        }
        Ok(())
    })();
    c.fill(r);
    unsafe {
        let mut p: *const u8 = std::ptr::null();
        let mut len = 0usize;
        ffi::SSL_get0_ocsp_response(c.p(), &mut p, &mut len);
        r.ocsp_stapled = Some(len > 0);
    }
    r.early_data = Some(if rejected { "rejected" } else { c.early_status() });
    if let Err(f) = hs {
        return record_fail(r, f);
    }
    let mut off = if r.early_data == Some("accepted") { sent_early } else { 0 };
    r.sent = off;
    if o.key_update {
        if let Err(f) = key_update(c, r) {
            return record_fail(r, f);
        }
    }
    let mut got: Vec<u8> = Vec::with_capacity(data.len());
    let mut buf = vec![0u8; CHUNK];
    let mut inflight = 0usize;
    let mut peer_closed = false;
    while got.len() < data.len() {
        let mut progress = false;
        let (mut want_r, mut want_w) = (true, false);
        if off < data.len() {
            if inflight == 0 {
                inflight = (data.len() - off).min(CHUNK);
            }
            match c.try_write(&data[off..off + inflight]) {
                Ok(Io::Done(n)) => {
                    off += n;
                    r.sent = off;
                    inflight = 0;
                    progress = true;
                }
                Ok(Io::Want(a, b)) => {
                    want_r |= a;
                    want_w |= b;
                }
                Ok(_) => {}
                Err(f) => return record_fail(r, f),
            }
        }
        match c.try_read(&mut buf) {
            Ok(Io::Done(n)) => {
                got.extend_from_slice(&buf[..n]);
                progress = true;
            }
            Ok(Io::CloseNotify) => {
                peer_closed = true;
                break;
            }
            Ok(Io::Want(a, b)) => {
                want_r |= a;
                want_w |= b;
            }
            Ok(_) => {}
            Err(f) => {
                r.received = got.len();
                r.echo_ok = Some(false);
                return record_fail(r, f);
            }
        }
        if !progress {
            if let Err(f) = c.wait(want_r, want_w) {
                r.received = got.len();
                r.echo_ok = Some(false);
                return record_fail(r, f);
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
    if let Err(f) = c.close_notify() {
        return record_fail(r, f);
    }
    // Read until the server's close_notify or EOF (late tickets are kept).
    while !peer_closed {
        match c.try_read(&mut buf) {
            Ok(Io::Done(n)) => r.fail(format!("{n} unexpected bytes after the echo")),
            Ok(Io::CloseNotify) => peer_closed = true,
            Ok(Io::Want(a, b)) => {
                if let Err(f) = c.wait(a, b) {
                    return record_fail(r, f);
                }
            }
            Ok(_) => {}
            Err(f) => return record_fail(r, f),
        }
    }
    r.close = Some(Close::CloseNotify);
    r.ok = r.error.is_none();
}
