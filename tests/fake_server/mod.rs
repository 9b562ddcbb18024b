//! A scripted fake server on virtual time for the core's scenario tests.
//!
//! Owns the harness around one `Manager`: it plays the shell (drains outputs, keeps the
//! clock) and the server (feeds frames), and renders every event as a short string so
//! tests can compare exact sequences. It must not contain client logic of its own.

#![allow(dead_code)] // each test binary uses a different part of the harness

use resocket::core::{
    AckError, Backoff, ConnId, ConnectError, HttpRequest, Manager, ManagerConfig, ManagerEvent,
    Notice, Output, SocketConfig, SocketEvent, SocketKey, TransportKind,
};
use resocket::protocol::{Frame, SEPARATOR};

pub const HANDSHAKE: &str = r#"0{"sid":"eio-1","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}"#;

/// The default configuration with a backoff free of jitter, so that every delay a test
/// waits out is known to the millisecond.
pub fn exact_backoff() -> ManagerConfig {
    ManagerConfig {
        backoff: Backoff {
            delay: 1000,
            delay_max: 5000,
            randomization_factor: 0.0,
        },
        ..ManagerConfig::default()
    }
}

pub struct Harness {
    pub manager: Manager,
    pub socket: SocketKey,
    pub now: u64,
    /// The transport that carries the connection, while the client has it open.
    pub conn: Option<ConnId>,
    /// A WebSocket opened beside polling as an upgrade probe, while it is open.
    pub probe: Option<ConnId>,
    /// Every event and transport command, rendered, in order.
    pub log: Vec<String>,
    /// Every packet sent on the connection, WebSocket frame or part of a POST (binary
    /// as `<bin:N bytes>`), in order.
    pub sent: Vec<String>,
    /// The frames sent on the probe.
    pub probe_sent: Vec<String>,
    /// The polling transport whose GET waits for an answer.
    pub pending_get: Option<ConnId>,
    /// The polling transport whose POST waits for an answer, and its body.
    pub pending_post: Option<(ConnId, String)>,
    /// The query of every transport opened and request sent, in order.
    pub queries: Vec<String>,
    /// Every polling transport opened: no WebSocket frame may be sent on one.
    pub polling: Vec<ConnId>,
}

impl Harness {
    /// A client on WebSocket only: the scenarios of the connection's life, whatever
    /// carries it.
    pub fn new(config: ManagerConfig) -> Self {
        Self::with_socket(config, "/", SocketConfig::default())
    }

    pub fn with_socket(config: ManagerConfig, namespace: &str, socket: SocketConfig) -> Self {
        let config = ManagerConfig {
            transports: vec![TransportKind::WebSocket],
            ..config
        };
        Self::with_transports(config, namespace, socket)
    }

    /// A client with `config`'s transports as they are.
    pub fn with_transports(config: ManagerConfig, namespace: &str, socket: SocketConfig) -> Self {
        let mut manager = Manager::new(config, 0x5eed);
        let socket = manager.socket(namespace, socket);
        Self {
            manager,
            socket,
            now: 0,
            conn: None,
            probe: None,
            log: Vec::new(),
            sent: Vec::new(),
            probe_sent: Vec::new(),
            pending_get: None,
            pending_post: None,
            queries: Vec::new(),
            polling: Vec::new(),
        }
    }

    /// `socket.connect()`.
    pub fn connect(&mut self) {
        self.manager.connect(self.now, self.socket);
        self.drain();
    }

