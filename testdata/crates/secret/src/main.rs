fn main() {
    println!("built with a secret it does not hold");
}
