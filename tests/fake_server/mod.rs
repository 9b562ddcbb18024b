//! A scripted fake server on virtual time for the core's scenario tests.
//!
//! Owns the harness around one `Manager`: it plays the shell (drains outputs, keeps the
//! clock) and the server (feeds frames), and renders every event as a short string so
//! tests can compare exact sequences. It must not contain client logic of its own.

#![allow(dead_code)] // each test binary uses a different part of the harness

use resocket::core::{
    AckError, ConnId, ConnectError, Manager, ManagerConfig, ManagerEvent, Output, SocketConfig,
    SocketEvent, SocketKey,
};
use resocket::protocol::Frame;

pub const HANDSHAKE: &str = r#"0{"sid":"eio-1","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}"#;

pub struct Harness {
    pub manager: Manager,
    pub socket: SocketKey,
    pub now: u64,
    /// The transport the client opened last, while the client has it open.
    pub conn: Option<ConnId>,
    /// Every event and transport command, rendered, in order.
    pub log: Vec<String>,
    /// Every text frame sent (binary frames as `<bin:N bytes>`), in order.
    pub sent: Vec<String>,
}

impl Harness {
    pub fn new(config: ManagerConfig) -> Self {
        Self::with_socket(config, "/", SocketConfig::default())
    }

    pub fn with_socket(config: ManagerConfig, namespace: &str, socket: SocketConfig) -> Self {
        let mut manager = Manager::new(config, 0x5eed);
        let socket = manager.socket(namespace, socket);
        Self {
            manager,
            socket,
            now: 0,
            conn: None,
            log: Vec::new(),
            sent: Vec::new(),
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
                Output::OpenTransport(conn) => {
                    self.conn = Some(conn);
                    self.log.push("open_transport".into());
                }
                Output::CloseTransport(conn) => {
                    if self.conn == Some(conn) {
                        self.conn = None;
                    }
                    self.log.push("close_transport".into());
                }
                Output::Transmit(_, Frame::Text(text)) => self.sent.push(text),
                Output::Transmit(_, Frame::Binary(bytes)) => {
                    self.sent.push(format!("<bin:{} bytes>", bytes.len()))
                }
                Output::Manager(event) => self.log.push(render_manager(&event)),
                Output::Socket(_, event) => self.log.push(render_socket(&event)),
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

    pub fn server_frame(&mut self, frame: Frame) {
        let conn = self.conn.expect("no open transport to send on");
        self.manager.handle_frame(self.now, conn, frame);
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
        ManagerEvent::Open => "open".into(),
        ManagerEvent::Close(reason) => format!("close({})", reason.as_str()),
        ManagerEvent::Error(error) => format!("error({})", error.message()),
        ManagerEvent::Ping => "ping".into(),
        ManagerEvent::ReconnectAttempt(n) => format!("reconnect_attempt({n})"),
        ManagerEvent::Reconnect(n) => format!("reconnect({n})"),
        ManagerEvent::ReconnectError(error) => format!("reconnect_error({})", error.message()),
        ManagerEvent::ReconnectFailed => "reconnect_failed".into(),
    }
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
        SocketEvent::Event(event) => format!("event({})", event.data.as_str()),
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
