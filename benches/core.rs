//! Core benchmark (`cargo bench --bench core`): what one inbound frame costs the state
//! machine while a server withholds acknowledgements, for a growing number of them.
//!
//! A server that never answers can leave any number of acks pending; every input must
//! still cost the same. Prints nanoseconds per frame for each count, and the ratio to
//! the count-free case: a flat column is the result. Not a test (timings on a shared
//! machine are noisy): run it to compare builds, side by side.

use std::hint::black_box;
use std::time::Instant;

use resocket::core::{EmitOptions, Manager, ManagerConfig, Output, SocketConfig, TransportKind};
use resocket::protocol::{Frame, JsonText};

const HANDSHAKE: &str =
    r#"0{"sid":"e","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}"#;
const FRAMES: u32 = 20_000;

fn drain(manager: &mut Manager) -> Option<resocket::core::ConnId> {
    let mut opened = None;
    while let Some(output) = manager.poll_output() {
        if let Output::OpenTransport(conn, ..) = output {
            opened = Some(conn);
        }
    }
    opened
}

/// Nanoseconds per inbound event frame with `pending` acknowledgements outstanding.
fn per_frame(pending: u64) -> f64 {
    let mut manager = Manager::new(
        ManagerConfig {
            transports: vec![TransportKind::WebSocket],
            ..ManagerConfig::default()
        },
        1,
    );
    let key = manager.socket("/", SocketConfig::default());
    manager.connect(0, key);
    let conn = drain(&mut manager).expect("the core opens a transport");
    manager.handle_frame(0, conn, Frame::Text(HANDSHAKE.into()));
    manager.handle_frame(0, conn, Frame::Text(r#"40{"sid":"s"}"#.into()));
    let asked = EmitOptions {
        with_ack: true,
        timeout: Some(3_600_000),
        ..EmitOptions::default()
    };
    let data = JsonText::parse(r#"["ask"]"#).expect("valid JSON");
    for _ in 0..pending {
        let _ = manager.emit(0, key, data.clone(), Vec::new(), asked);
    }
    drain(&mut manager);
    let frame = r#"42["tick",{"n":1}]"#;
    let started = Instant::now();
    for n in 0..FRAMES {
        let now = 1 + u64::from(n);
        manager.handle_frame(now, conn, Frame::Text(frame.into()));
        drain(&mut manager);
        black_box(manager.poll_timeout());
        // Ack timeouts are looked at whenever time moves, as the driver's timer does.
        manager.handle_timeout(now);
    }
    started.elapsed().as_nanos() as f64 / f64::from(FRAMES)
}

fn main() {
    // A first pass warms caches and the allocator, so that the baseline is not its cost.
    per_frame(0);
    println!("pending acks | ns per inbound frame | ÷ none pending");
    let base = per_frame(0);
    for pending in [0, 1_000, 10_000, 100_000] {
        let ns = if pending == 0 {
            base
        } else {
            per_frame(pending)
        };
        println!("{pending:>12} | {ns:>20.0} | {:>14.2}", ns / base);
    }
}
