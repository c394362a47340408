#!/bin/bash
# build-musl-std.sh [TARGET]: make a musl target (x86_64-unknown-linux-musl, the
# default, or aarch64-unknown-linux-musl) a real target of Debian's rustc-web, offline,
# the way `rustup target add` would: std's rlibs and the objects rustc links static
# musl binaries with, in $(rustc --print sysroot)/lib/rustlib/<target>/lib. aarch64 is
# cross-compiled on an amd64 host: nothing runs under emulation but, when the host has
# QEMU registered with binfmt_misc, the smoke test's binary.
# Run by hack/rust-musl/Dockerfile; see there for the packages it needs and the pin.
#
# Debian builds rustc-web for the host only. Its rust-web-src package has std's source
# *and* library/vendor/, std's crates.io dependencies at the exact versions of
# library/Cargo.lock, so cargo's -Zbuild-std can build std for musl with crates.io
# replaced by that directory: no network at all.
set -euo pipefail

target=${1:-x86_64-unknown-linux-musl}
# Per target: musl's files (musl-dev of that architecture), the gcc whose crtbegin/crtend
# and libgcc_eh.a are used (and which drives the link), the C compiler for musl (gcc
# with musl's headers, through musl-dev's specs file), the archiver and ELF machine.
case $target in
x86_64-unknown-linux-musl)
  musl=/usr/lib/x86_64-linux-musl gcc=gcc musl_cc=musl-gcc ar=ar machine='Advanced Micro Devices X86-64' ;;
aarch64-unknown-linux-musl)
  musl=/usr/lib/aarch64-linux-musl gcc=aarch64-linux-gnu-gcc musl_cc=aarch64-linux-musl-gcc
  ar=aarch64-linux-gnu-ar machine=AArch64 ;;
*) echo "build-musl-std: unsupported target $target" >&2; exit 1 ;;
esac
# CARGO_TARGET_<TRIPLE>_*: cargo's per-target settings.
tvar=CARGO_TARGET_$(echo "$target" | tr 'a-z-' 'A-Z_')
want=${RUSTC_VERSION:?the rustc version this std is built for}
work=$(mktemp -d /tmp/musl-std.XXXXXX)
here=$(cd "$(dirname "$0")" && pwd)

# The rlibs below load only into the rustc that made them (E0514 in any other), so
# refuse to build for any rustc but the pinned one.
case "$(rustc -V)" in
  "rustc $want "*) ;;
  *) echo "build-musl-std: rustc is '$(rustc -V)', the pin is $want" >&2; exit 1 ;;
esac
# cargo-web's own cargo: the one that knows this std's -Zbuild-std (the `cargo` on PATH
# may be an older one, see the Dockerfile).
cargo=/usr/bin/cargo
rv=$(dpkg-query -W -f='${Version}' rustc-web)
sv=$(dpkg-query -W -f='${Version}' rust-web-src)
if [ "$rv" != "$sv" ]; then
  echo "build-musl-std: rustc-web $rv but rust-web-src $sv" >&2; exit 1
fi

sysroot=$(rustc --print sysroot)
library=$sysroot/lib/rustlib/src/rust/library
if [ ! -f "$library/Cargo.lock" ] || [ ! -d "$library/vendor" ]; then
  echo "build-musl-std: $library has no Cargo.lock and vendor/" >&2; exit 1
fi

# --- std for musl --------------------------------------------------------------------
# -Zbuild-std needs a crate to build std for; an empty library will do. Its profile is
# the one std is compiled with: optimized, with line tables so that panics and
# backtraces still name file:line, as the rust-std that rustup ships does.
mkdir -p "$work/seed" "$work/cargo-home"
cat >"$work/seed/Cargo.toml" <<'TOML'
[package]
name = "sysroot-seed"
version = "0.0.0"
edition = "2021"

[lib]
path = "lib.rs"

[profile.release]
opt-level = 3
debug = "line-tables-only"
TOML
echo 'pub fn seed() -> usize { std::env::args().count() }' >"$work/seed/lib.rs"
# In CARGO_HOME, not in the seed crate: build-std resolves std's own workspace, which
# lies outside the seed's directory tree.
cat >"$work/cargo-home/config.toml" <<TOML
[source.crates-io]
replace-with = "std-vendor"
[source.std-vendor]
directory = "$library/vendor"
TOML

# RUSTC_BOOTSTRAP=1: -Zbuild-std is unstable and this rustc is a stable one.
# -Cembed-bitcode=yes: cargo passes embed-bitcode=no to what it thinks are plain
#   dependencies; user crates with `lto = true` need the bitcode in std's rlibs.
# nice: the compile takes a minute of both cores; the machine may be doing other work.
TIMEFORMAT="build-musl-std: std for $target compiled in %0R s (CPU: %0U s user, %0S s sys)"
time env -u RUSTFLAGS -u CARGO_ENCODED_RUSTFLAGS -u CARGO_BUILD_RUSTFLAGS \
  CARGO_HOME="$work/cargo-home" CARGO_TARGET_DIR="$work/target" \
  RUSTC_BOOTSTRAP=1 RUSTC_WRAPPER="$here/rustc-wrapper" \
  "${tvar}_RUSTFLAGS=-Cembed-bitcode=yes" \
  nice -n 10 "$cargo" build --offline --release --lib \
    --manifest-path "$work/seed/Cargo.toml" --target "$target" \
    -Zbuild-std=std,panic_abort,panic_unwind,test

