// Whether the secret was there, decided at compile time: the value itself is not
// in the program.
const HAD_SECRET: bool = option_env!("RUST_S2I_TEST_SECRET").is_some();

fn main() {
    println!("built with a secret it only knew was there: {HAD_SECRET}");
}
