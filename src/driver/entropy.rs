//! The driver's randomness: the seed the core's backoff jitter starts from.
//!
//! The core never draws entropy; the shell hands it a seed from the platform. Jitter
//! needs no cryptographic quality, so `Math.random` is enough. Owns nothing else.

/// A seed for [`crate::core::Manager::new`].
pub fn random_seed() -> u64 {
    // 2^53: every integer below it is exact in an f64.
    (js_sys::Math::random() * 9_007_199_254_740_992.0) as u64
}
