//! The npm module's exports: plain functions of numbers, with strings and bytes in wasm
//! memory, called by the package's own loader (`src/api/js/wasm.js`); no generated glue.
//!
//! A command's text goes into the input buffer ([`resocket_input`], which JS fills as
//! UTF-8), then [`resocket_run`] runs it on a connection and answers where its output
//! is: how many numbers follow, the status, the result and the records of what the core
//! asks for (see the events module), valid until the next command.
//! Owns the two buffers, the connections' handles and their count; nothing here
//! decides anything about a connection.

use std::cell::RefCell;
use std::sync::atomic::{AtomicU32, Ordering};

use super::connection::Connection;
use super::events::Records;

thread_local! {
    /// The text or bytes of the next command, written by JS.
    static INPUT: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
    /// The result and records of the last command, read by JS.
    static OUTPUT: RefCell<Records> = RefCell::new(Records::default());
}

/// Connections alive in this instance (created and not yet freed): lets tests and apps
/// check that abandoned connections are released.
static LIVE_CONNECTIONS: AtomicU32 = AtomicU32::new(0);

/// A new connection (see [`Connection::new`]); its handle, for the calls below.
#[no_mangle]
pub extern "C" fn resocket_new(seed: f64) -> *mut Connection {
    LIVE_CONNECTIONS.fetch_add(1, Ordering::Relaxed);
    Box::into_raw(Box::new(Connection::new(seed as u64)))
}

/// Frees connection `handle`.
///
/// # Safety
/// `handle` comes from [`resocket_new`] and is not used again.
#[no_mangle]
pub unsafe extern "C" fn resocket_free(handle: *mut Connection) {
    if !handle.is_null() {
        LIVE_CONNECTIONS.fetch_sub(1, Ordering::Relaxed);
        drop(Box::from_raw(handle));
    }
}

#[no_mangle]
pub extern "C" fn resocket_live() -> u32 {
    LIVE_CONNECTIONS.load(Ordering::Relaxed)
}

/// The input buffer, at least `len` bytes long (what it held is kept); its address.
#[no_mangle]
pub extern "C" fn resocket_input(len: usize) -> *mut u8 {
    INPUT.with_borrow_mut(|input| {
        if input.len() < len {
            input.resize(len, 0);
        }
        input.as_mut_ptr()
    })
}

/// Runs command `op` on connection `handle` with the first `text_len` bytes of the
/// input buffer as its text (see `Op` in the connection module for the rest). Answers
/// the address of its output: how many numbers follow, the status (0 when it
/// succeeded, else the error's kind), the result (or the error's message), the records.
///
/// # Safety
/// `handle` comes from [`resocket_new`] and was not freed.
#[no_mangle]
pub unsafe extern "C" fn resocket_run(
    handle: *mut Connection,
    op: u32,
    key: u32,
    number: f64,
    flags: u32,
    text_len: usize,
    now: f64,
) -> *const f64 {
    INPUT.with_borrow(|input| {
        OUTPUT.with_borrow_mut(|records| {
            records.clear();
            let text = input.get(..text_len).unwrap_or_default();
            let status = match handle.as_mut() {
                Some(connection) => {
                    match connection.run(op, key, number, flags, text, now, records) {
                        Ok(()) => 0,
                        Err(error) => error.kind as u32,
                    }
                }
                None => 0,
            };
            records.finish(status)
        })
    })
}
