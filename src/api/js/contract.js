// The numbering shared with the wasm Connection: the commands of its run() and their
// flags, and the events of its callback. Both sides number by position, so a mismatch
// would deliver one event as another, or run the wrong command, without any error:
// these lists change only together with src/api/connection.rs and src/api/events.rs
// (tests/e2e/contract.test.mjs reads them here). Plain data: this module imports nothing.

// The commands of the wasm Connection's run(), numbered in the order of `Op` in
// src/api/connection.rs, and its flags (tests/e2e/contract.test.mjs checks both).
// DELIVER is the driver's own (driver.js): the command's events are delivered before it
// returns.
export const OPS = ["configure", "socket", "open", "close", "connect", "disconnect", "close_transport", "emit", "ack", "auth", "auth_failed", "add_rejoin", "remove_rejoin", "clear_queue", "queued", "engine_id", "sid", "state", "waiting", "session", "resume", "transport_open", "text_frame", "binary_frame", "transport_closed", "frame_too_large", "polled", "posted", "request_failed", "timeout", "network", "time_gap", "unparsable_payload", "bytes"];
export const OP = Object.fromEntries(OPS.map((name, i) => [name, i]));
export const WITH_ACK = 1;
export const VOLATILE = 2;
export const REPORT_SENT = 4;
export const DELIVER = 256;

// The core's outputs by number, in the order of `Kind` in src/api/events.rs (checked by
// tests/e2e/contract.test.mjs): its events, then what it asks of the driver.
export const KINDS = ["open", "close", "error", "ping", "reconnect_attempt", "reconnect", "reconnect_error", "reconnect_failed", "connect", "connect_error", "disconnect", "event", "ack", "ack_error", "dropped", "auth", "sent", "upgrade", "upgradeError", "packet", "drain", "open_transport", "close_transport", "transmit", "request", "timer", "direct"];

// The tags of a record's arguments, numbered as in src/api/events.rs (`NONE` ...), and
// the kinds of a command's error from 1 on, as `ErrorKind` in src/api/connection.rs
// (both checked by tests/e2e/contract.test.mjs).
export const TAGS = ["none", "number", "true", "false", "text", "bytes", "bytes_list"];
export const ERRORS = ["emit", "option", "command"];

// The page's events, numbered as the core's NetworkEvent (`NETWORK_EVENTS` in
// src/api/connection.rs, checked by tests/e2e/contract.test.mjs).
export const NETWORK = ["online", "offline", "visible", "page_show"];
