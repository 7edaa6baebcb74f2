//! Size limits on what an authorization request may carry.
//!
//! Matching costs grow with the pattern and the value, and the values come from whoever
//! asks, so they are bounded before anything is matched. The limits are IAM's where IAM has
//! one (an ARN is at most 2,048 characters) and generous elsewhere.

use super::PolicyError;

/// Largest resource a request may name, in bytes (IAM's ARN limit).
pub const MAX_RESOURCE_BYTES: usize = 2_048;
/// Largest action a request may name, in bytes.
pub const MAX_ACTION_BYTES: usize = 256;
/// Most caller-supplied context entries (key and value pairs) a request may carry.
pub const MAX_CONTEXT_KEYS: usize = 64;
/// Largest caller-supplied context key, in bytes.
pub const MAX_CONTEXT_KEY_BYTES: usize = 256;
/// Largest caller-supplied context value, in bytes.
pub const MAX_CONTEXT_VALUE_BYTES: usize = 1_024;

/// Refuse a request over the limits above with [`PolicyError::RequestTooLarge`], which a
/// server answers as an invalid argument. `context` is what the caller supplied (keys
/// derived from a token are bounded by the token's own size cap).
///
/// [`crate::session::Session::authorize`] calls this before it evaluates anything;
/// [`super::evaluate`] itself denies, without matching, an action or resource over its
/// limit, so a caller that skips this check fails closed.
pub fn check_request_sizes(
    action: &str,
    resource: &str,
    context: &[(String, String)],
) -> Result<(), PolicyError> {
    let check = |what: &'static str, size: usize, max: usize| {
        if size > max {
            Err(PolicyError::RequestTooLarge { what, size, max })
        } else {
            Ok(())
        }
    };
    check("action", action.len(), MAX_ACTION_BYTES)?;
    check("resource", resource.len(), MAX_RESOURCE_BYTES)?;
    check("context", context.len(), MAX_CONTEXT_KEYS)?;
    for (key, value) in context {
        check("context key", key.len(), MAX_CONTEXT_KEY_BYTES)?;
        check("context value", value.len(), MAX_CONTEXT_VALUE_BYTES)?;
    }
    Ok(())
}

/// Whether `evaluate` may look at this action and resource at all.
pub(super) fn within_limits(action: &str, resource: &str) -> bool {
    action.len() <= MAX_ACTION_BYTES && resource.len() <= MAX_RESOURCE_BYTES
}
