//! Signet's cryptographic helpers. Everything random that ends up in the replicated log
//! (ids, request ids) is produced here, before proposing, never inside apply.
#![forbid(unsafe_code)]

use rand::RngCore;

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
    fn constant_time_eq_compares_values() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
    }
}
