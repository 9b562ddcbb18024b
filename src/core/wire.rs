//! The transports that carry the Engine.IO connection, and the queue of what leaves the
//! core.
//!
//! Owns which transport carries the connection; HTTP long-polling (a GET always waiting
//! for the server's packets, one POST in flight at a time with what is written meanwhile
//! batched behind it, the close packet of a clean close); and the upgrade: a WebSocket
//! probe opened beside polling (`2probe`, answered `3probe`), polling paused once its
//! requests have completed, then the switch (`5`), the packets held meanwhile sent first
//! on the new transport. The manager and the sockets send every packet through
//! [`Wire::transmit`], whatever carries it.
//!
//! It decides nothing about the connection: when one opens, fails or closes, and what a
//! packet means, are the manager's.

use std::collections::VecDeque;

use super::config::ManagerConfig;
use super::event::{ConnId, HttpRequest, ManagerEvent, Notice, Output, TransportKind};
use super::rng::Rng;
use crate::protocol::{packet_len, push_packet, EnginePacket, Frame};

/// The room for outputs an idle connection keeps (see [`Wire::pop_front`]).
const KEPT_OUTPUTS: usize = 4;

/// What leaves the core, in order, and the transports it leaves on.
#[derive(Debug)]

pub(crate) struct Wire {
    out: VecDeque<Output>,
    carrier: Option<Carrier>,
    probe: Option<Probe>,
    /// Polling transports closing cleanly: their last POST (what was held, and the
    /// close packet) waits for the POST in flight (`Some`), or was sent (`None`); the
    /// transport is closed once it has completed. Its GET is left alone meanwhile: cut
    /// short, the server would take it for a failure of the session, and refuse the
    /// close packet.
    closing: Vec<(ConnId, Option<HttpRequest>)>,
    /// Whether the last WebSocket tried worked (`remember_upgrade`).
    websocket_worked: bool,
    /// Every packet written is reported ([`ManagerEvent::Packet`]), and every drain.
    pub(crate) report_packets: bool,
    /// Draws the cache-busting parameter.
    rng: Rng,
}

/// The transport that carries the connection.
#[derive(Debug)]
struct Carrier {
    conn: ConnId,
    /// `None` for a WebSocket.
    polling: Option<Polling>,
}

#[derive(Debug)]
struct Polling {
    /// The cache-busting parameter's name, when requests carry one.
    stamp: Option<String>,
    /// Known once the handshake has arrived; every later request names it.
    sid: Option<String>,
    /// The handshake's `maxPayload`: a POST carries no more unless it is one packet.
    max_payload: u64,
    get_in_flight: bool,
    post_in_flight: bool,
    /// Packets written while a POST was in flight, or while paused for an upgrade.
    held: Vec<Frame>,
    /// An upgrade is under way: no new request goes; what is written waits for the new
    /// transport.
    paused: bool,
}

/// A WebSocket opened beside polling to test whether the connection can move to it.
#[derive(Debug)]
struct Probe {
    conn: ConnId,
    deadline: u64,
    /// The server answered `3probe`: polling is pausing.
    answered: bool,
}

const PROBE: &str = "probe";

impl Wire {
    pub(crate) fn new(seed: u64) -> Self {
        Self {
            out: VecDeque::new(),
            carrier: None,
            probe: None,
            closing: Vec::new(),
            websocket_worked: false,
            report_packets: false,
            rng: Rng::new(seed),
        }
    }

    /// Queues an event (or a transport command that needs no bookkeeping).
    pub(crate) fn push_back(&mut self, output: Output) {
        self.out.push_back(output);
    }

    pub(crate) fn pop_front(&mut self) -> Option<Output> {
        let next = self.out.pop_front();
        // Drained after a burst (a connect, a replay): an idle connection keeps room for
        // a few outputs only, which is all that one frame or one command produces.
        if next.is_none() && self.out.capacity() > KEPT_OUTPUTS {
            self.out.shrink_to(KEPT_OUTPUTS);
        }
        next
    }

    /// The transport carrying the connection, if any.
    pub(crate) fn carrier(&self) -> Option<ConnId> {
        self.carrier.as_ref().map(|carrier| carrier.conn)
    }

    pub(crate) fn carrier_kind(&self) -> Option<TransportKind> {
        self.carrier.as_ref().map(Carrier::kind)
    }

    pub(crate) fn is_probe(&self, conn: ConnId) -> bool {
        self.probe.as_ref().is_some_and(|probe| probe.conn == conn)
    }

    /// When [`Wire::handle_timeout`] is due.
    pub(crate) fn deadline(&self) -> Option<u64> {
        self.probe.as_ref().map(|probe| probe.deadline)
    }

