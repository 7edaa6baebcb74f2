//! Verifications of this cluster's tokens, remembered: a client shows the same token again
//! and again until it expires (an access token on every call, an ID token to GetId and then
//! to GetCredentialsForIdentity, an STS session token on every signed request), and the
//! signature check (an Ed25519 verify, about three signatures' worth of CPU) is what bounds
//! those calls. A remembered verification is reused only for the very same token, the same
//! expectations and the same published key set (a new, retired or revoked key starts over);
//! the time rules are judged again on every use. Everything that is not in the token (the
//! user check, revocations, scopes, policies) is the caller's and runs on every call.
//!
//! Bounded: at [`CAPACITY`] entries the map starts over empty (a burst of new tokens costs
//! what it costs without the map).

use super::PublishedKeys;
use serde_json::{Map, Value};
use signet_verify::{Expected, VerifyError};
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, RwLock};

/// Most tokens remembered at once by one map (each holds its claims: a few KB at most).
pub(crate) const CAPACITY: usize = 8192;

struct Entry<V> {
    /// The key set the token verified with (held, so that it cannot be freed and another
    /// set take its place at the same address).
    keys: Arc<PublishedKeys>,
    value: V,
    exp: u64,
    nbf: u64,
    leeway: u64,
}

/// Values remembered per verified token (see the module doc), under a key `K` that names the
/// token and everything it was verified against.
pub(crate) struct Remembered<K, V> {
    map: RwLock<HashMap<K, Entry<V>>>,
}

impl<K, V> Default for Remembered<K, V> {
    fn default() -> Self {
        Remembered {
            map: RwLock::new(HashMap::new()),
        }
    }
}

impl<K: Hash + Eq, V: Clone> Remembered<K, V> {
    /// What was remembered under `key`, if it was verified with `keys` and still holds at
    /// `now_s` by the verifier's rules: expired once `exp + leeway < now`, early while
    /// `nbf > now + leeway`.
    pub(crate) fn get(&self, key: &K, keys: &Arc<PublishedKeys>, now_s: u64) -> Option<V> {
        let map = self.map.read().expect("remembered tokens lock");
        let e = map.get(key)?;
        let live =
            e.exp.saturating_add(e.leeway) >= now_s && e.nbf <= now_s.saturating_add(e.leeway);
        (Arc::ptr_eq(&e.keys, keys) && live).then(|| e.value.clone())
    }

    /// Remember `value` for a token whose `claims` verified with `keys` under `leeway_s`.
    /// A token without a numeric `exp` is not remembered (the verifier refuses it anyway).
    pub(crate) fn put(
        &self,
        key: K,
        keys: Arc<PublishedKeys>,
        claims: &Map<String, Value>,
        leeway_s: u64,
        value: V,
    ) {
        let secs = |k: &str| claims.get(k).and_then(Value::as_u64);
        let Some(exp) = secs("exp") else {
            return;
        };
        let entry = Entry {
            keys,
            value,
            exp,
            nbf: secs("nbf").unwrap_or(0),
            leeway: leeway_s.min(signet_verify::MAX_LEEWAY_S),
        };
        let mut map = self.map.write().expect("remembered tokens lock");
        if map.len() >= CAPACITY {
            map.clear();
        }
        map.insert(key, entry);
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.map.read().expect("remembered tokens lock").len()
    }
}

/// The strict verification of this cluster's own tokens ([`signet_verify::verify_at`]),
/// with every success remembered for the same token and the same [`Expected`].
#[derive(Default)]
pub(crate) struct OwnTokens {
    verified: Remembered<[u8; 32], Arc<Map<String, Value>>>,
}

impl OwnTokens {
    /// Verify `token` against `expected` with the published `keys` at `now_s` (Unix
    /// seconds), or reuse the claims of the same verification made before.
    pub(crate) fn verify(
        &self,
        keys: Arc<PublishedKeys>,
        token: &str,
        expected: &Expected,
        now_s: u64,
    ) -> Result<Arc<Map<String, Value>>, VerifyError> {
        let key = memo_key(token, expected);
        if let Some(claims) = self.verified.get(&key, &keys, now_s) {
            return Ok(claims);
        }
        let claims = Arc::new(signet_verify::verify_at(token, &keys.set, expected, now_s)?);
        self.verified
            .put(key, keys, &claims, expected.leeway_s, claims.clone());
        Ok(claims)
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.verified.len()
    }
}

