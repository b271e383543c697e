//! What the ferrule interop peers share: the command line of the peer
//! protocol (interop/peers/PROTOCOL.md), the pattern data, the caps object
//! and the per-connection JSON report line.  No TLS here: each peer binary
//! drives its own library.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::time::Duration;

/// A peer protocol feature key and whether the peer supports it:
/// `Ok(())` for `true`, `Err(reason)` for not applicable.
pub type Feature = (&'static str, Result<(), &'static str>);

/// Every feature key of PROTOCOL.md, in its order; a peer must give each.
pub const FEATURE_KEYS: [&str; 11] = [
    "suites",
    "groups",
    "hrr",
    "resumption",
    "early_data",
    "key_update",
    "client_auth",
    "alpn",
    "sni",
    "ocsp",
    "record_size_limit",
];

/// What a peer says about itself in `caps` and in every report line.
pub struct Caps {
    pub impl_name: &'static str,
    pub version: String,
    pub features: Vec<Feature>,
}

impl Caps {
    pub fn feature(&self, key: &str) -> Result<(), &'static str> {
        for (k, v) in &self.features {
            if *k == key {
                return *v;
            }
        }
        panic!("peer does not describe feature {key}");
    }

    /// The `caps` JSON object.
    pub fn to_json(&self) -> String {
        for k in FEATURE_KEYS {
            assert!(
                self.features.iter().any(|(f, _)| *f == k),
                "feature {k} missing"
            );
        }
        let mut s = String::new();
        write!(
            s,
            "{{\"impl\": {}, \"version\": {}, \"features\": {{",
            json_str(self.impl_name),
            json_str(&self.version)
        )
        .unwrap();
        for (i, (k, v)) in self.features.iter().enumerate() {
            if i > 0 {
                s.push_str(", ");
            }
            let val = match v {
                Ok(()) => "true".to_string(),
                Err(reason) => json_str(reason),
            };
            write!(s, "{}: {}", json_str(k), val).unwrap();
        }
        s.push_str("}}");
        s
    }
}

/// A JSON string literal.
pub fn json_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => write!(out, "\\u{:04x}", c as u32).unwrap(),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn json_opt_str(s: &Option<String>) -> String {
    match s {
        Some(s) => json_str(s),
        None => "null".into(),
    }
}

fn json_opt_bool(b: Option<bool>) -> String {
    match b {
        Some(true) => "true".into(),
        Some(false) => "false".into(),
        None => "null".into(),
    }
}