    /// Pulls every output; returns what was logged by this drain.
    pub fn drain(&mut self) -> Vec<String> {
        let start = self.log.len();
        while let Some(output) = self.manager.poll_output() {
            match output {
                Output::OpenTransport(conn, kind, query) => {
                    self.queries.push(query);
                    if self.conn.is_some() {
                        assert_eq!(kind, TransportKind::WebSocket, "a second carrier");
                        self.probe = Some(conn);
                        self.log.push("open_probe".into());
                        continue;
                    }
                    self.conn = Some(conn);
                    if kind == TransportKind::Polling {
                        self.polling.push(conn);
                        self.pending_get = Some(conn);
                        self.log.push("open_polling".into());
                    } else {
                        self.log.push("open_transport".into());
                    }
                }
                Output::Request(conn, HttpRequest { query, body }) => {
                    self.queries.push(query);
                    match body {
                        None => {
                            assert_eq!(self.pending_get, None, "two GETs at once");
                            self.pending_get = Some(conn);
                        }
                        Some(body) => {
                            assert!(self.pending_post.is_none(), "two POSTs at once");
                            self.sent.extend(body.split(SEPARATOR).map(render_packet));
                            self.pending_post = Some((conn, body));
                        }
                    }
                }
                Output::CloseTransport(conn) => {
                    if self.pending_get == Some(conn) {
                        self.pending_get = None;
                    }
                    if self
                        .pending_post
                        .as_ref()
                        .is_some_and(|(id, _)| *id == conn)
                    {
                        self.pending_post = None;
                    }
                    if self.probe == Some(conn) {
                        self.probe = None;
                        self.log.push("close_probe".into());
                        continue;
                    }
                    if self.conn == Some(conn) {
                        self.conn = None;
                    }
                    self.log.push("close_transport".into());
                }
                Output::Transmit(conn, frame) => {
                    assert!(
                        !self.polling.contains(&conn),
                        "a frame on a polling transport"
                    );
                    let text = match frame {
                        Frame::Text(text) => text,
                        Frame::Binary(bytes) => format!("<bin:{} bytes>", bytes.len()),
                    };
                    if self.probe == Some(conn) {
                        self.probe_sent.push(text);
                    } else {
                        self.sent.push(text);
                    }
                }
                Output::Notice(Notice::Manager(event)) => {
                    if let ManagerEvent::Upgrade(_) = event {
                        self.conn = self.probe.take();
                    }
                    self.log.push(render_manager(&event));
                }
                Output::Notice(Notice::Socket(_, event)) => self.log.push(render_socket(&event)),
            }
        }
        self.log[start..].to_vec()
    }

    /// Jumps the clock to the next deadline and handles it; returns the time waited.
    pub fn advance_to_deadline(&mut self) -> Option<u64> {
        let deadline = self.manager.poll_timeout()?;
        assert!(
            deadline >= self.now,
            "deadline {deadline} is in the past ({})",
            self.now
        );
        let waited = deadline - self.now;
        self.now = deadline;
        self.manager.handle_timeout(self.now);
        self.drain();
        Some(waited)
    }

    /// Moves the clock by `ms`, handling every deadline on the way.
    pub fn advance(&mut self, ms: u64) {
        let end = self.now + ms;
        while let Some(deadline) = self.manager.poll_timeout().filter(|d| *d <= end) {
            self.now = self.now.max(deadline);
            self.manager.handle_timeout(self.now);
            self.drain();
        }
        self.now = end;
    }

    pub fn server_text(&mut self, text: &str) {
        self.server_frame(Frame::Text(text.to_owned()));
    }

    /// The server sends a frame: on the WebSocket, or as the answer to the waiting GET.
    pub fn server_frame(&mut self, frame: Frame) {
        if self.pending_get.is_some() && self.pending_get == self.conn {
            let body = match frame {
                Frame::Text(text) => text,
                Frame::Binary(bytes) => format!("b{}", base64(&bytes)),
            };
            return self.server_poll(&body);
        }
        let conn = self.conn.expect("no open transport to send on");
        self.manager.handle_frame(self.now, conn, frame);
        self.drain();
    }

    /// The waiting GET is answered with `body`.
    pub fn server_poll(&mut self, body: &str) {
        let conn = self.pending_get.take().expect("no GET waiting");
        self.manager.handle_polled(self.now, conn, body);
        self.drain();
    }

    /// The waiting POST is accepted; returns its body.
    pub fn server_accept_post(&mut self) -> String {
        let (conn, body) = self.pending_post.take().expect("no POST waiting");
        self.manager.handle_posted(conn);
        self.drain();
        body
    }

    /// The waiting GET (`post`: POST) fails.
    pub fn request_fails(&mut self, post: bool) {
        let conn = if post {
            self.pending_post.take().map(|(conn, _)| conn)
        } else {
            self.pending_get.take()
        };
        let conn = conn.expect("no such request waiting");
        self.manager.handle_request_failed(self.now, conn, post);
        self.drain();
    }

    /// The probe opens.
    pub fn probe_opens(&mut self) {
        let conn = self.probe.expect("no probe");
        self.manager.handle_transport_open(conn);
        self.drain();
    }

    /// The server sends `text` on the probe.
    pub fn probe_receives(&mut self, text: &str) {
        let conn = self.probe.expect("no probe");
        self.manager.handle_text(self.now, conn, text);
        self.drain();
    }

    /// The server completes the Engine.IO handshake.
    pub fn server_open(&mut self) {
        self.server_text(HANDSHAKE);
    }

