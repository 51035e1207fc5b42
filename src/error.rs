//! The one error type of the core. Every stage returns `Result<T, Error>`; the `py` layer maps
//! each variant onto the matching exception of `ckv.exceptions`.

use std::fmt;

/// Result alias used by every stage.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in the core, named for what the user must do about it.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The archive's SHA-256 differs from its `.CHECKSUM` sidecar.
    #[error("checksum mismatch for {file}: expected {expected}, got {actual}")]
    Checksum {
        file: String,
        expected: String,
        actual: String,
    },
    /// The body is not a usable zip: wrong magic (e.g. an XML error body), truncated, bad deflate.
    #[error("bad archive {file}: {reason}")]
    Archive { file: String, reason: String },
    /// A CSV line that does not fit the dataset's schema. `line` is 1-based.
    #[error("{file}:{line}: {reason}")]
    Parse {
        file: String,
        line: u64,
        reason: String,
    },
    /// The server answered 404 (or 403 from S3 for a key that does not exist).
    #[error("not found: {url}")]
    NotFound { url: String },
    /// An HTTP status that is an answer, not a transport failure (4xx other than 404, or 5xx
    /// once retries are used up). `retry_after` is the `Retry-After` header in seconds.
    #[error("HTTP {status} for {url}: {body}")]
    Http {
        url: String,
        status: u16,
        body: String,
        retry_after: Option<f64>,
    },
    /// Connection refused/reset, timeout, or a body cut short, after retries.
    #[error("network error for {url}: {reason}")]
    Network { url: String, reason: String },
    /// A server answered what its protocol does not allow (e.g. a body over the size limit).
    #[error("protocol error for {url}: {reason}")]
    Protocol { url: String, reason: String },
    /// A bug caught at a boundary (a panicking task); never expected.
    #[error("internal error in ckv's core (please report): {0}")]
    Internal(String),
    /// A cache file that cannot be written, opened or validated.
    #[error("cache error for {path}: {reason}")]
    Cache { path: String, reason: String },
    /// A bad argument from the caller (unknown dataset, interval, market...).
    #[error("{0}")]
    Invalid(String),
    /// An Arrow error that escaped a stage (a bug or a corrupt buffer).
    #[error("arrow: {0}")]
    Arrow(#[from] arrow_schema::ArrowError),
    /// A local I/O error.
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
}

impl Error {
    /// Shorthand for a parse error at `line` of `file`.
    pub fn parse(file: &str, line: u64, reason: impl fmt::Display) -> Self {
        Error::Parse {
            file: file.to_string(),
            line,
            reason: reason.to_string(),
        }
    }

    /// Shorthand for an archive error.
    pub fn archive(file: &str, reason: impl fmt::Display) -> Self {
        Error::Archive {
            file: file.to_string(),
            reason: reason.to_string(),
        }
    }

    /// Short machine-readable name of the variant, used in fetch outcomes.
    pub fn kind(&self) -> &'static str {
        match self {
            Error::Checksum { .. } => "checksum",
            Error::Archive { .. } => "archive",
            Error::Parse { .. } => "parse",
            Error::NotFound { .. } => "not_found",
            Error::Http { .. } => "http",
            Error::Network { .. } => "network",
            Error::Protocol { .. } => "protocol",
            Error::Internal(_) => "internal",
            Error::Cache { .. } => "cache",
            Error::Invalid(_) => "invalid",
            Error::Arrow(_) => "arrow",
            Error::Io(_) => "io",
        }
    }
}
