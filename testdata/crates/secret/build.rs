// Reads the secret and checks its form, without writing it anywhere: no
// rerun-if-env-changed (cargo would record the value in target/) and no
// rustc-env (the value would be compiled into the binary).
fn main() {
    let secret = std::env::var("RUST_S2I_TEST_SECRET")
        .expect("the build needs RUST_S2I_TEST_SECRET (pass it as secret-env)");
    assert!(secret.starts_with("s2i-secret-") && secret.len() == 43, "RUST_S2I_TEST_SECRET has the wrong form");
}
