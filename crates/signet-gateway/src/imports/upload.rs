//! The parsing half of a user import upload, on a blocking thread: the body arrives in
//! pieces over a channel, the csv crate reads it row by row, each row is validated
//! ([`super::csv::row_user`]) and the valid users go back to the async side in
//! batches to be staged. Only channels connect the two halves, so each ends when the other
//! goes away (a dropped request, a shutting-down runtime).

use super::csv::{row_user, Columns};
use crate::AppError;
use bytes::{Buf, Bytes};
use signet_core::{ImportRow, RowError, UserPool, MAX_IMPORT_ERRORS};
use std::io::Read;
use tokio::sync::mpsc;

/// Longest CSV record (header included) accepted. Cognito's attribute limits make any real
/// record a few KiB; without a cap, one unterminated quoted field would make the whole
/// upload (up to 512 MiB) a single record held in memory.
pub const MAX_RECORD_BYTES: u64 = 64 * 1024;

/// How far the csv reader reads ahead of the record it is parsing (its buffer, 8 KiB),
/// with room to spare.
const READ_AHEAD: u64 = 16 * 1024;

/// The error [`RecordGuard`] stops the csv reader with.
#[derive(Debug)]
struct RecordTooLong;

impl std::fmt::Display for RecordTooLong {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "a CSV record is longer than {} KiB",
            MAX_RECORD_BYTES / 1024
        )
    }
}

impl std::error::Error for RecordTooLong {}

/// A reader that fails once more than [`MAX_RECORD_BYTES`] (plus the read-ahead) were read
/// since the current record began, so the csv reader's record buffer never grows past it.
struct RecordGuard<R> {
    inner: R,
    read: u64,
    record_start: std::rc::Rc<std::cell::Cell<u64>>,
}

impl<R: Read> Read for RecordGuard<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.read.saturating_sub(self.record_start.get()) > MAX_RECORD_BYTES + READ_AHEAD {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                RecordTooLong,
            ));
        }
        let n = self.inner.read(buf)?;
        self.read += n as u64;
        Ok(n)
    }
}

/// Most bytes of users in one batch: a batch is one log entry when staged and again when
/// applied, and both must stay well under a megabyte.
const MAX_BATCH_BYTES: usize = 512 * 1024;

/// One piece of the body. The end is explicit: a channel closed without [`Piece::End`]
/// (the request was dropped) must not read as a complete file.
#[derive(Debug)]
pub(crate) enum Piece {
    /// More of the file.
    Data(Bytes),
    /// The file is complete.
    End,
    /// The body broke off (or exceeded the limit).
    Failed,
}

/// The body as a blocking reader, for the csv crate.
pub(crate) struct BodyReader {
    rx: mpsc::Receiver<Piece>,
    current: Bytes,
    ended: bool,
}

impl BodyReader {
    pub(crate) fn new(rx: mpsc::Receiver<Piece>) -> Self {
        BodyReader {
            rx,
            current: Bytes::new(),
            ended: false,
        }
    }
}

impl Read for BodyReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        loop {
            if !self.current.is_empty() {
                let n = buf.len().min(self.current.len());
                buf[..n].copy_from_slice(&self.current[..n]);
                self.current.advance(n);
                return Ok(n);
            }
            if self.ended {
                return Ok(0);
            }
            match self.rx.blocking_recv() {
                Some(Piece::Data(b)) => self.current = b,
                Some(Piece::End) => self.ended = true,
                Some(Piece::Failed) | None => {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::UnexpectedEof,
                        "the upload broke off",
                    ))
                }
            }
        }
    }
}

/// Valid rows to stage as one chunk, with the rows refused since the previous batch.
#[derive(Debug, Default)]
pub(crate) struct Batch {
    /// Validated users with their lines.
    pub rows: Vec<ImportRow>,
    /// Rows refused.
    pub rejected_rows: u64,
    /// Reasons (only while fewer than [`MAX_IMPORT_ERRORS`] were sent in all).
    pub rejected: Vec<RowError>,
    /// The file's last batch (sent only when the whole file was read).
    pub last: bool,
}

/// Bounds of one upload's parse (from the gateway's config).
#[derive(Debug, Clone, Copy)]
pub(crate) struct ParseLimits {
    /// Most data rows a file may hold.
    pub max_rows: u64,
    /// Rows per staged chunk.
    pub chunk_rows: usize,
    /// When the users are created (their creation time).
    pub now_ms: u64,
}

