#!/bin/sh
# clibs.sh: static musl builds of the C libraries that -sys crates look for (OpenSSL,
# libpq, zlib, SQLite), one build per musl target of the builder, so that crates
# such as openssl/native-tls, diesel (pq-sys), libz-sys and rusqlite
# (libsqlite3-sys) link them into a static binary for every target, with no
# setting and no vendored/bundled feature.
#
# Inputs (the builder Dockerfile's build args):
#   CLIBS         "openssl=V libpq=V zlib=V sqlite=V", any subset; empty: nothing.
#   CLIBS_SOURCE  upstream: each library's release tarball, checked against the
#                 SHA-256 pinned in clibs.sums (beside this script) before use;
#                 debian: the base image's own Debian source packages (apt-get
#                 source, whose signed indexes vouch for them), asserted to be
#                 exactly the upstream version CLIBS names.
#   TARGETS       the builder's targets. Each *-linux-musl one gets the libraries,
#                 built with that target's musl C compiler: musl-gcc (musl-tools)
#                 for the builder's own architecture, ARCH-linux-musl-gcc (Debian's
#                 cross gcc with musl-dev:ARCH, from cross.sh, which runs first) for
#                 the other. Any other target is skipped, with a message.
#
# One recipe whatever the source: the same configure and make steps, installing into
# /usr/local/musl/TARGET/{include,lib,lib/pkgconfig} (and bin/pg_config): static
# archives only (no .so), -fPIC -O2. Every library is checked against the version
# CLIBS names after the build, from its own headers.
#
# cargo is told in $CARGO_HOME/config.toml's [env] table, merged into the one
# cross.sh writes there (TOML allows one [env]), and only with the per-target forms
# of the crates' variables, so that nothing points a build script compiled for the
# host at a musl library (see announce() for each variable and why).
#
# It needs a Debian-family base (apt-get): the build-only packages (make, perl,
# curl or dpkg-dev, Linux's headers for the target...) are installed for the build
# and purged at its end with the sources and build trees; pkg-config stays, since
# the crates run it. An Alpine base has no recipe here: build it with CLIBS= (the
# CLI's --c-libs none).
#
# `clibs.sh debian-versions` only prints the CLIBS of the base's own Debian sources
# (see debian_versions), which hack/clibs-versions.sh asks for the offline tests.
set -eu

# One space between entries; anything but names, versions and blanks is refused
# before the list is split (and never globbed).
case ${CLIBS:-} in *[!A-Za-z0-9.=\ \	]*) echo "clibs.sh: CLIBS '${CLIBS:-}' has characters no NAME=VERSION list has" >&2; exit 1 ;; esac
CLIBS=$(echo ${CLIBS:-})
CLIBS_SOURCE=${CLIBS_SOURCE:-upstream}
TARGETS=${TARGETS:-}
PREFIX_ROOT=${CLIBS_PREFIX_ROOT:-/usr/local/musl}
here=$(cd "$(dirname "$0")" && pwd)
SUMS=${CLIBS_SUMS:-$here/clibs.sums}
JOBS=$(nproc 2>/dev/null || echo 2)

say() { echo "clibs.sh: $*" >&2; }
die() { say "$*"; exit 1; }
# quiet CMD...: CMD with its output kept in a log that is shown only when it fails
# (an OpenSSL build prints thousands of lines).
quiet() {
  if ! "$@" >"$work/cmd.log" 2>&1; then
    tail -n 60 "$work/cmd.log" >&2
    die "failed in $(pwd): $*"
  fi
}

# The upstream version in a Debian version: no epoch, no revision, no repack suffix
# (1:1.2.13.dfsg-1 -> 1.2.13, 1:1.3.dfsg+really1.3.1-1 -> 1.3.1).
upstream_of() {
  v=$1
  case $v in *:*) v=${v#*:} ;; esac
  case $v in *-*) v=${v%-*} ;; esac
  case $v in *+really*) v=${v##*+really} ;; esac
  printf '%s\n' "$v" | sed -E 's/([.+~]dfsg|[+~]ds|[+~]repack)[0-9.]*$//'
}

