//! `Connection`: one Engine.IO connection with its namespace sockets, exported to JS.
//!
//! The JS `Manager` owns one of these. Arguments arrive already validated by the JS
//! wrapper (types and ranges of options); what can still be wrong (an emit's JSON, a
//! reserved event name) is returned as a JS `Error` with a stable `.type`, never a panic.

use std::sync::atomic::{AtomicU32, Ordering};

use js_sys::{Array, Uint8Array};
use wasm_bindgen::prelude::*;

use std::rc::Rc;

use crate::core::{
    AuthSource, Backoff, EmitOptions, IncomingLimits, Manager, ManagerConfig, Overflow,
    QueueLimits, ReconnectionAttempts, SocketConfig, SocketKey, TransportKind,
};
use crate::driver::{random_seed, Driver, Endpoint, HttpSettings};
use crate::protocol::{decode_string, parse_unsigned, JsonText};

use super::events::{forward, EventCallback};

#[wasm_bindgen]
pub struct Connection {
    driver: Driver,
}

/// Connections alive in this wasm instance (created and not yet freed): lets tests and
/// apps check that abandoned connections are released.
static LIVE_CONNECTIONS: AtomicU32 = AtomicU32::new(0);

#[wasm_bindgen(js_name = liveConnections)]
pub fn live_connections() -> u32 {
    LIVE_CONNECTIONS.load(Ordering::Relaxed)
}

impl Drop for Connection {
    fn drop(&mut self) {
        LIVE_CONNECTIONS.fetch_sub(1, Ordering::Relaxed);
    }
}

#[wasm_bindgen]
impl Connection {
    /// `engine_url`: the Engine.IO endpoint, `http[s]://host{path}?EIO=4[&query]`. `on_event`: see the events
    /// module. The settings are socket.io-client's defaults until [`Connection::configure`]
    /// (the JS Manager calls it right away, before any socket connects).
    #[wasm_bindgen(constructor)]
    pub fn new(engine_url: String, on_event: EventCallback) -> Connection {
        let manager = Manager::new(ManagerConfig::default(), random_seed());
        let driver = Driver::new(manager, Endpoint::new(engine_url), move |notice, frame| {
            forward(&on_event, notice, frame)
        });
        LIVE_CONNECTIONS.fetch_add(1, Ordering::Relaxed);
        Connection { driver }
    }

    /// The socket of `namespace` (created on first use); returns its key. The optional
    /// settings are socket.io-client's `retries` and `ackTimeout`, the offline queue's
    /// bounds (`undefined`: the defaults), and the events the server sends volatile.
    #[allow(clippy::too_many_arguments)]
    pub fn socket(
        &self,
        namespace: &str,
        deferred_auth: bool,
        retries: Option<u32>,
        ack_timeout: Option<f64>,
        max_queue: Option<u32>,
        max_queue_age: Option<f64>,
        drop_newest: Option<bool>,
        volatile_events: Option<String>,
    ) -> Result<u32, JsValue> {
        let volatile_events = match volatile_events {
            Some(json) => event_names(&json)?,
            None => Vec::new(),
        };
        let defaults = QueueLimits::default();
        let config = SocketConfig {
            auth: if deferred_auth {
                AuthSource::Deferred
            } else {
                AuthSource::None
            },
            queue: QueueLimits {
                max_len: max_queue.map_or(defaults.max_len, |n| n as usize),
                max_age: max_queue_age
                    .map_or(defaults.max_age, |ms| (ms.is_finite()).then(|| millis(ms))),
                overflow: match drop_newest {
                    Some(true) => Overflow::DropNewest,
                    Some(false) => Overflow::DropOldest,
                    None => defaults.overflow,
                },
            },
            retries: retries.unwrap_or(0),
            ack_timeout: ack_timeout.map(millis),
            volatile_events,
        };
        self.command(|manager, _| manager.socket(namespace, config).0 as u32)
    }

    /// socket.io-client's `Manager.open()`: connects now, with or without a socket.
    pub fn open(&self) -> Result<(), JsValue> {
        self.command(|manager, now| manager.open(now))
    }

