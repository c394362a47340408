fn main() {
    let who = std::env::args().nth(1).unwrap_or_else(|| "world".to_string());
    println!("Hello, {who}! (from a static Rust binary built by rust-s2i-musl)");
}
