//! Fetch stage: many Vision archives at once. Each archive and its `.CHECKSUM` sidecar are
//! downloaded concurrently (bounded by the client's connection limit), streamed through the
//! archive stage into Arrow, and reported one by one as ok / not found / error. One bad
//! archive never loses the others.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use crate::archive::{parse_checksum, ArchiveOutput, ArchiveStream};
use crate::error::{Error, Result};
use crate::http::{network, HttpClient};
use crate::schema::Dataset;

/// What to do about the `.CHECKSUM` sidecar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChecksumPolicy {
    /// A missing sidecar is an error.
    Require,
    /// Verify when the sidecar exists; a 404 leaves the archive unverified.
    IfPresent,
    /// Do not ask for the sidecar.
    Skip,
}

/// One archive to fetch.
#[derive(Debug, Clone)]
pub struct ArchiveRequest {
    pub url: String,
    pub dataset: Dataset,
}

/// How one archive ended.
#[derive(Debug)]
pub enum Outcome {
    Ok {
        output: ArchiveOutput,
        /// True when the digest was compared with the sidecar and matched.
        verified: bool,
    },
    NotFound,
    Failed(Error),
}

/// Live counters, readable from another thread while a fetch runs.
#[derive(Debug, Default)]
pub struct Progress {
    pub archives_total: AtomicU64,
    pub archives_done: AtomicU64,
    pub bytes: AtomicU64,
    pub rows: AtomicU64,
}

/// Fetch every request concurrently; outcomes come back in request order.
pub async fn fetch_all(
    client: &HttpClient,
    requests: Vec<ArchiveRequest>,
    policy: ChecksumPolicy,
    progress: Arc<Progress>,
) -> Vec<Outcome> {
    progress
        .archives_total
        .fetch_add(requests.len() as u64, Ordering::Relaxed);
    let tasks: Vec<_> = requests
        .into_iter()
        .map(|req| {
            let client = client.clone();
            let progress = progress.clone();
            tokio::spawn(async move {
                let out = fetch_one(&client, &req, policy, &progress).await;
                progress.archives_done.fetch_add(1, Ordering::Relaxed);
                out
            })
        })
        .collect();
    let mut outcomes = Vec::with_capacity(tasks.len());
    for task in tasks {
        outcomes.push(match task.await {
            Ok(outcome) => outcome,
            Err(e) => Outcome::Failed(Error::Invalid(format!("fetch task failed: {e}"))),
        });
    }
    outcomes
}

/// Fetch one archive and (per `policy`) its sidecar, concurrently.
pub async fn fetch_one(
    client: &HttpClient,
    req: &ArchiveRequest,
    policy: ChecksumPolicy,
    progress: &Progress,
) -> Outcome {
    let sidecar = async {
        match policy {
            ChecksumPolicy::Skip => Ok(None),
            _ => {
                let url = format!("{}.CHECKSUM", req.url);
                match client.get_bytes(&url).await {
                    Ok(body) => parse_checksum(file_name(&req.url), &body).map(Some),
                    Err(Error::NotFound { .. }) if policy == ChecksumPolicy::IfPresent => Ok(None),
                    Err(e) => Err(e),
                }
            }
        }
    };
    let (body, expected) = tokio::join!(stream_archive(client, req, progress), sidecar);
    let stream = match body {
        Ok(s) => s,
        Err(Error::NotFound { .. }) => return Outcome::NotFound,
        Err(e) => return Outcome::Failed(e),
    };
    let expected = match expected {
        Ok(e) => e,
        Err(e) => return Outcome::Failed(e),
    };
    match stream.finish(expected.as_deref()) {
        Ok(output) => {
            progress
                .rows
                .fetch_add(output.batch.num_rows() as u64, Ordering::Relaxed);
            Outcome::Ok {
                output,
                verified: expected.is_some(),
            }
        }
        Err(e) => Outcome::Failed(e),
    }
}

/// Download the archive body through an `ArchiveStream`, retrying from scratch on
/// transport failures and 5xx.
async fn stream_archive(
    client: &HttpClient,
    req: &ArchiveRequest,
    progress: &Progress,
) -> Result<ArchiveStream> {
    let name = file_name(&req.url);
    client
        .with_retries(|| async {
            let _permit = client.permit().await;
            let mut resp = client.get_once(&req.url, &[]).await?;
            let mut stream = ArchiveStream::new(req.dataset, name);
            while let Some(chunk) = resp.chunk().await.map_err(|e| network(&req.url, &e))? {
                progress
                    .bytes
                    .fetch_add(chunk.len() as u64, Ordering::Relaxed);
                stream.push(&chunk);
            }
            Ok(stream)
        })
        .await
}

/// The last path segment of a URL (`BTCUSDT-1m-2023-01-01.zip`).
pub fn file_name(url: &str) -> &str {
    let path = url.split(['?', '#']).next().unwrap_or(url);
    path.rsplit('/').next().unwrap_or(path)
}
