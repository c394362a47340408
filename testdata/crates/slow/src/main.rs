fn main() {
    println!("slow but done");
}