    /// The transport a new connection opens with: the first of `transports`, or
    /// WebSocket when it worked last time and `remember_upgrade` asks for it.
    pub(crate) fn first_transport(&self, config: &ManagerConfig) -> TransportKind {
        let websocket = TransportKind::WebSocket;
        if config.remember_upgrade
            && self.websocket_worked
            && config.transports.contains(&websocket)
        {
            return websocket;
        }
        config
            .transports
            .first()
            .copied()
            .unwrap_or(TransportKind::WebSocket)
    }

    /// Opens `conn`, a transport of `kind`, to carry a new connection; any previous one
    /// must have been closed.
    pub(crate) fn open(&mut self, conn: ConnId, kind: TransportKind, config: &ManagerConfig) {
        let stamped = config
            .timestamp_requests
            .unwrap_or(kind == TransportKind::Polling);
        let stamp = stamped.then(|| config.timestamp_param.clone());
        let query = self.query(kind, None, stamp.as_deref());
        self.out.push_back(Output::OpenTransport(conn, kind, query));
        let polling = (kind == TransportKind::Polling).then(|| Polling {
            stamp,
            sid: None,
            max_payload: u64::MAX,
            // The handshake is the first GET.
            get_in_flight: true,
            post_in_flight: false,
            held: Vec::new(),
            paused: false,
        });
        self.carrier = Some(Carrier { conn, polling });
    }

    /// The handshake arrived on the carrier: its requests name the session from now on.
    pub(crate) fn handshake(&mut self, sid: &str, max_payload: u64) {
        let Some(carrier) = &mut self.carrier else {
            return;
        };
        match &mut carrier.polling {
            Some(polling) => {
                polling.sid = Some(sid.to_owned());
                polling.max_payload = max_payload;
            }
            None => self.websocket_worked = true,
        }
    }

    /// The server closed the session (its close packet): a polling carrier has no
    /// session left to say goodbye to.
    pub(crate) fn server_closed(&mut self) {
        if let Some(polling) = self.carrier.as_mut().and_then(|c| c.polling.as_mut()) {
            polling.sid = None;
        }
    }

    /// Sends `frame` on the connection carried by `conn`; nothing if `conn` no longer
    /// carries it.
    pub(crate) fn transmit(&mut self, conn: ConnId, frame: Frame) {
        let Some(carrier) = &mut self.carrier else {
            return;
        };
        if carrier.conn != conn {
            return;
        }
        if self.report_packets {
            self.out
                .push_back(Output::Notice(Notice::Manager(ManagerEvent::Packet {
                    outgoing: true,
                    frame: frame.clone(),
                })));
        }
        match &mut carrier.polling {
            None => {
                self.out.push_back(Output::Transmit(conn, frame));
                self.report_drain();
            }
            Some(polling) => {
                polling.held.push(frame);
                self.post_held();
            }
        }
    }

    /// A WebSocket hands a frame to the network at once; polling once its POST is done.
    fn report_drain(&mut self) {
        if self.report_packets {
            self.out
                .push_back(Output::Notice(Notice::Manager(ManagerEvent::Drain)));
        }
    }

    /// A GET of `conn` completed: whether its body is for the manager to read (`conn`
    /// carries the connection). [`Wire::polled`] follows the reading.
    pub(crate) fn take_polled(&mut self, conn: ConnId) -> bool {
        match self.polling_of(conn) {
            Some(polling) if polling.get_in_flight => {
                polling.get_in_flight = false;
                true
            }
            _ => false,
        }
    }

    /// The body of `conn`'s GET was read: the next GET waits for the server's packets,
    /// unless polling is pausing for an upgrade, which may now complete.
    pub(crate) fn polled(&mut self, conn: ConnId) {
        let Some(polling) = self.polling_of(conn) else {
            return;
        };
        if polling.paused {
            return self.switch_if_paused();
        }
        if polling.get_in_flight || polling.sid.is_none() {
            return;
        }
        polling.get_in_flight = true;
        let query = self.carrier_query();
        self.out
            .push_back(Output::Request(conn, HttpRequest { query, body: None }));
    }

    /// A POST of `conn` completed.
    pub(crate) fn posted(&mut self, conn: ConnId) {
        if self.closing_posted(conn) {
            return;
        }
        let Some(polling) = self.polling_of(conn) else {
            return;
        };
        polling.post_in_flight = false;
        let drained = polling.held.is_empty();
        if polling.paused {
            self.switch_if_paused();
        } else if drained {
            self.report_drain();
        } else {
            self.post_held();
        }
    }

    /// A request of `conn` failed (`post`: a POST): whether `conn` carries the
    /// connection (which is then lost). A transport closing cleanly goes on closing.
    pub(crate) fn request_failed(&mut self, conn: ConnId, post: bool) -> bool {
        if post && self.closing_posted(conn) {
            return false;
        }
        let Some(polling) = self.polling_of(conn) else {
            return false;
        };
        // That request is over: the close packet need not wait for it.
        if post {
            polling.post_in_flight = false;
        } else {
            polling.get_in_flight = false;
        }
        true
    }

