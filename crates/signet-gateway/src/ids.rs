//! Random identifiers in the shapes Cognito uses.

const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const LOWER: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";

fn pick(alphabet: &[u8], n: usize) -> String {
    // Rejection sampling keeps the distribution uniform.
    let limit = 256 - 256 % alphabet.len();
    let mut out = String::with_capacity(n);
    while out.len() < n {
        for b in signet_crypto::random_bytes::<32>() {
            if (b as usize) < limit && out.len() < n {
                out.push(alphabet[b as usize % alphabet.len()] as char);
            }
        }
    }
    out
}

/// `local_` + 12 alphanumerics (~71 bits).
pub fn pool_id() -> String {
    format!("local_{}", pick(ALNUM, 12))
}

/// 26 lowercase alphanumerics (~134 bits), like Cognito's client ids.
pub fn client_id() -> String {
    pick(LOWER, 26)
}

const BASE32: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// `ASIA` and 26 base-32 characters (130 bits): temporary access key ids.
pub fn access_key_id() -> String {
    format!("ASIA{}", pick(BASE32, 26))
}

/// `AROA` and 20 base-32 characters (100 bits): role ids.
pub fn role_id() -> String {
    format!("AROA{}", pick(BASE32, 20))
}

/// `import-` and 22 alphanumerics (~131 bits): user import job ids.
pub fn import_job_id() -> String {
    format!("import-{}", pick(ALNUM, 22))
}

/// A random UUID (version 4 layout).
pub fn uuid() -> String {
    let mut b = signet_crypto::random_bytes::<16>();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// A temporary password that satisfies any policy Cognito allows (up to 99 chars is
/// never needed: 16 random alphanumerics plus one of each required class).
pub fn temporary_password() -> String {
    format!("{}Aa1!", pick(ALNUM, 16))
}

/// A new refresh-token family id: the sign-in time in milliseconds (12 hex digits) then 128
/// random bits. Every token of the family carries it (`origin_jti`), so "issued before a
/// sign-out" is decided at millisecond precision, where `iat` has only seconds.
pub fn new_family_id(now_ms: u64) -> String {
    format!("{now_ms:012x}{}", signet_crypto::random_hex_id())
}

/// The sign-in time encoded in a family id (see [`new_family_id`]).
pub fn family_time_ms(family: &str) -> Option<u64> {
    family
        .get(..12)
        .and_then(|h| u64::from_str_radix(h, 16).ok())
        .filter(|_| family.len() == 44)
}

/// The unverified `iss` of a JWT, to route it (it is verified right after).
pub(crate) fn peek_issuer(token: &str) -> Option<String> {
    use base64::Engine;
    if token.len() > signet_verify::MAX_TOKEN_BYTES {
        return None;
    }
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .ok()?;
    let claims: serde_json::Map<String, serde_json::Value> = serde_json::from_slice(&bytes).ok()?;
    claims.get("iss")?.as_str().map(str::to_string)
}
