//! Password hashing: argon2id on a fixed set of worker threads with a bounded queue.
//!
//! * The async executor never runs a hash: jobs go to `workers` OS threads.
//! * The queue is bounded and every job has a deadline: when the pool is saturated a caller
//!   gets [`PasswordError::Saturated`] at once (the API maps it to RESOURCE_EXHAUSTED)
//!   instead of queueing without limit while clients time out.
//! * Each worker keeps its argon2 memory blocks (19 MiB by default) and reuses them.
//! * Passwords longer than [`MAX_PASSWORD_BYTES`] are refused before any work is done.
//! * [`PasswordHasher::verify_dummy`] costs what a real verify costs, for unknown users.

use argon2::{Algorithm, Argon2, Block, Params, Version};
use base64::Engine;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use thiserror::Error;
use tokio::sync::oneshot;

/// Longest password accepted, in bytes (Cognito's limit is 256 characters).
pub const MAX_PASSWORD_BYTES: usize = 256;

const SALT_LEN: usize = 16;
const HASH_LEN: usize = 32;
const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD_NO_PAD;

/// argon2id cost parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordParams {
    /// Memory in KiB.
    pub m_kib: u32,
    /// Iterations.
    pub t: u32,
    /// Lanes.
    pub p: u32,
}

impl Default for PasswordParams {
    /// OWASP's argon2id baseline: m = 19 MiB, t = 2, p = 1.
    fn default() -> Self {
        PasswordParams {
            m_kib: 19 * 1024,
            t: 2,
            p: 1,
        }
    }
}

/// Why a hash or verify did not run.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum PasswordError {
    /// Every worker is busy and the queue is full, or the job waited past its deadline.
    #[error("password hashing is saturated; retry later")]
    Saturated,
    /// The password is longer than [`MAX_PASSWORD_BYTES`].
    #[error("password longer than {MAX_PASSWORD_BYTES} bytes")]
    TooLong,
    /// The stored hash is not a PHC argon2id string this hasher understands.
    #[error("malformed password hash: {0}")]
    Malformed(String),
    /// The worker pool has stopped.
    #[error("password hasher stopped")]
    Stopped,
    /// A hash brought from elsewhere uses parameters outside the accepted range.
    #[error("password hash parameters out of range: {0}")]
    OutOfRange(String),
}

/// Most memory (KiB), iterations and lanes accepted in a hash brought from elsewhere: every
/// sign-in pays that cost, so an imported hash must not turn sign-in into a denial of
/// service (256 MiB, 16 passes, 16 lanes is far above any sane setting).
const MAX_IMPORTED: PasswordParams = PasswordParams {
    m_kib: 256 * 1024,
    t: 16,
    p: 16,
};

/// Check a PHC string brought from another system (a user import): it must be argon2id,
/// version 19, parse, and use parameters no weaker than `min` in any of m, t and p (and no
/// costlier than a bounded maximum). Returns its parameters.
pub fn check_imported_hash(
    phc: &str,
    min: PasswordParams,
) -> Result<PasswordParams, PasswordError> {
    let parsed = parse_phc(phc)?;
    let p = PasswordParams {
        m_kib: parsed.params.m_cost(),
        t: parsed.params.t_cost(),
        p: parsed.params.p_cost(),
    };
    if p.m_kib < min.m_kib || p.t < min.t || p.p < min.p {
        return Err(PasswordError::OutOfRange(format!(
            "m={},t={},p={} is weaker than the minimum m={},t={},p={}",
            p.m_kib, p.t, p.p, min.m_kib, min.t, min.p
        )));
    }
    if p.m_kib > MAX_IMPORTED.m_kib || p.t > MAX_IMPORTED.t || p.p > MAX_IMPORTED.p {
        return Err(PasswordError::OutOfRange(format!(
            "m={},t={},p={} exceeds the maximum m={},t={},p={}",
            p.m_kib, p.t, p.p, MAX_IMPORTED.m_kib, MAX_IMPORTED.t, MAX_IMPORTED.p
        )));
    }
    if parsed.salt.len() < 8 || !(16..=64).contains(&parsed.hash.len()) {
        return Err(PasswordError::Malformed(
            "salt must have at least 8 bytes and the hash 16 to 64".into(),
        ));
    }
    Ok(p)
}

