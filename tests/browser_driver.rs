//! The core driven by the browser shell (WebSocket, timer, clock) against the real
//! socket.io server of `tests/support/socketio-server.mjs`, started by `npm test`.
#![cfg(target_arch = "wasm32")]

use futures::channel::mpsc::{self, UnboundedReceiver};
use futures::future::{self, Either};
use futures::StreamExt;
use gloo_timers::future::TimeoutFuture;
use resocket::core::{
    Backoff, EmitOptions, Manager, ManagerConfig, ManagerEvent, Notice, ReconnectionAttempts,
    SocketConfig, SocketEvent, SocketKey, TransportKind,
};
use resocket::driver::{Driver, Endpoint};
use resocket::protocol::JsonText;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const SERVER: &str = env!("RESOCKET_TEST_SERVER");
const CLOSED_PORT: &str = env!("RESOCKET_TEST_CLOSED_PORT");

struct Client {
    driver: Driver,
    socket: SocketKey,
    notices: UnboundedReceiver<Notice>,
}

impl Client {
    fn new(base: &str, config: ManagerConfig) -> Client {
        let (tx, notices) = mpsc::unbounded();
        let mut manager = Manager::new(config, 1);
        let socket = manager.socket("/", SocketConfig::default());
        let url = format!("{}/socket.io/?EIO=4", base.replacen("ws://", "http://", 1));
        let driver = Driver::new(manager, Endpoint::new(url), move |notice| {
            let _ = tx.unbounded_send(notice);
        });
        Client {
            driver,
            socket,
            notices,
        }
    }

    fn connect(&self) {
        let socket = self.socket;
        self.driver
            .command(|manager, now| manager.connect(now, socket))
            .expect("driver idle");
        self.driver.deliver();
    }

    /// Waits for the notice `wanted` picks out, collecting the ones before it.
    async fn until<T>(
        &mut self,
        within_ms: u32,
        wanted: impl Fn(&Notice) -> Option<T>,
    ) -> (T, Vec<Notice>) {
        let mut seen = Vec::new();
        let deadline = TimeoutFuture::new(within_ms);
        futures::pin_mut!(deadline);
        loop {
            match future::select(self.notices.next(), deadline.as_mut()).await {
                Either::Left((Some(notice), _)) => {
                    if let Some(found) = wanted(&notice) {
                        return (found, seen);
                    }
                    seen.push(notice);
                }
                Either::Left((None, _)) => panic!("the driver dropped its sink; seen {seen:?}"),
                Either::Right(_) => panic!("nothing wanted within {within_ms} ms; seen {seen:?}"),
            }
        }
    }

    async fn connected(&mut self) -> Vec<Notice> {
        let socket = self.socket;
        self.until(5_000, |n| {
            (*n == Notice::Socket(socket, SocketEvent::Connect)).then_some(())
        })
        .await
        .1
    }

    fn emit(&self, data: &str, with_ack: bool) -> Option<u64> {
        let socket = self.socket;
        let data = JsonText::parse(data).expect("valid JSON");
        let options = EmitOptions {
            with_ack,
            timeout: Some(5_000),
            ..EmitOptions::default()
        };
        let id = self
            .driver
            .command(|manager, now| manager.emit(now, socket, data, Vec::new(), options))
            .expect("driver idle")
            .expect("valid emit");
        self.driver.deliver();
        id
    }
}

fn fast_backoff(attempts: ReconnectionAttempts) -> ManagerConfig {
    ManagerConfig {
        reconnection_attempts: attempts,
        backoff: Backoff {
            delay: 50,
            delay_max: 200,
            randomization_factor: 0.0,
        },
        timeout: 5_000,
        ..ManagerConfig::default()
    }
}