deb_src_added=
add_deb_src() {
  [ -z "$deb_src_added" ] || return 0
  deb_src_added=1
  # The base's own archives, security suite included, as deb-src: one-line and
  # deb822 sources both.
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] && sed -n 's/^[[:space:]]*deb[[:space:]]/deb-src /p' "$f"
  done >/etc/apt/sources.list.d/rust-s2i-clibs-src.list
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    case $f in */rust-s2i-clibs-src.sources) continue ;; esac
    sed 's/^Types:.*/Types: deb-src/' "$f"
    echo
  done >/etc/apt/sources.list.d/rust-s2i-clibs-src.sources
  apt-get update
}

# debian_versions: the CLIBS of Debian's own sources of the four libraries in this
# base, for a builder made on it with CLIBS_SOURCE=debian (hack/clibs-versions.sh, the
# offline test builder). libpq's source is the postgresql-NN that libpq5 comes from.
# Of each, the newest version whose .dsc downloads: a mirror whose indexes name a
# newer upload than its pool holds gives the newest one fetch_debian can fetch.
debian_versions() {
  add_deb_src >/dev/null 2>&1 || true
  pq=$(apt-cache show libpq5 2>/dev/null | sed -n 's/^Source: \([^ ]*\).*/\1/p' | head -n 1)
  [ -n "$pq" ] || die "no libpq5 in the base's Debian archives"
  out=
  for pair in openssl:openssl libpq:$pq zlib:zlib sqlite:sqlite3; do
    name=${pair%%:*} src=${pair#*:} found=
    for v in $(apt-cache showsrc "$src" 2>/dev/null | sed -n 's/^Version: //p' | sort -u | sort -rV); do
      d=$(mktemp -d)
      if (cd "$d" && apt-get source -q --dsc-only -o APT::Sandbox::User=root "$src=$v" >/dev/null 2>&1); then
        found=$(upstream_of "$v"); rm -rf "$d"; break
      fi
      rm -rf "$d"
    done
    [ -n "$found" ] || die "no source of $src downloads from the base's Debian archives"
    out="$out $name=$found"
  done
  echo $out
}
if [ "${1:-}" = debian-versions ]; then
  debian_versions
  exit 0
fi

if [ -z "$CLIBS" ]; then
  say "CLIBS is empty: no C libraries are built"
  exit 0
fi

# --- what to build ----------------------------------------------------------------
openssl_v= libpq_v= zlib_v= sqlite_v=
for entry in $CLIBS; do
  name=${entry%%=*} version=${entry#*=}
  case $entry in *=*) ;; *) die "CLIBS entry '$entry' is not NAME=VERSION" ;; esac
  case $version in
    '' | *[!0-9A-Za-z.]* | [!0-9]*) die "CLIBS entry '$entry': '$version' is not a version" ;;
  esac
  case $name in
    openssl | libpq | zlib | sqlite) ;;
    *) die "CLIBS entry '$entry': no recipe for '$name' (known: openssl libpq zlib sqlite)" ;;
  esac
  eval "prev=\$${name}_v"
  [ -z "$prev" ] || die "CLIBS names $name twice"
  eval "${name}_v=\$version"
done
# libpq is built with TLS, against this recipe's OpenSSL: a libpq that cannot
# connect to a server requiring TLS is not worth having.
if [ -n "$libpq_v" ] && [ -z "$openssl_v" ]; then
  die "libpq is built --with-openssl against the OpenSSL CLIBS names; add openssl=VERSION"
fi
case $CLIBS_SOURCE in
  upstream | debian) ;;
  *) die "CLIBS_SOURCE is '$CLIBS_SOURCE': upstream or debian" ;;
esac

musl_targets=
for target in $TARGETS; do
  case $target in
    *-linux-musl) musl_targets="$musl_targets $target" ;;
    *) say "skipping $target: the C libraries are built for musl targets only" ;;
  esac
done
# The image's label io.rust-s2i.clibs repeats CLIBS as it was given; with no musl
# target nothing would be built and the label would claim libraries the image does
# not have. Refuse rather than lie.
[ -n "$musl_targets" ] ||
  die "CLIBS names libraries but none of TARGETS ($TARGETS) is a musl target; build this builder with CLIBS= (rust-s2i-musl builder --c-libs none)"

command -v apt-get >/dev/null 2>&1 ||
  die "the C libraries are built on a Debian-family base (apt-get); this base has none: build with CLIBS= (rust-s2i-musl builder --c-libs none)"

