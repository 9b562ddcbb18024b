//! The fan-out of a socket's events: to every [`Events`] stream and every listener
//! ([`Listener`]) the app holds.
//!
//! Owns the streams' queues and the listeners, and ends the streams when the socket
//! goes away. It must not produce events (the socket does) nor hold on to the socket:
//! a stream or a listener guard never keeps a connection open.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::pin::Pin;
use std::rc::{Rc, Weak};
use std::task::{Context, Poll, Waker};

use futures_core::Stream;

use super::event::Event;

type Handler = RefCell<dyn FnMut(&Event)>;

#[derive(Default)]
struct Subscribers {
    next_listener: u64,
    listeners: Vec<(u64, Rc<Handler>)>,
    inboxes: Vec<Weak<RefCell<Inbox>>>,
}

#[derive(Default)]
struct Inbox {
    events: VecDeque<Event>,
    waker: Option<Waker>,
    ended: bool,
}

/// A socket's subscribers.
#[derive(Default)]
pub(crate) struct Hub(Rc<RefCell<Subscribers>>);

impl Hub {
    pub(crate) fn subscribe(&self) -> Events {
        let inbox = Rc::default();
        let mut subscribers = self.0.borrow_mut();
        // Streams the app dropped leave their place here.
        subscribers.inboxes.retain(|inbox| inbox.strong_count() > 0);
        subscribers.inboxes.push(Rc::downgrade(&inbox));
        Events { inbox }
    }

    pub(crate) fn listen(&self, handler: impl FnMut(&Event) + 'static) -> Listener {
        let mut subscribers = self.0.borrow_mut();
        let id = subscribers.next_listener;
        subscribers.next_listener += 1;
        let handler: Rc<Handler> = Rc::new(RefCell::new(handler));
        subscribers.listeners.push((id, handler));
        Listener {
            subscribers: Rc::downgrade(&self.0),
            id,
        }
    }

    /// Queues `event` on every stream, then calls every listener with it.
    pub(crate) fn publish(&self, event: &Event) {
        // Listeners run without the subscribers borrowed: they may subscribe or stop.
        let (inboxes, listeners): (Vec<_>, Vec<_>) = {
            let subscribers = self.0.borrow();
            (
                subscribers
                    .inboxes
                    .iter()
                    .filter_map(Weak::upgrade)
                    .collect(),
                subscribers
                    .listeners
                    .iter()
                    .map(|(_, handler)| Rc::clone(handler))
                    .collect(),
            )
        };
        for inbox in inboxes {
            let waker = {
                let mut inbox = inbox.borrow_mut();
                inbox.events.push_back(event.clone());
                inbox.waker.take()
            };
            if let Some(waker) = waker {
                waker.wake();
            }
        }
        for handler in listeners {
            // The socket delivers one event at a time, so a listener is never busy
            // here; were it, skipping beats a panic.
            if let Ok(mut handler) = handler.try_borrow_mut() {
                handler(event);
            }
        }
    }

    /// Ends every stream once its queued events are read, and lets go of the listeners.
    pub(crate) fn close(&self) {
        let (inboxes, listeners) = {
            let mut subscribers = self.0.borrow_mut();
            (
                std::mem::take(&mut subscribers.inboxes),
                std::mem::take(&mut subscribers.listeners),
            )
        };
        drop(listeners);
        for inbox in inboxes.iter().filter_map(Weak::upgrade) {
            let waker = {
                let mut inbox = inbox.borrow_mut();
                inbox.ended = true;
                inbox.waker.take()
            };
            if let Some(waker) = waker {
                waker.wake();
            }
        }
    }
}

/// The socket's events from the moment it was asked for, as a [`Stream`]; it ends when
/// the socket's last handle is dropped.
///
/// Events arrive from the browser's event loop only, so a stream asked for before the
/// app's first `.await` misses none. Each stream queues every event until read: a
/// stream that is kept but never read grows without bound, so drop the ones not read.
pub struct Events {
    inbox: Rc<RefCell<Inbox>>,
}

impl Stream for Events {
    type Item = Event;

    fn poll_next(self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<Option<Event>> {
        let mut inbox = self.inbox.borrow_mut();
        if let Some(event) = inbox.events.pop_front() {
            return Poll::Ready(Some(event));
        }
        if inbox.ended {
            return Poll::Ready(None);
        }
        inbox.waker = Some(context.waker().clone());
        Poll::Pending
    }
}

/// A listener added with [`Socket::on_event`](super::Socket::on_event): it is called
/// until this guard is dropped (or [`Listener::forget`] keeps it for the socket's life).
#[must_use = "the listener is removed when this guard is dropped"]
pub struct Listener {
    subscribers: Weak<RefCell<Subscribers>>,
    id: u64,
}

impl Listener {
    /// Keeps the listener for as long as the socket lives.
    pub fn forget(mut self) {
        self.subscribers = Weak::new();
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        if let Some(subscribers) = self.subscribers.upgrade() {
            // Taken out before it is dropped: the closure may hold handles whose drop
            // runs code of the socket.
            let removed = {
                let mut subscribers = subscribers.borrow_mut();
                let position = subscribers
                    .listeners
                    .iter()
                    .position(|(id, _)| *id == self.id);
                position.map(|index| subscribers.listeners.remove(index))
            };
            drop(removed);
        }
    }
}
