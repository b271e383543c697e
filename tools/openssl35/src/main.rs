// Nothing to run: the work is in build.rs (OpenSSL 3.5 via openssl-src).
fn main() {
    println!("{}", env!("CARGO_PKG_NAME"));
}
