//! Judging what a cluster did under faults, from the outside.
//!
//! A run records every operation a client made as an [`history::Op`]: when it was invoked,
//! when (if ever) it completed, and how — `Ok` with what it returned, `Failed` (it surely
//! did not happen: the cluster refused it), or `Unknown` (a timeout or a cut connection: it
//! may or may not have happened, at any time after it was invoked). The checkers then say,
//! with the operations involved, whether the guarantees held:
//!
//! * [`linearizable`]: a compare-and-set register per key — every history must be
//!   explainable by one order of the operations, each taking effect at an instant between
//!   its invocation and its completion.
//! * [`sets`]: sets that only grow (users signed up) — every acknowledged add is in the
//!   final state exactly once, nothing refused is, nothing unasked-for is.
//! * [`unique`]: create-if-absent maps (GetId's identity per login) — one value per key,
//!   in every answer and in the final state.
//! * [`rotation`]: refresh-token rotation — one winner per generation, and a reused
//!   generation revokes the family for good.
//! * [`once`]: one-time codes — at most one redemption of a code wins, and its password is
//!   the one that works afterwards.
//! * [`lockout`]: cluster-wide lockout — never more password guesses checked than the
//!   lockout lets through, and no sign-in while locked.
//!
//! It also makes faults: [`strictfs`], a disk that loses what was not synced, and
//! [`proxy`], a TCP proxy between nodes that delays or drops one direction of a link.
#![forbid(unsafe_code)]

pub mod clock;
pub mod history;
pub mod linearizable;
pub mod lockout;
pub mod once;
pub mod proxy;
pub mod rotation;
pub mod sets;
pub mod strictfs;
pub mod unique;
