//! A small "service" that really uses its dependencies, so that they are compiled and
//! linked: bench/ measures builds of it, not what it does.
use std::collections::BTreeMap;
use std::io::Write;

use anyhow::Context;
use clap::Parser;
use itertools::Itertools;
use once_cell::sync::Lazy;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};
use sha2::Digest;
use smallvec::SmallVec;

static WORD: Lazy<regex::Regex> = Lazy::new(|| regex::Regex::new(r"[A-Za-z]+").unwrap());

#[derive(Parser, Debug)]
#[command(name = "heavy", about = "bench/ crate with many dependencies")]
struct Args {
    /// Text to digest.
    #[arg(default_value = "hello from a dependency-heavy static binary")]
    text: String,
    /// Base URL to resolve against.
    #[arg(long, default_value = "https://example.invalid/api/")]
    base: String,
    /// How long the report stays valid.
    #[arg(long, default_value = "1h 30m")]
    ttl: String,
}

#[derive(Debug, thiserror::Error)]
enum ReportError {
    #[error("empty text")]
    Empty,
}

#[derive(Serialize, Deserialize, Debug)]
struct Report {
    id: String,
    words: Vec<String>,
    counts: BTreeMap<String, usize>,
    sha256: String,
    crc32: u32,
    base64: String,
    url: String,
    version: String,
    ttl_secs: u64,
    gz_bytes: usize,
    random: u32,
    created: String,
}

fn report(args: &Args) -> anyhow::Result<Report> {
    if args.text.is_empty() {
        return Err(ReportError::Empty.into());
    }
    let words: Vec<String> = WORD.find_iter(&args.text).map(|m| m.as_str().to_lowercase()).collect();
    let counts: indexmap::IndexMap<&str, usize> = words.iter().map(|w| w.as_str()).counts().into_iter().collect();
    let mut small: SmallVec<[u8; 32]> = SmallVec::new();
    small.extend_from_slice(&sha2::Sha256::digest(args.text.as_bytes()));
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(args.text.as_bytes())?;
    let gz = gz.finish()?;
    let mut buf = bytes::BytesMut::new();
    buf.extend_from_slice(&gz);
    let url = url::Url::parse(&args.base)?.join("reports")?;
    let ttl = humantime::parse_duration(&args.ttl).context("--ttl")?;
    let version = semver::Version::parse(env!("CARGO_PKG_VERSION"))?;
    let mut rng = rand::rngs::StdRng::seed_from_u64(42);
    Ok(Report {
        id: uuid::Uuid::new_v4().to_string(),
        counts: counts.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
        words,
        sha256: hex::encode(&small),
        crc32: crc32fast::hash(args.text.as_bytes()),
        base64: base64::encode(args.text.as_bytes()),
        url: url.to_string(),
        version: version.to_string(),
        ttl_secs: ttl.as_secs(),
        gz_bytes: buf.len(),
        random: rng.gen_range(0..1000),
        created: chrono::Utc::now().to_rfc3339(),
    })
}

fn main() -> anyhow::Result<()> {
    env_logger::init();
    let args = Args::parse();
    log::info!("building a report for {:?}", args.text);
    let r = report(&args)?;
    let json = serde_json::to_string_pretty(&r)?;
    let back: Report = serde_json::from_str(&json)?;
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(["word", "count"])?;
    for (k, v) in &back.counts {
        w.write_record([k.as_str(), &v.to_string()])?;
    }
    let table = String::from_utf8(w.into_inner()?)?;
    let mut doc = toml::value::Table::new();
    doc.insert("sha256".into(), toml::Value::String(back.sha256.clone()));
    println!("{json}\n{table}{}", toml::to_string(&doc)?);
    let walked = walkdir::WalkDir::new("/proc/self").max_depth(0).into_iter().count();
    println!("walked {walked}");
    Ok(())
}
