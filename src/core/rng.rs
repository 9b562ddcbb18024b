//! The core's source of randomness: a small seeded generator (SplitMix64).
//!
//! The core never draws entropy itself; the shell passes a seed in, so that tests on
//! virtual time replay exactly. Must not touch clocks, IO or the platform's RNG.

/// A deterministic pseudo-random generator seeded by the caller.
#[derive(Debug, Clone)]
pub struct Rng {
    state: u64,
}

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self { state: seed }
    }

    /// A uniform float in `[0, 1)`.
    pub fn next_unit(&mut self) -> f64 {
        // 53 high bits fill an f64 mantissa exactly, so 1.0 itself is never produced.
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

#[cfg(test)]
mod tests {
    use super::Rng;

    #[test]
    fn unit_values_stay_in_the_half_open_interval() {
        let mut rng = Rng::new(7);
        for _ in 0..100_000 {
            let u = rng.next_unit();
            assert!((0.0..1.0).contains(&u));
        }
    }

    #[test]
    fn same_seed_same_sequence() {
        let (mut a, mut b) = (Rng::new(42), Rng::new(42));
        for _ in 0..100 {
            assert_eq!(a.next_unit().to_bits(), b.next_unit().to_bits());
        }
    }
}
