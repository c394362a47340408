// Prints a greeting, shouted when built with the feature extra.
fn main() {
    #[cfg(feature = "extra")]
    println!("{}", shout::shout("sbomfeat"));
    #[cfg(not(feature = "extra"))]
    println!("sbomfeat");
}

#[cfg(test)]
mod tests {
    #[test]
    fn dev_dependency() {
        assert_eq!(devonly::answer(), 42);
    }
}
