//! Operation kinds, and how `mixed` picks one per operation.

use anyhow::{bail, Context};
use std::sync::Arc;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Kind {
    ClientCredentials,
    PasswordSignIn,
    MfaSignIn,
    Refresh,
    GetCredentials,
    Verify,
    Authorize,
    ServingFloor,
}

impl Kind {
    pub(super) fn name(self) -> &'static str {
        match self {
            Kind::ClientCredentials => "client-credentials",
            Kind::PasswordSignIn => "password-sign-in",
            Kind::MfaSignIn => "mfa-sign-in",
            Kind::Refresh => "refresh",
            Kind::GetCredentials => "get-credentials",
            Kind::Verify => "verify",
            Kind::Authorize => "authorize",
            Kind::ServingFloor => "serving-floor",
        }
    }

    fn parse(s: &str) -> Option<Kind> {
        [
            Kind::ClientCredentials,
            Kind::PasswordSignIn,
            Kind::Refresh,
            Kind::GetCredentials,
        ]
        .into_iter()
        .find(|k| k.name() == s)
    }
}

/// `kind=weight,…` → (kind, weight), weights > 0, each kind once.
pub(super) fn parse_mix(s: &str) -> anyhow::Result<Vec<(Kind, u32)>> {
    let mut out: Vec<(Kind, u32)> = Vec::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (k, w) = part
            .split_once('=')
            .with_context(|| format!("--mix: expected kind=weight, got {part:?}"))?;
        let kind = Kind::parse(k.trim()).with_context(|| format!("--mix: unknown kind {k:?}"))?;
        let w: u32 = w
            .trim()
            .parse()
            .with_context(|| format!("--mix: bad weight in {part:?}"))?;
        if out.iter().any(|(o, _)| *o == kind) {
            bail!("--mix: {} given twice", kind.name());
        }
        if w > 0 {
            out.push((kind, w));
        }
    }
    if out.is_empty() {
        bail!("--mix: no kind with a weight above 0");
    }
    Ok(out)
}

/// A well-spread hash of the sequence number, so mixes interleave rather than run in
/// blocks (SplitMix64's finaliser).
pub(crate) fn spread(n: u64) -> u64 {
    let mut z = n.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Which kind operation `n` is, for these weights.
pub(super) fn chooser(weights: Vec<u32>) -> Arc<dyn Fn(u64) -> usize + Send + Sync> {
    let total: u64 = weights.iter().map(|w| *w as u64).sum();
    Arc::new(move |n| {
        let mut r = spread(n) % total;
        for (i, w) in weights.iter().enumerate() {
            if r < *w as u64 {
                return i;
            }
            r -= *w as u64;
        }
        weights.len() - 1
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mixes_parse_and_spread_by_weight() {
        let m = parse_mix("client-credentials=90, refresh=10,get-credentials=0").unwrap();
        assert_eq!(m, vec![(Kind::ClientCredentials, 90), (Kind::Refresh, 10)]);
        assert!(parse_mix("refresh=1,refresh=2").is_err());
        assert!(parse_mix("nothing=1").is_err());
        assert!(parse_mix("refresh=0").is_err());
        let pick = chooser(vec![90, 10]);
        let refresh = (0..100_000).filter(|n| pick(*n) == 1).count();
        // 10 % ± 0.5 %, and interleaved (not one block).
        assert!((9_500..=10_500).contains(&refresh), "{refresh}");
        assert!((0..100).any(|n| pick(n) == 1));
    }
}
