//! The options the JS wrapper hands over, read by name from the JSON text of an object,
//! so that JS and Rust share no parameter order: the Manager's settings (socket.io-client's
//! reconnection and transport options, and `limits`) and a socket's.
//!
//! The JS wrapper has checked their types; what it leaves to this module (the names and
//! values inside `limits`) is refused here, as a `TypeError` in JS. Owns the option names and
//! their translation into the core's configuration; it must not touch the connection.

use crate::core::{
    AuthSource, ManagerConfig, Overflow, ReconnectionAttempts, SocketConfig, TransportKind,
};
use crate::protocol::{decode_string, parse_unsigned, JsonText};

use super::connection::{ApiError, ErrorKind};

/// The Manager's options as changed by one `configure` call: any subset of them.
pub struct ManagerOptions {
    pub config: ManagerConfig,
    /// The app listens to packets (engine `packet`, `packetCreate`, `drain`; Manager
    /// `packet`).
    pub packets: bool,
}

/// Applies the options in `json` to `config`: `reconnection`, `reconnectionAttempts`,
/// `reconnectionDelay`, `reconnectionDelayMax`, `randomizationFactor`, `timeout` (in
/// milliseconds; `null`, what JSON makes of `Infinity`, for none), `limits`,
/// `transports` (`"polling"`, `"websocket"`), `upgrade`, `rememberUpgrade`,
/// `tryAllTransports`, `timestampRequests`, `timestampParam`, `packets`. (What only the
/// browser needs, the requests' headers and the WebSocket's subprotocols, stays with the
/// JS driver.)
pub fn manager_options(json: &str, config: ManagerConfig) -> Result<ManagerOptions, ApiError> {
    let mut options = ManagerOptions {
        config,
        packets: false,
    };
    let config = &mut options.config;
    let object = JsonText::parse(json).map_err(|_| invalid("options"))?;
    for (name, value) in object.members().map_err(|_| invalid("options"))? {
        let name = name.unwrap_or_default();
        let bad = || invalid(&name);
        match &*name {
            "reconnection" => config.reconnection = flag(value).ok_or_else(bad)?,
            "reconnectionAttempts" => {
                config.reconnection_attempts = match number(value).ok_or_else(bad)? {
                    n if n >= u32::MAX as f64 => ReconnectionAttempts::Unlimited,
                    n => ReconnectionAttempts::Limited(n as u32),
                }
            }
            "reconnectionDelay" => config.backoff.delay = whole_number(value).ok_or_else(bad)?,
            "reconnectionDelayMax" => {
                config.backoff.delay_max = whole_number(value).ok_or_else(bad)?
            }
            "randomizationFactor" => {
                config.backoff.randomization_factor = number(value).ok_or_else(bad)?
            }
            "timeout" => config.timeout = whole_number(value).ok_or_else(bad)?,
            "limits" => limits(value, config)?,
            "transports" => {
                config.transports = strings(value)
                    .ok_or_else(bad)?
                    .iter()
                    .map(|name| match name.as_str() {
                        "polling" => Some(TransportKind::Polling),
                        "websocket" => Some(TransportKind::WebSocket),
                        _ => None,
                    })
                    .collect::<Option<Vec<_>>>()
                    .filter(|kinds| !kinds.is_empty())
                    .ok_or_else(bad)?
            }
            "upgrade" => config.upgrade = flag(value).ok_or_else(bad)?,
            "rememberUpgrade" => config.remember_upgrade = flag(value).ok_or_else(bad)?,
            "tryAllTransports" => config.try_all_transports = flag(value).ok_or_else(bad)?,
            "timestampRequests" => config.timestamp_requests = flag(value),
            "timestampParam" => {
                config.timestamp_param = decode_string(value).ok_or_else(bad)?.into_owned()
            }
            "packets" => options.packets = flag(value).ok_or_else(bad)?,
            _ => return Err(bad()),
        }
    }
    Ok(options)
}

