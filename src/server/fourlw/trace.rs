//! The trace mask of `gtmk` and `stmk` (ZooKeeper's `ZooTrace`): which
//! kinds of events a server at TRACE log level traces. ZooKeeper keeps it
//! in one static field of the process; so does ferrozk, where the
//! AdminServer's `get_trace_mask`/`set_trace_mask` read and set it too.
//! Its bits keep ZooKeeper's meanings; ferrozk's logging does not consult
//! it (its levels and targets are set with `RUST_LOG`).

use std::sync::atomic::{AtomicI64, Ordering};

/// `ZooTrace.CLIENT_REQUEST_TRACE_MASK`.
pub const CLIENT_REQUEST: i64 = 1 << 1;
/// `ZooTrace.SERVER_PACKET_TRACE_MASK`.
pub const SERVER_PACKET: i64 = 1 << 4;
/// `ZooTrace.SESSION_TRACE_MASK`.
pub const SESSION: i64 = 1 << 5;
/// `ZooTrace.WARNING_TRACE_MASK`.
pub const WARNING: i64 = 1 << 8;
/// ZooKeeper's initial mask: 306.
pub const DEFAULT: i64 = CLIENT_REQUEST | SERVER_PACKET | SESSION | WARNING;

static MASK: AtomicI64 = AtomicI64::new(DEFAULT);

/// The current trace mask (`gtmk`).
pub fn mask() -> i64 {
    MASK.load(Ordering::Relaxed)
}

/// Sets the trace mask (`stmk`).
pub fn set_mask(mask: i64) {
    MASK.store(mask, Ordering::Relaxed);
}

/// `stmk` with the 8-byte mask that followed the word: sets it and
/// answers it. ZooKeeper fails to read a missing mask and closes the
/// connection without an answer; so does ferrozk (an empty answer).
pub(super) fn stmk(mask: Option<i64>) -> String {
    match mask {
        Some(m) => {
            set_mask(m);
            m.to_string()
        }
        None => String::new(),
    }
}
