//! Fuzz target for the sans-IO core: a `Manager` driven through random sequences of
//! inputs, decoded from the fuzz bytes with `arbitrary`.
//!
//! Owns nothing but this harness. It plays both the shell (drains every output after
//! each input, keeps a virtual clock, fires the timer at `poll_timeout`) and a server
//! that speaks a grammar of plausible Engine.IO / Socket.IO packets, with garbage mixed
//! in. It uses the public API of `resocket::core` and `resocket::protocol` only, and
//! checks after every input:
//!
//! - no panic; no deadline in the past (`poll_timeout() >= now`), and progress (the
//!   timer does not stay due at one instant);
//! - one transport at a time, opened with a fresh id; every command for a transport
//!   names the one the core opened (and has not closed); inputs for any other id are
//!   ignored (no output at all); no event frame larger than the `maxPayload` of the
//!   server's handshake is sent;
//! - the offline queue and the at-least-once queue stay within `max_len`;
//! - a connected socket has the sid of the CONNECT reply that connected it; `Connect`
//!   and `Disconnect` alternate; events are delivered only between them;
//! - every server event (each carries a unique tag) is delivered at most once, to its
//!   own namespace, with its ack id and attachments, and with its recovery offset
//!   stripped exactly when the socket holds a pid;
//! - recovery: a replayed event (one that arrived before the CONNECT reply of a connect
//!   that presented an offset and recovered the session) is never one already
//!   delivered under that pid, and a live event is never one of the current
//!   connection's replay; conversely, nothing else is lost: a live event to a socket
//!   that stays connected, and every event held for the CONNECT reply, is delivered
//!   unless it is such a duplicate. Live events are not compared with earlier live
//!   events: without an offset marker on the wire, a trailing string may be app data,
//!   so the core deliberately lets a repeated live event through;
//! - a reconnect CONNECT presents the pid and the offset of the last event delivered;
//! - acknowledgements are settled only for ids `emit` returned, at most once; the
//!   results of `emit`, `add_rejoin` and `remove_rejoin` match what was asked.

#![no_main]

use std::collections::HashMap;

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use resocket::core::{
    AuthSource, Backoff, ConnId, ConnectionError, EmitError, EmitOptions, IncomingLimits, Manager,
    ManagerConfig, ManagerEvent, NetworkEvent, Notice, Output, Overflow, QueueLimits, ReconnectionAttempts,
    SocketConfig, SocketEvent, SocketKey, TransportKind,
};
use resocket::protocol::{
    ConnectReply, EnginePacket, Frame, JsonText, Packet, PacketType, ProtocolError,
};

/// The namespaces a client may open; the last one never is (its packets are ignored).
const NAMESPACES: [&str; 4] = ["/", "/a", "/b", "/zz"];
const MAX_STEPS: usize = 200;
/// Timer firings one `Advance` step may make (see [`Harness::advance_to`]).
const MAX_FIRINGS_PER_ADVANCE: usize = 64;
/// More `handle_timeout` calls than this at one instant means the core makes no progress.
const MAX_TIMEOUTS_PER_INSTANT: u32 = 1000;
/// Largest value a JSON number of the handshake may take.
const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

/// States of an acknowledgement handle.
const ACK_UNKNOWN: u8 = 0;
const ACK_PENDING: u8 = 1;
const ACK_SETTLED: u8 = 2;
/// Settled before `emit` returned it (or never returned: a violation).
const ACK_UNCLAIMED: u8 = 3;

// ---------------------------------------------------------------------------------
// The input.
// ---------------------------------------------------------------------------------

#[derive(Debug, Arbitrary)]
struct Input {
    manager: ManagerSettings,
    sockets: [SocketSettings; 3],
    /// 1 to 3 sockets, on "/", "/a", "/b".
    socket_count: u8,
    seed: u64,
    /// Whether a timer due at `now` fires at once after each input, or only when time
    /// next moves (other inputs of the same instant may come first, as in a browser).
    lazy_timers: bool,
    steps: Vec<Step>,
}

#[derive(Debug, Arbitrary)]
struct ManagerSettings {
    reconnection: bool,
    /// 0..=3 attempts, anything else unlimited.
    attempts: u8,
    delay: u16,
    delay_max: u16,
    /// Randomization factor in 255ths.
    jitter: u8,
    /// Handshake timeout: 1 + this, in ms.
    timeout: u16,
    limits: Option<Limits>,
}

#[derive(Debug, Arbitrary)]
struct Limits {
    frame_bytes: Option<u16>,
    attachments: Option<u8>,
    attachment_bytes: Option<u8>,
    early_events: Option<u8>,
    early_bytes: Option<u16>,
}

#[derive(Debug, Arbitrary)]
struct SocketSettings {
    auth: Auth,
    max_len: u8,
    max_age: Option<u16>,
    drop_newest: bool,
    retries: u8,
    ack_timeout: Option<u16>,
    /// Declare the event name "v" as one the server sends volatile.
    volatile_events: bool,
}

#[derive(Debug, Arbitrary)]
enum Auth {
    None,
    Static,
    Deferred,
}

#[derive(Debug, Arbitrary)]
enum Step {
    Advance(Advance),
    /// A frame from the server on the current transport, or on another id; a text
    /// frame goes through `handle_text` (read in place) or `handle_frame`.
    Server {
        server: Server,
        target: Target,
        in_place: bool,
    },
    /// The handshake on a fresh transport, else a CONNECT reply (same pid) to every
    /// socket waiting for one: the shortest way to a connected session.
    Establish,
    TransportClosed {
        error: bool,
        target: Target,
    },
    FrameTooLarge(Target),
    Network(Network),
    /// The wall clock jumped this many ms ahead of the monotonic one.
    TimeGap(u32),
    Connect(u8),
    Disconnect(u8),
    Emit(Emit),
    /// The app answers an event of the server that asked for an acknowledgement.
    Ack {
        socket: u8,
        which: u8,
        random_id: bool,
    },
    Auth {
        socket: u8,
        stale: bool,
        payload: bool,
    },
    AuthFailed {
        socket: u8,
        stale: bool,
    },
    CloseTransport,
    ClearQueue(u8),
    AddRejoin(u8),
    RemoveRejoin {
        socket: u8,
        which: u8,
    },
}

#[derive(Debug, Arbitrary)]
enum Advance {
    Small(u8),
    Medium(u16),
    /// In seconds.
    Large(u16),
    ToDeadline,
    JustBeforeDeadline,
}

#[derive(Debug, Clone, Copy, Arbitrary)]
enum Target {
    Current,
    Stale(u8),
}

#[derive(Debug, Arbitrary)]
enum Network {
    Online,
    Offline,
    Visible,
    PageShow,
}