/// A socket's options: `namespace`, `retries`, `ackTimeout`, `maxQueue`, `maxQueueAge`
/// (`null` for no limit), `queueOverflow` (`"drop-oldest"`, `"drop-newest"`),
/// `volatileEvents`. The CONNECT payload is always asked for (`auth` is read anew at
/// every connect). Returns the namespace and the configuration.
pub fn socket_options(json: &str) -> Result<(String, SocketConfig), ApiError> {
    let mut namespace = String::from("/");
    let mut config = SocketConfig {
        auth: AuthSource::Deferred,
        ..SocketConfig::default()
    };
    let object = JsonText::parse(json).map_err(|_| invalid("options"))?;
    for (name, value) in object.members().map_err(|_| invalid("options"))? {
        let name = name.unwrap_or_default();
        let bad = || invalid(&name);
        let queue = &mut config.queue;
        match &*name {
            "namespace" => namespace = decode_string(value).ok_or_else(bad)?.into_owned(),
            "retries" => {
                config.retries = whole_number(value)
                    .ok_or_else(bad)?
                    .try_into()
                    .unwrap_or(u32::MAX)
            }
            "ackTimeout" => config.ack_timeout = Some(whole_number(value).ok_or_else(bad)?),
            "maxQueue" => {
                queue.max_len = whole_number(value)
                    .ok_or_else(bad)?
                    .try_into()
                    .unwrap_or(usize::MAX)
            }
            "maxQueueAge" => {
                queue.max_age =
                    Some(whole_number(value).ok_or_else(bad)?).filter(|&ms| ms < u64::MAX)
            }
            "queueOverflow" => {
                queue.overflow = match decode_string(value).as_deref() {
                    Some("drop-newest") => Overflow::DropNewest,
                    Some("drop-oldest") => Overflow::DropOldest,
                    _ => return Err(bad()),
                }
            }
            "volatileEvents" => config.volatile_events = strings(value).ok_or_else(bad)?,
            _ => return Err(bad()),
        }
    }
    Ok((namespace, config))
}

/// The `limits` option: `{ frameBytes, attachments, attachmentBytes, earlyEvents,
/// earlyBytes }` (any of them). A limit left out keeps its default; `null` lifts it.
fn limits(json: &str, config: &mut ManagerConfig) -> Result<(), ApiError> {
    let invalid = || {
        ApiError::new(
            ErrorKind::Option,
            "resocket: option \"limits\" takes an object of non-negative integers (or \
             Infinity) named frameBytes, attachments, attachmentBytes, earlyEvents, earlyBytes",
        )
    };
    let object = JsonText::parse(json).map_err(|_| invalid())?;
    let limits = &mut config.limits;
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
    Ok(())
}

fn invalid(name: &str) -> ApiError {
    let mut message = String::from("resocket: invalid option \"");
    message.push_str(name);
    message.push('"');
    ApiError::new(ErrorKind::Option, message)
}

fn flag(json: &str) -> Option<bool> {
    match json {
        "true" => Some(true),
        "false" => Some(false),
        _ => None,
    }
}

/// A non-negative JSON number (`null`: infinity), without the float parser of std,
/// which would add several kilobytes to the module for a handful of settings.
fn number(json: &str) -> Option<f64> {
    if json == "null" {
        return Some(f64::INFINITY);
    }
    let (mantissa, exponent) = json.split_once(['e', 'E']).unwrap_or((json, "0"));
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let (sign, exponent) = match exponent.as_bytes().first() {
        Some(b'-') => (-1, &exponent[1..]),
        Some(b'+') => (1, &exponent[1..]),
        _ => (1, exponent),
    };
    let digits = |text: &str| {
        let all = !text.is_empty() && text.bytes().all(|digit| digit.is_ascii_digit());
        all.then(|| {
            text.bytes()
                .fold(0.0, |value, digit| value * 10.0 + f64::from(digit - b'0'))
        })
    };
    let mut value = digits(whole)?;
    // Digit by digit, so that the fraction needs no division by a power of ten.
    let mut scale = 1.0;
    for digit in fraction.bytes() {
        if !digit.is_ascii_digit() {
            return None;
        }
        scale /= 10.0;
        value += scale * f64::from(digit - b'0');
    }
    // Beyond 400, any exponent gives 0 or infinity.
    for _ in 0..(digits(exponent)? as u32).min(400) {
        value = if sign < 0 { value / 10.0 } else { value * 10.0 };
    }
    Some(value)
}

/// A whole number of milliseconds, or a count; `as` saturates, so `null` (infinity) is
/// the max.
fn whole_number(json: &str) -> Option<u64> {
    number(json).map(|value| value as u64)
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
