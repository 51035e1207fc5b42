//! An Arrow IPC file of one record batch written straight from the pieces' buffers: the same
//! bytes as arrow_ipc's `FileWriter` writes for the concatenated batch (alignment 64, metadata
//! V5, uncompressed), without building that batch. The messages come from arrow_ipc's own
//! pieces (the schema message, the `Message`/`RecordBatch` builders with their `FieldNode`s and
//! `Buffer`s, the footer with its `Block`), in the order `FileWriter` builds them; the body is
//! each column's buffers in IPC order, a fixed-width column's values as one segment per piece,
//! every buffer padded to 64 bytes. The bytes go out through one write buffer (as
//! `FileWriter`'s did): vectored writes straight from the pieces were measured slower in the
//! cold path, where the kernel's copy out of the parser's fresh (huge-page) memory cost about
//! twice the user-space copy into a buffer the kernel then copies from hot.

use std::io::{BufWriter, Write};

use arrow_array::OffsetSizeTrait;
use arrow_buffer::Buffer;
use arrow_data::ArrayData;
use arrow_ipc::convert::IpcSchemaEncoder;
use arrow_ipc::writer::{write_message, DictionaryTracker, IpcDataGenerator, IpcWriteOptions};
use arrow_ipc::{
    Block, FieldNode, FooterBuilder, MessageBuilder, MessageHeader, MetadataVersion,
    RecordBatchBuilder,
};
use arrow_schema::{DataType, Schema};
use flatbuffers::FlatBufferBuilder;

use super::columns::{fixed_width, values, Column, Columns};
use crate::error::{Error, Result};

/// Every buffer and message starts on a multiple of this.
const ALIGNMENT: usize = 64;
const VERSION: MetadataVersion = MetadataVersion::V5;
const PADDING: [u8; ALIGNMENT] = [0; ALIGNMENT];
const MAGIC: &[u8; 6] = b"ARROW1";
const CONTINUATION: [u8; 4] = [0xff; 4];
/// The write buffer; a part at least this long bypasses it.
const WRITE_BUFFER: usize = 1 << 20;

/// The options of every cache file.
fn options() -> Result<IpcWriteOptions> {
    Ok(IpcWriteOptions::try_new(ALIGNMENT, false, VERSION)?)
}

/// Write the file of `schema` (with its metadata) and `columns` to `out`.
pub(super) fn write_file(out: &mut impl Write, schema: &Schema, columns: &Columns) -> Result<()> {
    let body = Body::of(columns)?;
    let options = options()?;
    let mut head = Vec::with_capacity(4096);
    head.extend_from_slice(MAGIC);
    head.extend_from_slice(&PADDING[..pad(MAGIC.len())]);
    let schema_message = IpcDataGenerator::default().schema_to_bytes_with_dictionary_tracker(
        schema,
        &mut DictionaryTracker::new(true),
        &options,
    );
    write_message(&mut head, schema_message, &options)?;
    let offset = head.len();
    let header_len = frame(&mut head, &batch_message(columns.rows, &body));
    let block = Block::new(offset as i64, header_len as i32, body.len as i64);

    let mut tail = Vec::with_capacity(4096);
    tail.extend_from_slice(&CONTINUATION);
    tail.extend_from_slice(&0i32.to_le_bytes()); // end of stream
    let footer = footer(schema, &block);
    tail.extend_from_slice(&footer);
    tail.extend_from_slice(&(footer.len() as i32).to_le_bytes());
    tail.extend_from_slice(MAGIC);

    let mut parts: Vec<&[u8]> = vec![&head];
    for segments in &body.segments {
        let len: usize = segments.iter().map(Buffer::len).sum();
        parts.extend(segments.iter().map(Buffer::as_slice));
        parts.push(&PADDING[..pad(len)]);
    }
    parts.push(&tail);
    let mut buffered = BufWriter::with_capacity(WRITE_BUFFER, out);
    for part in parts {
        buffered.write_all(part)?;
    }
    buffered.flush()?;
    Ok(())
}

/// Bytes that pad `len` to the alignment.
fn pad(len: usize) -> usize {
    len.next_multiple_of(ALIGNMENT) - len
}

/// A message after its continuation marker and padded length, padded so that the whole is a
/// multiple of the alignment; returns the whole's length.
fn frame(out: &mut Vec<u8>, message: &[u8]) -> usize {
    let whole = (message.len() + 8).next_multiple_of(ALIGNMENT);
    out.extend_from_slice(&CONTINUATION);
    out.extend_from_slice(&((whole - 8) as i32).to_le_bytes());
    out.extend_from_slice(message);
    out.extend_from_slice(&PADDING[..whole - 8 - message.len()]);
    whole
}

/// The record batch message (`FileWriter`'s `record_batch_to_bytes`, uncompressed, no
/// variadic buffers).
fn batch_message(rows: usize, body: &Body) -> Vec<u8> {
    let mut fbb = FlatBufferBuilder::new();
    let buffers = fbb.create_vector(&body.buffers);
    let nodes = fbb.create_vector(&body.nodes);
    let mut batch = RecordBatchBuilder::new(&mut fbb);
    batch.add_length(rows as i64);
    batch.add_nodes(nodes);
    batch.add_buffers(buffers);
    let batch = batch.finish();
    let mut message = MessageBuilder::new(&mut fbb);
    message.add_version(VERSION);
    message.add_header_type(MessageHeader::RecordBatch);
    message.add_bodyLength(body.len as i64);
    message.add_header(batch.as_union_value());
    let root = message.finish();
    fbb.finish(root, None);
    fbb.finished_data().to_vec()
}

