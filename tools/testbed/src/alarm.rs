//! An alarm a test advances by hand.
//!
//! ```
//! use kernel::hil::time::{Alarm, Time};
//! use testbed::alarm::ManualAlarm;
//!
//! let alarm = ManualAlarm::new();
//! alarm.set_alarm(alarm.now(), alarm.ticks_from_ms(10));
//! assert!(alarm.fire());
//! assert_eq!(alarm.now(), 10_000);
//! assert!(!alarm.fire(), "fired once");
//! ```

use std::cell::Cell;

use kernel::hil::time::{Alarm, AlarmClient, Time};
use kernel::ErrorCode;

/// A 1 MHz alarm whose time moves only when [`ManualAlarm::fire`] is called.
pub struct ManualAlarm {
    now: Cell<u64>,
    armed_at: Cell<Option<u64>>,
    client: Cell<Option<&'static dyn AlarmClient>>,
}

impl ManualAlarm {
    /// An alarm at time 0, not armed.
    pub fn new() -> ManualAlarm {
        ManualAlarm {
            now: Cell::new(0),
            armed_at: Cell::new(None),
            client: Cell::new(None),
        }
    }

    /// When the alarm is armed for, if it is.
    pub fn armed_at(&self) -> Option<u64> {
        self.armed_at.get()
    }

    /// Moves time forward to `now` (never back), without firing: for a
    /// test whose clock is another's (the model's).
    pub fn advance_to(&self, now: u64) {
        self.now.set(self.now.get().max(now));
    }

    /// Advances time to the armed instant and delivers the alarm. Returns
    /// `false` if it was not armed.
    pub fn fire(&self) -> bool {
        let Some(at) = self.armed_at.take() else {
            return false;
        };
        self.now.set(self.now.get().max(at));
        if let Some(client) = self.client.get() {
            client.alarm();
        }
        true
    }
}

impl Default for ManualAlarm {
    fn default() -> Self {
        ManualAlarm::new()
    }
}

impl Time for ManualAlarm {
    fn frequency(&self) -> u64 {
        1_000_000
    }

    fn now(&self) -> u64 {
        self.now.get()
    }
}

impl Alarm<'static> for ManualAlarm {
    fn set_alarm_client(&self, client: &'static dyn AlarmClient) {
        self.client.set(Some(client));
    }

    fn set_alarm(&self, reference: u64, delta: u64) {
        self.armed_at.set(Some(reference.saturating_add(delta)));
    }

    fn get_alarm(&self) -> u64 {
        self.armed_at.get().unwrap_or(0)
    }

    fn disarm(&self) -> Result<(), ErrorCode> {
        self.armed_at.take().map(|_| ()).ok_or(ErrorCode::ALREADY)
    }

    fn is_armed(&self) -> bool {
        self.armed_at.get().is_some()
    }
}