host=$(uname -m)
work=$(mktemp -d /tmp/clibs.XXXXXX)
export DEBIAN_FRONTEND=noninteractive
# The same sources and compilers give the same bytes: OpenSSL writes its build time
# into libcrypto ("built on: …") unless SOURCE_DATE_EPOCH says otherwise (and takes
# 0 for unset). With a fixed one, a rebuild of this step after a toolchain bump gives
# the same libraries, and `builder --push` the same c-libraries layer, which runners
# that have it do not pull again (docs/builder.md).
export SOURCE_DATE_EPOCH="${SOURCE_DATE_EPOCH:-1}"

# On the way out, whether the build worked or not: no sources, build trees or added
# apt sources stay, and exactly the packages installed for the build (not
# pkg-config) go again.
cleanup() {
  cd /
  rm -rf "$work"
  rm -f /etc/apt/sources.list.d/rust-s2i-clibs-src.list /etc/apt/sources.list.d/rust-s2i-clibs-src.sources
  if [ -s "$work.before" ] && [ -s "$work.after" ]; then
    new=$(comm -13 "$work.before" "$work.after")
    [ -z "$new" ] || apt-get purge -y $new
  fi
  rm -f "$work.before" "$work.after"
  rm -rf /var/lib/apt/lists/*
}
trap cleanup EXIT

# --- packages ---------------------------------------------------------------------
installed() { dpkg-query -W -f '${db:Status-Abbrev} ${binary:Package}\n' | awk '$1 == "ii" { print $2 }' | sort; }
apt-get update
# pkg-config stays: it is how libz-sys, libsqlite3-sys and others find the libraries.
apt-get install -y --no-install-recommends pkg-config
installed >"$work.before"
# Build-only: make and perl (OpenSSL's Configure wants more than perl-base), bzip2
# for PostgreSQL's tarball, Linux's userspace headers for each target (below), and
# what fetches the sources.
build_pkgs="make perl bzip2 xz-utils"
for target in $musl_targets; do
  case ${target%%-*} in
    x86_64) build_pkgs="$build_pkgs linux-libc-dev-amd64-cross" ;;
    aarch64) build_pkgs="$build_pkgs linux-libc-dev-arm64-cross" ;;
    *) die "no recipe for $target" ;;
  esac
done
# PostgreSQL 17 and later ship no generated files in their tarballs: libpq's build
# makes the headers it includes with perl, and some of them with bison and flex.
[ -z "$libpq_v" ] || build_pkgs="$build_pkgs bison flex"
if [ "$CLIBS_SOURCE" = upstream ]; then
  command -v curl >/dev/null 2>&1 || command -v wget >/dev/null 2>&1 || build_pkgs="$build_pkgs curl ca-certificates"
else
  # dpkg-source unpacks and patches; tclsh makes SQLite's amalgamation from its tree.
  build_pkgs="$build_pkgs dpkg-dev tcl"
fi
# (The list after is written before the install, then again after it: a failed
# install still has what it installed purged.)
cp "$work.before" "$work.after"
apt-get install -y --no-install-recommends $build_pkgs || { installed >"$work.after"; exit 1; }
installed >"$work.after"

# --- sources ----------------------------------------------------------------------
mkdir -p "$work/src" "$work/dl"

# fetch_upstream FILE URL: the tarball, refused unless clibs.sums pins its SHA-256.
fetch_upstream() {
  file=$1 url=$2
  sum=$(awk -v f="$file" '$0 !~ /^#/ && $2 == f { print $1 }' "$SUMS")
  [ -n "$sum" ] || die "$SUMS pins no SHA-256 for $file: add its published checksum before building it"
  say "downloading $url"
  if command -v curl >/dev/null 2>&1; then
    curl -fsSL --retry 3 -o "$work/dl/$file" "$url"
  else
    wget -q -O "$work/dl/$file" "$url"
  fi
  echo "$sum  $work/dl/$file" | sha256sum -c - >/dev/null ||
    die "$file does not have the SHA-256 $SUMS pins ($sum): refused"
}

# fetch_debian SOURCE VERSION DIR: Debian's source package SOURCE whose upstream
# version is VERSION, unpacked (with Debian's patches) into DIR. The newest Debian
# revision of that upstream version that downloads wins; none is an error.
fetch_debian() {
  src=$1 want=$2 dir=$3
  add_deb_src
  all=$(apt-cache showsrc "$src" 2>/dev/null | sed -n 's/^Version: //p' | sort -u)
  [ -n "$all" ] || die "the base's Debian archives have no source package $src"
  cands=$(for v in $all; do [ "$(upstream_of "$v")" != "$want" ] || echo "$v"; done | sort -rV)
  [ -n "$cands" ] ||
    die "Debian's $src is $(for v in $all; do upstream_of "$v"; done | sort -u | tr '\n' ' ')here, not $want as CLIBS says"
  for v in $cands; do
    rm -rf "$work/deb" && mkdir -p "$work/deb"
    if (cd "$work/deb" && apt-get source -q -d -o APT::Sandbox::User=root "$src=$v" >&2); then
      got=$(sed -n 's/^Version: //p' "$work/deb/"*.dsc | head -n 1)
      [ "$(upstream_of "$got")" = "$want" ] ||
        die "apt-get source $src=$v gave $got, whose upstream version is not $want"
      (cd "$work/deb" && quiet dpkg-source -x ./*.dsc "$dir")
      rm -rf "$work/deb"
      say "$src $got (Debian) is $src $want"
      return 0
    fi
    say "$src=$v does not download; trying an older revision"
  done
  die "no source of $src $want downloads from the base's Debian archives (tried: $(echo $cands))"
}

# get LIB: the source tree of LIB at the version CLIBS names, in $work/src/LIB.
get() {
  lib=$1 dir=$work/src/$1
  eval "v=\$${lib}_v"
  if [ "$CLIBS_SOURCE" = debian ]; then
    case $lib in
      openssl) fetch_debian openssl "$v" "$dir" ;;
      libpq) fetch_debian "postgresql-${v%%.*}" "$v" "$dir" ;;
      zlib) fetch_debian zlib "$v" "$dir" ;;
      sqlite) fetch_debian sqlite3 "$v" "$dir" ;;
    esac
  else
    case $lib in
      openssl) f=openssl-$v.tar.gz u=https://github.com/openssl/openssl/releases/download/openssl-$v/$f ;;
      libpq) f=postgresql-$v.tar.bz2 u=https://ftp.postgresql.org/pub/source/v$v/$f ;;
      zlib) f=zlib-$v.tar.gz u=https://github.com/madler/zlib/releases/download/v$v/$f ;;
      sqlite)
        # The amalgamation tarball: 3.X.Y is 3XXYY00, under the year of its release,
        # which its pin line in clibs.sums names.
        n=$(echo "$v" | awk -F. '{ printf "%d%02d%02d00", $1, $2, $3 }')
        f=sqlite-autoconf-$n.tar.gz
        y=$(awk -v f="$f" '$1 == "#" && $2 == "year" && $3 == f { print $4 }' "$SUMS")
        [ -n "$y" ] || die "$SUMS names no release year for $f (a line '# year $f YYYY')"
        u=https://www.sqlite.org/$y/$f ;;
    esac
    fetch_upstream "$f" "$u"
    mkdir -p "$dir"
    tar -xf "$work/dl/$f" -C "$dir" --strip-components=1
    rm -f "$work/dl/$f"
  fi
  [ "$lib" != sqlite ] || amalgamation "$dir"
}

# amalgamation DIR: sqlite3.c, sqlite3.h and sqlite3ext.h in DIR, the one file each
# target compiles. Upstream's tarball has them as they are; Debian's source is
# SQLite's whole tree, which makes them with tclsh (its tools built by the host's
# compiler), once for all targets.
amalgamation() {
  if [ ! -f "$1/sqlite3.c" ]; then
    mkdir -p "$work/amalg"
    (cd "$work/amalg" && quiet "$1/configure" --disable-tcl && quiet make sqlite3.c)
    cp "$work/amalg/sqlite3.c" "$work/amalg/sqlite3.h" "$1/"
    [ -f "$1/sqlite3ext.h" ] || cp "$1/src/sqlite3ext.h" "$1/"
    rm -rf "$work/amalg"
  fi
  check_version sqlite "$(sed -n 's/^#define SQLITE_VERSION *"\(.*\)".*/\1/p' "$1/sqlite3.h")"
}

