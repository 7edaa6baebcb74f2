//! `signet.v1.Revocations/Watch`: the revocation stream as a gRPC server stream (the same
//! entries as `GET /revocations`, see `crate::revocations`). Open, like the JWKS.

use crate::Gateway;
use signet_proto::v1::revocations_server::Revocations;
use signet_proto::v1::{RevocationBatch, RevocationEntry, WatchRevocationsRequest};
use signet_verify::revocation::{RevocationPage, Revoked};
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;
use tokio_stream::Stream;

pub(crate) struct RevocationsApi {
    pub gw: Arc<Gateway>,
}

fn batch(page: RevocationPage) -> RevocationBatch {
    let revocations = page
        .revocations
        .into_iter()
        .map(|e| {
            let mut out = RevocationEntry {
                seq: e.seq,
                until_ms: e.until_ms,
                ..Default::default()
            };
            match e.what {
                Revoked::User {
                    pool_id,
                    sub_hash,
                    before_ms,
                } => {
                    out.kind = "user".into();
                    (out.pool_id, out.sub_hash, out.before_ms) = (pool_id, sub_hash, before_ms);
                }
                Revoked::Family { family_hash } => {
                    out.kind = "family".into();
                    out.family_hash = family_hash;
                }
                Revoked::Token { jti_hash } => {
                    out.kind = "token".into();
                    out.jti_hash = jti_hash;
                }
                Revoked::Client {
                    pool_id,
                    client_id,
                    before_ms,
                } => {
                    out.kind = "client".into();
                    (out.pool_id, out.client_id, out.before_ms) = (pool_id, client_id, before_ms);
                }
                Revoked::Pool { pool_id } => {
                    out.kind = "pool".into();
                    out.pool_id = pool_id;
                }
                Revoked::Key { kid } => {
                    out.kind = "key".into();
                    out.kid = kid;
                }
            }
            out
        })
        .collect();
    RevocationBatch {
        revocations,
        last: page.last,
        reset: page.reset,
    }
}

type BatchStream = Pin<Box<dyn Stream<Item = Result<RevocationBatch, tonic::Status>> + Send>>;

#[tonic::async_trait]
impl Revocations for RevocationsApi {
    type WatchStream = BatchStream;

    async fn watch(
        &self,
        request: tonic::Request<WatchRevocationsRequest>,
    ) -> Result<tonic::Response<BatchStream>, tonic::Status> {
        let feed = self.gw.revocations.clone();
        if !feed.is_loaded() {
            return Err(tonic::Status::unavailable("revocations not loaded yet"));
        }
        let gw = self.gw.clone();
        let mut after = request.into_inner().after;
        let (tx, rx) = tokio::sync::mpsc::channel(4);
        tokio::spawn(async move {
            // The first batch at once (a follower is current as soon as it has it), then
            // one per change; the watch ends when the caller goes or the gateway stops.
            loop {
                let page = feed.page(after, gw.cfg.clock.now_ms());
                let news = !page.revocations.is_empty() || page.reset || after == 0;
                after = page.last;
                if news && tx.send(Ok(batch(page))).await.is_err() {
                    return;
                }
                tokio::select! {
                    _ = feed.wait_past(after, Duration::from_secs(3600)) => {}
                    _ = tx.closed() => return,
                }
                if feed.stopping() {
                    return;
                }
            }
        });
        Ok(tonic::Response::new(Box::pin(
            tokio_stream::wrappers::ReceiverStream::new(rx),
        )))
    }
}
