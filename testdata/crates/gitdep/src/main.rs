fn main() {
    println!("{}", greet::greeting("gitdep"));
}
