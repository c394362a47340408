//! A JSON greeting over HTTP. `svc --once` prints the greeting and exits, which is
//! how the benchmark checks the image it built.

use std::convert::Infallible;

use hyper::service::{make_service_fn, service_fn};
use hyper::{Body, Request, Response, Server};
use serde::Serialize;

#[derive(Serialize)]
struct Greeting<'a> {
    service: &'a str,
    message: &'a str,
}

// The line bench/fresh-runner.sh changes for its one-line change.
const MESSAGE: &str = "hello from svc";

fn greeting() -> String {
    serde_json::to_string(&Greeting { service: "svc", message: MESSAGE }).expect("a greeting serializes")
}

async fn handle(_req: Request<Body>) -> Result<Response<Body>, Infallible> {
    Ok(Response::builder()
        .header("content-type", "application/json")
        .body(Body::from(greeting()))
        .expect("a valid response"))
}

#[tokio::main]
async fn main() {
    if std::env::args().any(|a| a == "--once") {
        println!("{}", greeting());
        return;
    }
    let addr = ([0, 0, 0, 0], 8080).into();
    let make = make_service_fn(|_conn| async { Ok::<_, Infallible>(service_fn(handle)) });
    if let Err(e) = Server::bind(&addr).serve(make).await {
        eprintln!("svc: {e}");
        std::process::exit(1);
    }
}
