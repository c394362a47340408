// The form of the secret is checked when this script is compiled, so the value is
// never part of the script's binary; without the secret it does not compile.
const _: () = assert!(
    env!("RUST_S2I_TEST_SECRET", "the build needs RUST_S2I_TEST_SECRET (pass it as secret-env)").len() == 43,
    "RUST_S2I_TEST_SECRET has the wrong form"
);

fn main() {
    println!("cargo:rerun-if-env-changed=RUST_S2I_TEST_SECRET");
    assert!(std::env::var_os("RUST_S2I_TEST_SECRET").is_some(), "the build needs RUST_S2I_TEST_SECRET");
}
