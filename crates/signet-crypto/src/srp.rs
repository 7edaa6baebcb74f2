//! The server side of SRP-6a as Cognito's USER_SRP_AUTH speaks it, so that unmodified
//! Cognito SRP clients (Amplify, amazon-cognito-identity-js, pycognito) sign in.
//!
//! The parameters are Cognito's: the 3072-bit MODP group of RFC 3526 (also RFC 5054's
//! 3072-bit group), g = 2, SHA-256, k = H(00‖N ‖ 02). Numbers are hashed as Cognito's
//! clients write them: lowercase hex made even-length, with a `00` byte in front when the
//! first nibble is 8 or more (a positive two's-complement encoding, not a fixed width).
//!
//! * verifier: x = H(salt ‖ H(pool ‖ user ‖ ":" ‖ password)), v = g^x mod N, where `pool`
//!   is the part of the pool id after its `_` and `user` the USER_ID_FOR_SRP;
//! * the server's ephemeral: B = k·v + g^b mod N with a random 256-bit b;
//! * u = H(A ‖ B); S = (A · v^u)^b mod N;
//! * key = HKDF-SHA256(ikm = S, salt = u, info = "Caldera Derived Key"), 16 bytes;
//! * the client's proof: HMAC-SHA256(key, pool ‖ user ‖ secret block ‖ timestamp).
//!
//! The verifier is a password equivalent for an offline guess at the speed of SHA-256, not
//! argon2: callers store it sealed.

use aws_lc_rs::{digest, hmac};
use num_bigint::BigUint;
use std::sync::OnceLock;

/// RFC 3526's 3072-bit MODP prime.
const N_HEX: &str = "\
FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404DD\
EF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED\
EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF0598DA48361C55D39A69163FA8FD24CF5F\
83655D23DCA3AD961C62F356208552BB9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B\
E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF6955817183995497CEA956AE515D2261898FA0510\
15728E5A8AAAC42DAD33170D04507A33A85521ABDF1CBA64ECFB850458DBEF0A8AEA71575D060C7DB3970F85A6E1E4C7\
ABF5AE8CDB0933D71E8C94E04A25619DCEE3D2261AD2EE6BF12FFA06D98A0864D87602733EC86A64521F2B18177B200C\
BBE117577A615D6C770988C0BAD946E208E24FA074E5AB3143DB5BFCE0FD108E4B82D120A93AD2CAFFFFFFFFFFFFFFFF";

const INFO: &[u8] = b"Caldera Derived Key";

struct Group {
    n: BigUint,
    g: BigUint,
    k: BigUint,
}

fn group() -> &'static Group {
    static G: OnceLock<Group> = OnceLock::new();
    G.get_or_init(|| {
        let n = BigUint::parse_bytes(N_HEX.as_bytes(), 16).expect("the prime parses");
        let g = BigUint::from(2u32);
        let k = BigUint::from_bytes_be(&sha256(&unhex(&format!("{}{}", pad_hex(&n), pad_hex(&g)))));
        Group { n, g, k }
    })
}

fn sha256(data: &[u8]) -> Vec<u8> {
    digest::digest(&digest::SHA256, data).as_ref().to_vec()
}

fn hmac_sha256(key: &[u8], data: &[u8]) -> Vec<u8> {
    hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, key), data)
        .as_ref()
        .to_vec()
}

/// `n` as Cognito's clients hash it (see the module doc).
fn pad_hex(n: &BigUint) -> String {
    pad_hex_str(&n.to_str_radix(16))
}

fn pad_hex_str(h: &str) -> String {
    if h.len() % 2 == 1 {
        format!("0{h}")
    } else if h.starts_with([
        '8', '9', 'a', 'b', 'c', 'd', 'e', 'f', 'A', 'B', 'C', 'D', 'E', 'F',
    ]) {
        format!("00{h}")
    } else {
        h.to_string()
    }
}

fn unhex(h: &str) -> Vec<u8> {
    hex::decode(h).expect("hex made here")
}

fn parse_hex(h: &str) -> Option<BigUint> {
    if h.is_empty() || h.len() > 2048 {
        return None;
    }
    BigUint::parse_bytes(h.as_bytes(), 16)
}

/// A user's salt and verifier, hex.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SrpVerifier {
    /// The salt, as the SALT challenge parameter carries it.
    pub salt: String,
    /// v = g^x mod N.
    pub verifier: String,
}

fn x_of(pool: &str, user: &str, password: &str, salt: &str) -> BigUint {
    let inner = sha256(format!("{pool}{user}:{password}").as_bytes());
    let mut msg = unhex(&pad_hex_str(salt));
    msg.extend_from_slice(&inner);
    BigUint::from_bytes_be(&sha256(&msg))
}

