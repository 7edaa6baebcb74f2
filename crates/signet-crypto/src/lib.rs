//! Signet's cryptography. Everything random that ends up in the replicated log (ids,
//! request ids, code and token hashes, key material) is produced here, before proposing,
//! never inside apply.
#![forbid(unsafe_code)]

mod keyed;
mod password;
mod random;
mod seal;
mod signing;
mod srp;
mod totp;

pub use keyed::{hmac_sha256, pkce_s256, sha256, KeyedHasher, Secret};
pub use password::{
    check_imported_hash, HashSlot, PasswordError, PasswordHasher, PasswordParams,
    HASHER_THREAD_PREFIX, MAX_PASSWORD_BYTES,
};
pub use random::{
    constant_time_eq, random_bytes, random_code, random_hex_id, random_secret, random_token,
    SECRET_ALPHABET, SECRET_CHARS,
};
pub use seal::Sealer;
pub use signing::{Algorithm, SigningError, SigningKeyPair};
pub use srp::{
    srp_claim, srp_decoy, srp_server_ephemeral, srp_server_key, srp_verifier, SrpEphemeral,
    SrpVerifier,
};
pub use totp::{
    base32, base32_decode, totp_code, totp_matching_step, totp_seed, totp_step, TOTP_DIGITS,
    TOTP_SEED_BYTES, TOTP_STEP_SECS,
};
