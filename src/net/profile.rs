//! Stage timings of the cold path, for `benches/profile_cold.py` (docs/architecture.md, "Where
//! the cold path's time goes"). Off unless the environment variable `CKV_PROFILE` names a file
//! when the first fetch starts; then every archive appends one JSON line to it (wall-clock
//! stamps of its stages in epoch µs, and the CPU time its hashing, inflating, parsing and batch
//! building took), and start-up work (runtime, HTTP client) one line each.
//!
//! Guarantees: when off, the cost is one load of a `OnceLock` per archive; a file that cannot
//! be written turns the profile off without touching the fetch.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::archive::StageCpu;

static SINK: OnceLock<Option<Mutex<File>>> = OnceLock::new();
static CALLS: AtomicU64 = AtomicU64::new(0);

fn sink() -> Option<&'static Mutex<File>> {
    SINK.get_or_init(|| {
        let path = std::env::var_os("CKV_PROFILE")?;
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .ok()?;
        Some(Mutex::new(file))
    })
    .as_ref()
}

/// True when stage timings are being recorded.
pub fn enabled() -> bool {
    sink().is_some()
}

/// A number for the next fetch call (to group its archives).
pub fn next_call() -> u64 {
    CALLS.fetch_add(1, Ordering::Relaxed)
}

/// Now, in µs since the Unix epoch (comparable across threads and with Python's clock).
pub fn now_us() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
}

fn write_line(line: &str) {
    if let Some(m) = sink() {
        let mut f = m.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        // A profile that cannot be written is only a lost profile.
        let _ = writeln!(f, "{line}");
    }
}

/// Record a piece of start-up work that took `took`.
pub fn startup(what: &str, took: Duration) {
    if enabled() {
        write_line(&format!(
            r#"{{"kind":"startup","what":"{what}","us":{}}}"#,
            took.as_micros()
        ));
    }
}

/// The stamps of one archive's fetch.
#[derive(Debug, Default, Clone)]
pub struct ArchiveTimes {
    pub call: u64,
    pub start_us: u64,
    /// A connection slot was granted.
    pub permit_us: u64,
    /// The response head arrived.
    pub head_us: u64,
    /// The last body byte was consumed.
    pub body_end_us: u64,
    pub sidecar_us: u64,
    pub end_us: u64,
    pub cpu: StageCpu,
    /// Building the record batch (`finish`).
    pub build: Duration,
    pub chunks: u64,
    pub bytes: u64,
    /// Body chunks consumed on another thread than the previous one.
    pub hops: u64,
}

impl ArchiveTimes {
    /// Append this record for archive `file`.
    pub fn write(&self, file: &str) {
        let c = &self.cpu;
        write_line(&format!(
            concat!(
                r#"{{"kind":"archive","file":"{}","call":{},"start_us":{},"permit_us":{},"#,
                r#""head_us":{},"body_end_us":{},"sidecar_us":{},"end_us":{},"sha_us":{},"#,
                r#""inflate_us":{},"parse_us":{},"build_us":{},"chunks":{},"bytes":{},"hops":{}}}"#
            ),
            file.replace('"', "'"),
            self.call,
            self.start_us,
            self.permit_us,
            self.head_us,
            self.body_end_us,
            self.sidecar_us,
            self.end_us,
            c.sha.as_micros(),
            c.inflate.as_micros(),
            c.parse.as_micros(),
            self.build.as_micros(),
            self.chunks,
            self.bytes,
            self.hops,
        ));
    }
}