# --- the recipe -------------------------------------------------------------------
# check_version LIB FOUND: what the built headers say against what CLIBS says.
check_version() {
  eval "want=\$${1}_v"
  [ "$2" = "$want" ] || die "$1: the sources are version '$2', not $want as CLIBS says"
}

# Per target: the compiler, its binutils, OpenSSL's name for it, its Linux headers.
setup_target() {
  target=$1 arch=${target%%-*}
  prefix=$PREFIX_ROOT/$target
  case $arch in
    x86_64) ossl_conf=linux-x86_64 deb=amd64 ;;
    aarch64) ossl_conf=linux-aarch64 deb=arm64 ;;
  esac
  if [ "$arch" = "$host" ]; then
    CC=musl-gcc tools=
  else
    CC=$arch-linux-musl-gcc tools=$arch-linux-gnu-
  fi
  AR=${tools}ar RANLIB=${tools}ranlib LD=${tools}ld NM=${tools}nm OBJCOPY=${tools}objcopy
  command -v "$CC" >/dev/null 2>&1 || die "no musl C compiler $CC for $target (musl-tools, or cross.sh's musl-dev:$deb)"
  # musl's headers leave Linux's out (musl-gcc drops /usr/include); OpenSSL wants a
  # few (linux/mman.h, ...). Debian's linux-libc-dev-ARCH-cross holds the target's
  # and nothing else, so -idirafter adds them without letting glibc's headers in.
  kernel=/usr/$arch-linux-gnu/include
  [ -d "$kernel/linux" ] || die "no Linux headers for $target in $kernel"
  # aarch64: no calls to libgcc's outline atomics (__aarch64_ldadd4_acq_rel...),
  # which a Rust link does not always bring.
  case $arch in aarch64) march=-mno-outline-atomics ;; *) march= ;; esac
  CFLAGS="-O2 -fPIC -ffunction-sections -fdata-sections $march -idirafter $kernel"
  libc=/usr/lib/$arch-linux-musl/libc.a
  [ -f "$libc" ] || die "no musl libc.a for $target at $libc"
  stage=$work/stage/$target
}

