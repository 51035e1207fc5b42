//! Fetch stage: many Vision archives at once. Each archive and its `.CHECKSUM` sidecar are
//! downloaded concurrently (bounded by the client's connection limit), streamed through the
//! archive stage into Arrow, and reported one by one as ok / not found / error, in request
//! order (`fetch_all`) or as each completes (`spawn_each`). One bad archive never loses the
//! others; cancelling (dropping the future, or the `Batch`) stops every request still running;
//! an optional `Deadline` bounds the whole call. `get_all` does the same for REST pages.

mod tasks;
mod turns;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use tokio::runtime::{Handle, RuntimeFlavor};
use tokio::sync::mpsc::UnboundedReceiver;

pub use tasks::{Batch, Deadline};
pub use turns::Turns;

use crate::archive::{parse_checksum, ArchiveOutput, ArchiveStream};
use crate::error::{Error, Result};
use crate::model::dataset::Dataset;
use crate::net::http::{Answer, HttpClient, Tally};
use crate::net::profile::{self, ArchiveTimes};

/// A `.CHECKSUM` sidecar is one line; anything longer is not one.
const SIDECAR_MAX: usize = 64 * 1024;

/// Body bytes' worth of work (`ArchiveStream::work_ahead`: inflating and parsing, hashing at
/// an eighth) done at once from which the work leaves the runtime's worker to another thread
/// (`block_in_place`), so that hashing and inflating never hold up the I/O of the other
/// requests (a monthly archive comes in pieces of about 200 KiB, hashed as they come and
/// inflated at once with the last); below it, as for the ~70 KiB bodies of daily klines, the
/// hand-over costs more than it saves.
const OFFLOAD_MIN: usize = 128 * 1024;

/// Bodies declared smaller than this work at once, without taking turns (see `Turns`): a
/// small archive is done in a piece or two, and its turns would cost more than its order.
const TURNS_MIN: u64 = 1 << 20;

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
    /// Retries and stalls of the requests.
    pub net: Tally,
}

/// Fetch every request concurrently; outcomes come back in request order. Dropping the
/// future aborts the requests still running.
pub async fn fetch_all(
    client: &HttpClient,
    requests: Vec<ArchiveRequest>,
    policy: ChecksumPolicy,
    progress: Arc<Progress>,
    deadline: Option<Deadline>,
) -> Vec<Outcome> {
    let n = requests.len();
    let (batch, rx) = spawn_each(
        &Handle::current(),
        client,
        requests,
        policy,
        &progress,
        deadline,
    );
    let outcomes = collect(n, rx, Outcome::Failed).await;
    drop(batch);
    outcomes
}

/// Start fetching every request; each outcome arrives on the receiver as `(index, outcome)`
/// as soon as its archive is done. The `Batch` cancels the unfinished ones.
pub fn spawn_each(
    rt: &Handle,
    client: &HttpClient,
    requests: Vec<ArchiveRequest>,
    policy: ChecksumPolicy,
    progress: &Arc<Progress>,
    deadline: Option<Deadline>,
) -> (Batch, UnboundedReceiver<(usize, Outcome)>) {
    progress
        .archives_total
        .fetch_add(requests.len() as u64, Ordering::Relaxed);
    let call = profile::enabled().then(profile::next_call);
    let turns = Turns::for_cores();
    let lone = requests.len() == 1;
    let futs = requests.into_iter().enumerate().map(|(index, req)| {
        let client = client.clone();
        let progress = progress.clone();
        let turns = turns.clone();
        async move {
            let work = fetch_one(
                &client,
                &req,
                policy,
                &progress,
                call,
                (&turns, index, lone),
            );
            let out = Deadline::run(deadline, &req.url, work, Outcome::Failed).await;
            progress.archives_done.fetch_add(1, Ordering::Relaxed);
            out
        }
    });
    tasks::spawn_indexed(rt, futs, Outcome::Failed)
}

/// GET every URL concurrently (REST and listing pages, retried per the client's policy); the
/// answers (any status below 500) or final errors come back in order. Dropping the future
/// aborts the requests still running.
pub async fn get_all(
    client: &HttpClient,
    urls: Vec<String>,
    headers: Vec<(String, String)>,
    progress: Arc<Progress>,
    deadline: Option<Deadline>,
) -> Vec<Result<Answer>> {
    let n = urls.len();
    let headers = Arc::new(headers);
    let futs = urls.into_iter().map(|url| {
        let (client, headers, progress) = (client.clone(), headers.clone(), progress.clone());
        async move {
            let work = client.get_answer(&url, &headers, &progress.net);
            let out = Deadline::run(deadline, &url, work, Err).await;
            if let Ok(a) = &out {
                progress
                    .bytes
                    .fetch_add(a.body.len() as u64, Ordering::Relaxed);
            }
            out
        }
    });
    let (batch, rx) = tasks::spawn_indexed(&Handle::current(), futs, Err);
    let answers = collect(n, rx, Err).await;
    drop(batch);
    answers
}

/// Gather `n` indexed outputs in index order; a slot never filled (its task vanished) gets
/// `missing(Error::Internal)`.
async fn collect<T>(
    n: usize,
    mut rx: UnboundedReceiver<(usize, T)>,
    missing: fn(Error) -> T,
) -> Vec<T> {
    let mut slots: Vec<Option<T>> = (0..n).map(|_| None).collect();
    while let Some((i, out)) = rx.recv().await {
        if let Some(slot) = slots.get_mut(i) {
            *slot = Some(out);
        }
    }
    slots
        .into_iter()
        .map(|s| s.unwrap_or_else(|| missing(Error::Internal("a request task vanished".into()))))
        .collect()
}