#[derive(Debug, Arbitrary)]
struct Emit {
    socket: u8,
    data: EmitData,
    with_ack: bool,
    timeout: Option<u16>,
    volatile: bool,
    report_sent: bool,
}

#[derive(Debug, Arbitrary)]
enum EmitData {
    Plain,
    NumberName,
    Binary,
    NotAnArray,
    Empty,
    Reserved,
}

#[derive(Debug, Arbitrary)]
enum Server {
    Open {
        interval: Number,
        timeout: Number,
        max_payload: MaxPayload,
    },
    BadOpen,
    Ping {
        probe: bool,
    },
    Pong,
    Close,
    Noop,
    Upgrade,
    ConnectReply {
        ns: u8,
        pid: Pid,
        bad_sid: bool,
    },
    ConnectError {
        ns: u8,
        form: u8,
    },
    Disconnect {
        ns: u8,
    },
    Event(Event),
    /// One binary frame (for a binary packet awaiting attachments, or stray).
    Attachment(u8),
    Ack {
        ns: u8,
        id: AckId,
        binary: bool,
    },
    Text(GarbageText),
    Bytes(Vec<u8>),
}

#[derive(Debug, Arbitrary)]
enum Number {
    Small(u16),
    Typical,
    Large(u32),
    Huge,
}

#[derive(Debug, Arbitrary)]
enum MaxPayload {
    /// Small enough that some emits cannot be sent.
    Small(u8),
    Typical,
}

#[derive(Debug, Arbitrary)]
enum Pid {
    None,
    /// The server's last pid for the namespace (a new one if it gave none yet).
    Same,
    New,
}

#[derive(Debug, Arbitrary)]
struct Event {
    ns: u8,
    /// Named "v" (declared volatile by sockets with `volatile_events`), else "e".
    volatile_name: bool,
    offset: Offset,
    ack: Option<u16>,
    /// 1..=3 attachments when non-zero (a BINARY_EVENT).
    attachments: u8,
    /// Send the attachments right away (else later `Attachment` steps complete it).
    attach_now: bool,
}

#[derive(Debug, Arbitrary)]
enum Offset {
    /// The namespace's next offset.
    New,
    /// An offset it used before.
    Repeat(u8),
    /// No trailing string (a volatile event).
    None,
    /// A trailing string too long to be an offset (app data).
    Long,
}

#[derive(Debug, Arbitrary)]
enum AckId {
    /// One of the last ack ids the client sent.
    Used(u8),
    Random(u16),
}

#[derive(Debug, Arbitrary)]
struct GarbageText {
    prefix: u8,
    text: String,
}

// ---------------------------------------------------------------------------------
// The model.
// ---------------------------------------------------------------------------------

/// Offsets are "o<n>" with n < 256 (at most one new offset per step).
#[derive(Default, Clone, Copy)]
struct OffsetSet([u64; 4]);

impl OffsetSet {
    fn has(&self, offset: u8) -> bool {
        self.0[usize::from(offset >> 6)] & (1 << (offset & 63)) != 0
    }
    fn set(&mut self, offset: u8) {
        self.0[usize::from(offset >> 6)] |= 1 << (offset & 63);
    }
}

/// What the harness knows of one namespace socket, from the outputs only.
#[derive(Default)]
struct SocketModel {
    max_len: usize,
    volatile_events: bool,
    connected: bool,
    sid: Option<String>,
    /// A CONNECT went out on the current transport and no outcome came yet.
    connecting: bool,
    /// That CONNECT presented a recovery point.
    presented: bool,
    /// The pid of the socket's recovery point (the core's `recovery`), as far as the
    /// harness can tell.
    pid: Option<String>,
    /// Offsets delivered under that pid, and the last one.
    delivered: OffsetSet,
    last_offset: Option<u8>,
    /// Offsets of the replay of the current connection.
    replayed: OffsetSet,
    /// The current connection delivers its held events as a replay.
    replay: bool,
    /// Events of unknown offset (garbage) were delivered under this pid: the liveness
    /// and presented-offset checks are off until the pid changes.
    tainted: bool,
    /// Tags of the events held for the CONNECT reply.
    held: Vec<u32>,
    auth_token: Option<u64>,
    /// Per acknowledgement handle, one of the `ACK_*` states.
    acks: HashMap<usize, u8>,
    /// The last wire ack ids the client sent.
    wire_ids: [u64; 4],
    wire_count: usize,
    /// Ack ids of delivered server events.
    server_acks: [u64; 4],
    server_ack_count: usize,
    rejoins: Vec<(u64, bool)>,
}

impl SocketModel {
    fn forget_pid(&mut self, pid: Option<String>) {
        self.pid = pid;
        self.delivered = OffsetSet::default();
        self.last_offset = None;
        self.tainted = false;
    }
}

/// One event the server sent, by tag.
struct Sent {
    socket: usize,
    /// Its name is one the socket declared volatile: it never carries an offset.
    volatile: bool,
    /// The offset the core splits off (decided when the event is complete).
    offset: Option<u8>,
    /// It has a trailing string (an offset or app data).
    trailing_string: bool,
    ack: Option<u64>,
    attachments: usize,
    /// It arrived before the CONNECT reply (held).
    held: bool,
    delivered: bool,
}

/// What the harness expects of the text frame it is about to send.
#[derive(Clone, Copy)]
enum Meta {
    Other,
    /// An EVENT (complete) or a BINARY_EVENT header (`attachments > 0`).
    Event {
        socket: Option<usize>,
        tag: Option<u32>,
        attachments: usize,
    },
    /// A BINARY_ACK header (or any other binary packet not an event).
    BinaryOther {
        attachments: usize,
    },
    Disconnect(usize),
}

struct PendingBinary {
    socket: Option<usize>,
    tag: Option<u32>,
    remaining: usize,
}

/// Per-namespace state of the fake server.
#[derive(Default, Clone, Copy)]
struct ServerNs {
    pid: Option<u32>,
    next_offset: u8,
}

struct Harness {
    manager: Manager,
    keys: Vec<SocketKey>,
    now: u64,
    lazy_timers: bool,
    /// `handle_timeout` calls at `now` in this step.
    timeouts_at_instant: u32,
    instant: u64,
    /// The transport the core opened and has not closed.
    conn: Option<ConnId>,
    /// The engine handshake completed on it.
    open: bool,
    /// The `maxPayload` of its handshake, and of the handshake being sent.
    max_payload: u64,
    offered_max_payload: Option<u64>,
    /// Text frames go through `handle_text`.
    in_place: bool,
    last_opened: u64,
    sockets: Vec<SocketModel>,
    sent: Vec<Sent>,
    pending_binary: Option<PendingBinary>,
    server: [ServerNs; 3],
    next_pid: u32,
    next_sid: u32,
    // Per input.
    closed_in_input: bool,
    routed: Option<usize>,
    /// The CONNECT reply being sent: namespace index, sid, pid.
    reply: Option<(usize, String, Option<String>)>,
    connected_in_input: [bool; 3],
    /// Acknowledgements settled for ids not (yet) handed out by `emit`.
    unclaimed: Vec<(usize, usize)>,
}