    /// The end of socket.io-client's `Manager.disconnect()`, once every socket is
    /// disconnected: nothing keeps or re-establishes the connection any more.
    pub fn close(&self) -> Result<(), JsValue> {
        self.command(|manager, _| manager.close())
    }

    /// The Engine.IO URL of the next transport (the query may change between attempts).
    #[wasm_bindgen(js_name = setUrl)]
    pub fn set_url(&self, engine_url: String) -> Result<(), JsValue> {
        self.driver
            .set_endpoint(|endpoint| endpoint.url = engine_url)
            .map_err(|_| js_error("Busy", "the connection is busy or closed"))
    }

    pub fn connect(&self, key: u32) -> Result<(), JsValue> {
        self.command(|manager, now| manager.connect(now, socket_key(key)))
    }

    pub fn disconnect(&self, key: u32) -> Result<(), JsValue> {
        self.command(|manager, _| manager.disconnect(socket_key(key)))
    }

    /// Drops the transport as a network failure would (`socket.io.engine.close()`).
    #[wasm_bindgen(js_name = closeTransport)]
    pub fn close_transport(&self) -> Result<(), JsValue> {
        self.command(|manager, now| manager.close_transport(now))
    }

    /// Sends `data`, the JSON text of `[name, ...args]`; returns the ack id when
    /// `with_ack`. `timeout`: milliseconds, or a negative number for none.
    /// `report_sent`: every copy that goes on the wire comes back as a "sent" event.
    #[allow(clippy::too_many_arguments)]
    pub fn emit(
        &self,
        key: u32,
        data: String,
        attachments: Array,
        with_ack: bool,
        timeout: f64,
        volatile: bool,
        report_sent: bool,
    ) -> Result<Option<f64>, JsValue> {
        let data =
            JsonText::parse(data).map_err(|error| js_error("InvalidData", error.message()))?;
        let options = EmitOptions {
            with_ack,
            timeout: (timeout >= 0.0).then(|| millis(timeout)),
            volatile,
            report_sent,
        };
        let buffers = bytes_of(&attachments);
        let sent = self
            .command(|manager, now| manager.emit(now, socket_key(key), data, buffers, options))?;
        match sent {
            Ok(id) => Ok(id.map(|id| id as f64)),
            Err(error) => Err(js_error("EmitError", error.message())),
        }
    }

    /// Answers the server's acknowledgement request `id` with `data` (a JSON array).
    pub fn ack(&self, key: u32, id: f64, data: String, attachments: Array) -> Result<(), JsValue> {
        let data =
            JsonText::parse(data).map_err(|error| js_error("InvalidData", error.message()))?;
        let buffers = bytes_of(&attachments);
        self.command(|manager, _| manager.ack(socket_key(key), id as u64, data, buffers))
    }

    /// Answers an `auth` event: `auth` is the JSON text of an object, or `undefined`.
    pub fn auth(&self, key: u32, token: f64, auth: Option<String>) -> Result<(), JsValue> {
        let auth = match auth {
            Some(text) => Some(
                JsonText::parse(text).map_err(|error| js_error("InvalidAuth", error.message()))?,
            ),
            None => None,
        };
        self.command(|manager, _| manager.handle_auth(socket_key(key), token as u64, auth.as_ref()))
    }

    /// Declares a rejoin emit (`data`: JSON of `[name, ...args]`); returns its id.
    #[wasm_bindgen(js_name = addRejoin)]
    pub fn add_rejoin(&self, key: u32, data: String, attachments: Array) -> Result<f64, JsValue> {
        let data =
            JsonText::parse(data).map_err(|error| js_error("InvalidData", error.message()))?;
        let buffers = bytes_of(&attachments);
        let added =
            self.command(|manager, _| manager.add_rejoin(socket_key(key), data, buffers))?;
        match added {
            Ok(id) => Ok(id as f64),
            Err(error) => Err(js_error("EmitError", error.message())),
        }
    }

    #[wasm_bindgen(js_name = removeRejoin)]
    pub fn remove_rejoin(&self, key: u32, id: f64) -> Result<bool, JsValue> {
        self.command(|manager, _| manager.remove_rejoin(socket_key(key), id as u64))
    }

