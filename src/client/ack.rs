//! [`Acknowledgement`]: the future of an emit that asked the server for an answer.
//!
//! Owns the slot where each answer waits for its future, and a socket's table of those
//! slots by ack id. It must not know how answers arrive (the socket routes them) nor
//! what they mean (the app reads them into its own type).

use std::cell::RefCell;
use std::collections::HashMap;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::rc::{Rc, Weak};
use std::task::{Context, Poll, Waker};

use serde::de::DeserializeOwned;

use super::args::from_args;
use super::error::ClientError;
use crate::protocol::Value;

/// The server's answer: its arguments, or why none will come.
pub(crate) type Answer = Result<Vec<Value>, ClientError>;

#[derive(Default)]
struct Slot {
    answer: Option<Answer>,
    waker: Option<Waker>,
}

/// A socket's emits awaiting their answer, by ack id.
#[derive(Default)]
pub(crate) struct AckTable(RefCell<HashMap<u64, Rc<RefCell<Slot>>>>);

impl AckTable {
    /// The future of the answer to emit `id`.
    pub(crate) fn wait<R>(self: &Rc<Self>, id: u64) -> Acknowledgement<R> {
        let slot = Rc::default();
        self.0.borrow_mut().insert(id, Rc::clone(&slot));
        Acknowledgement::waiting(Waiting {
            id,
            slot,
            table: Rc::downgrade(self),
        })
    }

    /// Hands `answer` to the future of emit `id`, if it still waits.
    pub(crate) fn settle(&self, id: u64, answer: Answer) {
        // Taken out first: waking may run code that emits, which inserts.
        let slot = self.0.borrow_mut().remove(&id);
        if let Some(slot) = slot {
            fill(&slot, answer);
        }
    }

    /// Settles every waiting future with `error` (the socket is going away).
    pub(crate) fn settle_all(&self, error: &ClientError) {
        let slots: Vec<_> = self.0.borrow_mut().drain().map(|(_, slot)| slot).collect();
        for slot in slots {
            fill(&slot, Err(error.clone()));
        }
    }
}

fn fill(slot: &RefCell<Slot>, answer: Answer) {
    let waker = {
        let mut slot = slot.borrow_mut();
        slot.answer = Some(answer);
        slot.waker.take()
    };
    if let Some(waker) = waker {
        waker.wake();
    }
}

struct Waiting {
    id: u64,
    slot: Rc<RefCell<Slot>>,
    table: Weak<AckTable>,
}

/// Resolves to the server's answer read as `R` (see [`Message::decode`] for how
/// arguments are read), or to why no answer will come: [`ClientError::Ack`] with a
/// timeout, a disconnection or a drop, [`ClientError::Emit`] if the emit was refused.
///
/// The emit is made when the future is created, not when it is first polled, so emits
/// leave in the order they were made. Dropping the future forgets the answer, and only
/// that: the emit itself is not taken back.
///
/// [`Message::decode`]: super::Message::decode
#[must_use = "the answer is lost unless the acknowledgement is awaited"]
pub struct Acknowledgement<R> {
    state: State,
    _answer: PhantomData<fn() -> R>,
}

enum State {
    Failed(ClientError),
    Waiting(Waiting),
    Done,
}

impl<R> Acknowledgement<R> {
    pub(crate) fn failed(error: ClientError) -> Self {
        Self::new(State::Failed(error))
    }

    fn waiting(waiting: Waiting) -> Self {
        Self::new(State::Waiting(waiting))
    }

    fn new(state: State) -> Self {
        Self {
            state,
            _answer: PhantomData,
        }
    }
}

impl<R: DeserializeOwned> Future for Acknowledgement<R> {
    type Output = Result<R, ClientError>;

    fn poll(self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let answer = match &this.state {
            State::Failed(error) => Err(error.clone()),
            State::Waiting(waiting) => {
                let mut slot = waiting.slot.borrow_mut();
                let Some(answer) = slot.answer.take() else {
                    slot.waker = Some(context.waker().clone());
                    return Poll::Pending;
                };
                answer
            }
            // Polled again after completion: nothing more will come.
            State::Done => return Poll::Pending,
        };
        this.state = State::Done;
        Poll::Ready(answer.and_then(|args| Ok(from_args(args)?)))
    }
}

impl<R> Drop for Acknowledgement<R> {
    fn drop(&mut self) {
        if let State::Waiting(waiting) = &self.state {
            if let Some(table) = waiting.table.upgrade() {
                table.0.borrow_mut().remove(&waiting.id);
            }
        }
    }
}
