//! The JWS algorithms a pool's tokens are signed with.

use serde::{Deserialize, Deserializer, Serialize};

/// JWS algorithms Signet signs with. Serialised by name (`"EdDSA"`), as the pool
/// settings always stored it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
pub enum Algorithm {
    /// Ed25519 (the default).
    #[default]
    EdDSA,
    /// ECDSA P-256 with SHA-256.
    ES256,
    /// RSASSA-PKCS1-v1_5 with SHA-256, 2048-bit keys.
    RS256,
}

impl Algorithm {
    /// The `alg` header value.
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::EdDSA => "EdDSA",
            Algorithm::ES256 => "ES256",
            Algorithm::RS256 => "RS256",
        }
    }

    /// Parse an `alg` value.
    pub fn from_name(s: &str) -> Option<Algorithm> {
        match s {
            "EdDSA" => Some(Algorithm::EdDSA),
            "ES256" => Some(Algorithm::ES256),
            "RS256" => Some(Algorithm::RS256),
            _ => None,
        }
    }
}

/// Reads a pool's stored algorithm. Pools stored before the field was typed hold a name;
/// one that names no algorithm was signed with EdDSA (the signing code's fallback then),
/// so it still reads as EdDSA. Only the pool settings read leniently: signing-key records
/// and tokens never do.
pub(crate) fn lenient<'de, D: Deserializer<'de>>(d: D) -> Result<Algorithm, D::Error> {
    let name = String::deserialize(d)?;
    Ok(Algorithm::from_name(&name).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for a in [Algorithm::EdDSA, Algorithm::ES256, Algorithm::RS256] {
            assert_eq!(Algorithm::from_name(a.name()), Some(a));
            assert_eq!(
                serde_json::to_string(&a).unwrap(),
                format!("\"{}\"", a.name())
            );
        }
        assert_eq!(Algorithm::from_name("HS256"), None);
        assert_eq!(Algorithm::from_name("none"), None);
    }

    #[test]
    fn stored_pool_settings_read_as_before() {
        let mut v = serde_json::to_value(crate::PoolConfig::default()).unwrap();
        assert_eq!(v["signing_alg"], "EdDSA", "stored by name, as before");
        v["signing_alg"] = "RS256".into();
        let c: crate::PoolConfig = serde_json::from_value(v.clone()).unwrap();
        assert_eq!(c.signing_alg, Algorithm::RS256);
        // A name no algorithm has was signed with EdDSA (the old fallback): still is.
        v["signing_alg"] = "".into();
        let c: crate::PoolConfig = serde_json::from_value(v).unwrap();
        assert_eq!(c.signing_alg, Algorithm::EdDSA);
    }
}
