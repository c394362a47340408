// Prints the version of the OpenSSL it was linked with; given HOST:PORT and a CA
// file (PEM), it then connects with native-tls, trusting that CA besides the
// system's, checks the server's certificate for HOST, sends a line, and prints the
// server's answer. Any failure exits non-zero.
use std::error::Error;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::process::ExitCode;

fn main() -> ExitCode {
    println!("openssl: {}", openssl::version::version());
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.as_slice() {
        [] => ExitCode::SUCCESS,
        [addr, ca] => match exchange(addr, ca) {
            Ok(reply) => {
                println!("tls: {reply}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("tlsconnect: {e}");
                ExitCode::FAILURE
            }
        },
        _ => {
            eprintln!("usage: tlsconnect [HOST:PORT CAFILE]");
            ExitCode::from(2)
        }
    }
}

// exchange sends one line over TLS to addr, the server checked against the CA in
// the file ca and the host part of addr, and returns the line it answers.
fn exchange(addr: &str, ca: &str) -> Result<String, Box<dyn Error>> {
    let pem = std::fs::read(ca)?;
    let connector = native_tls::TlsConnector::builder()
        .add_root_certificate(native_tls::Certificate::from_pem(&pem)?)
        .build()?;
    let (host, _) = addr
        .rsplit_once(':')
        .ok_or("the address has no port: want HOST:PORT")?;
    let mut tls = connector.connect(host, TcpStream::connect(addr)?)?;
    tls.write_all(b"hello from tlsconnect\n")?;
    let mut reply = String::new();
    BufReader::new(tls).read_line(&mut reply)?;
    if !reply.ends_with('\n') {
        return Err("the server closed the connection before a whole line".into());
    }
    Ok(reply.trim_end().to_string())
}