enum Work {
    Hash { password: Vec<u8> },
    Verify { password: Vec<u8>, phc: String },
}

struct Job {
    work: Work,
    deadline: Instant,
    reply: oneshot::Sender<Result<Outcome, PasswordError>>,
}

enum Outcome {
    Hashed(String),
    Verified(bool),
}

/// A place in the hash queue, taken with [`PasswordHasher::slot`]; given back when dropped
/// unused.
#[derive(Debug)]
pub struct HashSlot {
    queued: Option<Arc<AtomicUsize>>,
}

impl Drop for HashSlot {
    fn drop(&mut self) {
        if let Some(q) = self.queued.take() {
            q.fetch_sub(1, Ordering::AcqRel);
        }
    }
}

/// The hasher's threads are named this and a number (`/metrics` finds them by it).
pub const HASHER_THREAD_PREFIX: &str = "argon2-";

/// Handle to the worker pool. Cheap to clone; the workers stop when the last handle drops.
#[derive(Clone)]
pub struct PasswordHasher {
    tx: SyncSender<Job>,
    queued: Arc<AtomicUsize>,
    /// Jobs the queue holds.
    capacity: usize,
    params: PasswordParams,
    queue_deadline: Duration,
    dummy: Arc<String>,
}

impl PasswordHasher {
    /// Start `workers` threads with a queue of `queue` jobs; a job not started within
    /// `queue_deadline` is answered [`PasswordError::Saturated`].
    pub fn new(
        params: PasswordParams,
        workers: usize,
        queue: usize,
        queue_deadline: Duration,
    ) -> Self {
        let argon_params = Params::new(params.m_kib, params.t, params.p, Some(HASH_LEN))
            .expect("argon2 parameters within bounds");
        let (tx, rx) = sync_channel::<Job>(queue.max(1));
        let rx = Arc::new(Mutex::new(rx));
        let queued = Arc::new(AtomicUsize::new(0));
        for i in 0..workers.max(1) {
            let rx = rx.clone();
            let queued = queued.clone();
            let argon_params = argon_params.clone();
            std::thread::Builder::new()
                .name(format!("{HASHER_THREAD_PREFIX}{i}"))
                .spawn(move || worker(rx, queued, argon_params))
                .expect("spawn argon2 worker");
        }
        // A real hash of a random password: verifying against it costs what a real
        // verify costs, which is the point of the dummy.
        let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, argon_params);
        let salt = crate::random_bytes::<SALT_LEN>();
        let mut out = [0u8; HASH_LEN];
        argon
            .hash_password_into(&crate::random_bytes::<16>(), &salt, &mut out)
            .expect("dummy hash");
        let dummy = phc(&params, &salt, &out);
        PasswordHasher {
            tx,
            queued,
            capacity: queue.max(1),
            params,
            queue_deadline,
            dummy: Arc::new(dummy),
        }
    }

    /// Jobs waiting for a worker (for metrics).
    pub fn queue_depth(&self) -> usize {
        self.queued.load(Ordering::Relaxed)
    }

    /// Whether the queue is full now, so a job submitted now would be refused. Callers
    /// check it before any other work, so that under overload a refusal costs next to
    /// nothing; the submit itself still enforces the bound.
    pub fn saturated(&self) -> bool {
        self.queued.load(Ordering::Relaxed) >= self.capacity
    }

    /// The parameters new hashes use.
    pub fn params(&self) -> PasswordParams {
        self.params
    }

    /// Take a place in the queue now, for a hash or verify to be submitted later: once
    /// taken, the job cannot be refused for a full queue. A sign-in takes its place before
    /// it counts the attempt, so that an attempt the hasher then could not check is never
    /// counted as a wrong password. Dropped unused, the place is given back.
    pub fn slot(&self) -> Result<HashSlot, PasswordError> {
        let mut n = self.queued.load(Ordering::Relaxed);
        loop {
            if n >= self.capacity {
                return Err(PasswordError::Saturated);
            }
            match self
                .queued
                .compare_exchange_weak(n, n + 1, Ordering::AcqRel, Ordering::Relaxed)
            {
                Ok(_) => {
                    return Ok(HashSlot {
                        queued: Some(self.queued.clone()),
                    })
                }
                Err(now) => n = now,
            }
        }
    }

    async fn submit(&self, work: Work) -> Result<Outcome, PasswordError> {
        let slot = self.slot()?;
        self.submit_in(slot, work).await
    }

    /// Submit into a place taken: `queued` counts the places taken (the jobs in the
    /// channel and those about to be sent), never more than the channel holds, so the
    /// send cannot find it full.
    async fn submit_in(&self, mut slot: HashSlot, work: Work) -> Result<Outcome, PasswordError> {
        let (reply, rx) = oneshot::channel();
        let job = Job {
            work,
            deadline: Instant::now() + self.queue_deadline,
            reply,
        };
        match self.tx.try_send(job) {
            // The worker gives the place back when it takes the job.
            Ok(()) => slot.queued = None,
            Err(TrySendError::Full(_)) => return Err(PasswordError::Saturated),
            Err(TrySendError::Disconnected(_)) => return Err(PasswordError::Stopped),
        }
        rx.await.map_err(|_| PasswordError::Stopped)?
    }

    /// [`PasswordHasher::verify`] in a place taken with [`PasswordHasher::slot`].
    pub async fn verify_in(
        &self,
        slot: HashSlot,
        password: &str,
        phc: &str,
    ) -> Result<bool, PasswordError> {
        check_len(password)?;
        match self
            .submit_in(
                slot,
                Work::Verify {
                    password: password.as_bytes().to_vec(),
                    phc: phc.to_string(),
                },
            )
            .await?
        {
            Outcome::Verified(ok) => Ok(ok),
            Outcome::Hashed(_) => unreachable!("verify job answered with a hash"),
        }
    }

    /// [`PasswordHasher::verify_dummy`] in a place taken with [`PasswordHasher::slot`].
    pub async fn verify_dummy_in(
        &self,
        slot: HashSlot,
        password: &str,
    ) -> Result<(), PasswordError> {
        let password = if password.len() > MAX_PASSWORD_BYTES {
            &password[..0]
        } else {
            password
        };
        self.verify_in(slot, password, &self.dummy.clone())
            .await
            .map(|_| ())
    }

    /// Hash a new password; returns a PHC string (`$argon2id$v=19$m=…,t=…,p=…$salt$hash`).
    pub async fn hash(&self, password: &str) -> Result<String, PasswordError> {
        check_len(password)?;
        match self
            .submit(Work::Hash {
                password: password.as_bytes().to_vec(),
            })
            .await?
        {
            Outcome::Hashed(h) => Ok(h),
            Outcome::Verified(_) => unreachable!("hash job answered with a verify"),
        }
    }

    /// Check `password` against a stored PHC hash, in constant time.
    pub async fn verify(&self, password: &str, phc: &str) -> Result<bool, PasswordError> {
        check_len(password)?;
        match self
            .submit(Work::Verify {
                password: password.as_bytes().to_vec(),
                phc: phc.to_string(),
            })
            .await?
        {
            Outcome::Verified(ok) => Ok(ok),
            Outcome::Hashed(_) => unreachable!("verify job answered with a hash"),
        }
    }

    /// Do the work of a verify that cannot succeed (unknown user), so that answering
    /// "wrong credentials" takes as long for an unknown user as for a wrong password.
    pub async fn verify_dummy(&self, password: &str) -> Result<(), PasswordError> {
        let password = if password.len() > MAX_PASSWORD_BYTES {
            &password[..0]
        } else {
            password
        };
        self.verify(password, &self.dummy.clone()).await.map(|_| ())
    }
}