# Each library is installed into its own staging tree first (its size is reported),
# then copied under $prefix, where the libraries after it find it.
stage_in() {
  d=$stage/$1$prefix
  size=$(du -sk "$stage/$1" | cut -f1)
  mkdir -p "$prefix"
  cp -a "$d/." "$prefix/"
  say "$1 ${2} for $target: $(( $(date +%s) - t0 )) s, $size KiB installed"
  echo "$1 $target $(( $(date +%s) - t0 )) $size" >>"$work/report"
}

build_zlib() {
  t0=$(date +%s)
  rm -rf "$work/b" && cp -a "$work/src/zlib" "$work/b" && cd "$work/b"
  check_version zlib "$(sed -n 's/^#define ZLIB_VERSION "\(.*\)".*/\1/p' zlib.h)"
  quiet env CC="$CC" AR="$AR" RANLIB="$RANLIB" CFLAGS="$CFLAGS" ./configure --static --prefix="$prefix"
  quiet make -j"$JOBS" libz.a
  quiet make install DESTDIR="$stage/zlib"
  rm -rf "$stage/zlib$prefix/share"
  stage_in zlib "$zlib_v"
}

build_openssl() {
  t0=$(date +%s)
  rm -rf "$work/b" && cp -a "$work/src/openssl" "$work/b" && cd "$work/b"
  check_version openssl "$(awk -F= '$1 == "MAJOR" { a = $2 } $1 == "MINOR" { b = $2 } $1 == "PATCH" { c = $2 }
    END { print a "." b "." c }' VERSION.dat)"
  # no-module: the legacy provider built into libcrypto rather than a loadable .so
  # (a static binary loads none); no-afalgeng: the AF_ALG engine is a kernel
  # interface nobody links statically. --openssldir=/etc/ssl: where Debian's and
  # Alpine's ca-certificates put the CA store, which the binary reads at run time.
  quiet env CC="$CC" AR="$AR" RANLIB="$RANLIB" CFLAGS="$CFLAGS" ./Configure "$ossl_conf" \
    no-shared no-module no-tests no-afalgeng \
    --prefix="$prefix" --libdir=lib --openssldir=/etc/ssl
  quiet make -j"$JOBS" build_libs
  quiet make install_dev DESTDIR="$stage/openssl"
  # .pc files that are complete without --static: musl's libc.a has -ldl and
  # -pthread in it (and a -ldl could find glibc's libdl.a on the host's path);
  # libssl's libcrypto is no longer private when both are archives.
  pc=$stage/openssl$prefix/lib/pkgconfig
  sed -i '/^Libs.private:/d' "$pc/libcrypto.pc"
  sed -i 's/^Requires.private:/Requires:/' "$pc/libssl.pc"
  stage_in openssl "$openssl_v"
}

