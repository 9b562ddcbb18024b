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
//! For the same reason a frame is stamped with its event's `timeStamp` (the same clock,
//! read by the browser when the frame arrived) instead of a call to `performance.now()`,
//! which costs more than anything else the driver does for a small event. Readings
//! never go back: an event stamped before the latest reading counts as at that reading.
//! Owns nothing else.

use std::cell::Cell;

use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    /// `performance.now()`: in windows and workers alike.
    #[wasm_bindgen(js_namespace = performance, js_name = now)]
    fn performance_now() -> f64;
}

/// Above this, an event's stamp is not on `performance.now()`'s clock, which counts from
/// the page's start: about three years.
const MAX_PLAUSIBLE_STAMP: f64 = 1e11;

/// Below this, a difference between the two clocks is their ordinary drift and the
/// time it takes to read them, not a sleep or a clock step.
const GAP_THRESHOLD_MS: u64 = 1000;

#[derive(Debug, Default)]
pub struct Clock {
    /// The readings of the last [`Clock::wall_gap`]: (monotonic, wall), in milliseconds.
    last: Cell<Option<(u64, u64)>>,
    /// The latest time handed out.
    latest: Cell<u64>,
}

impl Clock {
    /// The monotonic time. The first reading also starts the wall-clock comparison.
    pub fn now(&self) -> u64 {
        let now = self.advance(performance_now());
        if self.last.get().is_none() {
            self.wall_gap(now);
        }
        now
    }

    /// The monotonic time of an event stamped `time`, when that is a reading of the same
    /// clock: a stamp on another clock (milliseconds since 1970, as old browsers gave)
    /// would stop time at its value, so it is read anew instead.
    pub fn at(&self, time: f64) -> u64 {
        if time < MAX_PLAUSIBLE_STAMP {
            self.advance(time)
        } else {
            self.now()
        }
    }

    fn advance(&self, time: f64) -> u64 {
        // `as` saturates: a NaN or negative reading becomes 0.
        let now = (time as u64).max(self.latest.get());
        self.latest.set(now);
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