fuzz_target!(|input: Input| run(input));

fn run(input: Input) {
    let mut h = Harness::new(&input);
    for step in input.steps.iter().take(MAX_STEPS) {
        h.timeouts_at_instant = 0;
        h.step(step);
        if !h.lazy_timers {
            h.fire_due_timers();
        }
        h.check_state();
    }
}

fn manager_config(settings: &ManagerSettings) -> ManagerConfig {
    let defaults = IncomingLimits::default();
    let limits = match &settings.limits {
        None => defaults,
        Some(l) => IncomingLimits {
            frame_bytes: l.frame_bytes.map_or(defaults.frame_bytes, usize::from),
            attachments: l
                .attachments
                .map_or(defaults.attachments, |n| usize::from(n % 4)),
            attachment_bytes: l
                .attachment_bytes
                .map_or(defaults.attachment_bytes, usize::from),
            early_events: l
                .early_events
                .map_or(defaults.early_events, |n| usize::from(n % 6)),
            early_bytes: l
                .early_bytes
                .map_or(defaults.early_bytes, |n| usize::from(n % 512)),
        },
    };
    ManagerConfig {
        reconnection: settings.reconnection,
        reconnection_attempts: match settings.attempts {
            n @ 0..=3 => ReconnectionAttempts::Limited(u32::from(n)),
            _ => ReconnectionAttempts::Unlimited,
        },
        backoff: Backoff {
            delay: u64::from(settings.delay),
            delay_max: u64::from(settings.delay_max),
            randomization_factor: f64::from(settings.jitter) / 255.0,
        },
        timeout: 1 + u64::from(settings.timeout),
        limits,
        // The model speaks WebSocket frames.
        transports: vec![TransportKind::WebSocket],
        ..ManagerConfig::default()
    }
}