/// SHA-256 over the token and every field of the expectations, each length-prefixed (so no
/// two different pairs share an encoding).
fn memo_key(token: &str, expected: &Expected) -> [u8; 32] {
    let mut buf = Vec::with_capacity(token.len() + expected.issuer.len() + 64);
    let mut field = |b: &[u8]| {
        buf.extend_from_slice(&(b.len() as u64).to_be_bytes());
        buf.extend_from_slice(b);
    };
    field(token.as_bytes());
    field(expected.issuer.as_bytes());
    field(format!("{:?}", expected.token_use).as_bytes());
    field(&expected.leeway_s.to_be_bytes());
    match &expected.clients {
        None => field(b"any client"),
        Some(clients) => {
            field(&(clients.len() as u64).to_be_bytes());
            for c in clients {
                field(c.as_bytes());
            }
        }
    }
    signet_crypto::sha256(&buf)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::Published;
    use signet_crypto::{Algorithm, SigningKeyPair};
    use signet_verify::{KeySet, TokenUse};

    const ISS: &str = "https://signet.test/eu-west-1_pool";

    fn now_s() -> u64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs()
    }

    fn keys_of(pair: &SigningKeyPair) -> (Published, Arc<PublishedKeys>) {
        let published = Published::default();
        let mut set = KeySet::new();
        set.insert_jwk(&pair.public_jwk().to_string()).unwrap();
        published.set_for_tests(set);
        let keys = published.get();
        (published, keys)
    }

    fn id_token(pair: &SigningKeyPair, aud: &str, exp: u64) -> String {
        pair.sign(&serde_json::json!({
            "iss": ISS, "sub": "u1", "aud": aud, "token_use": "id", "exp": exp, "iat": now_s(),
        }))
        .unwrap()
    }

    fn expecting(clients: &[&str], leeway_s: u64) -> Expected {
        Expected {
            issuer: ISS.into(),
            token_use: TokenUse::Id,
            clients: Some(clients.iter().map(|c| c.to_string()).collect()),
            leeway_s,
        }
    }

    #[test]
    fn a_verification_is_reused_only_for_the_same_token_expectations_and_keys() {
        let pair = SigningKeyPair::generate(Algorithm::EdDSA).unwrap();
        let (published, keys) = keys_of(&pair);
        let own = OwnTokens::default();
        let now = now_s();
        let t = id_token(&pair, "app-a", now + 300);

        let first = own
            .verify(keys.clone(), &t, &expecting(&["app-a"], 0), now)
            .unwrap();
        assert_eq!(first["sub"], "u1");
        assert_eq!(own.len(), 1);
        let again = own
            .verify(keys.clone(), &t, &expecting(&["app-a"], 0), now)
            .unwrap();
        assert!(Arc::ptr_eq(&first, &again), "the remembered claims");
        assert_eq!(own.len(), 1);

        // Other expectations verify again, and fail where the token does not meet them.
        assert!(matches!(
            own.verify(keys.clone(), &t, &expecting(&["app-b"], 0), now),
            Err(VerifyError::WrongAudience)
        ));
        let mut other_issuer = expecting(&["app-a"], 0);
        other_issuer.issuer = format!("{ISS}x");
        assert!(matches!(
            own.verify(keys.clone(), &t, &other_issuer, now),
            Err(VerifyError::WrongIssuer)
        ));
        assert_eq!(own.len(), 1, "failures are not remembered");

        // A token differing in one byte of its signature is not the remembered one.
        let mut forged = t.clone();
        let last = forged.pop().unwrap();
        forged.push(if last == 'A' { 'B' } else { 'A' });
        assert!(own
            .verify(keys.clone(), &forged, &expecting(&["app-a"], 0), now)
            .is_err());

        // Expiry is judged on every use, with the leeway it was verified under.
        assert!(matches!(
            own.verify(keys.clone(), &t, &expecting(&["app-a"], 0), now + 301),
            Err(VerifyError::Expired)
        ));
        let leeway = expecting(&["app-a"], 30);
        own.verify(keys.clone(), &t, &leeway, now).unwrap();
        assert!(own.verify(keys.clone(), &t, &leeway, now + 330).is_ok());
        assert!(matches!(
            own.verify(keys.clone(), &t, &leeway, now + 331),
            Err(VerifyError::Expired)
        ));

        // New keys published (the signer's key gone): nothing remembered holds.
        let other = SigningKeyPair::generate(Algorithm::EdDSA).unwrap();
        let mut set = KeySet::new();
        set.insert_jwk(&other.public_jwk().to_string()).unwrap();
        published.set_for_tests(set);
        assert!(matches!(
            own.verify(published.get(), &t, &expecting(&["app-a"], 0), now),
            Err(VerifyError::UnknownKey)
        ));
    }

    #[test]
    fn the_map_is_bounded() {
        let pair = SigningKeyPair::generate(Algorithm::EdDSA).unwrap();
        let (_published, keys) = keys_of(&pair);
        let memo: Remembered<u64, ()> = Remembered::default();
        let claims = serde_json::json!({"exp": now_s() + 60});
        for i in 0..(CAPACITY as u64 + 10) {
            memo.put(i, keys.clone(), claims.as_object().unwrap(), 0, ());
        }
        assert!(memo.len() <= CAPACITY);
        assert_eq!(memo.get(&(CAPACITY as u64 + 9), &keys, now_s()), Some(()));
    }
}