    /// A POST of `conn`, a transport closing cleanly, completed: the last one goes, or,
    /// if that was it, the transport is closed. `false` if `conn` is not closing.
    fn closing_posted(&mut self, conn: ConnId) -> bool {
        let Some(index) = self.closing.iter().position(|(id, _)| *id == conn) else {
            return false;
        };
        match self.closing[index].1.take() {
            Some(last) => self.out.push_back(Output::Request(conn, last)),
            None => {
                self.closing.swap_remove(index);
                self.out.push_back(Output::CloseTransport(conn));
            }
        }
        true
    }

    /// Opens `conn`, a WebSocket to the session of the polling carrier, as a probe.
    pub(crate) fn start_probe(&mut self, conn: ConnId, deadline: u64, config: &ManagerConfig) {
        let Some(sid) = self
            .carrier
            .as_ref()
            .and_then(|carrier| carrier.polling.as_ref()?.sid.clone())
        else {
            return;
        };
        let stamp = (config.timestamp_requests == Some(true)).then_some(&*config.timestamp_param);
        let query = self.query(TransportKind::WebSocket, Some(&sid), stamp);
        self.out
            .push_back(Output::OpenTransport(conn, TransportKind::WebSocket, query));
        self.probe = Some(Probe {
            conn,
            deadline,
            answered: false,
        });
    }

    /// The probe is open: ask the server whether it takes the session over.
    pub(crate) fn probe_opened(&mut self, conn: ConnId) {
        if self.is_probe(conn) {
            let ping = EnginePacket::Ping(PROBE.to_owned()).encode();
            self.out.push_back(Output::Transmit(conn, ping));
        }
    }

    /// A frame arrived on the probe: `3probe` pauses polling for the switch; anything
    /// else fails the probe.
    pub(crate) fn probe_frame(&mut self, text: Option<&str>) {
        let answered = text
            .and_then(|text| text.strip_prefix('3'))
            .is_some_and(|data| data == PROBE);
        let waiting = self.probe.as_ref().is_some_and(|probe| !probe.answered);
        match (answered, waiting, &mut self.probe) {
            (true, true, Some(probe)) => {
                probe.answered = true;
                if let Some(polling) = self.carrier.as_mut().and_then(|c| c.polling.as_mut()) {
                    polling.paused = true;
                }
                self.switch_if_paused();
            }
            _ => self.fail_probe(),
        }
    }

    /// The probe failed (refused, closed, answered wrongly, or too slow): it is closed,
    /// and polling goes on as if it had never been tried.
    pub(crate) fn fail_probe(&mut self) {
        let Some(probe) = self.probe.take() else {
            return;
        };
        self.websocket_worked = false;
        self.out.push_back(Output::CloseTransport(probe.conn));
        self.out
            .push_back(Output::Notice(Notice::Manager(ManagerEvent::UpgradeError(
                TransportKind::WebSocket,
            ))));
        let Some(carrier) = &mut self.carrier else {
            return;
        };
        let conn = carrier.conn;
        if let Some(polling) = carrier.polling.as_mut().filter(|polling| polling.paused) {
            polling.paused = false;
            self.polled(conn);
            self.post_held();
        }
    }

    pub(crate) fn handle_timeout(&mut self, now: u64) {
        if self.deadline().is_some_and(|deadline| deadline <= now) {
            self.fail_probe();
        }
    }

    /// Closes every transport. A polling carrier with a session first sends what it
    /// holds and the close packet, whatever ended it (one of its requests failing, say),
    /// as engine.io-client does: a server that still holds the session closes it at once
    /// and keeps it for connection state recovery, where it would otherwise wait for its
    /// heartbeat to expire and refuse to restore a session it still thinks alive. A
    /// WebSocket's closing handshake tells the server as much.
    pub(crate) fn close(&mut self) {
        if let Some(probe) = self.probe.take() {
            self.out.push_back(Output::CloseTransport(probe.conn));
        }
        let Some(Carrier { conn, polling }) = self.carrier.take() else {
            return;
        };
        let Some(mut polling) = polling.filter(|polling| polling.sid.is_some()) else {
            return self.out.push_back(Output::CloseTransport(conn));
        };
        polling.held.push(EnginePacket::Close.encode());
        let mut last = String::new();
        for frame in &polling.held {
            push_packet(&mut last, frame);
        }
        let query = self.query(
            TransportKind::Polling,
            polling.sid.as_deref(),
            polling.stamp.as_deref(),
        );
        let last = HttpRequest {
            query,
            body: Some(last),
        };
        if polling.post_in_flight {
            // Two POSTs at once make the server drop the session: this one waits.
            return self.closing.push((conn, Some(last)));
        }
        self.out.push_back(Output::Request(conn, last));
        self.closing.push((conn, None));
    }

