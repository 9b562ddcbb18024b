//! The browser's word on the network and the page, as the core's [`NetworkEvent`]s:
//! `online`, `offline`, the page becoming visible, and a restore from the back/forward
//! cache.
//!
//! Owns those four listeners, one set for the whole wasm instance however many
//! connections hear them (a set per connection would cost each connection four closures
//! and four registrations), and the list of who hears them: a [`PageSubscription`]
//! leaves the list on `Drop`, and the last one to leave removes the listeners. What to
//! do about an event is the core's decision.

use std::cell::RefCell;
use std::rc::Rc;

use wasm_bindgen::JsCast;
use web_sys::{PageTransitionEvent, VisibilityState};

use super::listener::EventListener;
use crate::core::NetworkEvent;

type Report = Rc<dyn Fn(NetworkEvent)>;

struct Page {
    _listeners: Vec<EventListener>,
    subscribers: Vec<(u64, Report)>,
    next_id: u64,
}

thread_local! {
    static PAGE: RefCell<Option<Page>> = const { RefCell::new(None) };
}

/// One connection's subscription to the page's events.
pub struct PageSubscription {
    id: u64,
}

impl PageSubscription {
    /// Reports every network or page event to `report` until dropped.
    pub fn new(report: impl Fn(NetworkEvent) + 'static) -> Self {
        PAGE.with(|page| {
            let Ok(mut page) = page.try_borrow_mut() else {
                // Only a subscription made while the list is being changed could get
                // here, which nothing does; it would then hear nothing.
                return PageSubscription { id: u64::MAX };
            };
            let page = page.get_or_insert_with(listen);
            let id = page.next_id;
            page.next_id += 1;
            page.subscribers.push((id, Rc::new(report)));
            PageSubscription { id }
        })
    }
}

impl Drop for PageSubscription {
    fn drop(&mut self) {
        // `try_with`: the instance's thread-local state may already be gone.
        let _ = PAGE.try_with(|page| {
            if let Ok(mut slot) = page.try_borrow_mut() {
                if let Some(page) = slot.as_mut() {
                    page.subscribers.retain(|(id, _)| *id != self.id);
                    if page.subscribers.is_empty() {
                        *slot = None;
                    }
                }
            }
        });
    }
}

/// Hands `event` to every subscriber. The list is copied first: a subscriber may
/// subscribe or leave while it handles the event.
fn broadcast(event: NetworkEvent) {
    let reports: Vec<Report> = PAGE.with(|page| match page.try_borrow() {
        Ok(page) => page
            .iter()
            .flat_map(|page| &page.subscribers)
            .map(|(_, report)| Rc::clone(report))
            .collect(),
        Err(_) => Vec::new(),
    });
    for report in reports {
        report(event);
    }
}

/// The page's listeners. Outside a window (a worker), listens to what is there.
fn listen() -> Page {
    let mut listeners = Vec::new();
    let window = web_sys::window();
    if let Some(window) = &window {
        for (kind, event) in [
            ("online", NetworkEvent::Online),
            ("offline", NetworkEvent::Offline),
        ] {
            listeners.extend(EventListener::new(window, kind, move |_| broadcast(event)));
        }
        listeners.extend(EventListener::new(window, "pageshow", move |event| {
            let restored = event
                .dyn_ref::<PageTransitionEvent>()
                .is_some_and(PageTransitionEvent::persisted);
            if restored {
                broadcast(NetworkEvent::PageShow);
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
                    broadcast(NetworkEvent::Visible);
                }
            },
        ));
    }
    Page {
        _listeners: listeners,
        subscribers: Vec::new(),
        next_id: 0,
    }
}
