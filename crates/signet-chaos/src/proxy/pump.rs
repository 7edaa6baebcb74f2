//! Copying one proxied connection both ways under the current rules.
//!
//! Each direction is a reader and a writer joined by a bounded queue. The reader stamps
//! every chunk with when it may be delivered — its arrival plus the link's delay, and never
//! before the chunk ahead of it, so bytes keep their order whatever the jitter — and the
//! writer waits for that instant. A full queue stops the reader, so a slow link pushes back
//! on its sender as TCP would, instead of buffering without bound.

use super::Shared;
use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

/// Chunks in flight per direction (each at most [`CHUNK`] bytes).
const QUEUE: usize = 256;
/// The most one read takes.
const CHUNK: usize = 16 * 1024;

/// One accepted connection: `from` called `to` (None: a side the proxy cannot name).
pub(super) struct Conn {
    pub(super) from: Option<usize>,
    pub(super) to: Option<usize>,
    pub(super) shared: Arc<Shared>,
}

impl Conn {
    /// Copy both ways until both sides have closed, either fails, or a heal ends a
    /// connection that lost bytes.
    pub(super) async fn run(self, caller: TcpStream, store: TcpStream) {
        // Delays are the point here: Nagle's algorithm must not add its own.
        let _ = caller.set_nodelay(true);
        let _ = store.set_nodelay(true);
        let (caller_rd, caller_wr) = caller.into_split();
        let (store_rd, store_wr) = store.into_split();
        let tainted = Arc::new(AtomicBool::new(false));
        let mut heals = self.shared.heals.subscribe();
        let forward = Direction {
            from: self.from,
            to: self.to,
            shared: self.shared.clone(),
            tainted: tainted.clone(),
        };
        let back = Direction {
            from: self.to,
            to: self.from,
            shared: self.shared.clone(),
            tainted: tainted.clone(),
        };
        let both = async {
            tokio::try_join!(
                forward.run(caller_rd, store_wr),
                back.run(store_rd, caller_wr)
            )
        };
        tokio::select! {
            _ = both => {}
            _ = closed_by_heal(&mut heals, &tainted) => {}
        }
    }
}

/// Returns at the first heal after this connection lost bytes.
async fn closed_by_heal(heals: &mut watch::Receiver<u64>, tainted: &AtomicBool) {
    loop {
        if heals.changed().await.is_err() {
            // The proxy is gone; the connection ends with it.
            return std::future::pending().await;
        }
        if tainted.load(Ordering::Relaxed) {
            return;
        }
    }
}

/// Bytes flowing from `from` to `to` on one connection.
struct Direction {
    from: Option<usize>,
    to: Option<usize>,
    shared: Arc<Shared>,
    /// Set once this connection has discarded bytes (either direction).
    tainted: Arc<AtomicBool>,
}

impl Direction {
    async fn run(self, mut rd: OwnedReadHalf, mut wr: OwnedWriteHalf) -> io::Result<()> {
        let (tx, mut rx) = mpsc::channel::<(Instant, Vec<u8>)>(QUEUE);
        let reader = async move {
            let mut jitter = Jitter::new();
            let mut last = Instant::now();
            let mut buf = vec![0u8; CHUNK];
            loop {
                let n = rd.read(&mut buf).await?;
                if n == 0 {
                    // Dropping `tx` lets the writer deliver what is queued, then the EOF.
                    return Ok(());
                }
                let now = Instant::now();
                let rule = self.shared.lookup(self.from, self.to);
                if rule.drop {
                    self.tainted.store(true, Ordering::Relaxed);
                    continue;
                }
                let at = (now + jitter.sample(rule.delay)).max(last);
                last = at;
                if tx.send((at, buf[..n].to_vec())).await.is_err() {
                    return Err(io::Error::from(io::ErrorKind::BrokenPipe));
                }
            }
        };
        let writer = async move {
            while let Some((at, bytes)) = rx.recv().await {
                tokio::time::sleep_until(at).await;
                wr.write_all(&bytes).await?;
            }
            // Pass the sender's half-close on once everything before it is delivered.
            wr.shutdown().await
        };
        tokio::try_join!(reader, writer).map(|_| ())
    }
}

/// Per-chunk delays: the link's delay, give or take up to its jitter (xorshift, seeded
/// from the process's hash keys: jitter needs no reproducibility, only spread).
struct Jitter(u64);

impl Jitter {
    fn new() -> Jitter {
        Jitter(RandomState::new().build_hasher().finish() | 1)
    }

    fn sample(&mut self, d: super::Delay) -> Duration {
        if d.jitter_ms == 0 {
            return Duration::from_millis(d.ms);
        }
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        // Uniform in ms ± jitter, in microseconds so that small jitters still spread.
        let span = 2 * d.jitter_ms * 1000 + 1;
        let us = (d.ms * 1000 + self.0 % span).saturating_sub(d.jitter_ms * 1000);
        Duration::from_micros(us)
    }
}

#[cfg(test)]
mod tests {
    use super::super::Delay;
    use super::*;

    #[test]
    fn jitter_stays_within_its_bounds_and_spreads() {
        let mut j = Jitter::new();
        let d = Delay {
            ms: 30,
            jitter_ms: 10,
        };
        let samples: Vec<Duration> = (0..2000).map(|_| j.sample(d)).collect();
        let (lo, hi) = (Duration::from_millis(20), Duration::from_millis(40));
        assert!(samples.iter().all(|s| (lo..=hi).contains(s)));
        assert!(samples.iter().any(|s| *s < Duration::from_millis(23)));
        assert!(samples.iter().any(|s| *s > Duration::from_millis(37)));
        let small = Delay {
            ms: 2,
            jitter_ms: 5,
        };
        assert!((0..100).all(|_| j.sample(small) <= Duration::from_millis(7)));
        assert_eq!(j.sample(Delay::default()), Duration::ZERO);
    }
}