/// A new salt and the verifier of `password` for `user` (USER_ID_FOR_SRP) of the pool whose
/// id ends in `pool` (after its `_`).
pub fn srp_verifier(pool: &str, user: &str, password: &str) -> SrpVerifier {
    let salt = pad_hex(&BigUint::from_bytes_be(&crate::random_bytes::<16>()));
    srp_verifier_with_salt(pool, user, password, &salt)
}

fn srp_verifier_with_salt(pool: &str, user: &str, password: &str, salt: &str) -> SrpVerifier {
    let g = group();
    let x = x_of(pool, user, password, salt);
    SrpVerifier {
        salt: salt.to_string(),
        verifier: g.g.modpow(&x, &g.n).to_str_radix(16),
    }
}

/// The server's ephemeral pair: the secret `b` (keep it, sealed) and `B` (SRP_B), hex.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SrpEphemeral {
    /// The secret exponent.
    pub b: String,
    /// B, sent to the client.
    pub big_b: String,
}

/// B = k·v + g^b mod N for a random b. `None` if `verifier` is not a number mod N.
pub fn srp_server_ephemeral(verifier: &str) -> Option<SrpEphemeral> {
    let b = BigUint::from_bytes_be(&crate::random_bytes::<32>());
    ephemeral_with(verifier, b)
}

fn ephemeral_with(verifier: &str, b: BigUint) -> Option<SrpEphemeral> {
    let g = group();
    let v = parse_hex(verifier).filter(|v| *v < g.n)?;
    let big_b = (&g.k * v + g.g.modpow(&b, &g.n)) % &g.n;
    Some(SrpEphemeral {
        b: b.to_str_radix(16),
        big_b: big_b.to_str_radix(16),
    })
}

/// A salt and a B of the same form as a real user's, for a user with no verifier (or none
/// at all): the answer looks the same, and no proof will match it.
pub fn srp_decoy() -> (String, String) {
    let g = group();
    let salt = pad_hex(&BigUint::from_bytes_be(&crate::random_bytes::<16>()));
    let b = BigUint::from_bytes_be(&crate::random_bytes::<32>());
    (salt, g.g.modpow(&b, &g.n).to_str_radix(16))
}

/// The session key a client that knows the password derived, from its `A` (SRP_A) and the
/// server's pair and the verifier. `None` when `A` is not acceptable (`A mod N = 0`, not
/// hex, too long) or u = 0: the attempt then fails like a wrong password.
pub fn srp_server_key(a: &str, eph: &SrpEphemeral, verifier: &str) -> Option<[u8; 16]> {
    let g = group();
    let big_a = parse_hex(a)?;
    if (&big_a % &g.n) == BigUint::ZERO {
        return None;
    }
    let v = parse_hex(verifier)?;
    let b = parse_hex(&eph.b)?;
    let big_b = parse_hex(&eph.big_b)?;
    let u = scramble(&big_a, &big_b);
    if u == BigUint::ZERO {
        return None;
    }
    let s = (big_a * v.modpow(&u, &g.n)).modpow(&b, &g.n);
    Some(session_key(&s, &u))
}

/// u = H(A ‖ B).
fn scramble(big_a: &BigUint, big_b: &BigUint) -> BigUint {
    BigUint::from_bytes_be(&sha256(&unhex(&format!(
        "{}{}",
        pad_hex(big_a),
        pad_hex(big_b)
    ))))
}

/// HKDF-SHA256 of S with u as salt and Cognito's info, 16 bytes.
fn session_key(s: &BigUint, u: &BigUint) -> [u8; 16] {
    let prk = hmac_sha256(&unhex(&pad_hex(u)), &unhex(&pad_hex(s)));
    let mut info = INFO.to_vec();
    info.push(1);
    let okm = hmac_sha256(&prk, &info);
    let mut key = [0u8; 16];
    key.copy_from_slice(&okm[..16]);
    key
}

