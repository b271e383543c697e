// Puts the exact s2n-tls crate version of the workspace's Cargo.lock into
// S2N_TLS_VERSION, for `caps` and the report lines.
fn main() {
    let lock = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../Cargo.lock");
    println!("cargo:rerun-if-changed={}", lock.display());
    let text = std::fs::read_to_string(&lock).expect("Cargo.lock");
    let mut name = "";
    for line in text.lines() {
        if let Some(v) = line.strip_prefix("name = ") {
            name = v.trim_matches('"');
        } else if let Some(v) = line.strip_prefix("version = ") {
            if name == "s2n-tls" {
                println!("cargo:rustc-env=S2N_TLS_VERSION={}", v.trim_matches('"'));
                return;
            }
        }
    }
    panic!("no s2n-tls in Cargo.lock");
}