    /// The emits in the offline queue, oldest first, as the JSON text of one array (one
    /// string crosses to JS, not one per emit).
    pub fn queued(&self, key: u32) -> String {
        self.inspect(|manager| {
            let queued: Vec<&str> = manager
                .queued(socket_key(key))
                .into_iter()
                .map(JsonText::as_str)
                .collect();
            JsonText::array_from_elements(&queued).into_string()
        })
        .unwrap_or_else(|| "[]".to_owned())
    }

    #[wasm_bindgen(js_name = clearQueue)]
    pub fn clear_queue(&self, key: u32) -> Result<(), JsValue> {
        self.command(|manager, _| manager.clear_queue(socket_key(key)))
    }

    /// The app's auth function failed for the `auth` event `token`.
    #[wasm_bindgen(js_name = authFailed)]
    pub fn auth_failed(&self, key: u32, token: f64) -> Result<(), JsValue> {
        self.command(|manager, now| manager.handle_auth_failed(now, socket_key(key), token as u64))
    }

    /// Arms timers with these `setTimeout` and `clearTimeout` (socket.io-client's
    /// `useNativeTimers`: the page's own, from before any fake clock was installed).
    #[wasm_bindgen(js_name = useTimers)]
    pub fn use_timers(&self, set: js_sys::Function, clear: js_sys::Function) {
        self.driver.use_timer_functions(set, clear);
    }

    /// The Engine.IO session id of the open connection (socket.io-client's
    /// `socket.io.engine.id`).
    #[wasm_bindgen(js_name = engineId)]
    pub fn engine_id(&self) -> Option<String> {
        self.inspect(|manager| manager.handshake().map(|handshake| handshake.sid.clone()))
            .flatten()
    }

    pub fn sid(&self, key: u32) -> Option<String> {
        self.inspect(|manager| manager.sid(socket_key(key)).map(str::to_owned))
            .flatten()
    }

    /// The socket's state in one number (one export instead of four): flags 1 connected,
    /// 2 active (wants a connection), 4 recovered (its last connect restored the session);
    /// the connection's flag 8, opened for its own sake (`open()`), whatever the key; and
    /// from bit 4 up, how many at-least-once emits wait for their acknowledgement.
    pub fn state(&self, key: u32) -> u32 {
        self.inspect(|manager| {
            let key = socket_key(key);
            let unacknowledged = manager.unacknowledged_len(key).min(1 << 27) as u32;
            u32::from(manager.is_connected(key))
                | u32::from(manager.is_active(key)) << 1
                | u32::from(manager.recovered(key)) << 2
                | u32::from(manager.is_opened()) << 3
                | unacknowledged << 4
        })
        .unwrap_or(0)
    }

    /// Sets the reconnection settings (the Manager's options, then socket.io-client's
    /// `reconnection*()` setters). `attempts`: a negative or infinite number means
    /// unlimited. `limits`: the `limits` option as JSON (`undefined`: unchanged).
    /// `transport`: the transport options as JSON (`undefined`: unchanged), see
    /// `TransportOptions`.
    #[wasm_bindgen(js_name = configure)]
    #[allow(clippy::too_many_arguments)]
    pub fn configure(
        &self,
        reconnection: bool,
        attempts: f64,
        delay: f64,
        delay_max: f64,
        randomization_factor: f64,
        timeout: f64,
        limits: Option<String>,
        transport: Option<String>,
    ) -> Result<(), JsValue> {
        // The other values were validated by the JS wrapper.
        let limits = limits.map(|json| incoming_limits(&json)).transpose()?;
        let transport = transport
            .map(|json| TransportOptions::parse(&json))
            .transpose()?;
        if let Some(options) = &transport {
            let http = Rc::new(options.http.clone());
            let protocols = options.protocols.clone();
            self.driver
                .set_endpoint(|endpoint| {
                    endpoint.http = http;
                    endpoint.protocols = protocols;
                })
                .map_err(|_| js_error("Busy", "the connection is busy or closed"))?;
        }
        self.command(|manager, _| {
            if transport.as_ref().is_some_and(|options| options.packets) {
                manager.report_packets();
            }
            let config = manager.config_mut();
            if let Some(limits) = limits {
                config.limits = limits;
            }
            if let Some(options) = transport {
                options.apply(config);
            }
            config.reconnection = reconnection;
            config.reconnection_attempts = reconnection_attempts(attempts);
            config.backoff = Backoff {
                delay: millis(delay),
                delay_max: millis(delay_max),
                randomization_factor,
            };
            config.timeout = millis(timeout);
        })
    }
}

