fn main() {
    println!("this is api");
}