lib=$sysroot/lib/rustlib/$target/lib
rm -rf "${sysroot:?}/lib/rustlib/$target"
mkdir -p "$lib/self-contained"
for f in "$work/target/$target/release/deps"/lib*.rlib; do
  case ${f##*/} in libsysroot_seed-*) ;; *) cp "$f" "$lib/" ;; esac
done

# --- what rustc links a static musl binary with ----------------------------------------
# For musl, rustc links "self-contained": the C runtime objects, libc.a and libunwind.a
# come from lib/self-contained, not from the system. musl-dev has musl's part, gcc its
# crtbegin/crtend.
gcclib=$(dirname "$("$gcc" -print-libgcc-file-name)")
for f in crt1.o Scrt1.o rcrt1.o crti.o crtn.o libc.a; do cp "$musl/$f" "$lib/self-contained/"; done
for f in crtbegin.o crtbeginS.o crtbeginT.o crtend.o crtendS.o; do cp "$gcclib/$f" "$lib/self-contained/"; done
# libunwind.a: gcc's libgcc_eh.a plus the shim that adapts it to musl (see its comments).
"$musl_cc" -O2 -fPIC -c "$here/musl-unwind-shim.c" -o "$work/musl-unwind-shim.o"
cp "$gcclib/libgcc_eh.a" "$lib/self-contained/libunwind.a"
"$ar" rcs "$lib/self-contained/libunwind.a" "$work/musl-unwind-shim.o"

# Which rustc this target belongs to, for anyone who wonders after an E0514.
rustc -vV >"$sysroot/lib/rustlib/$target/rustc-vV"

# --- smoke test: the cargo on PATH and this std, as a build in the builder uses them ---
# A panic unwinds, a thread runs, a git dependency (what broke cargo-web 1.96) resolves,
# and the binary is static.
mkdir -p "$work/greet/src" "$work/hello/src" "$work/smoke-home"
printf '[package]\nname = "greet"\nversion = "0.1.0"\nedition = "2021"\n' >"$work/greet/Cargo.toml"
echo 'pub fn thread() -> u32 { std::thread::spawn(|| 42).join().unwrap() }' >"$work/greet/src/lib.rs"
git -C "$work/greet" init -q
git -C "$work/greet" add .
git -C "$work/greet" -c user.name=smoke -c user.email=smoke@localhost commit -qm greet
cat >"$work/hello/Cargo.toml" <<TOML
[package]
name = "hello"
version = "0.1.0"
edition = "2021"

[dependencies]
greet = { git = "file://$work/greet" }
TOML
cat >"$work/hello/src/main.rs" <<'RS'
fn main() {
    let caught = std::panic::catch_unwind(|| panic!("on purpose")).is_err();
    println!("musl std works: caught={caught} thread={}", greet::thread());
}
RS
# Linked as rustc does by default (gcc driving GNU ld) and, when mold is there, as the
# builder's assemble does.
linkers=default
if command -v mold >/dev/null 2>&1; then linkers="default mold"; fi
for linker in $linkers; do
  flags=
  [ "$linker" = default ] || flags="-C link-arg=-fuse-ld=$linker"
  env -u RUSTFLAGS CARGO_HOME="$work/smoke-home" CARGO_TARGET_DIR="$work/target-$linker" \
    "${tvar}_RUSTFLAGS=$flags" "${tvar}_LINKER=$gcc" \
    cargo build --release --quiet --manifest-path "$work/hello/Cargo.toml" --target "$target"
  bin=$work/target-$linker/$target/release/hello
  if ! readelf -hW "$bin" | grep -F "Machine:" | grep -F "$machine" >/dev/null; then
    echo "build-musl-std: the smoke test binary ($linker linker) is not for $machine:" >&2
    readelf -hW "$bin" >&2; exit 1
  fi
  # A foreign binary runs only where the host has QEMU registered; it is checked then.
  if out=$("$bin" 2>/dev/null) || [ "$target" = x86_64-unknown-linux-musl ]; then
    if [ "$out" != 'musl std works: caught=true thread=42' ]; then
      echo "build-musl-std: the smoke test ($linker linker) printed '$out'" >&2; exit 1
    fi
  else
    echo "build-musl-std: the $target smoke test binary does not run on this host (no QEMU registered): checked as an ELF only"
  fi
  # (grep without -q reads all of readelf's output: no SIGPIPE under pipefail)
  if readelf -lW "$bin" | grep INTERP >/dev/null || readelf -dW "$bin" | grep NEEDED >/dev/null; then
    echo "build-musl-std: the smoke test binary ($linker linker) is not static:" >&2
    readelf -lW -dW "$bin" >&2; exit 1
  fi
  echo "build-musl-std: smoke test linked with the $linker linker: static, $(stat -c %s "$bin") bytes"
done

rm -rf "$work"
echo "build-musl-std: installed $(du -sm "$sysroot/lib/rustlib/$target" | cut -f1) MB in $sysroot/lib/rustlib/$target"