/// The proof a client sends (PASSWORD_CLAIM_SIGNATURE, before base64): HMAC-SHA256 under
/// the session key of pool ‖ user ‖ secret block ‖ timestamp.
pub fn srp_claim(
    key: &[u8; 16],
    pool: &str,
    user: &str,
    secret_block: &[u8],
    timestamp: &str,
) -> Vec<u8> {
    let mut msg = Vec::with_capacity(pool.len() + user.len() + secret_block.len() + 32);
    msg.extend_from_slice(pool.as_bytes());
    msg.extend_from_slice(user.as_bytes());
    msg.extend_from_slice(secret_block);
    msg.extend_from_slice(timestamp.as_bytes());
    hmac_sha256(key, &msg)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The client's side, written from the protocol (the integration tests use pycognito):
    /// A = g^a, x from the password, S = (B − k·g^x)^(a + u·x), the same HKDF.
    fn client_key(
        a: &BigUint,
        big_b: &str,
        salt: &str,
        pool: &str,
        user: &str,
        pw: &str,
    ) -> [u8; 16] {
        let g = group();
        let big_a = g.g.modpow(a, &g.n);
        let big_b = parse_hex(big_b).unwrap();
        let u = scramble(&big_a, &big_b);
        let x = x_of(pool, user, pw, salt);
        let kgx = (&g.k * g.g.modpow(&x, &g.n)) % &g.n;
        let base = (big_b + &g.n - kgx) % &g.n;
        let s = base.modpow(&(a + u.clone() * x), &g.n);
        session_key(&s, &u)
    }

    #[test]
    fn the_client_and_the_server_derive_the_same_key_only_with_the_password() {
        let v = srp_verifier("Ab12Cd34", "alice", "Correct-Horse-9");
        let eph = srp_server_ephemeral(&v.verifier).unwrap();
        let a = BigUint::from_bytes_be(&crate::random_bytes::<128>());
        let big_a = group().g.modpow(&a, &group().n).to_str_radix(16);
        let server = srp_server_key(&big_a, &eph, &v.verifier).unwrap();
        let right = client_key(
            &a,
            &eph.big_b,
            &v.salt,
            "Ab12Cd34",
            "alice",
            "Correct-Horse-9",
        );
        assert_eq!(server, right);
        let wrong = client_key(
            &a,
            &eph.big_b,
            &v.salt,
            "Ab12Cd34",
            "alice",
            "Correct-Horse-8",
        );
        assert_ne!(server, wrong);
        let other_user = client_key(
            &a,
            &eph.big_b,
            &v.salt,
            "Ab12Cd34",
            "bob",
            "Correct-Horse-9",
        );
        assert_ne!(server, other_user);
    }

    /// A vector from pycognito's AWSSRP (the client's side of Cognito's SRP, PyPI), run with
    /// a fixed `a`, against a verifier and B made with this salt and b: the key it derived
    /// and the PASSWORD_CLAIM_SIGNATURE it computed.
    #[test]
    fn pycognito_derives_the_same_key_and_signature() {
        let g = group();
        let (pool, user, pw) = ("Ab12Cd34", "alice", "Correct-Horse-9");
        let v = srp_verifier_with_salt(pool, user, pw, "4d2f0c1a9b8e7d6c5b4a39281706f5e4");
        let eph = ephemeral_with(
            &v.verifier,
            BigUint::parse_bytes("1f".repeat(32).as_bytes(), 16).unwrap(),
        )
        .unwrap();
        let a = BigUint::parse_bytes("2e".repeat(128).as_bytes(), 16).unwrap() % &g.n;
        let big_a = g.g.modpow(&a, &g.n).to_str_radix(16);
        assert!(big_a.starts_with("a2125690b3db125f1e14"), "{big_a}");
        assert!(
            eph.big_b.starts_with("e9f5f70afd34e51c3ef9"),
            "{}",
            eph.big_b
        );
        assert!(
            v.verifier.starts_with("a83b891550bbb3b8f465"),
            "{}",
            v.verifier
        );
        let key = srp_server_key(&big_a, &eph, &v.verifier).unwrap();
        assert_eq!(hex::encode(key), "be258836d65dfd5b749d866ee512619e");
        let sig = srp_claim(
            &key,
            pool,
            user,
            b"secret-block-bytes",
            "Sun Dec 6 08:10:36 UTC 2026",
        );
        use base64::Engine;
        assert_eq!(
            base64::engine::general_purpose::STANDARD.encode(sig),
            "lvcssIwD8ejVKGkgqgcqUwJ/LkeRwoyX/Z3ezTHizL4="
        );
    }

    #[test]
    fn an_a_of_zero_mod_n_is_refused() {
        let v = srp_verifier("p", "u", "pw");
        let eph = srp_server_ephemeral(&v.verifier).unwrap();
        assert_eq!(srp_server_key("0", &eph, &v.verifier), None);
        assert_eq!(srp_server_key(N_HEX, &eph, &v.verifier), None);
        assert_eq!(srp_server_key("zz", &eph, &v.verifier), None);
        assert_eq!(srp_server_key("", &eph, &v.verifier), None);
    }

    #[test]
    fn hex_is_padded_as_cognito_clients_pad_it() {
        assert_eq!(pad_hex(&BigUint::from(0xabu32)), "00ab");
        assert_eq!(pad_hex(&BigUint::from(0x7fu32)), "7f");
        assert_eq!(pad_hex(&BigUint::from(0xfffu32)), "0fff");
        assert_eq!(pad_hex_str("8000"), "008000");
        // k = H(00‖N‖02): N's first nibble is F.
        assert!(pad_hex(&group().n).starts_with("00ffff"));
    }
}