build_sqlite() {
  t0=$(date +%s)
  cd "$work/src/sqlite"
  # Compiled as one file, with the options Debian's libsqlite3 and rusqlite's
  # features expect (column metadata, unlock_notify, the session extension...), not
  # a shell or a configure: THREADSAFE=1 (serialized), no readline, no Tcl.
  # HAVE_*: what configure would find in musl.
  $CC $CFLAGS -DSQLITE_THREADSAFE=1 -D_REENTRANT=1 \
    -DSQLITE_ENABLE_COLUMN_METADATA=1 -DSQLITE_ENABLE_UNLOCK_NOTIFY=1 \
    -DSQLITE_ENABLE_FTS3 -DSQLITE_ENABLE_FTS3_PARENTHESIS -DSQLITE_ENABLE_FTS4 -DSQLITE_ENABLE_FTS5 \
    -DSQLITE_ENABLE_RTREE=1 -DSQLITE_ENABLE_MATH_FUNCTIONS -DSQLITE_ENABLE_JSON1 \
    -DSQLITE_ENABLE_DBSTAT_VTAB=1 -DSQLITE_ENABLE_PREUPDATE_HOOK -DSQLITE_ENABLE_SESSION \
    -DSQLITE_ENABLE_API_ARMOR -DSQLITE_USE_URI=1 -DSQLITE_SECURE_DELETE=1 \
    -DHAVE_USLEEP=1 -DHAVE_FDATASYNC=1 -DHAVE_LOCALTIME_R=1 -DHAVE_GMTIME_R=1 \
    -DHAVE_STRCHRNUL=1 -DHAVE_POSIX_FALLOCATE=1 -DHAVE_MALLOC_USABLE_SIZE=1 \
    -c sqlite3.c -o "$work/sqlite3.o"
  d=$stage/sqlite$prefix
  mkdir -p "$d/include" "$d/lib/pkgconfig"
  $AR crs "$d/lib/libsqlite3.a" "$work/sqlite3.o"
  cp sqlite3.h sqlite3ext.h "$d/include/"
  # -lm and -lpthread are in musl's libc.a.
  cat >"$d/lib/pkgconfig/sqlite3.pc" <<EOF
prefix=$prefix
libdir=\${prefix}/lib
includedir=\${prefix}/include

Name: SQLite
Description: SQL database engine (static, musl, built by rust-s2i-musl's clibs.sh)
Version: $sqlite_v
Libs: -L\${libdir} -lsqlite3
Cflags: -I\${includedir}
EOF
  stage_in sqlite "$sqlite_v"
}

build_libpq() {
  t0=$(date +%s)
  rm -rf "$work/b" && cp -a "$work/src/libpq" "$work/b" && cd "$work/b"
  host_opt=
  [ "$arch" = "$host" ] || host_opt=--host=$arch-linux-musl
  zlib_opt=--without-zlib
  [ -z "$zlib_v" ] || zlib_opt=--with-zlib
  quiet env CC="$CC" AR="$AR" RANLIB="$RANLIB" CFLAGS="$CFLAGS" CPPFLAGS="-I$prefix/include" LDFLAGS="-L$prefix/lib" \
    ./configure $host_opt --prefix="$prefix" --with-openssl $zlib_opt \
      --without-readline --without-icu --without-gssapi --without-ldap --disable-rpath
  check_version libpq "$(sed -n 's/^#define PG_VERSION "\(.*\)".*/\1/p' src/include/pg_config.h)"
  # Only what libpq needs: its generated headers, libpgcommon and libpgport (the
  # _shlib variants, which libpq.so is linked with), libpq itself.
  quiet make -C src/include -j"$JOBS"
  quiet make -C src/common -j"$JOBS" libpgcommon_shlib.a
  quiet make -C src/port -j"$JOBS" libpgport_shlib.a
  quiet make -C src/interfaces/libpq -j"$JOBS" all-static-lib
  # libpq.a as one self-contained object, the way libpq.so is one self-contained
  # library: pq-sys (0.4.6 and later) links `static=pq` and nothing else, so
  # libpgcommon, libpgport and the OpenSSL that libpq calls must be inside it. `ld -r`
  # pulls in just the members libpq needs; then every symbol but libpq's exports
  # (exports.txt, the list libpq.so exports) is made local, so that this OpenSSL
  # copy serves libpq alone: a binary that also links OpenSSL (this recipe's, or
  # openssl-sys's vendored one, of another version) gets no duplicate symbols and
  # no mix of two versions' objects; link order and linker (ld, mold) do not
  # matter. What is left undefined must be musl's libc, checked below.
  lib=src/interfaces/libpq
  # (-d: common symbols, such as OPENSSL_ia32cap_P, become ordinary ones, which
  # objcopy can make local.)
  $LD -r -d -o "$work/libpq.o" --whole-archive "$lib/libpq.a" --no-whole-archive \
    --start-group src/common/libpgcommon_shlib.a src/port/libpgport_shlib.a \
    "$prefix/lib/libssl.a" "$prefix/lib/libcrypto.a" --end-group
  sed -n 's/^\([A-Za-z_][A-Za-z0-9_]*\)[[:space:]].*/\1/p' "$lib/exports.txt" >"$work/libpq.exports"
  $OBJCOPY --keep-global-symbols="$work/libpq.exports" "$work/libpq.o"
  sort -u "$work/libpq.exports" >"$work/libpq.exports.sorted"
  # (_GLOBAL_OFFSET_TABLE_ is the linker's own.)
  $NM -u "$work/libpq.o" | awk '$NF != "_GLOBAL_OFFSET_TABLE_" { print $NF }' | sort -u >"$work/libpq.undef"
  # (libgcc's helpers, such as __udivti3, are also what Rust's compiler_builtins
  # defines in every Rust link.)
  $NM --defined-only "$libc" "$($CC -print-libgcc-file-name)" 2>/dev/null |
    awk 'NF == 3 { print $3 }' | sort -u >"$work/libc.def"
  missing=$(comm -23 "$work/libpq.undef" "$work/libc.def")
  [ -z "$missing" ] || die "libpq.a for $target still needs symbols musl's libc does not have: $(echo $missing)"
  extra=$($NM -g --defined-only "$work/libpq.o" | awk '{ print $NF }' | sort -u | comm -23 - "$work/libpq.exports.sorted")
  [ -z "$extra" ] || die "libpq.a for $target defines more than libpq's exports: $(echo $extra)"
  d=$stage/libpq$prefix
  mkdir -p "$d/include" "$d/lib/pkgconfig" "$d/bin"
  $AR crs "$d/lib/libpq.a" "$work/libpq.o"
  cp "$lib/libpq-fe.h" "$lib/libpq-events.h" src/include/postgres_ext.h "$d/include/"
  [ ! -f src/include/pg_config_ext.h ] || cp src/include/pg_config_ext.h "$d/include/"
  cat >"$d/lib/pkgconfig/libpq.pc" <<EOF
prefix=$prefix
libdir=\${prefix}/lib
includedir=\${prefix}/include

Name: libpq
Description: PostgreSQL libpq library (static, musl, self-contained: OpenSSL inside; built by rust-s2i-musl's clibs.sh)
Version: $libpq_v
Libs: -L\${libdir} -lpq
Cflags: -I\${includedir}
EOF
  # pq-sys asks pg_config where libpq is (PG_CONFIG_<TARGET>); the real one is a
  # program for the target, this one answers for it from the host.
  cat >"$d/bin/pg_config" <<EOF
#!/bin/sh
# pg_config for the static musl libpq $libpq_v of $target (rust-s2i-musl's clibs.sh).
if [ \$# -eq 0 ]; then
  printf '%s\n' "INCLUDEDIR = $prefix/include" "LIBDIR = $prefix/lib" "VERSION = PostgreSQL $libpq_v"
  exit 0
fi
for a; do
  case \$a in
    --libdir | --pkglibdir) echo "$prefix/lib" ;;
    --includedir | --pkgincludedir | --includedir-server) echo "$prefix/include" ;;
    --cppflags | --cflags) echo "-I$prefix/include" ;;
    --ldflags) echo "-L$prefix/lib" ;;
    --libs) echo "" ;;
    --version) echo "PostgreSQL $libpq_v" ;;
    *) echo "pg_config (libpq $libpq_v for $target): \$a is not answered here" >&2; exit 1 ;;
  esac
