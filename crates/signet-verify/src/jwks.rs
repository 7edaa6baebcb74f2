//! [`JwksCache`]: a pool's key set, fetched over HTTP and kept fresh.
//!
//! All state changes happen under one async mutex held for the whole fetch, and every
//! completed attempt bumps a generation number. A caller that waited for the mutex and
//! finds the generation moved uses that fetch's result instead of starting another: that is
//! the single flight. Readers never wait while the cached set is fresh and has their kid.

use crate::fetch::{fetch, Fetched, SendFn};
use crate::{Expected, KeySet, VerifyError, MAX_TOKEN_BYTES};
use bytes::Bytes;
use http::uri::Scheme;
use http::{HeaderValue, Uri};
use http_body_util::Empty;
use hyper_util::client::legacy::connect::{Connect, HttpConnector};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::{Map, Value};
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

/// Shortest freshness granted to a fetched set, whatever `Cache-Control` says.
pub const MIN_MAX_AGE: Duration = Duration::from_secs(1);
/// Longest freshness granted to a fetched set, whatever `Cache-Control` says.
pub const MAX_MAX_AGE: Duration = Duration::from_secs(3600);
/// After a failed fetch, no new attempt for this long (callers get the stale set or
/// `KeysUnavailable`), so an unreachable issuer is not retried in a tight loop.
const ERROR_BACKOFF: Duration = Duration::from_secs(1);

/// Tuning for [`JwksCache`]; `Default` gives the documented values.
#[derive(Debug, Clone)]
pub struct JwksOptions {
    /// Freshness of a response without `Cache-Control: max-age` (default 60 s; bounded to
    /// [`MIN_MAX_AGE`] ..= [`MAX_MAX_AGE`] like the header).
    pub default_max_age: Duration,
    /// Least time between two refetches caused by unknown kids (default 10 s). Within it an
    /// unknown kid is refused with [`VerifyError::UnknownKey`] without a fetch.
    pub min_refetch_interval: Duration,
    /// Limit on a whole fetch: connect, headers and body (default 5 s).
    pub fetch_timeout: Duration,
    /// Largest JWKS body accepted (default 1 MiB).
    pub max_response_bytes: usize,
    /// How long past its freshness an expired set may still be used while refreshing it
    /// fails (default 5 min). This trades availability during an issuer outage against how
    /// late a key removed from the JWKS (revoked) stops verifying; zero fails closed as soon
    /// as the set expires and cannot be refreshed.
    pub stale_if_error: Duration,
}

impl Default for JwksOptions {
    fn default() -> Self {
        Self {
            default_max_age: Duration::from_secs(60),
            min_refetch_interval: Duration::from_secs(10),
            fetch_timeout: Duration::from_secs(5),
            max_response_bytes: 1 << 20,
            stale_if_error: Duration::from_secs(300),
        }
    }
}

/// A snapshot of a [`JwksCache`], for metrics, readiness and tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JwksStatus {
    /// Keys in the cached set (0 before the first successful fetch).
    pub keys: usize,
    /// How much longer the cached set is fresh; zero when it is stale or absent.
    pub fresh_for: Duration,
    /// Completed fetch attempts so far: new documents, 304s and failures.
    pub fetches: u64,
    /// The error of the last attempt, if it failed.
    pub last_error: Option<String>,
}

#[derive(Clone)]
struct Cached {
    keys: Arc<KeySet>,
    expires_at: Instant,
    etag: Option<HeaderValue>,
}

#[derive(Clone, Default)]
struct State {
    cached: Option<Cached>,
    /// Completed fetch attempts; a waiter that sees it move shares that fetch.
    generation: u64,
    last_error: Option<String>,
    last_failure: Option<Instant>,
    /// The last refetch caused by an unknown kid (the rate limit's clock).
    last_miss_fetch: Option<Instant>,
}

enum Plan {
    Use(Arc<KeySet>),
    Fail(VerifyError),
    /// Fetch; `miss` when only an unknown kid asks for it, `stale` the set usable meanwhile.
    Fetch {
        miss: bool,
        stale: Option<Arc<KeySet>>,
    },
}

/// A JWKS fetched over HTTP and cached; share it (`Arc`) across the whole service.
pub struct JwksCache {
    url: Uri,
    opts: JwksOptions,
    send: Box<SendFn>,
    state: Mutex<State>,
    /// Held for the whole of a fetch: concurrent misses queue here and share its result.
    fetch_lock: tokio::sync::Mutex<()>,
}

impl fmt::Debug for JwksCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwksCache")
            .field("url", &self.url)
            .field("opts", &self.opts)
            .field("status", &self.status())
            .finish_non_exhaustive()
    }
}

