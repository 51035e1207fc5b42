//! Zips shaped like Binance's (one deflated member named like the zip, sizes and CRC in the
//! local header), deflated on all cores for large members: the CSV is cut at line ends into
//! chunks compressed independently, each but the last ending in a sync flush, whose
//! concatenation is one valid deflate stream (as pigz does). Small members use
//! `archive::write::zip_one`.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use flate2::{Compress, Compression, FlushCompress, Status};

use crate::archive::write::{assemble, zip_one};

/// Chunk size of the parallel deflate.
const CHUNK: usize = 4 << 20;

/// Zip `data` as the single member `name`.
pub fn zip_member(name: &str, data: &[u8], level: u32) -> Vec<u8> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    // Chunking depends on the data only, so the bytes do not depend on the core count.
    if data.len() < 2 * CHUNK {
        return zip_one(name, data, level);
    }
    let chunks = split_lines(data, CHUNK);
    let out: Vec<Mutex<Vec<u8>>> = chunks.iter().map(|_| Mutex::new(Vec::new())).collect();
    let next = AtomicUsize::new(0);
    std::thread::scope(|s| {
        for _ in 0..threads.clamp(1, chunks.len()) {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(chunk) = chunks.get(i) else { break };
                let last = i + 1 == chunks.len();
                *out[i].lock().unwrap_or_else(|e| e.into_inner()) =
                    deflate_part(chunk, level, last);
            });
        }
    });
    let parts: Vec<Vec<u8>> = out
        .into_iter()
        .map(|m| m.into_inner().unwrap_or_else(|e| e.into_inner()))
        .collect();
    assemble(name, data, &parts)
}

/// Cut `data` after a newline about every `size` bytes.
fn split_lines(data: &[u8], size: usize) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut rest = data;
    while rest.len() > size {
        let cut = rest[size..]
            .iter()
            .position(|&c| c == b'\n')
            .map_or(rest.len(), |p| size + p + 1);
        let (a, b) = rest.split_at(cut);
        out.push(a);
        rest = b;
    }
    if !rest.is_empty() {
        out.push(rest);
    }
    out
}

/// Raw deflate of one chunk: ends with a sync flush, or finishes the stream when `last`.
fn deflate_part(data: &[u8], level: u32, last: bool) -> Vec<u8> {
    let mut c = Compress::new(Compression::new(level), false);
    let flush = if last {
        FlushCompress::Finish
    } else {
        FlushCompress::Sync
    };
    let mut out = Vec::with_capacity(data.len() / 3 + 1024);
    loop {
        if out.capacity() - out.len() < 1024 {
            out.reserve(out.capacity().max(64 * 1024));
        }
        let consumed = c.total_in() as usize;
        let status = c
            .compress_vec(&data[consumed..], &mut out, flush)
            .expect("deflate into a growing buffer cannot fail");
        let done_input = c.total_in() as usize == data.len();
        match (last, status) {
            (true, Status::StreamEnd) => return out,
            (false, _) if done_input && out.len() < out.capacity() => return out,
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parallel_zip_inflates_to_the_data() {
        let line = b"1735776000064900,3435.47000000,5.60450000,123335865,123335866,False,True\n";
        let data: Vec<u8> = line
            .iter()
            .copied()
            .cycle()
            .take(line.len() * 150_000)
            .collect();
        let z = zip_member("x.csv", &data, 6);
        assert_eq!(crate::sim::vision::tests::unzip(&z), data);
        assert_eq!(
            u32::from_le_bytes(z[22..26].try_into().unwrap()) as usize,
            data.len()
        );
        let small = zip_member("x.csv", b"a,b\n", 6);
        assert_eq!(small, zip_one("x.csv", b"a,b\n", 6));
        assert_eq!(
            split_lines(b"ab\ncd\nef", 2),
            vec![&b"ab\n"[..], b"cd\n", b"ef"]
        );
    }
}
