/// The greeting the dependent crates print; it lives in a git dependency.
pub fn greeting(who: &str) -> String {
    format!("greetings, {who}, from a git dependency")
}
