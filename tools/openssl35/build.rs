// Builds OpenSSL 3.5 with the openssl-src crate and copies its install
// (include/ and lib/, static libcrypto.a/libssl.a built with the cc crate's
// flags, which include -fPIC on Linux, so they link into libferrule.so) to
// the directory named by FERRULE_OSSL35_PREFIX.  tools/openssl35/build.sh
// sets that variable; see docs/mlkem.md.
use std::env;
use std::fs;
use std::path::Path;

fn copy_tree(src: &Path, dst: &Path) {
    fs::create_dir_all(dst).unwrap_or_else(|e| panic!("{}: {e}", dst.display()));
    for entry in fs::read_dir(src).unwrap_or_else(|e| panic!("{}: {e}", src.display())) {
        let entry = entry.expect("read_dir entry");
        let from = entry.path();
        let to = dst.join(entry.file_name());
        if entry.file_type().expect("file type").is_dir() {
            copy_tree(&from, &to);
        } else {
            fs::copy(&from, &to).unwrap_or_else(|e| panic!("{}: {e}", from.display()));
        }
    }
}

fn main() {
    println!("cargo:rerun-if-env-changed=FERRULE_OSSL35_PREFIX");
    println!("cargo:rerun-if-changed=build.rs");
    let prefix = env::var_os("FERRULE_OSSL35_PREFIX")
        .expect("FERRULE_OSSL35_PREFIX is not set (run tools/openssl35/build.sh)");
    let prefix = Path::new(&prefix);

    let artifacts = openssl_src::Build::new().build();

    if prefix.exists() {
        fs::remove_dir_all(prefix).unwrap_or_else(|e| panic!("{}: {e}", prefix.display()));
    }
    copy_tree(artifacts.include_dir(), &prefix.join("include"));
    copy_tree(artifacts.lib_dir(), &prefix.join("lib"));
    fs::write(prefix.join("VERSION"), format!("{}\n", openssl_src::version()))
        .expect("write VERSION");
}
