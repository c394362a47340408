// Prints the versions of the zlib and the SQLite it was linked with, then uses each
// for real, so that neither is linked in name only: a string through compress and
// uncompress, and a row through an in-memory database. Any failure exits non-zero.
use std::ffi::{c_char, CStr, CString};
use std::process::ExitCode;
use std::ptr;

use libsqlite3_sys as sqlite;
use libz_sys as zlib;

const TEXT: &str = "rust-s2i-musl links zlib and SQLite statically";

fn main() -> ExitCode {
    // SAFETY: both return a pointer to a static NUL-terminated string.
    let (z, s) = unsafe {
        (
            CStr::from_ptr(zlib::zlibVersion()),
            CStr::from_ptr(sqlite::sqlite3_libversion()),
        )
    };
    println!("zlib: {}", z.to_string_lossy());
    println!("sqlite: {}", s.to_string_lossy());
    let long = TEXT.repeat(8);
    match zlib_roundtrip(&long).and_then(|n| sqlite_roundtrip(TEXT).map(|row| (n, row))) {
        Ok((n, row)) => {
            println!("zlib roundtrip: {} bytes compressed to {n}", long.len());
            println!("sqlite row: {row}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("zsqlite: {e}");
            ExitCode::FAILURE
        }
    }
}

// zlib_roundtrip compresses text, uncompresses it, checks that it came back, and
// returns its compressed size.
fn zlib_roundtrip(text: &str) -> Result<usize, String> {
    let src = text.as_bytes();
    // SAFETY: every buffer is as long as the length passed with it.
    unsafe {
        let mut packed = vec![0u8; zlib::compressBound(src.len() as zlib::uLong) as usize];
        let mut packed_len = packed.len() as zlib::uLong;
        if zlib::compress(
            packed.as_mut_ptr(),
            &mut packed_len,
            src.as_ptr(),
            src.len() as zlib::uLong,
        ) != zlib::Z_OK
        {
            return Err("compress failed".into());
        }
        let mut out = vec![0u8; src.len()];
        let mut out_len = out.len() as zlib::uLong;
        if zlib::uncompress(out.as_mut_ptr(), &mut out_len, packed.as_ptr(), packed_len)
            != zlib::Z_OK
            || out[..out_len as usize] != *src
        {
            return Err("uncompress did not give the text back".into());
        }
        Ok(packed_len as usize)
    }
}

// sqlite_roundtrip stores text in a table of an in-memory database and returns
// what a query reads back.
fn sqlite_roundtrip(text: &str) -> Result<String, String> {
    let path = CString::new(":memory:").unwrap();
    let mut db = ptr::null_mut();
    // SAFETY: db is only used while open, and closed on every path.
    unsafe {
        if sqlite::sqlite3_open(path.as_ptr(), &mut db) != sqlite::SQLITE_OK {
            return Err("opening an in-memory database failed".into());
        }
        let result = store_and_read(db, text);
        sqlite::sqlite3_close(db);
        result
    }
}

// store_and_read runs the statements of sqlite_roundtrip on the open database db.
unsafe fn store_and_read(db: *mut sqlite::sqlite3, text: &str) -> Result<String, String> {
    let sql = CString::new(format!(
        "CREATE TABLE t(v TEXT); INSERT INTO t VALUES('{text}');"
    ))
    .unwrap();
    if sqlite::sqlite3_exec(db, sql.as_ptr(), None, ptr::null_mut(), ptr::null_mut())
        != sqlite::SQLITE_OK
    {
        return Err("CREATE and INSERT failed".into());
    }
    let query = CString::new("SELECT v FROM t").unwrap();
    let mut stmt = ptr::null_mut();
    if sqlite::sqlite3_prepare_v2(db, query.as_ptr(), -1, &mut stmt, ptr::null_mut())
        != sqlite::SQLITE_OK
    {
        return Err("preparing SELECT failed".into());
    }
    let row = if sqlite::sqlite3_step(stmt) == sqlite::SQLITE_ROW {
        let v = sqlite::sqlite3_column_text(stmt, 0) as *const c_char;
        Ok(CStr::from_ptr(v).to_string_lossy().into_owned())
    } else {
        Err("SELECT gave no row".into())
    };
    sqlite::sqlite3_finalize(stmt);
    row
}
