//! The Armv8-A generic timer (EL1 physical timer) as the kernel's alarm.
//!
//! The timer interrupt is PPI 14 (INTID 30). The chip's interrupt dispatch
//! calls [`GenericTimer::handle_interrupt`] from the main loop, which masks
//! the timer and delivers the expiry to the client.
//!
//! ```ignore
//! timer.set_alarm_client(&poller);
//! timer.set_alarm(timer.now(), timer.ticks_from_ms(5));
//! ```

use aarch64_cpu::registers::{
    Readable, Writeable, CNTFRQ_EL0, CNTPCT_EL0, CNTP_CTL_EL0, CNTP_CVAL_EL0,
};
use core::cell::Cell;
use kernel::cells::OptionalCell;
use kernel::hil::time::{Alarm, AlarmClient, Time};
use kernel::ErrorCode;

/// GIC interrupt ID of the non-secure EL1 physical timer.
pub const PHYSICAL_TIMER_INTERRUPT: u32 = 30;

/// The EL1 physical timer.
pub struct GenericTimer<'a> {
    client: OptionalCell<&'a dyn AlarmClient>,
    alarm_time: Cell<u64>,
    armed: Cell<bool>,
}

impl<'a> GenericTimer<'a> {
    /// A disarmed timer.
    pub const fn new() -> Self {
        GenericTimer {
            client: OptionalCell::empty(),
            alarm_time: Cell::new(0),
            armed: Cell::new(false),
        }
    }

    /// Handles the timer interrupt: masks it and tells the client.
    pub fn handle_interrupt(&self) {
        CNTP_CTL_EL0.write(CNTP_CTL_EL0::ENABLE::CLEAR + CNTP_CTL_EL0::IMASK::SET);
        if self.armed.replace(false) {
            self.client.map(|client| client.alarm());
        }
    }
}

impl Default for GenericTimer<'_> {
    fn default() -> Self {
        Self::new()
    }
}

impl Time for GenericTimer<'_> {
    fn frequency(&self) -> u64 {
        CNTFRQ_EL0.get().max(1)
    }

    fn now(&self) -> u64 {
        CNTPCT_EL0.get()
    }
}

impl<'a> Alarm<'a> for GenericTimer<'a> {
    fn set_alarm_client(&self, client: &'a dyn AlarmClient) {
        self.client.set(client);
    }

    fn set_alarm(&self, reference: u64, delta: u64) {
        let when = reference.saturating_add(delta);
        self.alarm_time.set(when);
        self.armed.set(true);
        CNTP_CVAL_EL0.set(when);
        CNTP_CTL_EL0.write(CNTP_CTL_EL0::ENABLE::SET + CNTP_CTL_EL0::IMASK::CLEAR);
    }

    fn get_alarm(&self) -> u64 {
        self.alarm_time.get()
    }

    fn disarm(&self) -> Result<(), ErrorCode> {
        CNTP_CTL_EL0.write(CNTP_CTL_EL0::ENABLE::CLEAR + CNTP_CTL_EL0::IMASK::SET);
        if self.armed.replace(false) {
            Ok(())
        } else {
            Err(ErrorCode::ALREADY)
        }
    }

    fn is_armed(&self) -> bool {
        self.armed.get()
    }
}
