//! Reconnection delays: exponential growth, capped, then jittered below the cap.
//!
//! Owns the arithmetic of DESIGN.md §3 and nothing else: it does not count attempts
//! against a limit nor decide whether to reconnect (that is the manager's job).

use super::rng::Rng;

/// The backoff parameters, in milliseconds (socket.io-client's names and defaults).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Backoff {
    pub delay: u64,
    pub delay_max: u64,
    /// In `[0, 1]`; 0 gives exact delays.
    pub randomization_factor: f64,
}

impl Default for Backoff {
    fn default() -> Self {
        Self {
            delay: 1000,
            delay_max: 5000,
            randomization_factor: 0.5,
        }
    }
}

impl Backoff {
    /// The un-jittered wait before attempt `attempt` (1-based):
    /// `min(delay_max, delay · 2^(attempt−1))`, saturating instead of overflowing.
    pub fn base(&self, attempt: u32) -> u64 {
        let exponent = attempt.saturating_sub(1);
        let factor = 1u64.checked_shl(exponent).unwrap_or(u64::MAX);
        self.delay.saturating_mul(factor).min(self.delay_max)
    }

    /// The wait before attempt `attempt`: `base · (1 − rf·U)` with U uniform in `[0, 1)`,
    /// rounded up to whole milliseconds. Jitter comes after the cap so that clients at
    /// the cap stay spread out instead of retrying in lockstep.
    pub fn wait(&self, attempt: u32, rng: &mut Rng) -> u64 {
        let base = self.base(attempt);
        let rf = self.randomization_factor;
        if rf.is_nan() || rf <= 0.0 || base == 0 {
            return base;
        }
        let jittered = (base as f64 * (1.0 - rf.min(1.0) * rng.next_unit())).ceil();
        // The float can only exceed `base` through rounding of huge values; clamp keeps
        // the promise "never above the cap" whatever the magnitude.
        (jittered as u64).clamp(1, base)
    }
}
