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
        ticks_to_microseconds(ticks, self.frequency())
    }
}

/// `ticks` at `frequency` Hz (0 is taken as 1) in whole microseconds,
/// saturating. Exact for every frequency below 2^44 Hz (any real counter)
/// in 64-bit arithmetic: whole seconds and the remainder apart, so no
/// 128-bit product (whose software division would be linked into every
/// image).
pub const fn ticks_to_microseconds(ticks: u64, frequency: u64) -> u64 {
    let frequency = if frequency == 0 { 1 } else { frequency };
    let (seconds, rest) = (ticks / frequency, ticks % frequency);
    let fraction = match rest.checked_mul(1_000_000) {
        Some(scaled) => scaled / frequency,
        // Only above 2^44 Hz: the remainder in whole microseconds of
        // `frequency / 10^6` ticks each (never 0 there).
        None => rest / (frequency / 1_000_000),
    };
    seconds.saturating_mul(1_000_000).saturating_add(fraction)
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

#[cfg(test)]
mod tests {
    use super::ticks_to_microseconds;

    #[test]
    fn microseconds_match_the_128_bit_product() {
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        for frequency in [1u64, 1_000, 19_200_000, 62_500_000, 1 << 32, (1 << 44) - 1] {
            for _ in 0..10_000 {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                let ticks = seed >> (seed % 40);
                let exact = (ticks as u128 * 1_000_000 / frequency as u128).min(u64::MAX as u128);
                assert_eq!(
                    ticks_to_microseconds(ticks, frequency) as u128,
                    exact,
                    "{ticks} ticks at {frequency} Hz"
                );
            }
        }
        assert_eq!(ticks_to_microseconds(u64::MAX, 1), u64::MAX);
        assert_eq!(ticks_to_microseconds(3, 0), 3_000_000);
    }
}
