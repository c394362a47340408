// Prints the version of the libpq it was linked with, as PQlibVersion() reports it:
// major * 10000 + minor since PostgreSQL 10 (150014 for 15.14).
fn main() {
    // SAFETY: PQlibVersion takes nothing and only returns a number.
    let version = unsafe { pq_sys::PQlibVersion() };
    println!("libpq: {version}");
}
