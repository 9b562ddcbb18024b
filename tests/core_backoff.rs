//! The backoff arithmetic of DESIGN.md §3: exact table, jitter bounds, no overflow.

use proptest::prelude::*;
use resocket::core::{Backoff, Rng};

fn exact(delay: u64, delay_max: u64) -> Backoff {
    Backoff {
        delay,
        delay_max,
        randomization_factor: 0.0,
    }
}

#[test]
fn without_jitter_the_waits_follow_the_reconnection_guide_table() {
    let backoff = exact(1000, 5000);
    let mut rng = Rng::new(1);
    let waits: Vec<u64> = (1..=6).map(|n| backoff.wait(n, &mut rng)).collect();
    assert_eq!(waits, [1000, 2000, 4000, 5000, 5000, 5000]);
}

#[test]
fn a_cap_below_the_first_delay_wins() {
    let backoff = exact(3000, 1000);
    assert_eq!(backoff.wait(1, &mut Rng::new(1)), 1000);
}

#[test]
fn after_a_million_failed_attempts_the_wait_is_still_bounded_and_not_zero() {
    let backoff = Backoff::default();
    let mut rng = Rng::new(9);
    for attempt in [1_000, 1_000_000, u32::MAX] {
        for _ in 0..1000 {
            let wait = backoff.wait(attempt, &mut rng);
            assert!((2500..=5000).contains(&wait), "attempt {attempt}: {wait}");
        }
    }
    assert_eq!(exact(1000, 5000).wait(1_000_000, &mut rng), 5000);
    assert_eq!(exact(u64::MAX, u64::MAX).wait(u32::MAX, &mut rng), u64::MAX);
}

#[test]
fn at_the_cap_waits_stay_spread_out() {
    let backoff = Backoff::default();
    let mut rng = Rng::new(3);
    let waits: std::collections::BTreeSet<u64> =
        (0..100).map(|_| backoff.wait(50, &mut rng)).collect();
    assert!(
        waits.len() > 50,
        "only {} distinct waits at the cap",
        waits.len()
    );
}

proptest! {
    #[test]
    fn jittered_waits_lie_between_the_reduced_base_and_the_base(
        delay in 0u64..100_000,
        delay_max in 0u64..1_000_000,
        rf in 0.0f64..=1.0,
        attempt in 1u32..=2_000,
        seed: u64,
    ) {
        let backoff = Backoff { delay, delay_max, randomization_factor: rf };
        let base = delay.saturating_mul(1u64.checked_shl(attempt - 1).unwrap_or(u64::MAX)).min(delay_max);
        prop_assert_eq!(backoff.base(attempt), base);
        let wait = backoff.wait(attempt, &mut Rng::new(seed));
        prop_assert!(wait <= base.min(delay_max));
        prop_assert!(wait as f64 >= (base as f64 * (1.0 - rf)).floor());
        if base > 0 {
            prop_assert!(wait > 0);
        }
    }
}
