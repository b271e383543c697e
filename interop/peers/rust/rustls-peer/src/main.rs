//! ferrule-rustls-peer: a rustls 0.23 peer of the interop matrix, speaking
//! interop/peers/PROTOCOL.md.  Non-blocking std::net sockets driven by
//! poll(2), so a large echo cannot deadlock; rustls does the rest.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::os::fd::AsRawFd;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use peer_common::{self as common, Caps, Close, Opts, Report, Role, Tap};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::aws_lc_rs as provider;
use rustls::crypto::{CryptoProvider, SupportedKxGroup};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::server::WebPkiClientVerifier;
use rustls::{
    ClientConfig, ClientConnection, Connection, DigitallySignedStruct, HandshakeKind,
    RootCertStore, ServerConfig, ServerConnection, SignatureScheme, SupportedCipherSuite,
};

const IMPL: &str = "rustls";

fn caps() -> Caps {
    Caps {
        impl_name: IMPL,
        version: env!("RUSTLS_VERSION").to_string(),
        features: vec![
            ("suites", Ok(())),
            ("groups", Ok(())),
            ("hrr", Ok(())),
            ("resumption", Ok(())),
            ("early_data", Ok(())),
            ("key_update", Ok(())),
            ("client_auth", Ok(())),
            ("alpn", Ok(())),
            ("sni", Ok(())),
            ("ocsp", Ok(())),
            (
                "record_size_limit",
                Err("rustls does not implement the record_size_limit extension (RFC 8449); it has only a local max_fragment_size"),
            ),
        ],
    }
}

fn main() {
    common::run_main(caps(), server, client)
}

// ---- configuration -------------------------------------------------------

fn provider_for(o: &Opts) -> Result<CryptoProvider, String> {
    let mut p = provider::default_provider();
    if !o.suites.is_empty() {
        p.cipher_suites = o
            .suites
            .iter()
            .map(|s| match s.as_str() {
                "TLS_AES_128_GCM_SHA256" => provider::cipher_suite::TLS13_AES_128_GCM_SHA256,
                "TLS_AES_256_GCM_SHA384" => provider::cipher_suite::TLS13_AES_256_GCM_SHA384,
                _ => provider::cipher_suite::TLS13_CHACHA20_POLY1305_SHA256,
            })
            .collect::<Vec<SupportedCipherSuite>>();
    } else {
        // TLS 1.3 suites only.
        p.cipher_suites.retain(|s| s.tls13().is_some());
    }
    if !o.groups.is_empty() {
        p.kx_groups = o
            .groups
            .iter()
            .map(|g| match g.as_str() {
                "x25519" => provider::kx_group::X25519,
                "secp256r1" => provider::kx_group::SECP256R1,
                "secp384r1" => provider::kx_group::SECP384R1,
                _ => provider::kx_group::X25519MLKEM768,
            })
            .collect::<Vec<&'static dyn SupportedKxGroup>>();
    }
    Ok(p)
}

fn load_certs(path: &str) -> Result<Vec<CertificateDer<'static>>, String> {
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| format!("{path}: {e}"))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("{path}: {e}"))?;
    if certs.is_empty() {
        return Err(format!("{path}: no certificate"));
    }
    Ok(certs)
}

fn load_key(path: &str) -> Result<PrivateKeyDer<'static>, String> {
    PrivateKeyDer::from_pem_file(path).map_err(|e| format!("{path}: {e}"))
}

fn load_roots(path: &str) -> Result<Arc<RootCertStore>, String> {
    let mut roots = RootCertStore::empty();
    for c in load_certs(path)? {
        roots.add(c).map_err(|e| format!("{path}: {e}"))?;
    }
    Ok(Arc::new(roots))
}

