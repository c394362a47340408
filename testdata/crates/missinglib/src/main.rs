// Would initialise libdbus's threads; it never builds in the builder, which brings
// no libdbus for musl (see Cargo.toml).
fn main() {
    // SAFETY: dbus_threads_init_default takes nothing and may be called at any time.
    let ok = unsafe { libdbus_sys::dbus_threads_init_default() };
    println!("dbus threads: {ok}");
}