/// Fetch one archive and (per `policy`) its sidecar, concurrently; its CPU work takes its
/// turn (`turn`: the call's `Turns`, this archive's index, and whether it is the call's only one,
/// see `ArchiveStream::alone`). `call` numbers the fetch call
/// when stage timings are recorded (`CKV_PROFILE`, see `net::profile`).
pub async fn fetch_one(
    client: &HttpClient,
    req: &ArchiveRequest,
    policy: ChecksumPolicy,
    progress: &Progress,
    call: Option<u64>,
    turn: (&Arc<Turns>, usize, bool),
) -> Outcome {
    let start_us = call.map_or(0, |_| profile::now_us());
    let mut sidecar_us = 0;
    let sidecar = async {
        let got = match policy {
            ChecksumPolicy::Skip => Ok(None),
            _ => {
                let url = format!("{}.CHECKSUM", req.url);
                match client.get_bytes(&url, SIDECAR_MAX, &progress.net).await {
                    Ok(body) => parse_checksum(file_name(&req.url), &body).map(Some),
                    Err(Error::NotFound { .. }) if policy == ChecksumPolicy::IfPresent => Ok(None),
                    Err(e) => Err(e),
                }
            }
        };
        if call.is_some() {
            sidecar_us = profile::now_us();
        }
        got
    };
    let body = stream_archive(client, req, progress, call.is_some(), turn);
    let (body, expected) = tokio::join!(body, sidecar);
    let (stream, stamps) = match body {
        Ok(s) => s,
        Err(Error::NotFound { .. }) => return Outcome::NotFound,
        Err(e) => return Outcome::Failed(e),
    };
    let expected = match expected {
        Ok(e) => e,
        Err(e) => return Outcome::Failed(e),
    };
    let built = std::time::Instant::now();
    let (finished, cpu) = stream.finish_timed(expected.as_deref());
    if let Some(call) = call {
        let times = ArchiveTimes {
            call,
            start_us,
            sidecar_us,
            end_us: profile::now_us(),
            cpu,
            build: built.elapsed(),
            ..stamps
        };
        times.write(file_name(&req.url));
    }
    match finished {
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
/// transport failures, stalls, 5xx and 429; chunks wait for the archive's turn (see
/// `Turns`), the last of them after the connection slot is given back. With `timed`, the
/// stamps of the last attempt.
async fn stream_archive(
    client: &HttpClient,
    req: &ArchiveRequest,
    progress: &Progress,
    timed: bool,
    (turns, index, lone): (&Arc<Turns>, usize, bool),
) -> Result<(ArchiveStream, ArchiveTimes)> {
    let name = file_name(&req.url);
    let tally = &progress.net;
    let stamp = move || if timed { profile::now_us() } else { 0 };
    let (mut stream, mut place, t) = client
        .with_retries(tally, || async {
            let mut t = ArchiveTimes::default();
            let _permit = client.permit().await;
            t.permit_us = stamp();
            let end = client.attempt_end();
            let resp = client.get_once(&req.url, &[], end, tally).await?;
            t.head_us = stamp();
            let declared = resp.content_length();
            let small = declared.is_some_and(|n| n < TURNS_MIN);
            let mut body = client.body(&req.url, resp, end, tally);
            let mut stream = ArchiveStream::new(req.dataset, name);
            stream.split_parse();
            if lone {
                stream.alone();
            }
            if let Some(n) = declared {
                stream.expect_len(n);
            }
            let mut thread = None;
            if timed {
                stream.time_stages();
            }
            let mut place = turns.place(index);
            while let Some(chunk) = body.chunk().await? {
                progress
                    .bytes
                    .fetch_add(chunk.len() as u64, Ordering::Relaxed);
                if timed {
                    t.chunks += 1;
                    t.bytes += chunk.len() as u64;
                }
                let pieces = if small {
                    vec![chunk]
                } else {
                    place.offer(chunk)
                };
                work(&mut stream, &pieces);
                if timed && !pieces.is_empty() {
                    let here = std::thread::current().id();
                    t.hops += u64::from(thread.is_some_and(|t| t != here));
                    thread = Some(here);
                }
                place.idle();
            }
            t.body_end_us = stamp();
            Ok((stream, place, t))
        })
        .await?;
    place.drain(|piece| work(&mut stream, &[piece])).await;
    Ok((stream, t))
}

/// Push `pieces` through `stream`; a large amount of work off the runtime's worker (see
/// `OFFLOAD_MIN`; on a multi-threaded runtime only).
fn work(stream: &mut ArchiveStream, pieces: &[Bytes]) {
    let push = |stream: &mut ArchiveStream| pieces.iter().for_each(|p| stream.push_bytes(p));
    let big = stream.work_ahead(pieces.iter().map(Bytes::len).sum()) >= OFFLOAD_MIN;
    if big && Handle::try_current().is_ok_and(|h| h.runtime_flavor() == RuntimeFlavor::MultiThread)
    {
        tokio::task::block_in_place(|| push(stream));
    } else {
        push(stream);
    }
}

/// The last path segment of a URL (`BTCUSDT-1m-2023-01-01.zip`).
pub fn file_name(url: &str) -> &str {
    let path = url.split(['?', '#']).next().unwrap_or(url);
    path.rsplit('/').next().unwrap_or(path)
}