/// The footer (`FileWriter::finish`): no dictionaries, one record batch, no custom metadata.
fn footer(schema: &Schema, block: &Block) -> Vec<u8> {
    let mut fbb = FlatBufferBuilder::new();
    let dictionaries = fbb.create_vector::<Block>(&[]);
    let batches = fbb.create_vector(std::slice::from_ref(block));
    let mut tracker = DictionaryTracker::new(true);
    let schema = IpcSchemaEncoder::new()
        .with_dictionary_tracker(&mut tracker)
        .schema_to_fb_offset(&mut fbb, schema);
    let mut footer = FooterBuilder::new(&mut fbb);
    footer.add_version(VERSION);
    footer.add_schema(schema);
    footer.add_dictionaries(dictionaries);
    footer.add_recordBatches(batches);
    let root = footer.finish();
    fbb.finish(root, None);
    fbb.finished_data().to_vec()
}

/// The record batch body: a node per column, an entry per buffer and each buffer's bytes as
/// segments (unpadded).
#[derive(Default)]
struct Body {
    nodes: Vec<FieldNode>,
    buffers: Vec<arrow_ipc::Buffer>,
    segments: Vec<Vec<Buffer>>,
    /// Length of the body, padding included.
    len: usize,
}

impl Body {
    fn of(columns: &Columns) -> Result<Body> {
        let mut body = Body::default();
        for column in &columns.columns {
            match column {
                Column::Pieces { width, pieces } => {
                    let rows: usize = pieces.iter().map(ArrayData::len).sum();
                    body.nodes.push(FieldNode::new(rows as i64, 0));
                    body.push(vec![]); // no nulls: an empty validity buffer
                    let mut segments = Vec::with_capacity(pieces.len());
                    for piece in pieces.iter().filter(|p| !p.is_empty()) {
                        let bytes = values(piece, *width)?.len();
                        let start = piece.offset() * width;
                        segments.push(piece.buffers()[0].slice_with_length(start, bytes));
                    }
                    body.push(segments);
                }
                Column::Whole(data) => body.whole(data)?,
            }
        }
        Ok(body)
    }

    /// Add one buffer of `segments`.
    fn push(&mut self, segments: Vec<Buffer>) {
        let len: usize = segments.iter().map(Buffer::len).sum();
        self.buffers
            .push(arrow_ipc::Buffer::new(self.len as i64, len as i64));
        self.len += len + pad(len);
        self.segments.push(segments);
    }

    /// Add a column written from one array, the buffers arrow_ipc's `write_array_data` writes.
    fn whole(&mut self, data: &ArrayData) -> Result<()> {
        let (len, nulls) = (data.len(), data.null_count());
        self.nodes.push(FieldNode::new(len as i64, nulls as i64));
        match data.nulls() {
            Some(bits) if nulls > 0 => self.push(vec![bits.inner().sliced()]),
            _ => self.push(vec![]),
        }
        let short = || Error::Invalid("write_ipc: column buffer shorter than its rows".into());
        let first = data.buffers().first().ok_or_else(short)?;
        match data.data_type() {
            DataType::Boolean => {
                if first.len() * 8 < data.offset() + len {
                    return Err(short());
                }
                self.push(vec![first.bit_slice(data.offset(), len)]);
            }
            DataType::Utf8 | DataType::Binary => {
                for b in byte_array::<i32>(data).ok_or_else(short)? {
                    self.push(vec![b]);
                }
            }
            DataType::LargeUtf8 | DataType::LargeBinary => {
                for b in byte_array::<i64>(data).ok_or_else(short)? {
                    self.push(vec![b]);
                }
            }
            dt => {
                let width = fixed_width(dt).ok_or_else(|| {
                    Error::Invalid(format!("write_ipc: unsupported column type {dt}"))
                })?;
                let bytes = values(data, width)?.len();
                self.push(vec![first.slice_with_length(data.offset() * width, bytes)]);
            }
        }
        Ok(())
    }
}

/// A variable-width column's offsets (counted from the first, as `FileWriter` re-encodes
/// them) and the value bytes they span; an empty column has the single offset 0.
fn byte_array<O: OffsetSizeTrait>(data: &ArrayData) -> Option<[Buffer; 2]> {
    let width = size_of::<O>();
    if data.is_empty() {
        return Some([
            Buffer::from_vec(vec![O::usize_as(0)]),
            Buffer::from_vec(Vec::<u8>::new()),
        ]);
    }
    let (buffer, values) = (data.buffers().first()?, data.buffers().get(1)?);
    let (start, end) = (
        data.offset() * width,
        (data.offset() + data.len() + 1) * width,
    );
    let offsets: &[O] = buffer.typed_data::<O>().get(start / width..end / width)?;
    let (first, last) = (offsets[0], offsets[offsets.len() - 1]);
    let (lo, hi) = (first.to_usize()?, last.to_usize()?);
    if hi < lo || hi > values.len() {
        return None;
    }
    let offsets = if lo == 0 {
        buffer.slice_with_length(start, end - start)
    } else {
        Buffer::from_vec(offsets.iter().map(|&o| o - first).collect::<Vec<O>>())
    };
    Some([offsets, values.slice_with_length(lo, hi - lo)])
}