done
EOF
  chmod 0755 "$d/bin/pg_config"
  stage_in libpq "$libpq_v"
}

# --- build ------------------------------------------------------------------------
say "building '$CLIBS' from $CLIBS_SOURCE sources for$musl_targets"
for lib in zlib openssl sqlite libpq; do
  eval "v=\$${lib}_v"
  [ -z "$v" ] || get "$lib"
done
: >"$work/report"
for target in $musl_targets; do
  setup_target "$target"
  [ -z "$zlib_v" ] || build_zlib
  [ -z "$openssl_v" ] || build_openssl
  [ -z "$sqlite_v" ] || build_sqlite
  [ -z "$libpq_v" ] || build_libpq
  # Static archives only.
  if find "$prefix" -name '*.so*' | grep -q .; then die "shared objects were installed under $prefix"; fi
done

# --- tell cargo -------------------------------------------------------------------
# announce TARGET: the [env] lines for the libraries built for TARGET. Each crate's
# per-target form where it has one; none that a build for the host reads.
announce() {
  target=$1 prefix=$PREFIX_ROOT/$1
  up=$(echo "$target" | tr 'a-z-' 'A-Z_') lo=$(echo "$target" | tr - _)
  echo "# $target: $CLIBS"
  # pkg-config (the pkg-config crate, which libz-sys, libsqlite3-sys, pq-sys with its
  # pkg-config feature and many others use) for this target: allowed although
  # cross, and PKG_CONFIG_LIBDIR, not _PATH, so that it sees these .pc files and
  # never the host's glibc ones. The .pc files need no --static (their private
  # dependencies are public or in libc), so PKG_CONFIG_ALL_STATIC, which the crate
  # reads for the host too, is not set.
  echo "PKG_CONFIG_ALLOW_CROSS_$lo = \"1\""
  echo "PKG_CONFIG_LIBDIR_$lo = \"$prefix/lib/pkgconfig\""
  if [ -n "$openssl_v" ]; then
    # openssl-sys reads <TARGET>_OPENSSL_DIR before OPENSSL_DIR (0.9.x).
    echo "${up}_OPENSSL_DIR = \"$prefix\""
    echo "${up}_OPENSSL_STATIC = \"1\""
  fi
  if [ -n "$libpq_v" ]; then
    # pq-sys 0.4.6 reads PG_CONFIG_<TARGET> and PQ_LIB_STATIC_<TARGET>; later
    # versions PQ_LIB_DIR_<TARGET> first. Its plain PQ_LIB_DIR would apply to the
    # host too, so it is not set.
    echo "PG_CONFIG_$up = \"$prefix/bin/pg_config\""
    echo "PQ_LIB_DIR_$up = \"$prefix/lib\""
    echo "PQ_LIB_STATIC_$up = \"1\""
  fi
  # zlib and SQLite through pkg-config alone: libz-sys's LIBZ_SYS_STATIC=1 means
  # "compile the zlib bundled in the crate" (upstream's build.rs skips pkg-config
  # then), and libsqlite3-sys's SQLITE3_LIB_DIR/SQLITE3_STATIC have no per-target
  # form (a host build of it, for a proc macro, would read them too).
}

