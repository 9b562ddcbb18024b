//! The driver's clock: milliseconds that never go back.
//!
//! Reads the wall clock so that time spent asleep (a suspended laptop, a frozen
//! background tab) counts toward the core's deadlines, and clamps it so that a clock
//! adjustment backwards cannot move a deadline away. Owns nothing else.

use std::cell::Cell;

#[derive(Debug, Default)]
pub struct Clock {
    last: Cell<u64>,
}

impl Clock {
    pub fn now(&self) -> u64 {
        // `as` saturates: a NaN or negative reading becomes 0, then the clamp holds.
        let now = (js_sys::Date::now() as u64).max(self.last.get());
        self.last.set(now);
        now
    }
}