fn server_config(o: &Opts) -> Result<Arc<ServerConfig>, String> {
    let p = Arc::new(provider_for(o)?);
    let b = ServerConfig::builder_with_provider(p.clone())
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map_err(|e| e.to_string())?;
    let b = if o.verify_client_require {
        let v = WebPkiClientVerifier::builder_with_provider(load_roots(o.ca.as_ref().unwrap())?, p)
            .build()
            .map_err(|e| e.to_string())?;
        b.with_client_cert_verifier(v)
    } else {
        b.with_no_client_auth()
    };
    let chain = load_certs(o.cert.as_ref().unwrap())?;
    let key = load_key(o.key.as_ref().unwrap())?;
    let mut cfg = match &o.ocsp_file {
        Some(f) => b.with_single_cert_with_ocsp(chain, key, common::read_file(f)?),
        None => b.with_single_cert(chain, key),
    }
    .map_err(|e| e.to_string())?;
    cfg.alpn_protocols = o.alpn.iter().map(|a| a.as_bytes().to_vec()).collect();
    // Resumption: the default stateful ticket store (ServerSessionMemoryCache),
    // whose TLS 1.3 tickets are single use -- rustls accepts 0-RTT only with
    // such a store, which is its anti-replay.
    if let Some(n) = o.early_data {
        cfg.max_early_data_size = n;
    }
    Ok(Arc::new(cfg))
}

/// The default WebPKI verifier, noting whether the server stapled an OCSP
/// response (rustls always sends status_request, and hands the staple, or an
/// empty one, to the verifier).
#[derive(Debug)]
struct StapleSeen {
    inner: Arc<WebPkiServerVerifier>,
    stapled: Mutex<Option<bool>>,
}

impl ServerCertVerifier for StapleSeen {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        *self.stapled.lock().unwrap() = Some(!ocsp_response.is_empty());
        self.inner
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
    }
    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }
    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

fn client_config(o: &Opts, staple: Arc<StapleSeen>) -> Result<Arc<ClientConfig>, String> {
    let p = Arc::new(provider_for(o)?);
    let b = ClientConfig::builder_with_provider(p)
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map_err(|e| e.to_string())?
        .dangerous()
        .with_custom_certificate_verifier(staple);
    let mut cfg = match (&o.cert, &o.key) {
        (Some(c), Some(k)) => b
            .with_client_auth_cert(load_certs(c)?, load_key(k)?)
            .map_err(|e| e.to_string())?,
        _ => b.with_no_client_auth(),
    };
    cfg.alpn_protocols = o.alpn.iter().map(|a| a.as_bytes().to_vec()).collect();
    // The default ClientSessionMemoryCache is shared by every connection of
    // this config, so connection k offers the newest ticket received before.
    cfg.enable_early_data = o.early_data_bytes.is_some();
    Ok(Arc::new(cfg))
}

// ---- reporting -------------------------------------------------------------

fn group_name(conn: &Connection) -> Option<String> {
    let g = conn.negotiated_key_exchange_group()?.name();
    Some(match format!("{g:?}").as_str() {
        "X25519" => "x25519".to_string(),
        other => other.to_string(),
    })
}

fn suite_name(conn: &Connection) -> Option<String> {
    let s = conn.negotiated_cipher_suite()?.suite();
    Some(s.as_str().map(|n| n.replace("TLS13_", "TLS_")).unwrap_or(format!("{s:?}")))
}

fn fill_common(r: &mut Report, conn: &Connection) {
    r.version = conn.protocol_version().map(|v| match v {
        rustls::ProtocolVersion::TLSv1_3 => "TLSv1.3".to_string(),
        rustls::ProtocolVersion::TLSv1_2 => "TLSv1.2".to_string(),
        other => format!("{other:?}"),
    });
    r.cipher = suite_name(conn);
    r.group = group_name(conn);
    r.resumed = conn.handshake_kind().map(|k| k == HandshakeKind::Resumed);
    r.alpn = conn
        .alpn_protocol()
        .map(|a| String::from_utf8_lossy(a).into_owned());
    r.peer_certs = Some(conn.peer_certificates().map(|c| c.len()).unwrap_or(0));
}

/// snake_case of an AlertDescription's Debug name ("CertificateRequired").
fn snake(name: &str) -> String {
    let mut s = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                s.push('_');
            }
            s.push(c.to_ascii_lowercase());
        } else {
            s.push(c);
        }
    }
    s
}

