fn main() {
    println!("cargo:rerun-if-env-changed=SLOW_BUILD_SECONDS");
    let secs: u64 = std::env::var("SLOW_BUILD_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    std::thread::sleep(std::time::Duration::from_secs(secs));
}