fn json_opt_num<T: std::fmt::Display>(n: Option<T>) -> String {
    match n {
        Some(n) => n.to_string(),
        None => "null".into(),
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Role {
    Server,
    Client,
}

/// The parsed command line of `server` / `client`.
#[derive(Default, Debug)]
pub struct Opts {
    pub cert: Option<String>,
    pub key: Option<String>,
    pub ca: Option<String>,
    pub verify_client_require: bool,
    pub alpn: Vec<String>,
    pub groups: Vec<String>,
    pub suites: Vec<String>,
    /// server: `--early-data N`
    pub early_data: Option<u32>,
    /// client: `--early-data-bytes N`
    pub early_data_bytes: Option<usize>,
    /// server: `--ocsp FILE`
    pub ocsp_file: Option<String>,
    /// client: `--ocsp`
    pub ocsp_request: bool,
    pub record_size_limit: Option<u16>,
    pub key_update: bool,
    pub send_bytes: usize,
    pub hold: bool,
    pub count: u32,
    pub timeout: Duration,
    pub listen: String,
    pub connect: Option<String>,
    pub servername: Option<String>,
}

pub const GROUP_NAMES: [&str; 4] = ["x25519", "secp256r1", "secp384r1", "X25519MLKEM768"];
pub const SUITE_NAMES: [&str; 3] = [
    "TLS_AES_128_GCM_SHA256",
    "TLS_AES_256_GCM_SHA384",
    "TLS_CHACHA20_POLY1305_SHA256",
];

/// A usage error: message for stderr, exit status 2.
#[derive(Debug)]
pub struct Usage(pub String);

fn list(v: &str) -> Vec<String> {
    v.split(',')
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

fn num<T: std::str::FromStr>(flag: &str, v: &str) -> Result<T, Usage> {
    v.parse()
        .map_err(|_| Usage(format!("{flag}: not a valid number: {v:?}")))
}

/// Parses the flags after `server` / `client`.  Flags take one or two
/// dashes and `--flag value` or `--flag=value`.  A flag of a feature that
/// `caps` marks not applicable is a usage error, as PROTOCOL.md says.
pub fn parse(role: Role, args: &[String], caps: &Caps) -> Result<Opts, Usage> {
    let mut o = Opts {
        send_bytes: 1024,
        count: 1,
        timeout: Duration::from_secs(10),
        listen: "127.0.0.1:0".into(),
        ..Default::default()
    };
    let need = |feature: &str, flag: &str| -> Result<(), Usage> {
        caps.feature(feature).map_err(|reason| {
            Usage(format!(
                "{flag}: feature {feature} is not applicable to this peer: {reason}"
            ))
        })
    };
    let mut i = 0;
    while i < args.len() {
        let arg = &args[i];
        i += 1;
        if !arg.starts_with('-') {
            return Err(Usage(format!("unexpected argument {arg:?}")));
        }
        let body = arg.trim_start_matches('-');
        let (name, inline) = match body.split_once('=') {
            Some((n, v)) => (n.to_string(), Some(v.to_string())),
            None => (body.to_string(), None),
        };
        let flag = format!("--{name}");
        // Flags without a value.
        let boolean = matches!(
            (name.as_str(), role),
            ("key-update", _) | ("hold", Role::Client) | ("ocsp", Role::Client)
        );
        if boolean {
            if inline.is_some() {
                return Err(Usage(format!("{flag} takes no value")));
            }
            match name.as_str() {
                "key-update" => {
                    need("key_update", &flag)?;
                    o.key_update = true
                }
                "hold" => o.hold = true,
                "ocsp" => {
                    need("ocsp", &flag)?;
                    o.ocsp_request = true
                }
                _ => unreachable!(),
            }
            continue;
        }
        let known: &[&str] = match role {
            Role::Server => &[
                "cert", "key", "ca", "verify-client", "alpn", "groups", "suites", "early-data",
                "ocsp", "record-size-limit", "count", "timeout", "listen",
            ],
            Role::Client => &[
                "cert", "key", "ca", "alpn", "groups", "suites", "early-data-bytes",
                "record-size-limit", "send-bytes", "count", "timeout", "connect", "servername",
            ],
        };
        if !known.contains(&name.as_str()) {
            return Err(Usage(format!("unknown flag {flag} for {role:?}")));
        }
        let value = match inline {
            Some(v) => v,
            None => {
                if i >= args.len() {
                    return Err(Usage(format!("{flag} needs a value")));
                }
                i += 1;
                args[i - 1].clone()
            }
        };
        match (name.as_str(), role) {
            ("cert", _) => o.cert = Some(value),
            ("key", _) => o.key = Some(value),
            ("ca", _) => o.ca = Some(value),
            ("verify-client", Role::Server) => match value.as_str() {
                "none" => o.verify_client_require = false,
                "require" => {
                    need("client_auth", &flag)?;
                    o.verify_client_require = true
                }
                _ => return Err(Usage(format!("{flag}: none or require, not {value:?}"))),
            },
            ("alpn", _) => {
                need("alpn", &flag)?;
                o.alpn = list(&value)
            }
            ("groups", _) => {
                need("groups", &flag)?;
                o.groups = list(&value);
                for g in &o.groups {
                    if !GROUP_NAMES.contains(&g.as_str()) {
                        return Err(Usage(format!("{flag}: unknown group {g:?}")));
                    }
                }
            }
            ("suites", _) => {
                need("suites", &flag)?;
                o.suites = list(&value);
                for s in &o.suites {
                    if !SUITE_NAMES.contains(&s.as_str()) {
                        return Err(Usage(format!("{flag}: unknown suite {s:?}")));
                    }
                }
            }
            ("early-data", Role::Server) => {
                need("early_data", &flag)?;
                o.early_data = Some(num(&flag, &value)?)
            }
            ("early-data-bytes", Role::Client) => {
                need("early_data", &flag)?;
                o.early_data_bytes = Some(num(&flag, &value)?)
            }
            ("ocsp", Role::Server) => {
                need("ocsp", &flag)?;
                o.ocsp_file = Some(value)
            }
            ("record-size-limit", _) => {
                need("record_size_limit", &flag)?;
                o.record_size_limit = Some(num(&flag, &value)?)
            }
            ("send-bytes", Role::Client) => o.send_bytes = num(&flag, &value)?,
            ("count", _) => {
                o.count = num(&flag, &value)?;
                if o.count == 0 {
                    return Err(Usage("--count must be at least 1".into()));
                }
            }
            ("timeout", _) => {
                let s: f64 = num(&flag, &value)?;
                if !(s > 0.0 && s < 1e6) {
                    return Err(Usage(format!("{flag}: want seconds > 0, not {value:?}")));
                }
                o.timeout = Duration::from_secs_f64(s)
            }
            ("listen", Role::Server) => o.listen = value,
            ("connect", Role::Client) => o.connect = Some(value),
            ("servername", Role::Client) => o.servername = Some(value),
            _ => return Err(Usage(format!("unknown flag {flag} for {role:?}"))),
        }
    }
    if o.cert.is_some() != o.key.is_some() {
        return Err(Usage("--cert and --key go together".into()));
    }
    match role {
        Role::Server => {
            if o.cert.is_none() {
                return Err(Usage("server: --cert and --key are required".into()));
            }
            if o.verify_client_require && o.ca.is_none() {
                return Err(Usage("--verify-client require needs --ca".into()));
            }
        }
        Role::Client => {
            if o.connect.is_none() {
                return Err(Usage("client: --connect HOST:PORT is required".into()));
            }
            if o.ca.is_none() {
                return Err(Usage("client: --ca FILE is required".into()));
            }
            if o.cert.is_some() {
                need("client_auth", "--cert")?;
            }
            if let Some(n) = o.early_data_bytes {
                if n > o.send_bytes {
                    return Err(Usage("--early-data-bytes must not exceed --send-bytes".into()));
                }
            }
            if o.servername.is_none() {
                let host = o.connect.as_ref().unwrap();
                let host = host.rsplit_once(':').map(|(h, _)| h).unwrap_or(host);
                o.servername = Some(host.trim_matches(|c| c == '[' || c == ']').to_string());
            }
        }
    }
    Ok(o)
}

/// The pattern of PROTOCOL.md: byte i of a connection's data is i % 251.
pub fn pattern(offset: usize, len: usize) -> Vec<u8> {
    (offset..offset + len).map(|i| (i % 251) as u8).collect()
}

/// Whether `data`, found at `offset` of a connection's data, is the pattern.
pub fn is_pattern(offset: usize, data: &[u8]) -> bool {
    data.iter()
        .enumerate()
        .all(|(k, b)| *b == ((offset + k) % 251) as u8)
}

/// How a connection ended, seen from this peer.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Close {
    CloseNotify,
    Eof,
    Error,
}

/// One report line (PROTOCOL.md, "The report line").
#[derive(Debug)]
pub struct Report {
    pub role: Role,
    pub impl_name: &'static str,
    pub conn: u32,
    pub ok: bool,
    pub error: Option<String>,
    pub alert: Option<String>,
    pub version: Option<String>,
    pub cipher: Option<String>,
    pub group: Option<String>,
    pub resumed: Option<bool>,
    /// "accepted", "rejected", "not_offered"; None when unknown.
    pub early_data: Option<&'static str>,
    pub alpn: Option<String>,
    pub server_name: Option<String>,
    pub peer_certs: Option<usize>,
    pub ocsp_stapled: Option<bool>,
    pub key_updates_sent: u32,
    pub sent: usize,
    pub received: usize,
    pub echo_ok: Option<bool>,
    pub close: Option<Close>,
}

impl Report {
    pub fn new(role: Role, impl_name: &'static str, conn: u32) -> Report {
        Report {
            role,
            impl_name,
            conn,
            ok: false,
            error: None,
            alert: None,
            version: None,
            cipher: None,
            group: None,
            resumed: None,
            early_data: None,
            alpn: None,
            server_name: None,
            peer_certs: None,
            ocsp_stapled: None,
            key_updates_sent: 0,
            sent: 0,
            received: 0,
            echo_ok: None,
            close: None,
        }
    }

    /// Records the first error of a connection (later ones are consequences).
    pub fn fail(&mut self, msg: impl Into<String>) {
        if self.error.is_none() {
            self.error = Some(msg.into());
        }
        self.ok = false;
    }

    pub fn to_json(&self) -> String {
        let mut m: BTreeMap<usize, String> = BTreeMap::new();
        let mut idx = 0;
        let mut put = |k: &str, v: String| {
            m.insert(idx, format!("{}: {}", json_str(k), v));
            idx += 1;
        };
        put(
            "role",
            json_str(match self.role {
                Role::Server => "server",
                Role::Client => "client",
            }),
        );
        put("impl", json_str(self.impl_name));
        put("conn", self.conn.to_string());
        put("ok", self.ok.to_string());
        put("error", json_opt_str(&self.error));
        put("alert", json_opt_str(&self.alert));
        put("version", json_opt_str(&self.version));
        put("cipher", json_opt_str(&self.cipher));
        put("group", json_opt_str(&self.group));
        put("resumed", json_opt_bool(self.resumed));
        put(
            "early_data",
            json_opt_str(&self.early_data.map(|s| s.to_string())),
        );
        put("alpn", json_opt_str(&self.alpn));
        put("server_name", json_opt_str(&self.server_name));
        put("peer_certs", json_opt_num(self.peer_certs));
        put("ocsp_stapled", json_opt_bool(self.ocsp_stapled));
        put("key_updates_sent", self.key_updates_sent.to_string());
        put("sent", self.sent.to_string());
        put("received", self.received.to_string());
        put("echo_ok", json_opt_bool(self.echo_ok));
        put(
            "close",
            json_opt_str(&self.close.map(|c| {
                match c {
                    Close::CloseNotify => "close_notify",
                    Close::Eof => "eof",
                    Close::Error => "error",
                }
                .to_string()
            })),
        );
        let parts: Vec<String> = m.into_values().collect();
        format!("{{{}}}", parts.join(", "))
    }

    /// Prints the report line on stdout, flushed.
    pub fn print(&self) {
        println_flush(&self.to_json());
    }
}

/// Bind the server's --listen address and print the protocol's
/// `ACCEPT host:port` line; None (after a message on stderr) if it cannot.
pub fn listen(addr: &str, prog: &str) -> Option<std::net::TcpListener> {
    match std::net::TcpListener::bind(addr) {
        Ok(l) => {
            println_flush(&format!("ACCEPT {}", l.local_addr().ok()?));
            Some(l)
        }
        Err(e) => {
            eprintln!("{prog}: listen {addr}: {e}");
            None
        }
    }
}

pub fn println_flush(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

/// The name of a TLS alert (RFC 8446 §6 and the registry), from its code.
pub fn alert_name(code: u8) -> String {
    match code {
        0 => "close_notify",
        10 => "unexpected_message",
        20 => "bad_record_mac",
        22 => "record_overflow",
        40 => "handshake_failure",
        42 => "bad_certificate",
        43 => "unsupported_certificate",
        44 => "certificate_revoked",
        45 => "certificate_expired",
        46 => "certificate_unknown",
        47 => "illegal_parameter",
        48 => "unknown_ca",
        49 => "access_denied",
        50 => "decode_error",
        51 => "decrypt_error",
        70 => "protocol_version",
        71 => "insufficient_security",
        80 => "internal_error",
        86 => "inappropriate_fallback",
        90 => "user_canceled",
        109 => "missing_extension",
        110 => "unsupported_extension",
        112 => "unrecognized_name",
        113 => "bad_certificate_status_response",
        115 => "unknown_psk_identity",
        116 => "certificate_required",
        120 => "no_application_protocol",
        _ => return format!("alert_{code}"),
    }
    .to_string()
}

/// Reads a whole file or returns a message naming it.
pub fn read_file(path: &str) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("{path}: {e}"))
}

/// The top of every peer's `main`: dispatches `caps` / `server` / `client`
/// and turns usage errors into exit status 2.
pub fn run_main(
    caps: Caps,
    server: fn(&Caps, Opts) -> bool,
    client: fn(&Caps, Opts) -> bool,
) -> ! {
    let args: Vec<String> = std::env::args().collect();
    let prog = args.first().cloned().unwrap_or_default();
    let usage = |msg: &str| -> ! {
        eprintln!("{prog}: {msg}");
        eprintln!("usage: {prog} caps | server [flags] | client [flags]  (interop/peers/PROTOCOL.md)");
        std::process::exit(2)
    };
    let Some(cmd) = args.get(1) else {
        usage("a command is required")
    };
    let role = match cmd.as_str() {
        "caps" => {
            if args.len() > 2 {
                usage("caps takes no flags");
            }
            println_flush(&caps.to_json());
            std::process::exit(0)
        }
        "server" => Role::Server,
        "client" => Role::Client,
        _ => usage(&format!("unknown command {cmd:?}")),
    };
    let opts = match parse(role, &args[2..], &caps) {
        Ok(o) => o,
        Err(Usage(msg)) => usage(&msg),
    };
    let ok = match role {
        Role::Server => server(&caps, opts),
        Role::Client => client(&caps, opts),
    };
    std::process::exit(if ok { 0 } else { 1 })
}

/// Waits until `fd` is readable (when `read`) or writable (when `write`),
/// or `deadline` passes (an error).  Returns (readable, writable); a hang-up
/// or socket error counts as readable, so the next read reports it.
pub fn wait_fd(
    fd: std::os::fd::RawFd,
    read: bool,
    write: bool,
    deadline: std::time::Instant,
) -> Result<(bool, bool), String> {
    loop {
        let now = std::time::Instant::now();
        if now >= deadline {
            return Err("timeout".into());
        }
        let ms = (deadline - now).as_millis().clamp(1, i32::MAX as u128) as i32;
        let mut p = libc::pollfd {
            fd,
            events: (if read { libc::POLLIN } else { 0 }) | (if write { libc::POLLOUT } else { 0 }),
            revents: 0,
        };
        let n = unsafe { libc::poll(&mut p, 1, ms) };
        if n < 0 {
            let e = std::io::Error::last_os_error();
            if e.kind() == std::io::ErrorKind::Interrupted {
                continue;
            }
            return Err(format!("poll: {e}"));
        }
        if n == 0 {
            continue;
        }
        let r = p.revents & (libc::POLLIN | libc::POLLHUP | libc::POLLERR) != 0;
        let w = p.revents & libc::POLLOUT != 0;
        return Ok((r, w));
    }
}

/// Keeps the first bytes a server receives, to read the client's first
/// ClientHello: whether it offers early data is not reported by every
/// library when the server rejects it.
#[derive(Default)]
pub struct Tap {
    buf: Vec<u8>,
}

impl Tap {
    const MAX: usize = 5 + (1 << 14);

    pub fn feed(&mut self, data: &[u8]) {
        let room = Self::MAX.saturating_sub(self.buf.len());
        self.buf.extend_from_slice(&data[..data.len().min(room)]);
    }

    /// Whether the first ClientHello carries the early_data extension;
    /// `None` if it is not (yet) whole in the first record.
    pub fn offers_early_data(&self) -> Option<bool> {
        client_hello_has_extension(&self.buf, 42)
    }
}

/// Whether the ClientHello in the first TLS record `rec` has extension `ext`.
pub fn client_hello_has_extension(rec: &[u8], ext: u16) -> Option<bool> {
    fn u16at(b: &[u8], i: usize) -> Option<usize> {
        Some(((*b.get(i)? as usize) << 8) | *b.get(i + 1)? as usize)
    }
    if rec.len() < 9 || rec[0] != 22 {
        return None;
    }
    let rlen = u16at(rec, 3)?;
    let body = rec.get(5..5 + rlen)?;
    if body[0] != 1 {
        return None;
    }
    let hlen = ((body[1] as usize) << 16) | ((body[2] as usize) << 8) | body[3] as usize;
    let ch = body.get(4..4 + hlen)?;
    let mut i = 2 + 32;
    i += 1 + *ch.get(i)? as usize; // session id
    i += 2 + u16at(ch, i)?; // cipher suites
    i += 1 + *ch.get(i)? as usize; // compression methods
    let elen = u16at(ch, i)?;
    i += 2;
    let end = i + elen;
    if end > ch.len() {
        return None;
    }
    while i + 4 <= end {
        let t = u16at(ch, i)? as u16;
        let l = u16at(ch, i + 2)?;
        if t == ext {
            return Some(true);
        }
        i += 4 + l;
    }
    Some(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caps(early: Result<(), &'static str>) -> Caps {
        Caps {
            impl_name: "t",
            version: "1".into(),
            features: FEATURE_KEYS
                .iter()
                .map(|k| (*k, if *k == "early_data" { early } else { Ok(()) }))
                .collect(),
        }
    }

    fn args(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn pattern_wraps_at_251() {
        let p = pattern(0, 600);
        assert_eq!(p[250], 250);
        assert_eq!(p[251], 0);
        assert_eq!(p[502], 0);
        assert!(is_pattern(0, &p));
        assert!(is_pattern(100, &pattern(100, 300)));
        assert!(!is_pattern(1, &p));
    }

    #[test]
    fn parses_both_dash_styles_and_defaults() {
        let c = caps(Ok(()));
        let o = parse(
            Role::Client,
            &args(&["-connect", "127.0.0.1:5", "--ca=r.pem", "--ocsp", "--count", "2"]),
            &c,
        )
        .unwrap();
        assert_eq!(o.connect.as_deref(), Some("127.0.0.1:5"));
        assert_eq!(o.servername.as_deref(), Some("127.0.0.1"));
        assert!(o.ocsp_request);
        assert_eq!(o.count, 2);
        assert_eq!(o.send_bytes, 1024);
        let o = parse(
            Role::Server,
            &args(&["--cert", "c", "--key", "k", "--ocsp", "f.der"]),
            &c,
        )
        .unwrap();
        assert_eq!(o.ocsp_file.as_deref(), Some("f.der"));
        assert_eq!(o.listen, "127.0.0.1:0");
    }

    #[test]
    fn na_feature_flag_and_unknown_flag_are_usage_errors() {
        let c = caps(Err("no 0-RTT"));
        let e = parse(
            Role::Server,
            &args(&["--cert", "c", "--key", "k", "--early-data", "100"]),
            &c,
        )
        .unwrap_err();
        assert!(e.0.contains("no 0-RTT"), "{}", e.0);
        let e = parse(Role::Server, &args(&["--cert", "c", "--key", "k", "--nope"]), &c).unwrap_err();
        assert!(e.0.contains("unknown flag --nope"), "{}", e.0);
        // a server-only flag on the client
        assert!(parse(Role::Client, &args(&["--connect", "h:1", "--ca", "r", "--listen", "x"]), &c).is_err());
        assert!(parse(Role::Client, &args(&["--connect", "h:1", "--ca", "r", "--groups", "x448"]), &c).is_err());
    }

    #[test]
    fn report_json_has_every_key() {
        let mut r = Report::new(Role::Client, "t", 2);
        r.fail("boom \"x\"");
        r.close = Some(Close::Eof);
        let j = r.to_json();
        for k in [
            "role", "impl", "conn", "ok", "error", "alert", "version", "cipher", "group",
            "resumed", "early_data", "alpn", "server_name", "peer_certs", "ocsp_stapled",
            "key_updates_sent", "sent", "received", "echo_ok", "close",
        ] {
            assert!(j.contains(&format!("\"{k}\": ")), "{k} missing in {j}");
        }
        assert!(j.contains("\"error\": \"boom \\\"x\\\"\""));
        assert!(j.contains("\"close\": \"eof\""));
        assert!(j.starts_with("{\"role\": \"client\""));
    }

    #[test]
    fn client_hello_extension_sniffing() {
        // record(22) + ClientHello with session id of 0, one suite, one
        // compression method and two extensions: 0x002a (early_data) and 0x0000.
        let mut ch = vec![3, 3];
        ch.extend([7u8; 32]);
        ch.push(0);
        ch.extend([0, 2, 0x13, 0x01]);
        ch.extend([1, 0]);
        let exts: Vec<u8> = vec![0, 0x2a, 0, 0, 0, 0, 0, 1, 9];
        ch.extend([0, exts.len() as u8]);
        ch.extend(&exts);
        let mut hs = vec![1, 0, 0, ch.len() as u8];
        hs.extend(&ch);
        let mut rec = vec![22, 3, 1, 0, hs.len() as u8];
        rec.extend(&hs);
        assert_eq!(client_hello_has_extension(&rec, 42), Some(true));
        assert_eq!(client_hello_has_extension(&rec, 0), Some(true));
        assert_eq!(client_hello_has_extension(&rec, 16), Some(false));
        assert_eq!(client_hello_has_extension(&rec[..rec.len() - 1], 42), None);
        let mut t = Tap::default();
        t.feed(&rec[..10]);
        assert_eq!(t.offers_early_data(), None);
        t.feed(&rec[10..]);
        assert_eq!(t.offers_early_data(), Some(true));
    }

    #[test]
    fn caps_json_lists_reasons() {
        let j = caps(Err("why")).to_json();
        assert!(j.contains("\"early_data\": \"why\""));
        assert!(j.contains("\"suites\": true"));
    }
}
