//! Time and alarms: a free-running 64-bit counter with one compare alarm.
//!
//! Ticks are 64-bit and never wrap in practice (the Armv8-A generic timer
//! would need centuries at GHz rates), so this HIL uses plain `u64`.
//!
//! ```ignore
//! alarm.set_alarm_client(&poller);
//! let now = alarm.now();
//! alarm.set_alarm(now, alarm.ticks_from_ms(10));
//! ```

use crate::ErrorCode;

/// A free-running counter.
pub trait Time {
    /// Counter frequency in Hz.
    fn frequency(&self) -> u64;

    /// The current counter value.
    fn now(&self) -> u64;

    /// Converts milliseconds to ticks, saturating on overflow.
    fn ticks_from_ms(&self, milliseconds: u64) -> u64 {
        milliseconds.saturating_mul(self.frequency()) / 1000
    }

    /// Converts microseconds to ticks, saturating on overflow.
    fn ticks_from_us(&self, microseconds: u64) -> u64 {
        microseconds.saturating_mul(self.frequency()) / 1_000_000
    }

    /// Converts ticks to microseconds, saturating on overflow.
    fn ticks_to_us(&self, ticks: u64) -> u64 {
        let frequency = self.frequency().max(1);
        ((ticks as u128 * 1_000_000) / frequency as u128).min(u64::MAX as u128) as u64
    }
}

/// Receives alarm expirations.
pub trait AlarmClient {
    /// The alarm fired. Called from the main loop, never from `set_alarm`.
    fn alarm(&self);
}

/// A single compare alarm on top of [`Time`].
pub trait Alarm<'a>: Time {
    /// Sets the client that [`AlarmClient::alarm`] is delivered to.
    fn set_alarm_client(&self, client: &'a dyn AlarmClient);

    /// Arms the alarm to fire at `reference + delta`. A time already in the
    /// past fires as soon as the main loop services interrupts.
    fn set_alarm(&self, reference: u64, delta: u64);

    /// The absolute time the alarm is (or was last) armed for.
    fn get_alarm(&self) -> u64;

    /// Disarms the alarm. Returns `Err(ErrorCode::ALREADY)` if it was not armed.
    fn disarm(&self) -> Result<(), ErrorCode>;

    /// Whether the alarm is armed.
    fn is_armed(&self) -> bool;
}
