//! Memory-mapped, zero-copy IPC reader. The file is mapped once and wrapped as an Arrow
//! `Buffer` owned by the mapping; the footer and the single record batch are decoded in place,
//! so column buffers point into the mapping. Every structural fact the decoder would otherwise
//! trust (magic bytes, footer length, block and buffer ranges, batch count) is checked first,
//! and the decoder runs under `catch_unwind`, so garbage bytes give `Error::Cache`, not a panic.

use std::collections::HashMap;
use std::fs::File;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::ptr::NonNull;
use std::sync::Arc;

use arrow_array::RecordBatch;
use arrow_buffer::Buffer;
use arrow_ipc::convert::try_fb_to_schema;
use arrow_ipc::reader::FileDecoder;
use arrow_ipc::{root_as_footer, root_as_message, Block, Footer, MessageHeader};
use arrow_schema::{DataType, Metadata, Schema};
use memmap2::Mmap;

use super::cache_error;
use crate::error::Result;

const MAGIC: &[u8; 6] = b"ARROW1";
/// Leading magic + padding, and trailing footer length + magic.
const HEAD: usize = 8;
const TAIL: usize = 10;

/// Read the cache file at `path`: its one record batch (zero-copy, backed by a memory map that
/// lives as long as the batch's buffers) and its schema metadata. A missing, truncated or
/// corrupt file, or one with zero or several batches, is `Error::Cache`.
pub fn read_ipc(path: &Path) -> Result<(RecordBatch, HashMap<String, String>)> {
    let (batch, _map) = read_mapped(path)?;
    let metadata = to_map(batch.schema().metadata());
    Ok((batch, metadata))
}

/// Like `read_ipc`, and when `verify` recompute the content digest and compare it with the
/// stored one: a mismatch or a missing digest is `Error::Cache` (a corrupt or foreign file).
pub fn read_ipc_verified(
    path: &Path,
    verify: bool,
) -> Result<(RecordBatch, HashMap<String, String>)> {
    let (batch, metadata) = read_ipc(path)?;
    if verify {
        let stored = metadata
            .get(super::DIGEST_KEY)
            .ok_or_else(|| cache_error(path, "no content digest (not written by this ckv)"))?;
        let meta = metadata.get(super::digest::META_KEY).map(String::as_str);
        let actual = super::digest(&batch, meta)?;
        if *stored != actual {
            return Err(cache_error(
                path,
                format!("content digest mismatch (stored {stored}, computed {actual}): the file is corrupt"),
            ));
        }
    }
    Ok((batch, metadata))
}

/// Read only the schema metadata of the cache file at `path` (maps the file, touches the footer).
pub fn read_metadata(path: &Path) -> Result<HashMap<String, String>> {
    let map = map_file(path)?;
    let (footer, _) = parse_footer(&map).map_err(|r| cache_error(path, r))?;
    let schema = footer_schema(&footer).map_err(|r| cache_error(path, r))?;
    Ok(to_map(schema.metadata()))
}

/// Map, validate and decode the file at `path`; also returns the mapping the batch points into.
pub(super) fn read_mapped(path: &Path) -> Result<(RecordBatch, Arc<Mmap>)> {
    let map = Arc::new(map_file(path)?);
    let decoded = catch_unwind(AssertUnwindSafe(|| decode(&map)));
    match decoded {
        Ok(Ok(batch)) => Ok((batch, map)),
        Ok(Err(reason)) => Err(cache_error(path, reason)),
        Err(_) => Err(cache_error(path, "corrupt file (decoder panicked)")),
    }
}

/// Schema metadata as the `HashMap` the API hands out.
fn to_map(metadata: &Metadata) -> HashMap<String, String> {
    metadata
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// Open and map `path`, refusing files too short to be an IPC file.
fn map_file(path: &Path) -> Result<Mmap> {
    let file = File::open(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => cache_error(path, "missing"),
        _ => cache_error(path, format!("open: {e}")),
    })?;
    let len = file
        .metadata()
        .map_err(|e| cache_error(path, format!("stat: {e}")))?
        .len();
    if len < (HEAD + TAIL) as u64 {
        return Err(cache_error(path, format!("truncated: {len} bytes")));
    }
    // SAFETY: cache files are only ever replaced by rename, never modified in place, so the
    // mapped bytes do not change under us.
    unsafe { Mmap::map(&file) }.map_err(|e| cache_error(path, format!("mmap: {e}")))
}

/// The footer of an IPC file in `bytes` and the offset where it starts.
fn parse_footer(bytes: &[u8]) -> Result<(Footer<'_>, usize), String> {
    let len = bytes.len();
    if len < HEAD + TAIL || &bytes[..6] != MAGIC || &bytes[len - 6..] != MAGIC {
        return Err("not an Arrow IPC file (bad magic)".into());
    }
    let footer_len = i32::from_le_bytes(bytes[len - TAIL..len - 6].try_into().unwrap());
    let footer_start = usize::try_from(footer_len)
        .ok()
        .and_then(|n| (len - TAIL).checked_sub(n))
        .filter(|&start| start >= HEAD && footer_len > 0)
        .ok_or_else(|| format!("bad footer length {footer_len}"))?;
    let footer = root_as_footer(&bytes[footer_start..len - TAIL])
        .map_err(|e| format!("corrupt footer: {e}"))?;
    Ok((footer, footer_start))
}

/// The Arrow schema recorded in the footer.
fn footer_schema(footer: &Footer) -> Result<Schema, String> {
    let fb = footer.schema().ok_or("footer has no schema")?;
    if !fb.endianness().equals_to_target_endianness() {
        return Err("file written with a different endianness".into());
    }
    try_fb_to_schema(fb).map_err(|e| format!("bad schema: {e}"))
}