#[wasm_bindgen_test]
async fn connects_and_gets_an_ack_from_the_real_server() {
    let mut client = Client::new(SERVER, fast_backoff(ReconnectionAttempts::Unlimited));
    client.connect();
    let before = client.connected().await;
    assert!(
        before.contains(&Notice::Manager(ManagerEvent::Open(TransportKind::Polling))),
        "{before:?}"
    );
    let socket = client.socket;
    let sid = client
        .driver
        .inspect(|m| m.sid(socket).map(str::to_owned))
        .unwrap();
    assert!(sid.is_some_and(|sid| !sid.is_empty()));
    let id = client
        .emit(r#"["echo",{"n":1},"two"]"#, true)
        .expect("an ack id");
    let (args, _) = client
        .until(5_000, |n| match n {
            Notice::Socket(_, SocketEvent::Ack(got, Ok(payload))) if *got == id => {
                Some(payload.args.as_str().to_owned())
            }
            _ => None,
        })
        .await;
    assert_eq!(args, r#"[{"n":1},"two"]"#);
}

#[wasm_bindgen_test]
async fn a_dropped_transport_reconnects_and_recovers_the_session() {
    // The server saves a session only once it has seen the old transport close; a
    // reconnect within a few milliseconds would race it (socket.io-client's default
    // delay, 1 s, leaves it ample time).
    let config = ManagerConfig {
        backoff: Backoff {
            delay: 1000,
            delay_max: 1000,
            randomization_factor: 0.0,
        },
        ..ManagerConfig::default()
    };
    let mut client = Client::new(SERVER, config);
    client.connect();
    client.connected().await;
    let socket = client.socket;
    let sid = client
        .driver
        .inspect(|m| m.sid(socket).map(str::to_owned))
        .unwrap();
    // An event from the server gives the client an offset to recover from.
    client.emit(r#"["echo","hello"]"#, false);
    let (event, _) = client
        .until(5_000, |n| match n {
            Notice::Socket(_, SocketEvent::Event(event)) => Some(event.args().as_str().to_owned()),
            _ => None,
        })
        .await;
    assert_eq!(
        event, r#"["echo","hello"]"#,
        "the offset is not shown to the app"
    );

    client
        .driver
        .command(|m, now| m.close_transport(now))
        .unwrap();
    client.driver.deliver();
    let seen = client.connected().await;
    // Heartbeats and the upgrade to WebSocket come whenever the network has them done.
    let order: Vec<&Notice> = seen
        .iter()
        .filter(|n| {
            !matches!(
                n,
                Notice::Manager(ManagerEvent::Ping | ManagerEvent::Upgrade(_))
            )
        })
        .collect();
    assert_eq!(
        order,
        [
            &Notice::Socket(
                socket,
                SocketEvent::Disconnect(resocket::core::DisconnectReason::ForcedClose)
            ),
            &Notice::Manager(ManagerEvent::Close(
                resocket::core::DisconnectReason::ForcedClose
            )),
            &Notice::Manager(ManagerEvent::ReconnectAttempt(1)),
            &Notice::Manager(ManagerEvent::Open(TransportKind::Polling)),
            &Notice::Manager(ManagerEvent::Reconnect(1)),
        ]
    );
    let (recovered, same_sid) = client
        .driver
        .inspect(|m| (m.recovered(socket), m.sid(socket).map(str::to_owned) == sid))
        .unwrap();
    assert!(recovered, "the server kept the session");
    assert!(same_sid, "a recovered session keeps its id");
}

#[wasm_bindgen_test]
async fn a_dead_server_exhausts_the_attempts() {
    let base = format!("ws://127.0.0.1:{CLOSED_PORT}");
    let mut client = Client::new(&base, fast_backoff(ReconnectionAttempts::Limited(2)));
    client.connect();
    let (_, seen) = client
        .until(10_000, |n| {
            (*n == Notice::Manager(ManagerEvent::ReconnectFailed)).then_some(())
        })
        .await;
    let attempts: Vec<u32> = seen
        .iter()
        .filter_map(|n| match n {
            Notice::Manager(ManagerEvent::ReconnectAttempt(k)) => Some(*k),
            _ => None,
        })
        .collect();
    assert_eq!(attempts, [1, 2]);
    let socket = client.socket;
    assert!(!client.driver.inspect(|m| m.is_active(socket)).unwrap());
}