impl Connection {
    fn command<R>(&self, command: impl FnOnce(&mut Manager, u64) -> R) -> Result<R, JsValue> {
        self.driver
            .command(command)
            .map_err(|_| js_error("Busy", "the connection is busy or closed"))
    }

    fn inspect<R>(&self, read: impl FnOnce(&Manager) -> R) -> Option<R> {
        self.driver.inspect(read).ok()
    }
}

/// The `limits` option, the JSON text of `{ frameBytes, attachments, attachmentBytes,
/// earlyEvents, earlyBytes }` (any of them): the names are matched here, so JS and Rust
/// share no field order. A limit left out keeps its default; `null`, what JSON makes of
/// `Infinity`, lifts it.
fn incoming_limits(json: &str) -> Result<IncomingLimits, JsValue> {
    const WHAT: &str = "resocket: option \"limits\" takes an object of non-negative integers \
        (or Infinity) named frameBytes, attachments, attachmentBytes, earlyEvents, earlyBytes";
    let invalid = || JsValue::from(js_sys::TypeError::new(WHAT));
    let object = JsonText::parse(json).map_err(|_| invalid())?;
    let mut limits = IncomingLimits::default();
    for (name, value) in object.members().map_err(|_| invalid())? {
        let field = match name.as_deref() {
            Some("frameBytes") => &mut limits.frame_bytes,
            Some("attachments") => &mut limits.attachments,
            Some("attachmentBytes") => &mut limits.attachment_bytes,
            Some("earlyEvents") => &mut limits.early_events,
            Some("earlyBytes") => &mut limits.early_bytes,
            _ => return Err(invalid()),
        };
        *field = match value {
            "null" => usize::MAX,
            number => parse_unsigned(number)
                .and_then(|n| usize::try_from(n).ok())
                .ok_or_else(invalid)?,
        };
    }
    Ok(limits)
}

/// socket.io-client's transport options, read by name from the JSON text of
/// `{ transports, upgrade, rememberUpgrade, tryAllTransports, timestampRequests,
/// timestampParam, extraHeaders, withCredentials, requestTimeout, protocols }` (any of
/// them; the JS wrapper checked their types). Transports are named `"polling"` and
/// `"websocket"`.
struct TransportOptions {
    transports: Option<Vec<TransportKind>>,
    upgrade: Option<bool>,
    remember_upgrade: Option<bool>,
    try_all_transports: Option<bool>,
    timestamp_requests: Option<Option<bool>>,
    timestamp_param: Option<String>,
    http: HttpSettings,
    protocols: Vec<String>,
    /// The app listens to packets (engine `packet`, `packetCreate`, `drain`; Manager
    /// `packet`).
    packets: bool,
}