/// Read the whole file, sending batches to `out`; returns the number of data rows. Fails
/// on a header the pool does not accept, a file over the row limit, or a broken body.
pub(crate) fn parse(
    limits: &ParseLimits,
    pool: &UserPool,
    body: BodyReader,
    out: mpsc::Sender<Batch>,
) -> Result<u64, AppError> {
    let record_start = std::rc::Rc::new(std::cell::Cell::new(0));
    let body = RecordGuard {
        inner: body,
        read: 0,
        record_start: record_start.clone(),
    };
    // Rows may have any number of fields: a wrong count fails that row, not the file.
    let mut rdr = csv::ReaderBuilder::new().flexible(true).from_reader(body);
    let header = rdr.byte_headers().map_err(|e| csv_error(e, 1))?.clone();
    too_long(0, rdr.position().byte(), 1)?;
    record_start.set(rdr.position().byte());
    let header: Vec<&str> = header
        .iter()
        .map(std::str::from_utf8)
        .collect::<Result<_, _>>()
        .map_err(|_| AppError::invalid("The CSV header is not valid UTF-8."))?;
    let cols = Columns::parse(header, &pool.config)?;
    let send = |b: Batch| {
        // The async side stopped (its own error is the answer).
        out.blocking_send(b)
            .map_err(|_| AppError::Unavailable("staging stopped".into()))
    };
    let mut batch = Batch::default();
    let (mut rows, mut bytes, mut reasons) = (0u64, 0usize, 0usize);
    let mut rec = csv::ByteRecord::new();
    loop {
        // Where the next record starts: the line a failure is reported at.
        let (start, start_line) = (rdr.position().byte(), rdr.position().line());
        if !rdr
            .read_byte_record(&mut rec)
            .map_err(|e| csv_error(e, start_line))?
        {
            break;
        }
        too_long(start, rdr.position().byte(), start_line)?;
        record_start.set(rdr.position().byte());
        rows += 1;
        if rows > limits.max_rows {
            return Err(AppError::TooLarge(format!(
                "The CSV file has more than {} rows.",
                limits.max_rows
            )));
        }
        let line = rec.position().map(|p| p.line()).unwrap_or_default();
        let user = match rec
            .iter()
            .map(std::str::from_utf8)
            .collect::<Result<Vec<&str>, _>>()
        {
            Ok(fields) => row_user(limits.now_ms, pool, &cols, &fields),
            Err(_) => Err("the row is not valid UTF-8".to_string()),
        };
        match user {
            Ok((user, groups)) => {
                // The entry carries the users as JSON: measure them that way.
                bytes += serde_json::to_vec(&user).map(|v| v.len()).unwrap_or(4096)
                    + groups.iter().map(|g| g.len() + 3).sum::<usize>()
                    + 32;
                batch.rows.push(ImportRow { line, user, groups });
                if batch.rows.len() >= limits.chunk_rows.max(1) || bytes >= MAX_BATCH_BYTES {
                    send(std::mem::take(&mut batch))?;
                    bytes = 0;
                }
            }
            Err(reason) => {
                batch.rejected_rows += 1;
                if reasons < MAX_IMPORT_ERRORS {
                    reasons += 1;
                    batch.rejected.push(RowError { line, reason });
                }
            }
        }
    }
    batch.last = true;
    send(batch)?;
    Ok(rows)
}

/// Refuse a record that took more than [`MAX_RECORD_BYTES`] (from byte `start` to `end`).
fn too_long(start: u64, end: u64, line: u64) -> Result<(), AppError> {
    if end.saturating_sub(start) > MAX_RECORD_BYTES {
        return Err(record_too_long(line));
    }
    Ok(())
}

fn record_too_long(line: u64) -> AppError {
    AppError::invalid(format!(
        "Line {line}: {RecordTooLong}; the upload was refused."
    ))
}

/// The answer for a CSV reading error in the record that starts at `line`.
fn csv_error(e: csv::Error, line: u64) -> AppError {
    match e.kind() {
        csv::ErrorKind::Io(io)
            if io
                .get_ref()
                .is_some_and(|inner| inner.downcast_ref::<RecordTooLong>().is_some()) =>
        {
            record_too_long(line)
        }
        csv::ErrorKind::Io(_) => AppError::invalid("The upload broke off."),
        _ => AppError::invalid(format!("The CSV file cannot be read: {e}")),
    }
}
