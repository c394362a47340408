/// The text in capitals, with an exclamation mark.
pub fn shout(s: &str) -> String {
    s.to_uppercase() + "!"
}
