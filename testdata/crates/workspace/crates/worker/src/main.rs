fn main() {
    println!("this is worker");
}