fn socket_config(settings: &SocketSettings) -> SocketConfig {
    SocketConfig {
        auth: match settings.auth {
            Auth::None => AuthSource::None,
            Auth::Static => AuthSource::Static(json(r#"{"token":"static"}"#)),
            Auth::Deferred => AuthSource::Deferred,
        },
        queue: QueueLimits {
            max_len: usize::from(settings.max_len % 5),
            max_age: settings.max_age.map(u64::from),
            overflow: if settings.drop_newest {
                Overflow::DropNewest
            } else {
                Overflow::DropOldest
            },
        },
        retries: u32::from(settings.retries % 4),
        ack_timeout: settings.ack_timeout.map(u64::from),
        volatile_events: if settings.volatile_events {
            vec!["v".to_owned()]
        } else {
            Vec::new()
        },
    }
}

fn json(text: &str) -> JsonText {
    JsonText::parse(text).expect("the harness writes valid JSON")
}

impl Harness {
    fn new(input: &Input) -> Self {
        let mut manager = Manager::new(manager_config(&input.manager), input.seed);
        let count = 1 + usize::from(input.socket_count % 3);
        let mut keys = Vec::with_capacity(count);
        let mut sockets = Vec::with_capacity(count);
        for (index, settings) in input.sockets.iter().take(count).enumerate() {
            let config = socket_config(settings);
            let max_len = config.queue.max_len;
            let volatile_events = !config.volatile_events.is_empty();
            keys.push(manager.socket(NAMESPACES[index], config));
            sockets.push(SocketModel {
                max_len,
                volatile_events,
                ..SocketModel::default()
            });
        }
        Self {
            manager,
            keys,
            now: 0,
            lazy_timers: input.lazy_timers,
            timeouts_at_instant: 0,
            instant: 0,
            conn: None,
            open: false,
            max_payload: u64::MAX,
            offered_max_payload: None,
            in_place: false,
            last_opened: 0,
            sockets,
            sent: Vec::new(),
            pending_binary: None,
            server: [ServerNs::default(); 3],
            next_pid: 0,
            next_sid: 0,
            closed_in_input: false,
            routed: None,
            reply: None,
            connected_in_input: [false; 3],
            unclaimed: Vec::new(),
        }
    }

    /// The token of socket `index`'s pending auth request (a stale one if `stale`).
    fn auth_token(&self, index: usize, stale: bool) -> u64 {
        match (self.sockets[index].auth_token, stale) {
            (Some(token), false) => token,
            (Some(token), true) => token.wrapping_sub(1),
            (None, _) => 1,
        }
    }

    fn socket(&self, index: u8) -> usize {
        usize::from(index) % self.keys.len()
    }

    fn index_of(&self, key: SocketKey) -> usize {
        self.keys
            .iter()
            .position(|k| *k == key)
            .expect("outputs name only sockets the harness created")
    }

    // ----- time -----

    fn handle_timeout(&mut self) {
        if self.instant != self.now {
            self.instant = self.now;
            self.timeouts_at_instant = 0;
        }
        self.timeouts_at_instant += 1;
        assert!(
            self.timeouts_at_instant <= MAX_TIMEOUTS_PER_INSTANT,
            "no progress: handle_timeout({}) keeps finding a deadline due",
            self.now
        );
        self.begin_input();
        self.manager.handle_timeout(self.now);
        self.end_input();
    }

    fn fire_due_timers(&mut self) {
        while self.manager.poll_timeout().is_some_and(|d| d <= self.now) {
            self.handle_timeout();
        }
    }

    /// Moves the clock to `end`, firing the timer at every deadline on the way. A
    /// core that reconnects every few ms would need millions of firings to cross a
    /// long jump: after [`MAX_FIRINGS_PER_ADVANCE`] the clock stops at the last one.
    fn advance_to(&mut self, end: u64) {
        for _ in 0..MAX_FIRINGS_PER_ADVANCE {
            let Some(deadline) = self.manager.poll_timeout().filter(|d| *d <= end) else {
                self.now = self.now.max(end);
                return;
            };
            self.now = self.now.max(deadline);
            self.handle_timeout();
        }
    }

    // ----- one step -----

    fn step(&mut self, step: &Step) {
        match step {
            Step::Advance(advance) => {
                let end = match advance {
                    Advance::Small(ms) => self.now + u64::from(*ms),
                    Advance::Medium(ms) => self.now + u64::from(*ms),
                    Advance::Large(s) => self.now + u64::from(*s) * 1000,
                    Advance::ToDeadline => self.manager.poll_timeout().unwrap_or(self.now),
                    Advance::JustBeforeDeadline => self
                        .manager
                        .poll_timeout()
                        .map_or(self.now, |d| d.saturating_sub(1)),
                };
                self.advance_to(end);
            }
            Step::Server {
                server,
                target,
                in_place,
            } => {
                self.in_place = *in_place;
                self.server(server, *target);
                self.in_place = false;
            }
            Step::Establish => self.establish(),
            Step::TransportClosed { error, target } => {
                let (conn, current) = self.target(*target);
                self.input(current, |m, now| {
                    m.handle_transport_closed(now, conn, *error)
                });
            }
            Step::FrameTooLarge(target) => {
                let (conn, current) = self.target(*target);
                self.input(current, |m, now| m.handle_frame_too_large(now, conn));
            }
            Step::Network(network) => {
                let event = match network {
                    Network::Online => NetworkEvent::Online,
                    Network::Offline => NetworkEvent::Offline,
                    Network::Visible => NetworkEvent::Visible,
                    Network::PageShow => NetworkEvent::PageShow,
                };
                self.input(true, |m, now| m.handle_network(now, event));
            }
            Step::TimeGap(gap) => {
                let gap = u64::from(*gap);
                self.input(true, |m, now| m.handle_time_gap(now, gap));
            }
            Step::Connect(s) => {
                let key = self.keys[self.socket(*s)];
                self.input(true, |m, now| m.connect(now, key));
            }
            Step::Disconnect(s) => {
                let index = self.socket(*s);
                let key = self.keys[index];
                // Whatever the socket waited for is abandoned, silently.
                self.sockets[index].connecting = false;
                self.sockets[index].held.clear();
                self.input(true, |m, _| m.disconnect(key));
            }
            Step::Emit(emit) => self.emit(emit),
            Step::Ack {
                socket,
                which,
                random_id,
            } => {
                let index = self.socket(*socket);
                let model = &self.sockets[index];
                let id = if *random_id || model.server_ack_count == 0 {
                    u64::from(*which)
                } else {
                    model.server_acks[usize::from(*which) % model.server_ack_count.min(4)]
                };
                let key = self.keys[index];
                self.input(true, |m, _| m.ack(key, id, json("[1]"), Vec::new()));
            }
            Step::Auth {
                socket,
                stale,
                payload,
            } => {
                let index = self.socket(*socket);
                let key = self.keys[index];
                let token = self.auth_token(index, *stale);
                let auth = payload.then(|| json(r#"{"token":"deferred"}"#));
                self.input(true, |m, _| m.handle_auth(key, token, auth.as_ref()));
            }
            Step::AuthFailed { socket, stale } => {
                let index = self.socket(*socket);
                let key = self.keys[index];
                let token = self.auth_token(index, *stale);
                self.input(true, |m, now| m.handle_auth_failed(now, key, token));
            }
            Step::CloseTransport => self.input(true, |m, now| m.close_transport(now)),
            Step::ClearQueue(s) => {
                let key = self.keys[self.socket(*s)];
                self.input(true, |m, _| m.clear_queue(key));
                assert!(
                    self.manager.queued(key).is_empty(),
                    "queue not empty after clear"
                );
            }
            Step::AddRejoin(s) => {
                let index = self.socket(*s);
                let key = self.keys[index];
                let mut result = None;
                self.input(true, |m, _| {
                    result = Some(m.add_rejoin(key, json(r#"["join","room"]"#), Vec::new()))
                });
                let id = result
                    .and_then(Result::ok)
                    .expect("a valid rejoin is accepted");
                let rejoins = &mut self.sockets[index].rejoins;
                assert!(
                    rejoins.iter().all(|(old, _)| *old != id),
                    "rejoin id reused"
                );
                rejoins.push((id, true));
            }
            Step::RemoveRejoin { socket, which } => {
                let index = self.socket(*socket);
                let key = self.keys[index];
                let rejoins = &self.sockets[index].rejoins;
                let id = match rejoins.len() {
                    0 => u64::from(*which),
                    n => rejoins[usize::from(*which) % n].0,
                };
                let mut removed = false;
                self.input(true, |m, _| removed = m.remove_rejoin(key, id));
                let entry = self.sockets[index]
                    .rejoins
                    .iter_mut()
                    .find(|(old, _)| *old == id);
                let expected = entry.as_ref().is_some_and(|(_, live)| *live);
                assert_eq!(removed, expected, "remove_rejoin({id})");
                if let Some((_, live)) = entry {
                    *live = false;
                }
            }
        }
    }

    /// The conn id a step targets, and whether it is the current transport.
    fn target(&self, target: Target) -> (ConnId, bool) {
        match (target, self.conn) {
            (Target::Current, Some(conn)) => (conn, true),
            (Target::Current, None) => (ConnId(self.last_opened), false),
            (Target::Stale(n), _) => {
                let id = u64::from(n) % (self.last_opened + 3);
                let conn = ConnId(id);
                (conn, Some(conn) == self.conn)
            }
        }
    }

    /// Runs one input and drains its outputs. An input for a transport that is not
    /// the current one must be ignored entirely.
    fn input(&mut self, current: bool, f: impl FnOnce(&mut Manager, u64)) {
        if !current {
            let deadline = self.manager.poll_timeout();
            f(&mut self.manager, self.now);
            assert_eq!(
                self.manager.poll_output(),
                None,
                "an input for a transport that is not the current one had an effect"
            );
            assert_eq!(
                self.manager.poll_timeout(),
                deadline,
                "stale input moved the timer"
            );
            return;
        }
        self.begin_input();
        f(&mut self.manager, self.now);
        self.end_input();
    }

    fn begin_input(&mut self) {
        self.closed_in_input = false;
        self.connected_in_input = [false; 3];
    }

    fn end_input(&mut self) {
        self.drain();
        if let Some(deadline) = self.manager.poll_timeout() {
            assert!(
                deadline >= self.now,
                "deadline {deadline} is before now ({})",
                self.now
            );
        }
        // Every event held for a CONNECT reply is delivered, unless the replay brought
        // it a second time.
        for index in 0..self.sockets.len() {
            if !self.connected_in_input[index] {
                continue;
            }
            let held = std::mem::take(&mut self.sockets[index].held);
            let model = &self.sockets[index];
            for tag in held {
                let sent = &self.sent[tag as usize];
                let duplicate = model.replay
                    && model.pid.is_some()
                    && sent
                        .offset
                        .is_some_and(|offset| model.delivered.has(offset));
                assert!(
                    sent.delivered || duplicate || model.tainted,
                    "event {tag} held for the CONNECT reply of socket {index} was lost"
                );
            }
        }
    }

    // ----- the fake server -----

    fn server(&mut self, server: &Server, target: Target) {
        let (conn, current) = self.target(target);
        if !current {
            let frame = self.server_frame(server, None);
            match frame {
                Some((Frame::Text(text), _)) if self.in_place => {
                    self.input(false, |m, now| m.handle_text(now, conn, &text))
                }
                Some((frame, _)) => self.input(false, |m, now| m.handle_frame(now, conn, frame)),
                None => {}
            }
            self.offered_max_payload = None;
            return;
        }
        let Some((frame, meta)) = self.server_frame(server, Some(conn)) else {
            return;
        };
        self.send(conn, frame, meta);
        if let Server::Event(Event {
            attachments,
            attach_now: true,
            ..
        }) = server
        {
            for index in 0..*attachments % 4 {
                if self.conn != Some(conn) || self.pending_binary.is_none() {
                    break;
                }
                self.send_binary(conn, vec![index; usize::from(index) + 1]);
            }
        }
    }

    fn establish(&mut self) {
        let Some(conn) = self.conn else {
            return;
        };
        if !self.open {
            self.offered_max_payload = Some(1_000_000);
            let frame = open_frame(25_000, 20_000, 1_000_000);
            self.send(conn, Frame::Text(frame), Meta::Other);
            return;
        }
        for index in 0..self.sockets.len() {
            if self.conn != Some(conn) {
                return;
            }
            if self.sockets[index].connecting {
                let reply = Server::ConnectReply {
                    ns: index as u8,
                    pid: Pid::Same,
                    bad_sid: false,
                };
                if let Some((frame, meta)) = self.server_frame(&reply, Some(conn)) {
                    self.send(conn, frame, meta);
                }
            }
        }
    }

    /// Builds the frame of `server`; `conn` is `None` for a stale transport (the
    /// harness's model is then left alone).
    fn server_frame(&mut self, server: &Server, conn: Option<ConnId>) -> Option<(Frame, Meta)> {
        let live = conn.is_some();
        let text = match server {
            Server::Open {
                interval,
                timeout,
                max_payload,
            } => {
                let max_payload = match max_payload {
                    MaxPayload::Small(n) => u64::from(*n),
                    MaxPayload::Typical => 1_000_000,
                };
                if live {
                    self.offered_max_payload = Some(max_payload);
                }
                open_frame(number(interval), number(timeout), max_payload)
            }
            Server::BadOpen => r#"0{"upgrades":[],"pingInterval":1,"pingTimeout":1}"#.into(),
            Server::Ping { probe } => if *probe { "2probe" } else { "2" }.into(),
            Server::Pong => "3".into(),
            Server::Close => "1".into(),
            Server::Noop => "6".into(),
            Server::Upgrade => "5".into(),
            Server::ConnectReply { ns, pid, bad_sid } => {
                let ns_index = usize::from(*ns) % NAMESPACES.len();
                let pid = match (pid, ns_index < 3) {
                    (Pid::None, _) | (_, false) => None,
                    (Pid::Same, true) => {
                        let server_pid = &mut self.server[ns_index].pid;
                        let next_pid = &mut self.next_pid;
                        Some(*server_pid.get_or_insert_with(|| {
                            *next_pid += 1;
                            *next_pid
                        }))
                    }
                    (Pid::New, true) => {
                        self.next_pid += 1;
                        self.server[ns_index].pid = Some(self.next_pid);
                        Some(self.next_pid)
                    }
                };
                self.next_sid += 1;
                let sid = if *bad_sid {
                    String::new()
                } else {
                    format!("s{}", self.next_sid)
                };
                let mut text = format!("40{}{{\"sid\":\"{sid}\"", ns_prefix(ns_index));
                if let Some(pid) = pid {
                    text.push_str(&format!(",\"pid\":\"p{pid}\""));
                }
                text.push('}');
                // What the socket learns if this reply connects it.
                if live && ns_index < self.keys.len() && !bad_sid {
                    self.reply = Some((ns_index, sid, pid.map(|p| format!("p{p}"))));
                }
                text
            }
            Server::ConnectError { ns, form } => {
                let ns_index = usize::from(*ns) % NAMESPACES.len();
                let data = match form % 4 {
                    0 => r#"{"message":"refused","data":{"code":1}}"#,
                    1 => r#""refused""#,
                    2 => "",
                    _ => "[1]",
                };
                format!("44{}{data}", ns_prefix(ns_index))
            }
            Server::Disconnect { ns } => {
                let ns_index = usize::from(*ns) % NAMESPACES.len();
                let text = format!("41{}", ns_prefix(ns_index));
                let meta = match ns_index < self.keys.len() {
                    true => Meta::Disconnect(ns_index),
                    false => Meta::Other,
                };
                return Some((Frame::Text(text), meta));
            }
            Server::Event(event) => return Some(self.event_frame(event, live)),
            Server::Attachment(n) => {
                return Some((Frame::Binary(vec![*n; usize::from(n % 8)]), Meta::Other))
            }
            Server::Ack { ns, id, binary } => {
                let ns_index = usize::from(*ns) % NAMESPACES.len();
                let id = match id {
                    AckId::Used(which) => match ns_index < self.keys.len() {
                        true => {
                            let model = &self.sockets[ns_index];
                            match model.wire_count {
                                0 => u64::from(*which),
                                n => model.wire_ids[usize::from(*which) % n.min(4)],
                            }
                        }
                        false => u64::from(*which),
                    },
                    AckId::Random(id) => u64::from(*id),
                };
                let prefix = ns_prefix(ns_index);
                if *binary {
                    let text = format!("461-{prefix}{id}[{{\"_placeholder\":true,\"num\":0}}]");
                    let meta = Meta::BinaryOther { attachments: 1 };
                    return Some((Frame::Text(text), meta));
                }
                format!("43{prefix}{id}[\"ok\"]")
            }
            Server::Text(garbage) => {
                let body = &garbage.text;
                // A tag the harness did not hand out would pass for one of its events.
                if body.contains("{\"t\":") {
                    return None;
                }
                let text = match garbage.prefix % 6 {
                    0 => body.clone(),
                    1 => format!("4{body}"),
                    2 => format!("42{body}"),
                    3 => format!("40{body}"),
                    4 => format!("0{body}"),
                    _ => format!("45{body}"),
                };
                let meta = if live {
                    self.classify(&text)
                } else {
                    Meta::Other
                };
                return Some((Frame::Text(text), meta));
            }
            Server::Bytes(bytes) => return Some((Frame::Binary(bytes.clone()), Meta::Other)),
        };
        Some((Frame::Text(text), Meta::Other))
    }

    /// What a garbage frame means, read with the codec the core uses.
    fn classify(&mut self, text: &str) -> Meta {
        let message = match EnginePacket::decode(Frame::Text(text.to_owned())) {
            Ok(EnginePacket::Message(Frame::Text(message))) => message,
            Ok(EnginePacket::Open(handshake)) => {
                self.offered_max_payload = Some(handshake.max_payload);
                return Meta::Other;
            }
            _ => return Meta::Other,
        };
        let Ok(packet) = Packet::decode(&message) else {
            return Meta::Other;
        };
        let socket = NAMESPACES[..self.keys.len()]
            .iter()
            .position(|ns| *ns == packet.namespace);
        match packet.kind {
            PacketType::Connect => {
                if let (Some(index), Ok(reply)) =
                    (socket, ConnectReply::parse(packet.data.as_ref()))
                {
                    self.reply = Some((index, reply.sid, reply.pid));
                }
                Meta::Other
            }
            PacketType::Disconnect => socket.map_or(Meta::Other, Meta::Disconnect),
            PacketType::Event | PacketType::BinaryEvent => Meta::Event {
                socket,
                tag: None,
                attachments: packet.attachments,
            },
            _ if packet.attachments > 0 => Meta::BinaryOther {
                attachments: packet.attachments,
            },
            _ => Meta::Other,
        }
    }

    fn event_frame(&mut self, event: &Event, live: bool) -> (Frame, Meta) {
        let ns_index = usize::from(event.ns) % NAMESPACES.len();
        let tag = self.sent.len() as u32;
        let attachments = usize::from(event.attachments % 4);
        let name = if event.volatile_name { "v" } else { "e" };
        let mut data = format!("[\"{name}\",{{\"t\":{tag}}}");
        for num in 0..attachments {
            data.push_str(&format!(",{{\"_placeholder\":true,\"num\":{num}}}"));
        }
        let mut offset = None;
        let mut trailing_string = true;
        match &event.offset {
            Offset::New if ns_index < 3 => {
                let server = &mut self.server[ns_index];
                offset = Some(server.next_offset);
                server.next_offset += 1;
            }
            Offset::Repeat(n) if ns_index < 3 && self.server[ns_index].next_offset > 0 => {
                offset = Some(n % self.server[ns_index].next_offset);
            }
            Offset::Long => data.push_str(&format!(",\"{}\"", "L".repeat(70))),
            _ => trailing_string = false,
        }
        if let Some(offset) = offset {
            data.push_str(&format!(",\"o{offset}\""));
        }
        data.push(']');
        let ack = event.ack.map(u64::from);
        let prefix = ns_prefix(ns_index);
        let id = ack.map(|id| id.to_string()).unwrap_or_default();
        let text = match attachments {
            0 => format!("42{prefix}{id}{data}"),
            n => format!("45{n}-{prefix}{id}{data}"),
        };
        let socket = (ns_index < self.keys.len()).then_some(ns_index);
        let tag = match (live, socket) {
            (true, Some(socket)) => {
                self.sent.push(Sent {
                    socket,
                    volatile: event.volatile_name && self.sockets[socket].volatile_events,
                    offset,
                    trailing_string,
                    ack,
                    attachments,
                    held: false,
                    delivered: false,
                });
                Some(tag)
            }
            _ => None,
        };
        let meta = Meta::Event {
            socket,
            tag,
            attachments,
        };
        (Frame::Text(text), meta)
    }

    fn send(&mut self, conn: ConnId, frame: Frame, meta: Meta) {
        if let Frame::Binary(bytes) = frame {
            return self.send_binary(conn, bytes);
        }
        // A text message while attachments are awaited fails the transport: the
        // CloseTransport that follows clears `pending_binary`.
        match meta {
            Meta::Event {
                socket,
                tag,
                attachments: 0,
            } => self.deliver_frame(conn, frame, socket, tag),
            Meta::Event {
                socket,
                tag,
                attachments,
            } => {
                self.frame(conn, frame);
                if !self.closed_in_input {
                    self.pending_binary = Some(PendingBinary {
                        socket,
                        tag,
                        remaining: attachments,
                    });
                }
            }
            Meta::BinaryOther { attachments } => {
                self.frame(conn, frame);
                if !self.closed_in_input {
                    self.pending_binary = Some(PendingBinary {
                        socket: None,
                        tag: None,
                        remaining: attachments,
                    });
                }
            }
            Meta::Disconnect(index) => {
                self.frame(conn, frame);
                if !self.closed_in_input {
                    self.sockets[index].connecting = false;
                    self.sockets[index].held.clear();
                }
            }
            Meta::Other => self.frame(conn, frame),
        }
        self.reply = None;
        self.offered_max_payload = None;
    }

    fn send_binary(&mut self, conn: ConnId, bytes: Vec<u8>) {
        let frame = Frame::Binary(bytes);
        match self.pending_binary.as_mut() {
            Some(pending) if pending.remaining > 1 => {
                pending.remaining -= 1;
                self.frame(conn, frame);
            }
            Some(_) => {
                let pending = self.pending_binary.take().expect("checked");
                self.deliver_frame(conn, frame, pending.socket, pending.tag);
            }
            None => self.frame(conn, frame),
        }
    }

    fn frame(&mut self, conn: ConnId, frame: Frame) {
        self.handle_frame(conn, frame);
        if self.closed_in_input {
            self.pending_binary = None;
        }
    }

    /// Hands a frame of the current transport to the core.
    fn handle_frame(&mut self, conn: ConnId, frame: Frame) {
        match frame {
            Frame::Text(text) if self.in_place => {
                self.input(true, |m, now| m.handle_text(now, conn, &text))
            }
            frame => self.input(true, |m, now| m.handle_frame(now, conn, frame)),
        }
    }

    /// Sends the frame that completes an event for `socket` (`None`: a namespace the
    /// client never opened) and checks what became of it.
    fn deliver_frame(
        &mut self,
        conn: ConnId,
        frame: Frame,
        socket: Option<usize>,
        tag: Option<u32>,
    ) {
        let Some(index) = socket else {
            return self.frame(conn, frame);
        };
        let (was_connected, connecting) = {
            let model = &self.sockets[index];
            (model.connected, model.connecting)
        };
        match tag {
            Some(tag) => {
                // The core splits the offset off when the event is complete, if the
                // socket holds a pid and the server asks for no acknowledgement.
                let model = &self.sockets[index];
                let sent = &mut self.sent[tag as usize];
                if model.pid.is_none() || sent.ack.is_some() || sent.volatile {
                    sent.offset = None;
                }
                sent.held = !was_connected;
            }
            // An event of unknown offset: the harness's view of offsets is incomplete.
            None if was_connected || connecting => self.sockets[index].tainted = true,
            None => {}
        }
        self.routed = Some(index);
        self.handle_frame(conn, frame);
        self.routed = None;
        if self.closed_in_input {
            self.pending_binary = None;
            return;
        }
        let Some(tag) = tag else {
            return;
        };
        let model = &mut self.sockets[index];
        if was_connected && model.connected {
            // A live event reaches the app, unless the replay of this connection
            // brought it already.
            let sent = &self.sent[tag as usize];
            let duplicate =
                model.pid.is_some() && sent.offset.is_some_and(|offset| model.replayed.has(offset));
            assert!(
                sent.delivered || duplicate || model.tainted,
                "live event {tag} to connected socket {index} was lost"
            );
        } else if connecting && !model.connected {
            model.held.push(tag);
        }
    }

    // ----- app commands -----

    fn emit(&mut self, emit: &Emit) {
        let index = self.socket(emit.socket);
        let key = self.keys[index];
        let (data, attachments, expected) = match emit.data {
            EmitData::Plain => (r#"["m",1]"#, Vec::new(), None),
            EmitData::NumberName => (r#"[7,"x"]"#, Vec::new(), None),
            EmitData::Binary => (
                r#"["m",{"_placeholder":true,"num":0}]"#,
                vec![vec![1, 2, 3]],
                None,
            ),
            EmitData::NotAnArray => (r#"{"m":1}"#, Vec::new(), Some(EmitError::InvalidData)),
            EmitData::Empty => ("[]", Vec::new(), Some(EmitError::InvalidData)),
            EmitData::Reserved => (
                r#"["disconnect"]"#,
                Vec::new(),
                Some(EmitError::ReservedName),
            ),
        };
        let options = EmitOptions {
            with_ack: emit.with_ack,
            timeout: emit.timeout.map(u64::from),
            volatile: emit.volatile,
            report_sent: emit.report_sent,
        };
        let mut result = None;
        self.input(true, |m, now| {
            result = Some(m.emit(now, key, json(data), attachments, options));
        });
        let result = result.expect("emit ran");
        match (expected, result) {
            (Some(expected), Err(error)) => assert_eq!(error, expected),
            (Some(_), Ok(_)) => panic!("invalid emit {data} accepted"),
            (None, Err(error)) => panic!("valid emit {data} refused: {error:?}"),
            (None, Ok(id)) => {
                assert!(
                    id.is_none() || emit.with_ack,
                    "emit without ack returned an ack id"
                );
                if let Some(id) = id {
                    // The outputs of the emit itself were drained already: it may have
                    // been dropped (and its ack settled) at once.
                    let id = id as usize;
                    let state = self.sockets[index].acks.entry(id).or_insert(ACK_UNKNOWN);
                    match *state {
                        ACK_UNKNOWN => *state = ACK_PENDING,
                        ACK_UNCLAIMED => {
                            *state = ACK_SETTLED;
                            self.unclaimed.retain(|&claim| claim != (index, id));
                        }
                        _ => panic!("ack id {id} of socket {index} handed out twice"),
                    }
                }
            }
        }
    }

    // ----- outputs -----

    fn drain(&mut self) {
        while let Some(output) = self.manager.poll_output() {
            match output {
                Output::Request(..) => panic!("an HTTP request from a WebSocket-only client"),
                Output::OpenTransport(conn, ..) => {
                    assert_eq!(self.conn, None, "a second transport opened");
                    assert!(conn.0 > self.last_opened, "transport id {conn:?} reused");
                    self.conn = Some(conn);
                    self.last_opened = conn.0;
                    self.open = false;
                }
                Output::CloseTransport(conn) => {
                    assert_eq!(self.conn, Some(conn), "closing a transport not open");
                    self.conn = None;
                    self.open = false;
                    self.closed_in_input = true;
                    self.pending_binary = None;
                    for model in &mut self.sockets {
                        model.connecting = false;
                        model.held.clear();
                    }
                }
                Output::Transmit(conn, frame) => {
                    assert_eq!(self.conn, Some(conn), "transmit on a transport not open");
                    assert!(self.open, "transmit before the handshake");
                    match &frame {
                        Frame::Text(text) => {
                            // Events (emits, rejoins) the server would refuse are
                            // dropped, never sent.
                            if text.starts_with("42") || text.starts_with("45") {
                                assert!(
                                    text.len() as u64 <= self.max_payload,
                                    "event frame of {} bytes sent, beyond maxPayload {}",
                                    text.len(),
                                    self.max_payload
                                );
                            }
                            self.transmitted(text);
                        }
                        Frame::Binary(bytes) => assert!(
                            bytes.len() as u64 <= self.max_payload,
                            "attachment of {} bytes sent, beyond maxPayload {}",
                            bytes.len(),
                            self.max_payload
                        ),
                    }
                }
                Output::Notice(Notice::Manager(event)) => self.manager_event(&event),
                Output::Notice(Notice::Socket(key, event)) => {
                    let index = self.index_of(key);
                    self.socket_event(index, event);
                }
            }
        }
    }

    fn manager_event(&mut self, event: &ManagerEvent) {
        match event {
            ManagerEvent::Open(_) => {
                assert!(
                    self.conn.is_some() && !self.open,
                    "open without a transport"
                );
                self.open = true;
                self.max_payload = self
                    .offered_max_payload
                    .expect("open without a handshake from the server");
            }
            ManagerEvent::Error(ConnectionError::Protocol(ProtocolError::TooManyEarlyEvents)) => {
                // The core starts afresh (no recovery) after a replay it could not hold.
                let index = self
                    .routed
                    .expect("only an event overflows the held events");
                self.sockets[index].forget_pid(None);
            }
            _ => {}
        }
    }

    /// A text frame the client sent.
    fn transmitted(&mut self, text: &str) {
        let Some(rest) = text.strip_prefix('4') else {
            return;
        };
        let mut chars = rest.chars();
        let kind = chars.next();
        let mut rest = chars.as_str();
        if matches!(kind, Some('5' | '6')) {
            rest = rest.split_once('-').map_or("", |(_, after)| after);
        }
        let mut namespace = "/";
        if rest.starts_with('/') {
            (namespace, rest) = rest.split_once(',').unwrap_or((rest, ""));
        }
        let Some(index) = NAMESPACES[..self.keys.len()]
            .iter()
            .position(|ns| *ns == namespace)
        else {
            panic!("the client sent a packet for a namespace it never opened: {text}");
        };
        match kind {
            Some('0') => self.connect_sent(index, rest),
            Some('2' | '5') => {
                let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
                if let Ok(id) = rest[..digits].parse::<u64>() {
                    let model = &mut self.sockets[index];
                    model.wire_ids[model.wire_count % 4] = id;
                    model.wire_count += 1;
                }
            }
            _ => {}
        }
    }

    /// The client sent a CONNECT for socket `index`, with `payload`.
    fn connect_sent(&mut self, index: usize, payload: &str) {
        let model = &mut self.sockets[index];
        assert!(!model.connected, "CONNECT sent by a connected socket");
        model.connecting = true;
        model.held.clear();
        model.presented = payload.contains("\"offset\":");
        // A pid from a garbage reply may need escapes: compare only plain ones.
        let plain = model
            .pid
            .as_ref()
            .is_none_or(|pid| pid.bytes().all(|b| b.is_ascii_alphanumeric()));
        if model.tainted || !plain {
            return;
        }
        match (&model.pid, model.last_offset) {
            (Some(pid), Some(offset)) => {
                let expected = format!("\"pid\":\"{pid}\",\"offset\":\"o{offset}\"}}");
                assert!(
                    payload.ends_with(&expected),
                    "reconnect CONNECT {payload} does not present {expected}"
                );
            }
            _ => assert!(
                !model.presented && !payload.contains("\"pid\":"),
                "CONNECT {payload} presents a recovery point the socket does not hold"
            ),
        }
    }

    fn socket_event(&mut self, index: usize, event: SocketEvent) {
        match event {
            SocketEvent::Connect => {
                let model = &mut self.sockets[index];
                assert!(!model.connected, "connect twice");
                assert!(model.connecting, "connect without a CONNECT");
                let (reply_index, sid, pid) = self
                    .reply
                    .take()
                    .expect("connect without a CONNECT reply from the server");
                assert_eq!(reply_index, index, "a reply connected another namespace");
                let recovered = pid.is_some() && pid == model.pid;
                assert_eq!(
                    self.manager.recovered(self.keys[index]),
                    recovered,
                    "recovered flag"
                );
                if !recovered {
                    model.forget_pid(pid);
                }
                model.connected = true;
                model.connecting = false;
                model.sid = Some(sid);
                model.replay = recovered && model.presented;
                model.replayed = OffsetSet::default();
                self.connected_in_input[index] = true;
            }
            SocketEvent::Disconnect(_) => {
                let model = &mut self.sockets[index];
                assert!(model.connected, "disconnect without connect");
                model.connected = false;
                model.sid = None;
            }
            SocketEvent::ConnectError(_) => {
                let model = &mut self.sockets[index];
                assert!(!model.connected, "connect_error while connected");
                model.connecting = false;
                model.held.clear();
            }
            SocketEvent::AuthRequest(token) => {
                let model = &mut self.sockets[index];
                assert!(!model.connected, "auth asked while connected");
                model.auth_token = Some(token);
            }
            SocketEvent::Ack(id, _) => {
                let id = id as usize;
                let state = self.sockets[index].acks.entry(id).or_insert(ACK_UNKNOWN);
                match *state {
                    ACK_PENDING => *state = ACK_SETTLED,
                    // Only the emit that hands the id out may settle it before: checked
                    // when its result comes back.
                    ACK_UNKNOWN => {
                        *state = ACK_UNCLAIMED;
                        self.unclaimed.push((index, id));
                    }
                    _ => panic!("ack {id} of socket {index} settled twice"),
                }
            }
            SocketEvent::Event(event) => self.delivered(index, &event),
            SocketEvent::Dropped(..) | SocketEvent::Sent(_) => {}
        }
    }

    fn delivered(&mut self, index: usize, event: &resocket::core::IncomingEvent) {
        let model = &mut self.sockets[index];
        assert!(
            model.connected,
            "event delivered to socket {index} while not connected"
        );
        if let Some(id) = event.ack_id {
            model.server_acks[model.server_ack_count % 4] = id;
            model.server_ack_count += 1;
        }
        let args = event.args();
        let data = args.as_str();
        let Some(tag) = tag_of(data) else {
            // An event from garbage: its offset, if any, is unknown.
            model.tainted = true;
            return;
        };
        let sent = self
            .sent
            .get_mut(tag as usize)
            .expect("a delivered tag was handed out");
        assert_eq!(
            sent.socket, index,
            "event {tag} delivered to another namespace"
        );
        assert!(!sent.delivered, "event {tag} delivered twice");
        sent.delivered = true;
        assert_eq!(event.ack_id, sent.ack, "event {tag}: ack id");
        assert_eq!(
            event.attachments.len(),
            sent.attachments,
            "event {tag}: attachments"
        );
        let split = sent.offset.is_some();
        if sent.trailing_string {
            assert_eq!(
                data.ends_with("\"]"),
                !split,
                "event {tag}: offset stripped wrongly: {data}"
            );
        }
        let Some(offset) = sent.offset else {
            return;
        };
        // The pid may have gone since the offset was split off (a reply without one).
        if model.pid.is_none() {
            return;
        }
        if sent.held && model.replay {
            assert!(
                !model.delivered.has(offset),
                "replayed event {tag} (offset o{offset}) was already delivered"
            );
            model.replayed.set(offset);
        } else {
            assert!(
                !model.replayed.has(offset),
                "live event {tag} (offset o{offset}) duplicates the replay"
            );
        }
        model.delivered.set(offset);
        model.last_offset = Some(offset);
    }

    // ----- state -----

    fn check_state(&self) {
        assert!(
            self.unclaimed.is_empty(),
            "acknowledgements settled for ids emit never handed out: {:?}",
            self.unclaimed
        );
        if let Some(deadline) = self.manager.poll_timeout() {
            assert!(
                deadline >= self.now,
                "deadline {deadline} before now {}",
                self.now
            );
        }
        for (index, model) in self.sockets.iter().enumerate() {
            let key = self.keys[index];
            let connected = self.manager.is_connected(key);
            assert_eq!(connected, model.connected, "socket {index}: connected");
            if connected {
                let sid = self.manager.sid(key);
                assert!(
                    sid.is_some_and(|sid| !sid.is_empty()),
                    "connected without sid"
                );
                assert_eq!(sid, model.sid.as_deref(), "socket {index}: sid");
            }
            assert!(
                self.manager.queued(key).len() <= model.max_len,
                "socket {index}: offline queue beyond max_len"
            );
            assert!(
                self.manager.unacknowledged_len(key) <= model.max_len,
                "socket {index}: unacknowledged emits beyond max_len"
            );
        }
    }
}

fn ns_prefix(index: usize) -> &'static str {
    ["", "/a,", "/b,", "/zz,"][index]
}

fn number(n: &Number) -> u64 {
    match n {
        Number::Small(n) => u64::from(*n),
        Number::Typical => 25_000,
        Number::Large(n) => u64::from(*n),
        Number::Huge => MAX_SAFE_INTEGER,
    }
}

fn open_frame(interval: u64, timeout: u64, max_payload: u64) -> String {
    format!(
        "0{{\"sid\":\"eio\",\"upgrades\":[],\"pingInterval\":{interval},\"pingTimeout\":{timeout},\"maxPayload\":{max_payload}}}"
    )
}

/// The tag of an event the harness sent: `["e",{"t":<tag>}...` (or `"v"`).
fn tag_of(data: &str) -> Option<u32> {
    let rest = data
        .strip_prefix("[\"e\",{\"t\":")
        .or_else(|| data.strip_prefix("[\"v\",{\"t\":"))?;
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    rest[..digits].parse().ok()
}