/// The alert a rustls error received or (for the ones that name it) sent.
fn alert_of(e: &rustls::Error) -> Option<String> {
    use rustls::Error as E;
    match e {
        E::AlertReceived(d) => Some(common::alert_name(u8::from(*d))),
        E::NoApplicationProtocol => Some("no_application_protocol".into()),
        E::NoCertificatesPresented => Some("certificate_required".into()),
        E::InvalidCertificate(c) => {
            Some(snake(&format!("{:?}", rustls::AlertDescription::from(c.clone()))))
        }
        E::PeerIncompatible(_) => Some("handshake_failure".into()),
        E::InvalidMessage(m) => Some(snake(&format!("{:?}", rustls::AlertDescription::from(*m)))),
        _ => None,
    }
}

// ---- the I/O loop ---------------------------------------------------------

/// A rustls connection on a non-blocking socket, with a deadline.
struct Io {
    tcp: TcpStream,
    tap: Option<Tap>,
    timeout: std::time::Duration,
    eof: bool,
}

struct TapReader<'a> {
    tcp: &'a mut TcpStream,
    tap: &'a mut Option<Tap>,
}

impl Read for TapReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.tcp.read(buf)?;
        if let Some(t) = self.tap.as_mut() {
            t.feed(&buf[..n]);
        }
        Ok(n)
    }
}

enum Step {
    Progress,
    Eof,
}

impl Io {
    /// PROTOCOL.md's --timeout bounds every wait: no progress for that long
    /// fails the connection.
    fn deadline(&self) -> Instant {
        Instant::now() + self.timeout
    }

    fn new(tcp: TcpStream, o: &Opts, tap: bool) -> io::Result<Io> {
        tcp.set_nonblocking(true)?;
        tcp.set_nodelay(true)?;
        Ok(Io {
            tcp,
            tap: if tap { Some(Tap::default()) } else { None },
            timeout: o.timeout,
            eof: false,
        })
    }

    /// Writes what rustls has queued, as far as the socket takes it.
    fn flush(&mut self, conn: &mut Connection) -> Result<(), String> {
        while conn.wants_write() {
            match conn.write_tls(&mut self.tcp) {
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
                Err(e) => return Err(format!("write: {e}")),
            }
        }
        Ok(())
    }

    /// One round: flush, wait for the socket, read and process records.
    /// A TLS error is returned after its alert was (tried to be) sent.
    fn step(&mut self, conn: &mut Connection) -> Result<Step, Result<rustls::Error, String>> {
        self.flush(conn).map_err(Err)?;
        if self.eof {
            return Ok(Step::Eof);
        }
        let (r, _) = common::wait_fd(
            self.tcp.as_raw_fd(),
            conn.wants_read(),
            conn.wants_write(),
            self.deadline(),
        )
        .map_err(Err)?;
        if !r {
            return Ok(Step::Progress);
        }
        let mut rd = TapReader { tcp: &mut self.tcp, tap: &mut self.tap };
        match conn.read_tls(&mut rd) {
            Ok(0) => {
                self.eof = true;
                // Process what came before the EOF (rustls notes the EOF).
                if let Err(e) = conn.process_new_packets() {
                    let _ = self.flush(conn);
                    return Err(Ok(e));
                }
                return Ok(Step::Eof);
            }
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(Step::Progress),
            Err(e) if e.kind() == io::ErrorKind::ConnectionReset => {
                self.eof = true;
                return Ok(Step::Eof);
            }
            Err(e) => return Err(Err(format!("read: {e}"))),
        }
        if let Err(e) = conn.process_new_packets() {
            let _ = self.flush(conn);
            return Err(Ok(e));
        }
        Ok(Step::Progress)
    }
}

fn record_err(r: &mut Report, e: Result<rustls::Error, String>) {
    match e {
        Ok(tls) => {
            r.alert = alert_of(&tls);
            r.fail(tls.to_string());
        }
        Err(msg) => r.fail(msg),
    }
    r.close = Some(Close::Error);
}

/// Runs the handshake.  Server: also collects early data as it arrives.
fn handshake(
    io: &mut Io,
    conn: &mut Connection,
    early: &mut Vec<u8>,
    r: &mut Report,
) -> bool {
    loop {
        if let Connection::Server(s) = conn {
            if let Some(mut ed) = s.early_data() {
                let _ = ed.read_to_end(early);
            }
        }
        if !conn.is_handshaking() {
            return true;
        }
        match io.step(conn) {
            Ok(Step::Progress) => {}
            Ok(Step::Eof) => {
                r.fail("connection closed during the handshake");
                r.close = Some(Close::Eof);
                return false;
            }
            Err(e) => {
                record_err(r, e);
                return false;
            }
        }
    }
}

