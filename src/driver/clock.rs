//! The driver's clock: the browser's monotonic milliseconds, and the wall-clock jumps
//! that monotonic time does not see.
//!
//! The core runs on `performance.now()`, which a change of the system clock does not
//! move, so a clock set back or forward neither freezes nor fires its deadlines. While
//! the machine sleeps, though, that clock may stand still (it does on Linux and macOS),
//! and the server gives up on a client that stopped answering its pings: so each reading
//! also reports how much further the wall clock went than the monotonic one, when that
//! is more than [`GAP_THRESHOLD_MS`], for the core to judge. Owns nothing else.

use std::cell::Cell;

use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    /// `performance.now()`: in windows and workers alike.
    #[wasm_bindgen(js_namespace = performance, js_name = now)]
    fn performance_now() -> f64;
}

/// Below this, a difference between the two clocks is their ordinary drift and the
/// time it takes to read them, not a sleep or a clock step.
const GAP_THRESHOLD_MS: u64 = 1000;

#[derive(Debug, Default)]
pub struct Clock {
    /// The previous reading: (monotonic, wall), in milliseconds.
    last: Cell<Option<(u64, u64)>>,
}

impl Clock {
    /// The monotonic time, and the wall-clock jump since the previous reading (0 if
    /// none worth reporting).
    pub fn now(&self) -> (u64, u64) {
        // `as` saturates: a NaN or negative reading becomes 0.
        let monotonic = performance_now() as u64;
        let wall = js_sys::Date::now() as u64;
        let gap = match self.last.get() {
            Some((last_monotonic, last_wall)) => {
                let wall_elapsed = wall.saturating_sub(last_wall);
                let elapsed = monotonic.saturating_sub(last_monotonic);
                wall_elapsed.saturating_sub(elapsed)
            }
            None => 0,
        };
        self.last.set(Some((monotonic, wall)));
        let gap = if gap >= GAP_THRESHOLD_MS { gap } else { 0 };
        (monotonic, gap)
    }
}
