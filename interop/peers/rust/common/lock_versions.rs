// The build script every peer binary shares (`build = "../common/lock_versions.rs"`):
// puts the exact versions of the TLS crates in the workspace's Cargo.lock
// into RUSTLS_VERSION, S2N_TLS_VERSION and BORING_VERSION (boring-sys: the
// BoringSSL it builds), for `caps` and the report lines.  A binary that
// names a crate the lock lacks fails to compile (env!).
fn main() {
    let lock = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../Cargo.lock");
    println!("cargo:rerun-if-changed={}", lock.display());
    let text = std::fs::read_to_string(&lock).expect("Cargo.lock");
    let wanted = [("rustls", "RUSTLS_VERSION"), ("s2n-tls", "S2N_TLS_VERSION"),
                  ("boring-sys", "BORING_VERSION")];
    let mut name = "";
    for line in text.lines() {
        if let Some(v) = line.strip_prefix("name = ") {
            name = v.trim_matches('"');
        } else if let Some(v) = line.strip_prefix("version = ") {
            if let Some((_, var)) = wanted.iter().find(|(n, _)| *n == name) {
                println!("cargo:rustc-env={var}={}", v.trim_matches('"'));
            }
        }
    }
}