env_lines=$work/env
{
  echo "# Written by the builder image (s2i/clibs.sh): static musl C libraries under $PREFIX_ROOT/TARGET."
  for target in $musl_targets; do announce "$target"; done
} >"$env_lines"
cfg=${CARGO_HOME:?}/config.toml
mkdir -p "$CARGO_HOME"
if [ -f "$cfg" ] && grep -q '^[[:space:]]*\[env\][[:space:]]*\(#.*\)\{0,1\}$' "$cfg"; then
  # cross.sh's [env] table is there: the lines go into it (TOML allows one [env]).
  awk -v add="$env_lines" '
    { print }
    !done && /^[ \t]*\[env\][ \t]*(#.*)?$/ { while ((getline l < add) > 0) print l; done = 1 }
  ' "$cfg" >"$work/config.toml"
  cat "$work/config.toml" >"$cfg"
else
  { [ ! -s "$cfg" ] || echo; echo "[env]"; cat "$env_lines"; } >>"$cfg"
  chown "$(stat -c %u:%g "$CARGO_HOME")" "$cfg"
fi

say "built, per target (seconds, KiB installed):"
awk '{ printf "clibs.sh:   %-8s %-28s %5d s %8d KiB\n", $1, $2, $3, $4 }' "$work/report" >&2
for target in $musl_targets; do
  say "$PREFIX_ROOT/$target: $(du -sk "$PREFIX_ROOT/$target" | cut -f1) KiB"
done
