// Puts the exact boring-sys crate version (the BoringSSL it builds) of the workspace's Cargo.lock into
// BORING_VERSION, for `caps` and the report lines.
fn main() {
    let lock = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../Cargo.lock");
    println!("cargo:rerun-if-changed={}", lock.display());
    let text = std::fs::read_to_string(&lock).expect("Cargo.lock");
    let mut name = "";
    for line in text.lines() {
        if let Some(v) = line.strip_prefix("name = ") {
            name = v.trim_matches('"');
        } else if let Some(v) = line.strip_prefix("version = ") {
            if name == "boring-sys" {
                println!("cargo:rustc-env=BORING_VERSION={}", v.trim_matches('"'));
                return;
            }
        }
    }
    panic!("no boring-sys in Cargo.lock");
}
