//! The driver's one timer: a single callback for the driver's whole life, armed and
//! cleared through `setTimeout` and `clearTimeout`.
//!
//! Owns that callback and the handle of the timeout armed, if any. Because the callback
//! lives as long as the timer, a timeout that fires although it was cleared (a
//! `clearTimeout` replaced by a fake clock that does not clear, say) only calls it once
//! more, and never a freed closure. It knows nothing of what the callback does.

use js_sys::Function;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

#[wasm_bindgen]
extern "C" {
    /// The page's `setTimeout` as it is when called (a fake clock installed later
    /// drives it, as socket.io-client's timers by default).
    #[wasm_bindgen(js_name = setTimeout)]
    fn set_timeout(handler: &Function, delay: i32) -> JsValue;
    #[wasm_bindgen(js_name = clearTimeout)]
    fn clear_timeout(handle: &JsValue);
}

pub struct Timer {
    callback: Closure<dyn FnMut()>,
    /// The deadline armed and its timeout's handle.
    armed: Option<(u64, JsValue)>,
}

impl Timer {
    /// A timer that calls `callback` when it fires.
    pub fn new(callback: impl FnMut() + 'static) -> Self {
        Self {
            callback: Closure::new(callback),
            armed: None,
        }
    }

    /// The deadline armed, if any.
    pub fn deadline(&self) -> Option<u64> {
        self.armed.as_ref().map(|(deadline, _)| *deadline)
    }

    /// Arms the timer for `deadline`, `delay` ms from now, in place of any armed one.
    pub fn arm(&mut self, deadline: u64, delay: u32) {
        self.disarm();
        // setTimeout takes a signed 32-bit delay.
        let delay = delay.min(i32::MAX as u32) as i32;
        let handler: &Function = self.callback.as_ref().unchecked_ref();
        self.armed = Some((deadline, set_timeout(handler, delay)));
    }

    /// Clears the armed timeout, if any: also when the callback runs, since a timeout
    /// that fires may be one cleared before, not the one armed.
    pub fn disarm(&mut self) {
        if let Some((_, handle)) = self.armed.take() {
            clear_timeout(&handle);
        }
    }
}

impl Drop for Timer {
    fn drop(&mut self) {
        self.disarm();
    }
}