/// Reads the plaintext rustls has; Ok(true) once the peer's close_notify came.
fn drain_plaintext(conn: &mut Connection, into: &mut Vec<u8>) -> Result<bool, String> {
    let mut buf = [0u8; 16384];
    loop {
        match conn.reader().read(&mut buf) {
            Ok(0) => return Ok(true),
            Ok(n) => into.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Err("eof".into()),
            Err(e) => return Err(e.to_string()),
        }
    }
}

// ---- server ----------------------------------------------------------------

fn server(_caps: &Caps, o: Opts) -> bool {
    let cfg = match server_config(&o) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("ferrule-rustls-peer: {e}");
            return false;
        }
    };
    let Some(listener) = common::listen(&o.listen, "ferrule-rustls-peer") else {
        return false;
    };
    let mut all_ok = true;
    for k in 1..=o.count {
        let r = match listener.accept() {
            Ok((tcp, _)) => serve_one(&o, cfg.clone(), tcp, k),
            Err(e) => {
                let mut r = Report::new(Role::Server, IMPL, k);
                r.fail(format!("accept: {e}"));
                r
            }
        };
        r.print();
        all_ok &= r.ok;
    }
    all_ok
}

fn serve_one(o: &Opts, cfg: Arc<ServerConfig>, tcp: TcpStream, k: u32) -> Report {
    let mut r = Report::new(Role::Server, IMPL, k);
    let mut io = match Io::new(tcp, o, true) {
        Ok(io) => io,
        Err(e) => {
            r.fail(e.to_string());
            return r;
        }
    };
    let mut conn: Connection = match ServerConnection::new(cfg) {
        Ok(c) => c.into(),
        Err(e) => {
            r.fail(e.to_string());
            return r;
        }
    };
    let mut early = Vec::new();
    let hs_ok = handshake(&mut io, &mut conn, &mut early, &mut r);
    if let Connection::Server(s) = &mut conn {
        r.server_name = s.server_name().map(|s| s.to_string());
        let accepted = s.early_data().is_some();
        r.early_data = Some(if accepted {
            "accepted"
        } else {
            match io.tap.as_ref().and_then(|t| t.offers_early_data()) {
                Some(true) => "rejected",
                Some(false) => "not_offered",
                None => "not_offered",
            }
        });
    }
    fill_common(&mut r, &conn);
    if !hs_ok {
        return r;
    }
    io.tap = None;
    echo(&mut io, &mut conn, o, early, &mut r);
    r
}