    /// Moves the connection to the probe once the server answered it and polling has
    /// no request left in flight.
    fn switch_if_paused(&mut self) {
        let ready = match (&self.probe, &self.carrier) {
            (
                Some(probe),
                Some(Carrier {
                    polling: Some(polling),
                    ..
                }),
            ) => probe.answered && !polling.get_in_flight && !polling.post_in_flight,
            _ => false,
        };
        if !ready {
            return;
        }
        let (Some(probe), Some(old)) = (self.probe.take(), self.carrier.take()) else {
            return;
        };
        self.out.push_back(Output::CloseTransport(old.conn));
        let conn = probe.conn;
        let upgrade = EnginePacket::Upgrade(String::new()).encode();
        self.out.push_back(Output::Transmit(conn, upgrade));
        for frame in old.polling.map(|polling| polling.held).unwrap_or_default() {
            self.out.push_back(Output::Transmit(conn, frame));
        }
        self.carrier = Some(Carrier {
            conn,
            polling: None,
        });
        self.websocket_worked = true;
        self.out
            .push_back(Output::Notice(Notice::Manager(ManagerEvent::Upgrade(
                TransportKind::WebSocket,
            ))));
    }

    /// POSTs what the polling carrier holds, unless a POST is in flight, polling is
    /// paused, or the session is not known yet. One POST carries at most `maxPayload`
    /// bytes (a single larger packet still goes: the server judges it).
    fn post_held(&mut self) {
        let Some(Carrier {
            conn,
            polling: Some(polling),
        }) = &mut self.carrier
        else {
            return;
        };
        if polling.post_in_flight
            || polling.paused
            || polling.sid.is_none()
            || polling.held.is_empty()
        {
            return;
        }
        let mut body = String::new();
        let mut taken = 0;
        for frame in &polling.held {
            // Each packet after the first costs its separator and base64 grows binary.
            let size = packet_len(frame) + usize::from(taken > 0);
            if taken > 0 && (body.len() + size) as u64 > polling.max_payload {
                break;
            }
            push_packet(&mut body, frame);
            taken += 1;
        }
        polling.held.drain(..taken);
        polling.post_in_flight = true;
        let conn = *conn;
        let query = self.carrier_query();
        self.out.push_back(Output::Request(
            conn,
            HttpRequest {
                query,
                body: Some(body),
            },
        ));
    }

    fn polling_of(&mut self, conn: ConnId) -> Option<&mut Polling> {
        self.carrier
            .as_mut()
            .filter(|carrier| carrier.conn == conn)?
            .polling
            .as_mut()
    }

    /// The query of the next request of the polling carrier.
    fn carrier_query(&mut self) -> String {
        let (sid, stamp) = match self.carrier.as_ref().and_then(|c| c.polling.as_ref()) {
            Some(polling) => (polling.sid.clone(), polling.stamp.clone()),
            None => (None, None),
        };
        self.query(TransportKind::Polling, sid.as_deref(), stamp.as_deref())
    }

    /// `transport=<kind>[&sid=<sid>][&<stamp>=<random>]`, to append to the endpoint's
    /// query (which holds `EIO=4` and the app's parameters).
    fn query(&mut self, kind: TransportKind, sid: Option<&str>, stamp: Option<&str>) -> String {
        let mut query = String::from("transport=");
        query.push_str(kind.name());
        if let Some(sid) = sid {
            query.push_str("&sid=");
            push_encoded(&mut query, sid);
        }
        if let Some(stamp) = stamp {
            query.push('&');
            push_encoded(&mut query, stamp);
            query.push('=');
            // Eight base-36 digits: unique enough that no cache answers for the server.
            let mut value = (self.rng.next_unit() * 36f64.powi(8)) as u64;
            for _ in 0..8 {
                let digit = (value % 36) as u32;
                query.push(char::from_digit(digit, 36).unwrap_or('0'));
                value /= 36;
            }
        }
        query
    }
}

impl Carrier {
    fn kind(&self) -> TransportKind {
        match self.polling {
            Some(_) => TransportKind::Polling,
            None => TransportKind::WebSocket,
        }
    }
}

/// Appends `value` percent-encoded: only unreserved characters stay as they are, so a
/// session id or parameter name cannot add parameters of its own.
fn push_encoded(query: &mut String, value: &str) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            query.push(char::from(byte));
        } else {
            query.push('%');
            query.push(char::from(HEX[usize::from(byte >> 4)]));
            query.push(char::from(HEX[usize::from(byte & 15)]));
        }
    }
}
