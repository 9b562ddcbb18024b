//! The live ticker: a Leptos (client-side rendered) app on resocket's Rust API. It owns
//! the page's view of one Socket.IO connection: the connection state, whether the last
//! connect recovered the session, the numbered `tick` events in the order they came, and
//! a message sent with an acknowledgement whose reply is shown.
//!
//! The server is the page's own origin (serve the built files from the Socket.IO
//! server). Every value the end-to-end test reads is in an element id or a `data-`
//! attribute, so that the test never parses the human-readable text.

use futures::StreamExt;
use leptos::prelude::*;
use leptos::task::spawn_local;
use resocket::client::{ConnectError, Event, ManagerEvent, Options, Socket};
use wasm_bindgen::prelude::*;

// The app's own allocator: a Rust front end picks its allocator, and the client crate
// must link next to it without bringing one of its own.
#[global_allocator]
static ALLOCATOR: std::alloc::System = std::alloc::System;

#[wasm_bindgen(start)]
pub fn start() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(App);
}

/// How many connection states the page lists.
const HISTORY: usize = 50;
/// How many ticks the page lists, the latest: a ticker runs for hours.
const TICKS_SHOWN: usize = 1000;

/// The connection as the page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Link {
    Connecting,
    Connected,
    Disconnected(String),
    Reconnecting(u32),
    /// The last attempt failed (a connect error), or the socket could not be made.
    Failed(String),
}

impl Link {
    fn state(&self) -> &'static str {
        match self {
            Self::Connecting => "connecting",
            Self::Connected => "connected",
            Self::Disconnected(_) => "disconnected",
            Self::Reconnecting(_) => "reconnecting",
            Self::Failed(_) => "failed",
        }
    }

    fn reason(&self) -> String {
        match self {
            Self::Disconnected(reason) | Self::Failed(reason) => reason.clone(),
            _ => String::new(),
        }
    }

    fn attempt(&self) -> String {
        match self {
            Self::Reconnecting(attempt) => attempt.to_string(),
            _ => String::new(),
        }
    }

    fn text(&self) -> String {
        match self {
            Self::Connecting => "connecting…".into(),
            Self::Connected => "connected".into(),
            Self::Disconnected(reason) => format!("disconnected ({reason})"),
            Self::Reconnecting(attempt) => format!("reconnecting, attempt {attempt}"),
            Self::Failed(reason) => format!("cannot connect: {reason}"),
        }
    }
}

/// The message box's last round trip.
#[derive(Debug, Clone, PartialEq)]
enum Reply {
    Idle,
    Waiting,
    Answered(String),
    Failed(String),
}

impl Reply {
    fn state(&self) -> &'static str {
        match self {
            Self::Idle => "idle",
            Self::Waiting => "waiting",
            Self::Answered(_) => "answered",
            Self::Failed(_) => "failed",
        }
    }

    fn text(&self) -> String {
        match self {
            Self::Idle => String::new(),
            Self::Waiting => "…".into(),
            Self::Answered(reply) => reply.clone(),
            Self::Failed(error) => format!("no reply: {error}"),
        }
    }
}

fn connect_error_text(error: &ConnectError) -> String {
    match error {
        ConnectError::Connection(error) => error.message().into(),
        ConnectError::Refused { message, .. } => message.clone(),
    }
}

fn server_url() -> String {
    let origin = window().location().origin().unwrap_or_default();
    format!("{origin}/")
}