    /// The server accepts the CONNECT of the main namespace.
    pub fn server_accept(&mut self, sid: &str) {
        self.server_text(&format!(r#"40{{"sid":"{sid}"}}"#));
    }

    /// Handshake and CONNECT reply: the socket is connected.
    pub fn establish(&mut self) {
        self.connect();
        self.server_open();
        self.server_accept("s1");
    }

    /// Connects with a recovery pid, receives `events` (each with its offset), then
    /// loses the transport and reopens: the next frame sent is the reconnect CONNECT.
    pub fn lose_session_after(&mut self, events: &[&str]) {
        self.connect();
        self.server_open();
        self.server_text(r#"40{"sid":"s1","pid":"p1"}"#);
        for event in events {
            self.server_text(event);
        }
        self.transport_closed(false);
        self.advance_to_deadline();
        self.server_open();
    }

    /// The transport fails (`error`) or closes.
    pub fn transport_closed(&mut self, error: bool) {
        let conn = self.conn.expect("no open transport to close");
        self.manager.handle_transport_closed(self.now, conn, error);
        self.drain();
    }

    /// Forgets the log and sent frames, to assert on what comes next.
    pub fn clear(&mut self) {
        self.log.clear();
        self.sent.clear();
    }
}

pub fn render_manager(event: &ManagerEvent) -> String {
    match event {
        ManagerEvent::Open(_) => "open".into(),
        ManagerEvent::Close(reason) => format!("close({})", reason.as_str()),
        ManagerEvent::Error(error) => format!("error({})", error.message()),
        ManagerEvent::Ping => "ping".into(),
        ManagerEvent::ReconnectAttempt(n) => format!("reconnect_attempt({n})"),
        ManagerEvent::Reconnect(n) => format!("reconnect({n})"),
        ManagerEvent::ReconnectError(error) => format!("reconnect_error({})", error.message()),
        ManagerEvent::ReconnectFailed => "reconnect_failed".into(),
        ManagerEvent::Upgrade(kind) => format!("upgrade({})", kind.name()),
        ManagerEvent::UpgradeError(kind) => format!("upgrade_error({})", kind.name()),
        ManagerEvent::Packet { outgoing, frame } => {
            let direction = if *outgoing { "out" } else { "in" };
            match frame {
                Frame::Text(text) => format!("packet_{direction}({text})"),
                Frame::Binary(bytes) => format!("packet_{direction}(<bin:{} bytes>)", bytes.len()),
            }
        }
        ManagerEvent::Drain => "drain".into(),
    }
}

/// One packet of a POST body as `sent` shows it.
fn render_packet(packet: &str) -> String {
    match packet.strip_prefix('b') {
        Some(encoded) => format!(
            "<bin:{} bytes>",
            encoded.trim_end_matches('=').len() * 3 / 4
        ),
        None => packet.to_owned(),
    }
}

/// Standard base64 with padding, as the server writes binary packets.
pub fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut text = String::new();
    for chunk in bytes.chunks(3) {
        let group = chunk
            .iter()
            .enumerate()
            .fold(0u32, |group, (i, b)| group | u32::from(*b) << (16 - 8 * i));
        for i in 0..4 {
            text.push(if i <= chunk.len() {
                char::from(ALPHABET[(group >> (18 - 6 * i) & 63) as usize])
            } else {
                '='
            });
        }
    }
    text
}

pub fn render_socket(event: &SocketEvent) -> String {
    match event {
        SocketEvent::Connect => "connect".into(),
        SocketEvent::ConnectError(ConnectError::Connection(error)) => {
            format!("connect_error({})", error.message())
        }
        SocketEvent::ConnectError(ConnectError::Refused { message, .. }) => {
            format!("connect_error(refused: {message})")
        }
        SocketEvent::Disconnect(reason) => format!("disconnect({})", reason.as_str()),
        SocketEvent::Event(event) => format!("event({})", event.args().as_str()),
        SocketEvent::Ack(id, Ok(payload)) => format!("ack({id}, {})", payload.args.as_str()),
        SocketEvent::Ack(id, Err(error)) => format!("ack({id}, {})", render_ack_error(*error)),
        SocketEvent::AuthRequest(token) => format!("auth_request({token})"),
        SocketEvent::Dropped(data, reason) => {
            format!("dropped({}, {})", data.as_str(), reason.as_str())
        }
        SocketEvent::Sent(payload) => format!("sent({})", payload.args.as_str()),
    }
}

fn render_ack_error(error: AckError) -> &'static str {
    match error {
        AckError::Timeout => "timeout",
        AckError::Disconnected => "disconnected",
        AckError::Dropped => "dropped",
    }
}
