//! TOTP (RFC 6238 over RFC 4226's HOTP) as authenticator apps speak it: HMAC-SHA1, six
//! digits, 30-second steps, a 160-bit seed shown to the user in base32 (RFC 4648, no
//! padding). A code is accepted for the current step or one step either side (clock drift
//! between the phone and the server); which step matched is returned, so that the caller
//! can refuse a step already used (the log records the last one).

use aws_lc_rs::hmac;

/// Length of a time step, seconds.
pub const TOTP_STEP_SECS: u64 = 30;
/// Digits of a code.
pub const TOTP_DIGITS: usize = 6;
/// Bytes of a seed (160 bits, RFC 4226's recommendation).
pub const TOTP_SEED_BYTES: usize = 20;

const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// A new random seed.
pub fn totp_seed() -> [u8; TOTP_SEED_BYTES] {
    crate::random_bytes::<TOTP_SEED_BYTES>()
}

/// Base32 without padding, as authenticator apps take a secret.
pub fn base32(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(5) * 8);
    let (mut acc, mut bits) = (0u32, 0u32);
    for &b in bytes {
        acc = (acc << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(ALPHABET[((acc >> bits) & 31) as usize] as char);
        }
    }
    if bits > 0 {
        out.push(ALPHABET[((acc << (5 - bits)) & 31) as usize] as char);
    }
    out
}

/// Decode base32 (case-insensitive; spaces and `=` padding ignored). `None` on any other
/// character.
pub fn base32_decode(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() * 5 / 8);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in s.bytes().filter(|c| *c != b' ' && *c != b'=') {
        let v = ALPHABET.iter().position(|a| *a == c.to_ascii_uppercase())? as u32;
        acc = (acc << 5) | v;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    Some(out)
}

/// The time step of a Unix time in ms.
pub fn totp_step(unix_ms: u64) -> u64 {
    unix_ms / 1000 / TOTP_STEP_SECS
}

/// The code of `seed` for time step `step`.
pub fn totp_code(seed: &[u8], step: u64) -> String {
    let mac = hmac::sign(
        &hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, seed),
        &step.to_be_bytes(),
    );
    let mac = mac.as_ref();
    // RFC 4226 §5.3, dynamic truncation.
    let at = usize::from(mac[mac.len() - 1] & 0x0f);
    let bin = u32::from_be_bytes([mac[at] & 0x7f, mac[at + 1], mac[at + 2], mac[at + 3]]);
    format!("{:06}", bin % 10u32.pow(TOTP_DIGITS as u32))
}

/// The step, within one of the step at `now_ms`, whose code `given` is; `None` if none
/// (every candidate is compared, in constant time).
pub fn totp_matching_step(seed: &[u8], given: &str, now_ms: u64) -> Option<u64> {
    if given.len() != TOTP_DIGITS || !given.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let now = totp_step(now_ms);
    let mut found = None;
    for step in [now.saturating_sub(1), now, now + 1] {
        if crate::constant_time_eq(totp_code(seed, step).as_bytes(), given.as_bytes())
            && found.is_none()
        {
            found = Some(step);
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 Appendix B, SHA-1 rows (the last six of the eight digits).
    #[test]
    fn rfc_6238_test_vectors() {
        let seed = b"12345678901234567890";
        for (t, code) in [
            (59u64, "287082"),
            (1_111_111_109, "081804"),
            (1_111_111_111, "050471"),
            (1_234_567_890, "005924"),
            (2_000_000_000, "279037"),
            (20_000_000_000, "353130"),
        ] {
            assert_eq!(totp_code(seed, totp_step(t * 1000)), code, "T = {t}");
        }
    }

    /// RFC 4648 §10 test vectors, both ways.
    #[test]
    fn base32_round_trips_the_rfc_vectors() {
        for (plain, enc) in [
            ("", ""),
            ("f", "MY"),
            ("fo", "MZXQ"),
            ("foo", "MZXW6"),
            ("foob", "MZXW6YQ"),
            ("fooba", "MZXW6YTB"),
            ("foobar", "MZXW6YTBOI"),
        ] {
            assert_eq!(base32(plain.as_bytes()), enc);
            assert_eq!(base32_decode(enc).unwrap(), plain.as_bytes());
        }
        assert_eq!(base32_decode("mzxw 6ytb oi======").unwrap(), b"foobar");
        assert_eq!(base32_decode("MZXW1"), None, "1 is not base32");
        let seed = totp_seed();
        assert_eq!(base32_decode(&base32(&seed)).unwrap(), seed);
    }

    #[test]
    fn a_code_matches_its_step_and_the_neighbours_only() {
        let seed = b"12345678901234567890";
        let now = 1_234_567_890_000;
        let step = totp_step(now);
        for d in [-1i64, 0, 1] {
            let s = (step as i64 + d) as u64;
            assert_eq!(totp_matching_step(seed, &totp_code(seed, s), now), Some(s));
        }
        for d in [-3i64, -2, 2, 3] {
            let s = (step as i64 + d) as u64;
            let code = totp_code(seed, s);
            let near = [step - 1, step, step + 1].map(|n| totp_code(seed, n));
            if !near.contains(&code) {
                assert_eq!(totp_matching_step(seed, &code, now), None, "step {d}");
            }
        }
        for bad in ["", "12345", "1234567", "12345a", " 12345"] {
            assert_eq!(totp_matching_step(seed, bad, now), None, "{bad:?}");
        }
    }
}
