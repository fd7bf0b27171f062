//! What every board does when boot cannot go on or is over in a test: a
//! set-up error, a panic, and the status a scenario's power-off carries.
//!
//! The board passes its chip's power-off (PSCI `SYSTEM_OFF`, the PM
//! watchdog, semihosting in emulation); the statuses are the same on every
//! board, so `cargo xtask test` reads them the same way.

use capsule_ffa::boot::BootOutcome;

use crate::SetupError;

/// The power-off a board passes: ends the run with a status.
pub type PowerOff = fn(u32) -> !;

/// Exit status of a boot that came up (FF-A up, or the monitor has none).
pub const EXIT_HEALTHY: u32 = 0;
/// Exit status of a panic or a fatal exception.
pub const EXIT_PANIC: u32 = 1;
/// Exit status of a board set-up failure.
pub const EXIT_SETUP_FAILED: u32 = 2;
/// Exit status of a settled boot whose FF-A root is not up (failed, timed
/// out, or waiting on a condition that will not come) although the monitor
/// answers FF-A.
pub const EXIT_FFA_ROOT_DOWN: u32 = 3;

/// A fatal board set-up error: logged, then `power_off` with
/// [`EXIT_SETUP_FAILED`] (never returns; generic so that a board's
/// `unwrap_or_else` takes it for any output).
pub fn setup_failed<T>(error: SetupError, power_off: PowerOff) -> T {
    defmt::error!(
        "boot: board set-up failed: {=str}: {}",
        error.what,
        error.error
    );
    power_off(EXIT_SETUP_FAILED)
}

/// A panic: where and why logged, then `power_off` with [`EXIT_PANIC`]
/// (the board's `#[panic_handler]` calls it).
pub fn panicked(info: &core::panic::PanicInfo, power_off: PowerOff) -> ! {
    match info.location() {
        Some(location) => defmt::error!(
            "panicked at {=str}:{=u32}: {}",
            location.file(),
            location.line(),
            defmt::Display2Format(&info.message())
        ),
        None => defmt::error!("panicked: {}", defmt::Display2Format(&info.message())),
    }
    power_off(EXIT_PANIC)
}

/// Boot is over under the `exit-when-settled` test hook: `power_off` with
/// [`EXIT_HEALTHY`] or [`EXIT_FFA_ROOT_DOWN`] by `outcome`, logged first.
pub fn exit_when_settled(outcome: BootOutcome, power_off: PowerOff) -> ! {
    let status = if outcome.is_healthy() {
        EXIT_HEALTHY
    } else {
        EXIT_FFA_ROOT_DOWN
    };
    defmt::info!(
        "boot: exit-when-settled, powering off with status {=u32}",
        status
    );
    power_off(status)
}
