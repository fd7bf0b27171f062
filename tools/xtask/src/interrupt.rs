//! Ctrl-C (and SIGTERM, SIGHUP) while QEMU runs: note it instead of dying, so xtask can
//! collect QEMU's status and logs and restore the terminal; and stopping QEMU.

use std::sync::atomic::{AtomicBool, Ordering};

/// Set by the signal handler; read (and cleared) by [`take_interrupt`].
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

extern "C" fn on_interrupt(_signal: libc::c_int) {
    // Only async-signal-safe work here: an atomic store.
    INTERRUPTED.store(true, Ordering::SeqCst);
}

/// The signals that stop an interactive run: Ctrl-C (when the terminal is
/// not in raw mode), `kill`, and the terminal going away.
const STOPPING_SIGNALS: [libc::c_int; 3] = [libc::SIGINT, libc::SIGTERM, libc::SIGHUP];

/// While alive, SIGINT, SIGTERM and SIGHUP set a flag instead of ending
/// xtask (so it stops QEMU, collects its status and restores the terminal);
/// dropping it restores the old handlers.
///
/// Child processes started meanwhile still get the default handling
/// (handlers are reset on `exec`), so the terminal's Ctrl-C stops QEMU as usual.
pub struct InterruptGuard {
    previous: [libc::sighandler_t; STOPPING_SIGNALS.len()],
}

impl InterruptGuard {
    /// Installs the flag-setting handler.
    pub fn install() -> Self {
        INTERRUPTED.store(false, Ordering::SeqCst);
        let handler = on_interrupt as extern "C" fn(libc::c_int) as libc::sighandler_t;
        // SAFETY: the handler only stores to an atomic, which is async-signal-safe.
        let previous = STOPPING_SIGNALS.map(|signal| unsafe { libc::signal(signal, handler) });
        Self { previous }
    }
}

impl Drop for InterruptGuard {
    fn drop(&mut self) {
        for (signal, previous) in STOPPING_SIGNALS.iter().zip(self.previous) {
            // SAFETY: restores the disposition that was in force before `install`.
            unsafe {
                libc::signal(*signal, previous);
            }
        }
    }
}

/// Whether SIGINT arrived since the last call; clears the flag.
pub fn take_interrupt() -> bool {
    INTERRUPTED.swap(false, Ordering::SeqCst)
}

/// Sends SIGINT to the process `process_id` (to pass on a Ctrl-C that only xtask got).
pub fn forward_interrupt(process_id: u32) {
    if let Ok(process_id) = libc::pid_t::try_from(process_id) {
        // SAFETY: kill(2) has no memory-safety preconditions.
        unsafe {
            libc::kill(process_id, libc::SIGINT);
        }
    }
}

/// Sends SIGTERM to the process `process_id` (QEMU stops cleanly on it).
pub fn terminate(process_id: u32) {
    if let Ok(process_id) = libc::pid_t::try_from(process_id) {
        // SAFETY: kill(2) has no memory-safety preconditions.
        unsafe {
            libc::kill(process_id, libc::SIGTERM);
        }
    }
}
