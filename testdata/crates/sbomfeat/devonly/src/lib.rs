/// What only the tests use.
pub fn answer() -> u32 {
    42
}
