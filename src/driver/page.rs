//! The browser's word on the network and the page, as the core's [`NetworkEvent`]s:
//! `online`, `offline`, the page becoming visible, and a restore from the back/forward
//! cache.
//!
//! Owns those four listeners (removed on `Drop`); what to do about them is the core's
//! decision.

use wasm_bindgen::JsCast;
use web_sys::{PageTransitionEvent, VisibilityState};

use super::listener::EventListener;
use crate::core::NetworkEvent;

pub struct PageListeners {
    _listeners: Vec<EventListener>,
}

impl PageListeners {
    /// Reports every network or page event to `report`. Outside a window (a worker),
    /// listens to what is there.
    pub fn new(report: impl Fn(NetworkEvent) + Clone + 'static) -> Self {
        let mut listeners = Vec::new();
        let window = web_sys::window();
        if let Some(window) = &window {
            for (kind, event) in [
                ("online", NetworkEvent::Online),
                ("offline", NetworkEvent::Offline),
            ] {
                let report = report.clone();
                listeners.extend(EventListener::new(window, kind, move |_| report(event)));
            }
            let on_pageshow = report.clone();
            listeners.extend(EventListener::new(window, "pageshow", move |event| {
                let restored = event
                    .dyn_ref::<PageTransitionEvent>()
                    .is_some_and(PageTransitionEvent::persisted);
                if restored {
                    on_pageshow(NetworkEvent::PageShow);
                }
            }));
        }
        if let Some(document) = window.and_then(|window| window.document()) {
            let watched = document.clone();
            listeners.extend(EventListener::new(
                &document,
                "visibilitychange",
                move |_| {
                    if watched.visibility_state() == VisibilityState::Visible {
                        report(NetworkEvent::Visible);
                    }
                },
            ));
        }
        Self {
            _listeners: listeners,
        }
    }
}