/// Validate and decode the single record batch of the mapped file.
fn decode(map: &Arc<Mmap>) -> Result<RecordBatch, String> {
    let (footer, footer_start) = parse_footer(&map[..])?;
    let schema = Arc::new(footer_schema(&footer)?);
    if footer.dictionaries().is_some_and(|d| !d.is_empty()) {
        return Err("dictionary batches are not supported".into());
    }
    let blocks = footer
        .recordBatches()
        .ok_or("footer lists no record batches")?;
    if blocks.len() != 1 {
        return Err(format!("expected one record batch, found {}", blocks.len()));
    }
    let block = blocks.get(0);
    let (start, len) = check_block(&map[..], block, footer_start, &schema)?;

    let ptr = NonNull::new(map.as_ptr() as *mut u8).ok_or("empty mapping")?;
    // SAFETY: `ptr` and `map.len()` describe the live mapping, which the buffer keeps alive
    // through its owner `Arc<Mmap>`; the bytes are never written through.
    let buffer = unsafe { Buffer::from_custom_allocation(ptr, map.len(), map.clone()) };
    let data = buffer.slice_with_length(start, len);
    FileDecoder::new(schema, footer.version())
        .read_record_batch(block, &data)
        .map_err(|e| format!("corrupt record batch: {e}"))?
        .ok_or_else(|| "record batch block holds no message".into())
}

/// Checks that `block` (metadata + body) lies between the header and the footer and that its
/// message is an uncompressed record batch of `schema` whose buffers are 8-byte aligned, whole
/// numbers of elements and inside the body. Returns the block's byte range as (start, len).
fn check_block(
    bytes: &[u8],
    block: &Block,
    footer_start: usize,
    schema: &Schema,
) -> Result<(usize, usize), String> {
    let bad = || format!("bad record batch block {block:?}");
    let start = usize::try_from(block.offset()).map_err(|_| bad())?;
    let meta = usize::try_from(block.metaDataLength()).map_err(|_| bad())?;
    let body = usize::try_from(block.bodyLength()).map_err(|_| bad())?;
    let len = meta.checked_add(body).ok_or_else(bad)?;
    let end = start.checked_add(len).ok_or_else(bad)?;
    if start < HEAD || meta < 8 || end > footer_start {
        return Err(bad());
    }
    // Encapsulated message: [0xFFFFFFFF] i32 length, flatbuffer, padding (legacy: no marker).
    let m = &bytes[start..start + meta];
    let (fb_at, len_at) = if m[..4] == [0xff; 4] { (8, 4) } else { (4, 0) };
    let fb_len = i32::from_le_bytes(m[len_at..len_at + 4].try_into().unwrap());
    let fb_end = usize::try_from(fb_len)
        .ok()
        .and_then(|n| n.checked_add(fb_at))
        .filter(|&e| e <= meta)
        .ok_or_else(bad)?;
    let message =
        root_as_message(&m[fb_at..fb_end]).map_err(|e| format!("corrupt message: {e}"))?;
    if message.header_type() != MessageHeader::RecordBatch {
        return Err(format!(
            "expected a record batch, found {:?}",
            message.header_type()
        ));
    }
    let batch = message.header_as_record_batch().ok_or_else(bad)?;
    if batch.compression().is_some() {
        return Err("compressed record batches are not supported".into());
    }
    if batch.length() < 0 {
        return Err(bad());
    }
    let nodes = batch.nodes().ok_or_else(bad)?;
    let buffers = batch.buffers().ok_or_else(bad)?;
    if nodes.len() != schema.fields().len() {
        return Err(format!(
            "{} field nodes for {} fields",
            nodes.len(),
            schema.fields().len()
        ));
    }
    let mut buffers = buffers.iter();
    for (node, field) in nodes.iter().zip(schema.fields()) {
        if node.length() < 0 || node.null_count() < 0 || node.null_count() > node.length() {
            return Err(format!("bad field node {node:?}"));
        }
        // Validity bitmap first, then the type's own buffers with their element widths.
        for (k, width) in buffer_widths(field.data_type())?.iter().enumerate() {
            let b = buffers
                .next()
                .ok_or("fewer buffers than the schema needs")?;
            let (offset, blen) = (b.offset(), b.length());
            let in_body = offset >= 0
                && blen >= 0
                && offset % 8 == 0
                && blen % width == 0
                && offset
                    .checked_add(blen)
                    .is_some_and(|e| e as u64 <= body as u64);
            // A validity bitmap in use must cover every row.
            let bitmap_ok = k > 0
                || node.null_count() == 0
                || blen
                    .checked_mul(8)
                    .is_some_and(|bits| bits >= node.length());
            if !in_body || !bitmap_ok {
                return Err(format!("bad buffer {b:?} for column {}", field.name()));
            }
        }
    }
    Ok((start, len))
}

/// Element widths of the IPC buffers of a flat column: validity bitmap, then values (or offsets
/// and data). Nested, dictionary and view columns never occur in a cache file and are refused.
fn buffer_widths(data_type: &DataType) -> Result<&'static [i64], String> {
    Ok(match data_type {
        DataType::Boolean => &[1, 1],
        DataType::Utf8 | DataType::Binary => &[1, 4, 1],
        DataType::LargeUtf8 | DataType::LargeBinary => &[1, 8, 1],
        t if t.is_primitive() => match t.primitive_width() {
            Some(1) => &[1, 1],
            Some(2) => &[1, 2],
            Some(4) => &[1, 4],
            Some(8) => &[1, 8],
            Some(16) => &[1, 16],
            Some(32) => &[1, 32],
            _ => return Err(format!("unsupported column type {t}")),
        },
        t => return Err(format!("unsupported column type {t}")),
    })
}
