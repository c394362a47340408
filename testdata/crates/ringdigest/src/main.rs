// Prints the SHA-256 digest of its first argument (default "rust-s2i-musl"), computed by
// ring, whose digest code is C and assembly compiled by its build script.
use ring::digest;

fn main() {
    let input = std::env::args().nth(1).unwrap_or_else(|| "rust-s2i-musl".to_string());
    let d = digest::digest(&digest::SHA256, input.as_bytes());
    let hex: String = d.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    println!("sha256({input}) = {hex}");
}