/// Server data plane: echo every byte until the client's close_notify, then
/// send ours.
fn echo(io: &mut Io, conn: &mut Connection, o: &Opts, early: Vec<u8>, r: &mut Report) {
    r.received = early.len();
    let mut pending = early;
    let mut key_update_due = o.key_update;
    let mut peer_closed = false;
    loop {
        if !pending.is_empty() || (key_update_due && !peer_closed) {
            if key_update_due {
                if let Err(e) = conn.refresh_traffic_keys() {
                    r.fail(format!("KeyUpdate: {e}"));
                    r.close = Some(Close::Error);
                    return;
                }
                r.key_updates_sent += 1;
                key_update_due = false;
            }
            match conn.writer().write(&pending) {
                Ok(n) => {
                    r.sent += n;
                    pending.drain(..n);
                }
                Err(e) => {
                    r.fail(format!("write: {e}"));
                    r.close = Some(Close::Error);
                    return;
                }
            }
        }
        if peer_closed && pending.is_empty() {
            break;
        }
        let before = pending.len();
        match drain_plaintext(conn, &mut pending) {
            Ok(true) => peer_closed = true,
            Ok(false) => {}
            Err(e) if e == "eof" => {
                r.received += pending.len() - before;
                r.fail("TCP EOF without close_notify");
                r.close = Some(Close::Eof);
                return;
            }
            Err(e) => {
                r.fail(e);
                r.close = Some(Close::Error);
                return;
            }
        }
        r.received += pending.len() - before;
        if peer_closed && pending.is_empty() {
            break;
        }
        if pending.len() > before && !peer_closed {
            // New plaintext: echo it before waiting for more input, or a
            // client that waits for its echo would wait forever.
            continue;
        }
        if peer_closed || pending.len() > 1 << 20 {
            // Only writing is left (or the backlog is large): wait for the
            // socket to take our records.
            if let Err(e) = io.flush(conn) {
                r.fail(e);
                r.close = Some(Close::Error);
                return;
            }
            if conn.wants_write() {
                if let Err(e) = common::wait_fd(io.tcp.as_raw_fd(), false, true, io.deadline()) {
                    r.fail(e);
                    r.close = Some(Close::Error);
                    return;
                }
            }
            continue;
        }
        match io.step(conn) {
            Ok(Step::Progress) => {}
            Ok(Step::Eof) => {
                // rustls reports EOF without close_notify via the reader.
                let before = pending.len();
                match drain_plaintext(conn, &mut pending) {
                    Ok(true) => peer_closed = true,
                    _ => {
                        r.received += pending.len() - before;
                        r.fail("TCP EOF without close_notify");
                        r.close = Some(Close::Eof);
                        return;
                    }
                }
                r.received += pending.len() - before;
            }
            Err(e) => {
                record_err(r, e);
                return;
            }
        }
    }
    conn.send_close_notify();
    while conn.wants_write() {
        if let Err(e) = io.flush(conn) {
            r.fail(e);
            r.close = Some(Close::Error);
            return;
        }
        if conn.wants_write() {
            if let Err(e) = common::wait_fd(io.tcp.as_raw_fd(), false, true, io.deadline()) {
                r.fail(e);
                r.close = Some(Close::Error);
                return;
            }
        }
    }
    let _ = io.tcp.shutdown(std::net::Shutdown::Write);
    r.close = Some(Close::CloseNotify);
    r.ok = r.error.is_none();
}

// ---- client ----------------------------------------------------------------

fn client(_caps: &Caps, o: Opts) -> bool {
    let staple = Arc::new(StapleSeen {
        inner: match load_roots(o.ca.as_ref().unwrap()).and_then(|roots| {
            let p = Arc::new(provider_for(&o)?);
            WebPkiServerVerifier::builder_with_provider(roots, p)
                .build()
                .map_err(|e| e.to_string())
        }) {
            Ok(v) => v,
            Err(e) => {
                eprintln!("ferrule-rustls-peer: {e}");
                return false;
            }
        },
        stapled: Mutex::new(None),
    });
    let cfg = match client_config(&o, staple.clone()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("ferrule-rustls-peer: {e}");
            return false;
        }
    };
    let name = match ServerName::try_from(o.servername.clone().unwrap()) {
        Ok(n) => n,
        Err(e) => {
            eprintln!("ferrule-rustls-peer: --servername: {e}");
            return false;
        }
    };
    let mut all_ok = true;
    for k in 1..=o.count {
        *staple.stapled.lock().unwrap() = None;
        let mut r = connect_one(&o, cfg.clone(), name.clone(), k);
        if r.peer_certs.is_some() {
            r.ocsp_stapled = *staple.stapled.lock().unwrap();
        }
        r.print();
        all_ok &= r.ok;
    }
    all_ok
}