fn check_len(password: &str) -> Result<(), PasswordError> {
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(PasswordError::TooLong);
    }
    Ok(())
}

fn phc(p: &PasswordParams, salt: &[u8], hash: &[u8]) -> String {
    format!(
        "$argon2id$v=19$m={},t={},p={}${}${}",
        p.m_kib,
        p.t,
        p.p,
        B64.encode(salt),
        B64.encode(hash)
    )
}

struct Parsed {
    params: Params,
    salt: Vec<u8>,
    hash: Vec<u8>,
}

fn parse_phc(s: &str) -> Result<Parsed, PasswordError> {
    let bad = |m: &str| PasswordError::Malformed(m.to_string());
    let parts: Vec<&str> = s.split('$').collect();
    if parts.len() != 6 || !parts[0].is_empty() || parts[1] != "argon2id" || parts[2] != "v=19" {
        return Err(bad("expected $argon2id$v=19$params$salt$hash"));
    }
    let (mut m, mut t, mut p) = (None, None, None);
    for kv in parts[3].split(',') {
        let (k, v) = kv.split_once('=').ok_or_else(|| bad("parameter"))?;
        let v: u32 = v.parse().map_err(|_| bad("parameter value"))?;
        match k {
            "m" => m = Some(v),
            "t" => t = Some(v),
            "p" => p = Some(v),
            _ => return Err(bad("unknown parameter")),
        }
    }
    let salt = B64.decode(parts[4]).map_err(|_| bad("salt"))?;
    let hash = B64.decode(parts[5]).map_err(|_| bad("hash"))?;
    let params = Params::new(
        m.ok_or_else(|| bad("m"))?,
        t.ok_or_else(|| bad("t"))?,
        p.ok_or_else(|| bad("p"))?,
        Some(hash.len()),
    )
    .map_err(|e| bad(&e.to_string()))?;
    Ok(Parsed { params, salt, hash })
}