pub(crate) fn parse_url(url: &str) -> Result<Uri, VerifyError> {
    let uri: Uri = url
        .parse()
        .map_err(|e| VerifyError::InvalidJwksUrl(format!("{url}: {e}")))?;
    if uri.authority().is_none() {
        return Err(VerifyError::InvalidJwksUrl(format!("{url}: no host")));
    }
    Ok(uri)
}

impl JwksCache {
    /// A cache for the JWKS at `url`, fetched with a plain-HTTP client. `https://` URLs
    /// are refused here: give a TLS connector to [`JwksCache::with_connector`].
    pub fn new(url: &str, options: JwksOptions) -> Result<Self, VerifyError> {
        let uri = parse_url(url)?;
        if uri.scheme() != Some(&Scheme::HTTP) {
            return Err(VerifyError::InvalidJwksUrl(format!(
                "{url}: the built-in client speaks http:// only; use with_connector for https"
            )));
        }
        let mut http = HttpConnector::new();
        http.set_connect_timeout(Some(options.fetch_timeout));
        http.set_nodelay(true);
        Self::with_connector(url, options, http)
    }

    /// A cache for the JWKS at `url`, fetched through `connector` (e.g. an HTTPS connector
    /// from `hyper-rustls`); any hyper-util legacy-client connector works.
    pub fn with_connector<C>(
        url: &str,
        options: JwksOptions,
        connector: C,
    ) -> Result<Self, VerifyError>
    where
        C: Connect + Clone + Send + Sync + 'static,
    {
        let url = parse_url(url)?;
        let client: Client<C, Empty<Bytes>> =
            Client::builder(TokioExecutor::new()).build(connector);
        Ok(Self {
            url,
            opts: options,
            send: Box::new(move |req| client.request(req)),
            state: Mutex::new(State::default()),
            fetch_lock: tokio::sync::Mutex::new(()),
        })
    }

    /// The JWKS URL.
    pub fn url(&self) -> &Uri {
        &self.url
    }

    /// Verify `token` strictly (see [`crate::verify`]) with the key its `kid` names.
    ///
    /// The size cap applies before the header is read. A kid not in a fresh cached set
    /// causes one refetch (shared by concurrent callers, at most one per
    /// [`JwksOptions::min_refetch_interval`]); an expired set is refreshed first. Fetch
    /// failures with no usable cached set give [`VerifyError::KeysUnavailable`].
    pub async fn verify(
        &self,
        token: &str,
        expected: &Expected,
    ) -> Result<Map<String, Value>, VerifyError> {
        if token.len() > MAX_TOKEN_BYTES {
            return Err(VerifyError::TooLarge);
        }
        let header = jsonwebtoken::decode_header(token)
            .map_err(|e| VerifyError::Malformed(e.to_string()))?;
        let kid = header.kid.ok_or(VerifyError::UnknownKey)?;
        let keys = self.keys_for(&kid).await?;
        crate::verify(token, &keys, expected)
    }

    /// Fetch now (after any fetch in flight), e.g. at start-up to fail fast or warm the
    /// cache; returns the number of keys. Not rate-limited: do not call it per request.
    pub async fn refresh(&self) -> Result<usize, VerifyError> {
        let _flight = self.fetch_lock.lock().await;
        self.fetch_and_store(false)
            .await
            .map_err(VerifyError::KeysUnavailable)?;
        Ok(self.snapshot().cached.map_or(0, |c| c.keys.len()))
    }

    /// The cached set, fresh or not; `None` before the first successful fetch.
    pub fn key_set(&self) -> Option<Arc<KeySet>> {
        self.snapshot().cached.map(|c| c.keys)
    }

    /// Counters and freshness of the cache.
    pub fn status(&self) -> JwksStatus {
        let st = self.snapshot();
        let now = Instant::now();
        JwksStatus {
            keys: st.cached.as_ref().map_or(0, |c| c.keys.len()),
            fresh_for: st.cached.as_ref().map_or(Duration::ZERO, |c| {
                c.expires_at.saturating_duration_since(now)
            }),
            fetches: st.generation,
            last_error: st.last_error,
        }
    }