#[component]
fn App() -> impl IntoView {
    let link = RwSignal::new(Link::Connecting);
    // Every state the connection went through, oldest first: a reconnection is over
    // before anyone reads the current state.
    let history = RwSignal::new(Vec::<Link>::new());
    let show = move |next: Link| {
        history.update(|history| {
            if history.len() == HISTORY {
                history.remove(0);
            }
            history.push(next.clone());
        });
        link.set(next);
    };
    // None until the first connect.
    let recovered = RwSignal::new(None::<bool>);
    let connects = RwSignal::new(0u32);
    // The latest ticks, each with its place in the order of arrival (its row's key).
    let ticks = RwSignal::new(Vec::<(u64, u64)>::new());
    let received = RwSignal::new(0u64);
    // Ticks whose payload was not a sequence number: shown, never silently skipped.
    let unreadable = RwSignal::new(0u32);
    let draft = RwSignal::new(String::from("hello"));
    let reply = RwSignal::new(Reply::Idle);

    // Owned by this component: when it goes, the socket is dropped, which closes it and
    // ends the event loop below.
    let socket = StoredValue::new_local(None::<Socket>);
    match Socket::connect(&server_url(), Options::default()) {
        Ok(connected) => {
            // Subscribed before anything awaits, so that no event is missed.
            let mut events = connected.events();
            socket.set_value(Some(connected));
            spawn_local(async move {
                while let Some(event) = events.next().await {
                    match event {
                        Event::Connect => {
                            let again = socket
                                .try_with_value(|socket| socket.as_ref().map(Socket::recovered))
                                .flatten();
                            recovered.set(again);
                            connects.update(|n| *n += 1);
                            show(Link::Connected);
                        }
                        Event::Disconnect(reason) => {
                            show(Link::Disconnected(reason.as_str().into()));
                        }
                        Event::ConnectError(error) => {
                            show(Link::Failed(connect_error_text(&error)))
                        }
                        Event::Message(message) if message.name() == "tick" => {
                            match message.decode::<u64>() {
                                Ok(seq) => {
                                    let arrival = received.get_untracked();
                                    received.set(arrival + 1);
                                    ticks.update(|ticks| {
                                        if ticks.len() == TICKS_SHOWN {
                                            ticks.remove(0);
                                        }
                                        ticks.push((arrival, seq));
                                    });
                                }
                                Err(_) => unreadable.update(|n| *n += 1),
                            }
                        }
                        Event::Connection(ManagerEvent::ReconnectAttempt(attempt)) => {
                            show(Link::Reconnecting(attempt));
                        }
                        _ => {}
                    }
                }
            });
        }
        Err(error) => show(Link::Failed(error.to_string())),
    }

    let send = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(Some(socket)) = socket.try_with_value(Clone::clone) else {
            reply.set(Reply::Failed("there is no socket".into()));
            return;
        };
        let text = draft.get_untracked();
        reply.set(Reply::Waiting);
        spawn_local(async move {
            let answer: Result<String, _> = socket.emit_with_ack("message", &text).await;
            match answer {
                Ok(answer) => reply.set(Reply::Answered(answer)),
                Err(error) => reply.set(Reply::Failed(error.to_string())),
            }
        });
    };

    view! {
        <h1>"Live ticker"</h1>
        <p>
            "Connection: "
            <span
                id="status"
                data-state=move || link.with(Link::state)
                data-reason=move || link.with(Link::reason)
                data-attempt=move || link.with(Link::attempt)
            >
                {move || link.with(Link::text)}
            </span>
        </p>
        <p>
            "Session recovered: "
            <span
                id="recovered"
                data-recovered=move || recovered.get().map(|r| r.to_string()).unwrap_or_default()
            >
                {move || match recovered.get() {
                    None => "–",
                    Some(true) => "yes",
                    Some(false) => "no",
                }}
            </span>
            " (connects: "
            <span id="connects" data-count=move || connects.get().to_string()>
                {move || connects.get()}
            </span>
            ")"
        </p>
        <ol id="history">
            <For
                each=move || history.get().into_iter().enumerate()
                key=|(position, link)| (*position, link.clone())
                children=|(_, link)| {
                    view! {
                        <li
                            data-state=link.state()
                            data-reason=link.reason()
                            data-attempt=link.attempt()
                        >
                            {link.text()}
                        </li>
                    }
                }
            />
        </ol>
        <form id="send" on:submit=send>
            <input
                id="message"
                type="text"
                prop:value=move || draft.get()
                on:input=move |ev| draft.set(event_target_value(&ev))
            />
            <button id="send-button" type="submit">"Send"</button>
            " reply: "
            <output id="reply" data-state=move || reply.with(Reply::state)>
                {move || reply.with(Reply::text)}
            </output>
        </form>
        <h2>
            "Ticks ("
            <span id="tick-count" data-count=move || received.get().to_string()>
                {move || received.get()}
            </span>
            ")"
            <span id="unreadable" data-count=move || unreadable.get().to_string()>
                {move || match unreadable.get() {
                    0 => String::new(),
                    n => format!(", {n} unreadable"),
                }}
            </span>
        </h2>
        // Keyed by arrival, not by number: a duplicate tick must show as a second row.
        <ol id="ticks">
            <For
                each=move || ticks.get()
                key=|(arrival, _)| *arrival
                children=|(_, seq)| view! { <li data-seq=seq.to_string()>{seq}</li> }
            />
        </ol>
    }
}
