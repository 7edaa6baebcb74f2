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

/// Compare two byte strings in time that depends only on their lengths.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    use subtle::ConstantTimeEq;
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

#[cfg(test)]
mod tests {
    use super::*;

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