    fn lock_state(&self) -> MutexGuard<'_, State> {
        // Nothing panics while holding it, and the state is consistent between statements.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn snapshot(&self) -> State {
        self.lock_state().clone()
    }

    /// The set to verify a token with `kid` against, fetching first if needed.
    async fn keys_for(&self, kid: &str) -> Result<Arc<KeySet>, VerifyError> {
        let seen = self.snapshot();
        let (miss, stale) = match self.plan(&seen, kid, Instant::now()) {
            Plan::Use(keys) => return Ok(keys),
            Plan::Fail(e) => return Err(e),
            Plan::Fetch { miss, stale } => (miss, stale),
        };
        let _flight = match stale.filter(|k| k.contains(kid)) {
            // An expired set that has the kid keeps serving while someone else refreshes it.
            Some(stale) => match self.fetch_lock.try_lock() {
                Ok(flight) => flight,
                Err(_) => return Ok(stale),
            },
            None => self.fetch_lock.lock().await,
        };
        if self.snapshot().generation == seen.generation {
            if miss {
                tracing::debug!(url = %self.url, kid, "unknown kid: refetching the JWKS");
            }
            // Errors are recorded in the state, which `usable` reports.
            let _ = self.fetch_and_store(miss).await;
        }
        // Whoever fetched, the result is shared: the set if usable (the strict check then
        // refuses a kid still missing), else the fetch error.
        self.usable(&self.snapshot(), Instant::now())
    }

    fn plan(&self, st: &State, kid: &str, now: Instant) -> Plan {
        let backing_off = st.last_failure.is_some_and(|t| now < t + ERROR_BACKOFF);
        match &st.cached {
            Some(c) if now < c.expires_at => {
                if c.keys.contains(kid) {
                    return Plan::Use(c.keys.clone());
                }
                let allowed = st.last_miss_fetch.is_none_or(|t| {
                    t.checked_add(self.opts.min_refetch_interval)
                        .is_none_or(|next| now >= next)
                });
                if allowed && !backing_off {
                    Plan::Fetch {
                        miss: true,
                        stale: None,
                    }
                } else {
                    Plan::Use(c.keys.clone())
                }
            }
            _ if !backing_off => Plan::Fetch {
                miss: false,
                stale: self.usable(st, now).ok(),
            },
            _ => match self.usable(st, now) {
                Ok(keys) => Plan::Use(keys),
                Err(e) => Plan::Fail(e),
            },
        }
    }

    /// The cached set if fresh or within `stale_if_error` of its expiry.
    fn usable(&self, st: &State, now: Instant) -> Result<Arc<KeySet>, VerifyError> {
        match &st.cached {
            Some(c)
                if c.expires_at
                    .checked_add(self.opts.stale_if_error)
                    .is_none_or(|limit| now < limit) =>
            {
                Ok(c.keys.clone())
            }
            _ => Err(VerifyError::KeysUnavailable(
                st.last_error
                    .clone()
                    .unwrap_or_else(|| "no usable key set".into()),
            )),
        }
    }

    /// One fetch and its effect on the state. The caller holds `fetch_lock`.
    async fn fetch_and_store(&self, miss: bool) -> Result<(), String> {
        let started = Instant::now();
        let etag = {
            let mut st = self.lock_state();
            if miss {
                st.last_miss_fetch = Some(started);
            }
            st.cached.as_ref().and_then(|c| c.etag.clone())
        };
        let fetched = tokio::time::timeout(
            self.opts.fetch_timeout,
            fetch(
                &*self.send,
                &self.url,
                etag.as_ref(),
                self.opts.max_response_bytes,
            ),
        )
        .await
        .unwrap_or_else(|_| {
            Err(format!(
                "GET {}: no answer within {:?}",
                self.url, self.opts.fetch_timeout
            ))
        });
        // Freshness counts from the request, not the answer: never longer than granted.
        let expiry = |max_age: Option<Duration>| {
            started
                + max_age
                    .unwrap_or(self.opts.default_max_age)
                    .clamp(MIN_MAX_AGE, MAX_MAX_AGE)
        };
        let mut st = self.lock_state();
        st.generation += 1;
        let result = match fetched {
            Ok(Fetched::Modified {
                keys,
                etag,
                max_age,
            }) => {
                st.cached = Some(Cached {
                    keys: Arc::new(keys),
                    expires_at: expiry(max_age),
                    etag,
                });
                Ok(())
            }
            Ok(Fetched::NotModified { max_age }) => match st.cached.as_mut() {
                Some(c) => {
                    c.expires_at = expiry(max_age);
                    Ok(())
                }
                None => Err(format!("GET {}: 304 with nothing cached", self.url)),
            },
            Err(e) => Err(e),
        };
        match &result {
            Ok(()) => {
                st.last_error = None;
                st.last_failure = None;
            }
            Err(e) => {
                st.last_error = Some(e.clone());
                st.last_failure = Some(Instant::now());
            }
        }
        drop(st);
        if let Err(e) = &result {
            tracing::warn!(url = %self.url, error = %e, "JWKS fetch failed");
        }
        result
    }
}
