//! Random identifiers, codes and tokens; constant-time comparison.

use base64::Engine;
use rand::{Rng, RngCore};

/// `N` bytes from the operating system's CSPRNG (through `rand`'s thread-local generator,
/// which is seeded from it and reseeds itself).
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    rand::rng().fill_bytes(&mut b);
    b
}

/// A random 128-bit identifier as 32 lowercase hex characters.
pub fn random_hex_id() -> String {
    hex::encode(random_bytes::<16>())
}

/// A code of `digits` decimal digits, uniformly distributed (confirmation and reset codes).
pub fn random_code(digits: usize) -> String {
    let mut rng = rand::rng();
    (0..digits)
        .map(|_| char::from(b'0' + rng.random_range(0..10u8)))
        .collect()
}

/// An opaque bearer token of `N` random bytes, base64url without padding.
pub fn random_token<const N: usize>() -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random_bytes::<N>())
}

/// The alphabet of [`random_secret`]: lowercase letters and digits, as Cognito's client
/// secrets, so a secret never begins with `-` (a command line would read it as a flag) and
/// needs no quoting or escaping anywhere (shells, URLs, forms, JSON).
pub const SECRET_ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";

/// Length of [`random_secret`]: 51 characters of 36 (log2 36 ≈ 5.17 bits each), 263 bits.
pub const SECRET_CHARS: usize = 51;

/// A generated secret (client secrets, the dev admin secret): [`SECRET_CHARS`] characters
/// of [`SECRET_ALPHABET`], uniformly distributed (rejection sampling, no modulo bias).
pub fn random_secret() -> String {
    // 252 = 7 × 36: bytes at or above it are dropped, so each character is uniform.
    let limit = 256 - 256 % SECRET_ALPHABET.len();
    let mut out = String::with_capacity(SECRET_CHARS);
    while out.len() < SECRET_CHARS {
        for b in random_bytes::<64>() {
            if (b as usize) < limit && out.len() < SECRET_CHARS {
                out.push(char::from(
                    SECRET_ALPHABET[b as usize % SECRET_ALPHABET.len()],
                ));
            }
        }
    }
    out
}

/// Compare two byte strings in time that depends only on their lengths.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    use subtle::ConstantTimeEq;
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_argument_safe_and_uniformly_drawn() {
        let mut counts = [0usize; 36];
        let mut seen = std::collections::HashSet::new();
        for _ in 0..10_000 {
            let s = random_secret();
            assert_eq!(s.len(), SECRET_CHARS);
            assert!(!s.starts_with('-'), "{s}");
            assert!(s.bytes().all(|b| SECRET_ALPHABET.contains(&b)), "{s}");
            for b in s.bytes() {
                counts[SECRET_ALPHABET.iter().position(|&a| a == b).unwrap()] += 1;
            }
            assert!(seen.insert(s), "a repeated secret");
        }
        // 510,000 draws, ~14,167 per character: every one within 5 % of its share.
        let share = (10_000 * SECRET_CHARS) as f64 / 36.0;
        for (i, n) in counts.iter().enumerate() {
            let off = (*n as f64 - share).abs() / share;
            assert!(off < 0.05, "{} drawn {n} times", SECRET_ALPHABET[i] as char);
        }
        // At least 256 bits of entropy.
        assert!(SECRET_CHARS as f64 * (SECRET_ALPHABET.len() as f64).log2() >= 256.0);
    }

    #[test]
    fn ids_are_distinct_and_hex() {
        let a = random_hex_id();
        let b = random_hex_id();
        assert_eq!(a.len(), 32);
        assert!(a.bytes().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
    }

    #[test]
    fn codes_are_digits_of_the_right_length() {
        let c = random_code(6);
        assert_eq!(c.len(), 6);
        assert!(c.bytes().all(|b| b.is_ascii_digit()));
        // 20 codes of 6 digits: all equal would mean a broken generator.
        let codes: std::collections::HashSet<String> = (0..20).map(|_| random_code(6)).collect();
        assert!(codes.len() > 1);
    }

    #[test]
    fn tokens_carry_the_requested_entropy() {
        let t = random_token::<32>();
        assert_eq!(t.len(), 43); // 32 bytes in unpadded base64url
        assert_ne!(t, random_token::<32>());
    }

    #[test]
    fn constant_time_eq_compares_values() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
    }
}
