//! Receiving an upload's CSV file: the body is streamed into a CSV reader on a blocking
//! thread, each row validated like AdminCreateUser, and the valid users staged in chunks
//! through the log; nothing is inserted before the job starts. (The HTTP face, with the
//! pre-signed URL check, is `api::http::import`.)

use super::upload::{parse, Batch, BodyReader, ParseLimits, Piece};
use super::Imports;
use crate::AppError;
use bytes::Bytes;
use http_body_util::BodyExt;
use signet_core::{Command, ImportJob, StageImportChunk, StopImportJob, UserPool};
use std::sync::Arc;
use tokio::sync::mpsc;

/// What an upload did.
#[derive(Debug, Default, Clone, Copy)]
pub struct UploadSummary {
    /// Data rows read.
    pub rows: u64,
    /// Users staged.
    pub staged: u64,
    /// Rows refused.
    pub rejected: u64,
}

/// Why the body could not be read to its end.
#[derive(Debug, Clone, Copy)]
enum BodyError {
    TooLarge,
    Broken,
}

impl Imports {
    /// The answer for a file over the size limit.
    pub(crate) fn too_large(&self) -> AppError {
        AppError::TooLarge(format!(
            "The CSV file is larger than {} bytes.",
            self.settings.max_bytes
        ))
    }

    /// Pump the body to the parser and stage the batches it sends back, concurrently. If the
    /// upload fails after staging began, the job is stopped (dropping what was staged): a half
    /// upload must never be started, and the job takes no second upload.
    pub(crate) async fn receive_upload<B>(
        &self,
        pool: Arc<UserPool>,
        job: ImportJob,
        body: B,
    ) -> Result<UploadSummary, AppError>
    where
        B: http_body::Body<Data = Bytes> + Unpin + Send + 'static,
        B::Error: Send,
    {
        let (body_tx, body_rx) = mpsc::channel(16);
        let (batch_tx, batch_rx) = mpsc::channel(2);
        let limits = ParseLimits {
            max_rows: self.settings.max_rows,
            chunk_rows: self.settings.chunk_rows,
            now_ms: self.clock.now_ms(),
        };
        let parser = {
            tokio::task::spawn_blocking(move || {
                parse(&limits, &pool, BodyReader::new(body_rx), batch_tx)
            })
        };
        let upload_id = signet_crypto::random_hex_id();
        let ((pumped, (staged_chunks, staged)), parsed) = (
            tokio::join!(
                pump(body, body_tx, self.settings.max_bytes),
                self.stage(&job, &upload_id, batch_rx)
            ),
            parser.await,
        );
        // The first cause wins: a broken body explains the parser's error, a refused chunk
        // explains why the parser could not hand over its batches.
        let result = match (pumped, staged, parsed) {
            (Err(BodyError::TooLarge), _, _) => Err(self.too_large()),
            (Err(BodyError::Broken), _, _) => Err(AppError::invalid("The upload broke off.")),
            (Ok(()), Err(e), _) => Err(e),
            (Ok(()), Ok(_), Err(e)) => Err(AppError::Internal(format!("upload parser: {e}"))),
            (Ok(()), Ok(_), Ok(Err(e))) => Err(e),
            (Ok(()), Ok(mut summary), Ok(Ok(rows))) => {
                summary.rows = rows;
                Ok(summary)
            }
        };
        if result.is_err() && staged_chunks > 0 {
            let stop = Command::StopImportJob(StopImportJob {
                pool_id: job.pool_id.clone(),
                job_id: job.job_id.clone(),
                at_ms: self.clock.now_ms(),
            });
            if let Err(e) = self.store.write(stop).await {
                tracing::warn!(job_id = %job.job_id, "stopping a broken upload's job: {e}");
            }
        }
        result
    }

    /// Stage each batch as the next chunk. Returns how many were staged, and the totals or the
    /// first failure (after which the receiver is dropped, which stops the parser).
    async fn stage(
        &self,
        job: &ImportJob,
        upload_id: &str,
        mut batches: mpsc::Receiver<Batch>,
    ) -> (u32, Result<UploadSummary, AppError>) {
        let mut seq = 0u32;
        let mut summary = UploadSummary::default();
        while let Some(b) = batches.recv().await {
            let (staged, rejected) = (b.rows.len() as u64, b.rejected_rows);
            let cmd = Command::StageImportChunk(StageImportChunk {
                pool_id: job.pool_id.clone(),
                job_id: job.job_id.clone(),
                upload_id: upload_id.into(),
                seq,
                last: b.last,
                rows: b.rows,
                rejected_rows: b.rejected_rows,
                rejected: b.rejected,
            });
            if let Err(e) = self.store.write(cmd).await {
                return (seq, Err(e));
            }
            seq += 1;
            summary.staged += staged;
            summary.rejected += rejected;
        }
        (seq, Ok(summary))
    }
}

/// Feed the body to the parser, at most `max` bytes. Stops quietly if the parser stops.
async fn pump<B>(mut body: B, tx: mpsc::Sender<Piece>, max: u64) -> Result<(), BodyError>
where
    B: http_body::Body<Data = Bytes> + Unpin,
{
    let mut total = 0u64;
    loop {
        match body.frame().await {
            None => {
                let _ = tx.send(Piece::End).await;
                return Ok(());
            }
            Some(Err(_)) => {
                let _ = tx.send(Piece::Failed).await;
                return Err(BodyError::Broken);
            }
            Some(Ok(frame)) => {
                let Ok(data) = frame.into_data() else {
                    continue; // trailers
                };
                total += data.len() as u64;
                if total > max {
                    let _ = tx.send(Piece::Failed).await;
                    return Err(BodyError::TooLarge);
                }
                if tx.send(Piece::Data(data)).await.is_err() {
                    return Ok(()); // the parser stopped; its answer says why
                }
            }
        }
    }
}
