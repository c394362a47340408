// Prints which features are on and whether debug assertions are (dev profile).
fn main() {
    let on = |b: bool| if b { "on" } else { "off" };
    println!("loud: {}", on(cfg!(feature = "loud")));
    println!("polite: {}", on(cfg!(feature = "polite")));
    println!("debug_assertions: {}", on(cfg!(debug_assertions)));
}
