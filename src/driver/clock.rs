//! The driver's clock: the browser's monotonic milliseconds, and the wall-clock jumps
//! that monotonic time does not see.
//!
//! The core runs on `performance.now()`, which a change of the system clock does not
//! move, so a clock set back or forward neither freezes nor fires its deadlines. While
//! the machine sleeps, though, that clock may stand still (it does on Linux and macOS),
//! and the server gives up on a client that stopped answering its pings: so the timer
//! and the page's events also ask how much further the wall clock went than the
//! monotonic one since they last asked, for the core to judge. Frames do not ask: one
//! that arrives proves the connection alive, and each question costs a call out of wasm.
//! Owns nothing else.

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
    /// The readings of the last [`Clock::wall_gap`]: (monotonic, wall), in milliseconds.
    last: Cell<Option<(u64, u64)>>,
}

impl Clock {
    /// The monotonic time. The first reading also starts the wall-clock comparison.
    pub fn now(&self) -> u64 {
        // `as` saturates: a NaN or negative reading becomes 0.
        let now = performance_now() as u64;
        if self.last.get().is_none() {
            self.wall_gap(now);
        }
        now
    }

    /// How much further the wall clock went than the monotonic one (at `now`) since
    /// the previous call; 0 when not worth reporting.
    pub fn wall_gap(&self, now: u64) -> u64 {
        let wall = js_sys::Date::now() as u64;
        let gap = self.last.get().map_or(0, |(last_now, last_wall)| {
            let wall_elapsed = wall.saturating_sub(last_wall);
            wall_elapsed.saturating_sub(now.saturating_sub(last_now))
        });
        self.last.set(Some((now, wall)));
        if gap >= GAP_THRESHOLD_MS {
            gap
        } else {
            0
        }
    }
}