impl TransportOptions {
    fn parse(json: &str) -> Result<Self, JsValue> {
        let invalid = || {
            JsValue::from(js_sys::TypeError::new(
                "resocket: invalid transport options",
            ))
        };
        let object = JsonText::parse(json).map_err(|_| invalid())?;
        let mut options = TransportOptions {
            transports: None,
            upgrade: None,
            remember_upgrade: None,
            try_all_transports: None,
            timestamp_requests: None,
            timestamp_param: None,
            http: HttpSettings::default(),
            protocols: Vec::new(),
            packets: false,
        };
        let flag = |value: &str| match value {
            "true" => Some(true),
            "false" => Some(false),
            _ => None,
        };
        for (name, value) in object.members().map_err(|_| invalid())? {
            match name.as_deref() {
                Some("transports") => {
                    let kinds = strings(value)
                        .ok_or_else(invalid)?
                        .iter()
                        .map(|name| match name.as_str() {
                            "polling" => Some(TransportKind::Polling),
                            "websocket" => Some(TransportKind::WebSocket),
                            _ => None,
                        })
                        .collect::<Option<Vec<_>>>()
                        .filter(|kinds| !kinds.is_empty())
                        .ok_or_else(invalid)?;
                    options.transports = Some(kinds);
                }
                Some("upgrade") => options.upgrade = flag(value),
                Some("rememberUpgrade") => options.remember_upgrade = flag(value),
                Some("tryAllTransports") => options.try_all_transports = flag(value),
                Some("timestampRequests") => options.timestamp_requests = Some(flag(value)),
                Some("timestampParam") => {
                    options.timestamp_param =
                        Some(decode_string(value).ok_or_else(invalid)?.into_owned())
                }
                Some("withCredentials") => {
                    options.http.with_credentials = flag(value) == Some(true)
                }
                Some("requestTimeout") => {
                    options.http.timeout =
                        parse_unsigned(value).map_or(0, |ms| u32::try_from(ms).unwrap_or(u32::MAX))
                }
                Some("extraHeaders") => {
                    let headers = JsonText::parse(value).map_err(|_| invalid())?;
                    for (name, value) in headers.members().map_err(|_| invalid())? {
                        let value = decode_string(value).ok_or_else(invalid)?;
                        let name = name.ok_or_else(invalid)?.into_owned();
                        options.http.headers.push((name, value.into_owned()));
                    }
                }
                Some("protocols") => options.protocols = strings(value).ok_or_else(invalid)?,
                Some("packets") => options.packets = flag(value) == Some(true),
                _ => return Err(invalid()),
            }
        }
        Ok(options)
    }

    fn apply(self, config: &mut ManagerConfig) {
        if let Some(transports) = self.transports {
            config.transports = transports;
        }
        config.upgrade = self.upgrade.unwrap_or(config.upgrade);
        config.remember_upgrade = self.remember_upgrade.unwrap_or(config.remember_upgrade);
        config.try_all_transports = self.try_all_transports.unwrap_or(config.try_all_transports);
        if let Some(stamp) = self.timestamp_requests {
            config.timestamp_requests = stamp;
        }
        if let Some(param) = self.timestamp_param {
            config.timestamp_param = param;
        }
    }
}

/// The strings of a JSON array of strings.
fn strings(json: &str) -> Option<Vec<String>> {
    let array = JsonText::parse(json).ok()?;
    let elements = array.array_elements().ok()?;
    elements
        .into_iter()
        .map(|item| decode_string(item).map(|text| text.into_owned()))
        .collect()
}

/// The `volatileEvents` option, the JSON text of an array of event names.
fn event_names(json: &str) -> Result<Vec<String>, JsValue> {
    strings(json).ok_or_else(|| {
        JsValue::from(js_sys::TypeError::new(
            "resocket: option \"volatileEvents\" must be an array of event names",
        ))
    })
}

fn socket_key(key: u32) -> SocketKey {
    SocketKey(key as usize)
}

fn reconnection_attempts(attempts: f64) -> ReconnectionAttempts {
    if attempts < 0.0 || attempts >= u32::MAX as f64 {
        ReconnectionAttempts::Unlimited
    } else {
        ReconnectionAttempts::Limited(attempts as u32)
    }
}

/// Whole milliseconds; `as` saturates (NaN and negatives become 0, infinity the max).
fn millis(value: f64) -> u64 {
    value as u64
}

fn bytes_of(attachments: &Array) -> Vec<Vec<u8>> {
    attachments
        .iter()
        .map(|buffer| Uint8Array::new(&buffer).to_vec())
        .collect()
}

/// A JS `Error` whose `.type` tells what went wrong.
fn js_error(kind: &'static str, message: &'static str) -> JsValue {
    let error: JsValue = js_sys::Error::new(message).into();
    // Setting a property on a fresh Error object cannot fail.
    let _ = js_sys::Reflect::set(&error, &"type".into(), &kind.into());
    error
}