fn worker(rx: Arc<Mutex<Receiver<Job>>>, queued: Arc<AtomicUsize>, params: Params) {
    let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    let mut blocks = vec![Block::default(); params.block_count()];
    loop {
        let job = {
            let rx = match rx.lock() {
                Ok(rx) => rx,
                Err(_) => return,
            };
            match rx.recv() {
                Ok(j) => j,
                Err(_) => return, // every handle dropped
            }
        };
        queued.fetch_sub(1, Ordering::Relaxed);
        if Instant::now() > job.deadline {
            let _ = job.reply.send(Err(PasswordError::Saturated));
            continue;
        }
        let result = match job.work {
            Work::Hash { password } => {
                let salt = crate::random_bytes::<SALT_LEN>();
                let mut out = [0u8; HASH_LEN];
                argon
                    .hash_password_into_with_memory(&password, &salt, &mut out, &mut blocks)
                    .map(|_| {
                        let p = argon.params();
                        Outcome::Hashed(phc(
                            &PasswordParams {
                                m_kib: p.m_cost(),
                                t: p.t_cost(),
                                p: p.p_cost(),
                            },
                            &salt,
                            &out,
                        ))
                    })
                    .map_err(|e| PasswordError::Malformed(e.to_string()))
            }
            Work::Verify { password, phc } => parse_phc(&phc).and_then(|parsed| {
                let mut out = vec![0u8; parsed.hash.len()];
                let res = if parsed.params == params {
                    argon.hash_password_into_with_memory(
                        &password,
                        &parsed.salt,
                        &mut out,
                        &mut blocks,
                    )
                } else {
                    // Hashes made under older parameters still verify (with fresh memory).
                    Argon2::new(Algorithm::Argon2id, Version::V0x13, parsed.params.clone())
                        .hash_password_into(&password, &parsed.salt, &mut out)
                };
                res.map_err(|e| PasswordError::Malformed(e.to_string()))?;
                Ok(Outcome::Verified(crate::constant_time_eq(
                    &out,
                    &parsed.hash,
                )))
            }),
        };
        let _ = job.reply.send(result);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small() -> PasswordParams {
        PasswordParams {
            m_kib: 64,
            t: 1,
            p: 1,
        }
    }

    #[tokio::test]
    async fn hash_then_verify() {
        let h = PasswordHasher::new(small(), 1, 8, Duration::from_secs(5));
        let phc = h.hash("correct horse").await.unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=64,t=1,p=1$"), "{phc}");
        assert!(h.verify("correct horse", &phc).await.unwrap());
        assert!(!h.verify("correct horsE", &phc).await.unwrap());
        // Two hashes of one password differ (random salt).
        assert_ne!(phc, h.hash("correct horse").await.unwrap());
    }

    #[tokio::test]
    async fn a_slot_taken_is_a_job_the_full_queue_cannot_refuse() {
        let h = PasswordHasher::new(small(), 1, 2, Duration::from_secs(5));
        let phc = h.hash("pw").await.unwrap();
        let (a, b) = (h.slot().unwrap(), h.slot().unwrap());
        // Every place taken: others are refused at once, the holders are not.
        assert!(h.saturated());
        assert_eq!(h.slot().err(), Some(PasswordError::Saturated));
        assert_eq!(h.verify("pw", &phc).await, Err(PasswordError::Saturated));
        assert!(h.verify_in(a, "pw", &phc).await.unwrap());
        h.verify_dummy_in(b, "pw").await.unwrap();
        // Places come back when the jobs are taken, and when a slot is dropped unused.
        assert_eq!(h.queue_depth(), 0);
        drop(h.slot().unwrap());
        assert_eq!(h.queue_depth(), 0);
        assert!(h.verify("pw", &phc).await.unwrap());
    }

    #[tokio::test]
    async fn hashes_made_with_other_parameters_still_verify() {
        let old = PasswordHasher::new(small(), 1, 8, Duration::from_secs(5));
        let phc = old.hash("pw").await.unwrap();
        let new = PasswordHasher::new(
            PasswordParams {
                m_kib: 128,
                t: 2,
                p: 1,
            },
            1,
            8,
            Duration::from_secs(5),
        );
        assert!(new.verify("pw", &phc).await.unwrap());
        assert!(!new.verify("pW", &phc).await.unwrap());
    }

    #[tokio::test]
    async fn production_hash_is_verified_by_the_reference_implementation() {
        use argon2::password_hash::{PasswordHash, PasswordVerifier};
        let h = PasswordHasher::new(PasswordParams::default(), 1, 8, Duration::from_secs(30));
        let phc = h.hash("Tr0ub4dor&3").await.unwrap();
        let parsed = PasswordHash::new(&phc).expect("PHC string parses");
        assert!(Argon2::default()
            .verify_password(b"Tr0ub4dor&3", &parsed)
            .is_ok());
        assert!(phc.contains("m=19456,t=2,p=1"));
    }

    #[tokio::test]
    async fn overlong_and_malformed_inputs_are_refused() {
        let h = PasswordHasher::new(small(), 1, 8, Duration::from_secs(5));
        let long = "x".repeat(MAX_PASSWORD_BYTES + 1);
        assert_eq!(h.hash(&long).await, Err(PasswordError::TooLong));
        assert!(matches!(
            h.verify("pw", "$argon2i$v=19$m=1$x$y").await,
            Err(PasswordError::Malformed(_))
        ));
        h.verify_dummy("whatever").await.unwrap();
    }

    #[tokio::test]
    async fn imported_hashes_must_be_argon2id_within_bounds() {
        let min = PasswordParams::default();
        let h = PasswordHasher::new(min, 1, 8, Duration::from_secs(30));
        let phc = h.hash("pw").await.unwrap();
        assert_eq!(check_imported_hash(&phc, min), Ok(min));
        let salt = B64.encode([1u8; 16]);
        let hash = B64.encode([2u8; 32]);
        let with = |params: &str| format!("$argon2id$v=19${params}${salt}${hash}");
        assert!(check_imported_hash(&with("m=65536,t=3,p=4"), min).is_ok());
        for weak in ["m=19455,t=2,p=1", "m=19456,t=1,p=1", "m=4096,t=3,p=1"] {
            assert!(
                matches!(
                    check_imported_hash(&with(weak), min),
                    Err(PasswordError::OutOfRange(_))
                ),
                "{weak}"
            );
        }
        assert!(matches!(
            check_imported_hash(&with("m=4194304,t=2,p=1"), min),
            Err(PasswordError::OutOfRange(_))
        ));
        for bad in [
            "",
            "not a hash",
            "$argon2i$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
            "$argon2id$v=16$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
            "$argon2id$v=19$m=19456,t=2,p=1$!!$aGFzaGhhc2hoYXNoaGFzaA",
            "$2b$12$abcdefghijklmnopqrstuu5Y5O4FzCbkcA6QX7h2uFcFJ0nJ0nJ0a",
        ] {
            assert!(
                matches!(
                    check_imported_hash(bad, min),
                    Err(PasswordError::Malformed(_))
                ),
                "{bad}"
            );
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn saturation_is_refused_fast() {
        // One worker, a queue of one: of 20 simultaneous jobs most must be refused at once.
        // Each hash is made slow (t = 40, about 0.1-0.5 s) so that the window in which one
        // job runs and one waits is wide enough to observe on a loaded machine: with t = 3
        // the two jobs could finish before the check below was scheduled.
        let h = PasswordHasher::new(
            PasswordParams {
                m_kib: 8192,
                t: 40,
                p: 1,
            },
            1,
            1,
            Duration::from_secs(30),
        );
        let started = Instant::now();
        assert!(!h.saturated());
        // Submit the first job here (one poll enqueues it) and wait until the worker has
        // taken it: from then on the worker is busy for the whole hash. (Spawning all 20 at
        // once let them race the worker's wake-up: on an idle machine every job but one
        // could be refused while the first still sat in the queue, and the queue was never
        // seen full.)
        let mut first = Box::pin(h.hash("pw"));
        std::future::poll_fn(|cx| {
            assert!(std::future::Future::poll(first.as_mut(), cx).is_pending());
            std::task::Poll::Ready(())
        })
        .await;
        let deadline = Instant::now() + Duration::from_secs(5);
        while h.queue_depth() > 0 && Instant::now() < deadline {
            tokio::task::yield_now().await;
        }
        assert_eq!(h.queue_depth(), 0, "the worker took the first job");
        let jobs: Vec<_> = (1..20)
            .map(|_| {
                let h = h.clone();
                tokio::spawn(async move { h.hash("pw").await })
            })
            .collect();
        // One job runs, one waits: the queue is full until the worker takes the next.
        while !h.saturated() && Instant::now() < deadline {
            tokio::task::yield_now().await;
        }
        assert!(h.saturated(), "queue depth {}", h.queue_depth());
        let mut refused = 0;
        let mut done = usize::from(first.await.is_ok());
        for j in jobs {
            match j.await.unwrap() {
                Err(PasswordError::Saturated) => refused += 1,
                Ok(_) => done += 1,
                Err(e) => panic!("{e}"),
            }
        }
        assert!(refused >= 15, "refused {refused}, done {done}");
        assert!(done >= 1);
        assert!(started.elapsed() < Duration::from_secs(10));
        assert!(!h.saturated(), "queue depth {}", h.queue_depth());
    }

    #[tokio::test]
    async fn jobs_past_their_deadline_are_refused() {
        let h = PasswordHasher::new(
            PasswordParams {
                m_kib: 8192,
                t: 4,
                p: 1,
            },
            1,
            16,
            Duration::from_millis(1),
        );
        let jobs: Vec<_> = (0..4)
            .map(|_| {
                let h = h.clone();
                tokio::spawn(async move { h.hash("pw").await })
            })
            .collect();
        let mut refused = 0;
        for j in jobs {
            if j.await.unwrap() == Err(PasswordError::Saturated) {
                refused += 1;
            }
        }
        // The first job may start in time; the ones queued behind it cannot.
        assert!(refused >= 3, "refused {refused}");
    }
}
