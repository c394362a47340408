fn main() {
    println!("{}", greet::greeting("fetched"));
}