fn connect_one(o: &Opts, cfg: Arc<ClientConfig>, name: ServerName<'static>, k: u32) -> Report {
    let mut r = Report::new(Role::Client, IMPL, k);
    r.server_name = o.servername.clone();
    let addr = o.connect.as_ref().unwrap();
    let tcp = match std::net::ToSocketAddrs::to_socket_addrs(addr.as_str())
        .map_err(|e| e.to_string())
        .and_then(|mut a| a.next().ok_or_else(|| "no address".to_string()))
        .and_then(|a| TcpStream::connect_timeout(&a, o.timeout).map_err(|e| e.to_string()))
    {
        Ok(t) => t,
        Err(e) => {
            r.fail(format!("connect {addr}: {e}"));
            return r;
        }
    };
    let mut io = match Io::new(tcp, o, false) {
        Ok(io) => io,
        Err(e) => {
            r.fail(e.to_string());
            return r;
        }
    };
    let mut cc = match ClientConnection::new(cfg, name) {
        Ok(c) => c,
        Err(e) => {
            r.fail(e.to_string());
            return r;
        }
    };
    let data = common::pattern(0, o.send_bytes);
    let mut sent_early = 0;
    let mut offered = false;
    if let Some(n) = o.early_data_bytes {
        if let Some(mut ed) = cc.early_data() {
            let n = n.min(ed.bytes_left());
            match ed.write(&data[..n]) {
                Ok(w) => {
                    sent_early = w;
                    offered = true;
                }
                Err(e) => {
                    r.fail(format!("early data: {e}"));
                    return r;
                }
            }
        }
    }
    let mut conn: Connection = cc.into();
    let mut unused = Vec::new();
    let hs_ok = handshake(&mut io, &mut conn, &mut unused, &mut r);
    fill_common(&mut r, &conn);
    let accepted = match &conn {
        Connection::Client(c) => c.is_early_data_accepted(),
        _ => false,
    };
    r.early_data = Some(match (offered, accepted) {
        (false, _) => "not_offered",
        (true, true) => "accepted",
        (true, false) => "rejected",
    });
    if !hs_ok {
        return r;
    }
    // Rejected early data is sent again after the handshake.
    let mut off = if accepted { sent_early } else { 0 };
    r.sent = off;
    if o.key_update {
        if let Err(e) = conn.refresh_traffic_keys() {
            r.fail(format!("KeyUpdate: {e}"));
            r.close = Some(Close::Error);
            return r;
        }
        r.key_updates_sent += 1;
    }
    let mut got: Vec<u8> = Vec::new();
    let mut peer_closed = false;
    while got.len() < data.len() {
        if off < data.len() {
            match conn.writer().write(&data[off..]) {
                Ok(n) => {
                    off += n;
                    r.sent = off;
                }
                Err(e) => {
                    r.fail(format!("write: {e}"));
                    r.close = Some(Close::Error);
                    return r;
                }
            }
        }
        match drain_plaintext(&mut conn, &mut got) {
            Ok(false) => {}
            Ok(true) => {
                peer_closed = true;
                break;
            }
            Err(e) => {
                r.received = got.len();
                let eof = e == "eof";
                r.fail(if eof { "TCP EOF without close_notify".into() } else { e });
                r.close = Some(if eof { Close::Eof } else { Close::Error });
                r.echo_ok = Some(false);
                return r;
            }
        }
        if got.len() >= data.len() {
            break;
        }
        match io.step(&mut conn) {
            Ok(_) => {}
            Err(e) => {
                r.received = got.len();
                r.echo_ok = Some(false);
                record_err(&mut r, e);
                return r;
            }
        }
    }
    r.received = got.len();
    let echo_ok = got.len() == data.len() && common::is_pattern(0, &got);
    r.echo_ok = Some(echo_ok);
    if !echo_ok {
        r.fail(format!(
            "echo mismatch: sent {} bytes, got {} back{}",
            data.len(),
            got.len(),
            if got.len() == data.len() { " (different bytes)" } else { "" }
        ));
    }
    if o.hold {
        common::println_flush("ECHOED");
        let mut sink = Vec::new();
        let _ = io::stdin().read_to_end(&mut sink);
    }
    if !peer_closed {
        conn.send_close_notify();
        // Read until the server's close_notify or EOF (late tickets are kept).
        loop {
            let mut extra = Vec::new();
            match drain_plaintext(&mut conn, &mut extra) {
                Ok(true) => {
                    peer_closed = true;
                }
                Ok(false) => {}
                Err(e) if e == "eof" => {
                    r.fail("TCP EOF without close_notify");
                    r.close = Some(Close::Eof);
                    return r;
                }
                Err(e) => {
                    r.fail(e);
                    r.close = Some(Close::Error);
                    return r;
                }
            }
            if !extra.is_empty() {
                r.fail(format!("{} unexpected bytes after the echo", extra.len()));
            }
            if peer_closed {
                break;
            }
            match io.step(&mut conn) {
                Ok(_) => {}
                Err(e) => {
                    record_err(&mut r, e);
                    return r;
                }
            }
        }
    } else {
        conn.send_close_notify();
    }
    let _ = io.flush(&mut conn);
    r.close = Some(Close::CloseNotify);
    r.ok = r.error.is_none();
    r
}
