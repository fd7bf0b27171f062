//! Several alarms on one: [`MuxAlarm`] is the hardware alarm's client and
//! keeps it armed for the earliest of its [`VirtualAlarm`]s, each of which
//! is an [`Alarm`] of its own (Tock's virtual alarm, in small).
//!
//! Expiries are delivered from the hardware alarm's callback, in the main
//! loop, never from `set_alarm`.
//!
//! ```ignore
//! let mux = static_init!(MuxAlarm<'static, GenericTimer>, MuxAlarm::new(&chip.timer));
//! chip.timer.set_alarm_client(mux);
//! let readiness_alarm = static_init!(VirtualAlarm<'static, GenericTimer>, VirtualAlarm::new(mux));
//! readiness_alarm.setup();
//! ```

use core::cell::Cell;

use crate::cells::OptionalCell;
use crate::hil::time::{Alarm, AlarmClient, Time};
use crate::ErrorCode;

/// The hardware alarm shared by virtual alarms.
pub struct MuxAlarm<'a, A: Alarm<'a>> {
    alarm: &'a A,
    first: OptionalCell<&'a VirtualAlarm<'a, A>>,
}

impl<'a, A: Alarm<'a>> MuxAlarm<'a, A> {
    /// A mux over `alarm`; make it `alarm`'s client.
    pub const fn new(alarm: &'a A) -> MuxAlarm<'a, A> {
        MuxAlarm {
            alarm,
            first: OptionalCell::empty(),
        }
    }

    fn add(&self, virtual_alarm: &'a VirtualAlarm<'a, A>) {
        if let Some(first) = self.first.get() {
            virtual_alarm.next.set(first);
        }
        self.first.set(virtual_alarm);
    }

    fn for_each(&self, mut visit: impl FnMut(&'a VirtualAlarm<'a, A>)) {
        let mut next = self.first.get();
        while let Some(virtual_alarm) = next {
            visit(virtual_alarm);
            next = virtual_alarm.next.get();
        }
    }

    /// Arms the hardware for the earliest armed virtual alarm, or disarms it.
    fn rearm(&self) {
        let mut earliest: Option<u64> = None;
        self.for_each(|virtual_alarm| {
            if virtual_alarm.armed.get() {
                let when = virtual_alarm.when.get();
                earliest = Some(earliest.map_or(when, |current| current.min(when)));
            }
        });
        match earliest {
            Some(when) => {
                let now = self.alarm.now();
                self.alarm.set_alarm(now, when.saturating_sub(now));
            }
            None => {
                let _ = self.alarm.disarm();
            }
        }
    }
}

impl<'a, A: Alarm<'a>> AlarmClient for MuxAlarm<'a, A> {
    fn alarm(&self) {
        let now = self.alarm.now();
        // Expired alarms are disarmed first, then told: a client that sets
        // its alarm again is armed for the next round.
        let mut expired: [Option<&'a VirtualAlarm<'a, A>>; 8] = [None; 8];
        let mut count = 0;
        let mut more = false;
        self.for_each(|virtual_alarm| {
            if virtual_alarm.armed.get() && virtual_alarm.when.get() <= now {
                if count < expired.len() {
                    virtual_alarm.armed.set(false);
                    expired[count] = Some(virtual_alarm);
                    count += 1;
                } else {
                    more = true;
                }
            }
        });
        for virtual_alarm in expired.iter().flatten() {
            virtual_alarm.client.map(|client| client.alarm());
        }
        if more {
            defmt::debug!("alarm: more than 8 virtual alarms expired at once; the rest next round");
        }
        self.rearm();
    }
}

/// One of the alarms a [`MuxAlarm`] multiplexes.
pub struct VirtualAlarm<'a, A: Alarm<'a>> {
    mux: &'a MuxAlarm<'a, A>,
    when: Cell<u64>,
    armed: Cell<bool>,
    client: OptionalCell<&'a dyn AlarmClient>,
    next: OptionalCell<&'a VirtualAlarm<'a, A>>,
}

impl<'a, A: Alarm<'a>> VirtualAlarm<'a, A> {
    /// A disarmed virtual alarm on `mux`; call [`VirtualAlarm::setup`] once
    /// it is in its final (static) place.
    pub const fn new(mux: &'a MuxAlarm<'a, A>) -> VirtualAlarm<'a, A> {
        VirtualAlarm {
            mux,
            when: Cell::new(0),
            armed: Cell::new(false),
            client: OptionalCell::empty(),
            next: OptionalCell::empty(),
        }
    }

    /// Joins the mux.
    pub fn setup(&'a self) {
        self.mux.add(self);
    }
}

impl<'a, A: Alarm<'a>> Time for VirtualAlarm<'a, A> {
    fn frequency(&self) -> u64 {
        self.mux.alarm.frequency()
    }

    fn now(&self) -> u64 {
        self.mux.alarm.now()
    }
}

impl<'a, A: Alarm<'a>> Alarm<'a> for VirtualAlarm<'a, A> {
    fn set_alarm_client(&self, client: &'a dyn AlarmClient) {
        self.client.set(client);
    }

    fn set_alarm(&self, reference: u64, delta: u64) {
        self.when.set(reference.saturating_add(delta));
        self.armed.set(true);
        self.mux.rearm();
    }

    fn get_alarm(&self) -> u64 {
        self.when.get()
    }

    fn disarm(&self) -> Result<(), ErrorCode> {
        if !self.armed.replace(false) {
            return Err(ErrorCode::ALREADY);
        }
        self.mux.rearm();
        Ok(())
    }

    fn is_armed(&self) -> bool {
        self.armed.get()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec::Vec;

    /// A hardware alarm whose time the test moves.
    struct FakeAlarm<'a> {
        now: Cell<u64>,
        armed_at: Cell<Option<u64>>,
        client: OptionalCell<&'a dyn AlarmClient>,
    }

    impl<'a> FakeAlarm<'a> {
        fn new() -> Self {
            FakeAlarm {
                now: Cell::new(0),
                armed_at: Cell::new(None),
                client: OptionalCell::empty(),
            }
        }

        /// Moves time to `to`; fires if the alarm is due.
        fn advance(&self, to: u64) {
            self.now.set(to);
            if self.armed_at.get().is_some_and(|when| when <= to) {
                self.armed_at.set(None);
                self.client.map(|client| client.alarm());
            }
        }
    }

    impl Time for FakeAlarm<'_> {
        fn frequency(&self) -> u64 {
            1_000_000
        }
        fn now(&self) -> u64 {
            self.now.get()
        }
    }

    impl<'a> Alarm<'a> for FakeAlarm<'a> {
        fn set_alarm_client(&self, client: &'a dyn AlarmClient) {
            self.client.set(client);
        }
        fn set_alarm(&self, reference: u64, delta: u64) {
            self.armed_at.set(Some(reference + delta));
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

    struct Recorder<'a> {
        name: &'static str,
        log: &'a core::cell::RefCell<Vec<(&'static str, u64)>>,
        clock: &'a FakeAlarm<'a>,
    }

    impl AlarmClient for Recorder<'_> {
        fn alarm(&self) {
            self.log.borrow_mut().push((self.name, self.clock.now()));
        }
    }

    #[test]
    fn each_virtual_alarm_fires_at_its_own_time() {
        let hardware = FakeAlarm::new();
        let mux = MuxAlarm::new(&hardware);
        hardware.set_alarm_client(&mux);
        let first = VirtualAlarm::new(&mux);
        let second = VirtualAlarm::new(&mux);
        first.setup();
        second.setup();
        let log = core::cell::RefCell::new(Vec::new());
        let first_client = Recorder {
            name: "first",
            log: &log,
            clock: &hardware,
        };
        let second_client = Recorder {
            name: "second",
            log: &log,
            clock: &hardware,
        };
        first.set_alarm_client(&first_client);
        second.set_alarm_client(&second_client);
        second.set_alarm(0, 300);
        first.set_alarm(0, 100);
        assert_eq!(hardware.armed_at.get(), Some(100), "the earliest");
        assert!(log.borrow().is_empty(), "never delivered from set_alarm");
        hardware.advance(100);
        assert_eq!(*log.borrow(), [("first", 100)]);
        assert_eq!(hardware.armed_at.get(), Some(300));
        assert!(!first.is_armed() && second.is_armed());
        hardware.advance(300);
        assert_eq!(*log.borrow(), [("first", 100), ("second", 300)]);
        assert_eq!(hardware.armed_at.get(), None, "nothing left: disarmed");
    }

    #[test]
    fn disarming_one_rearms_for_the_other_and_a_past_time_fires_next() {
        let hardware = FakeAlarm::new();
        let mux = MuxAlarm::new(&hardware);
        hardware.set_alarm_client(&mux);
        let first = VirtualAlarm::new(&mux);
        let second = VirtualAlarm::new(&mux);
        first.setup();
        second.setup();
        first.set_alarm(0, 50);
        second.set_alarm(0, 80);
        assert_eq!(first.disarm(), Ok(()));
        assert_eq!(first.disarm(), Err(ErrorCode::ALREADY));
        assert_eq!(hardware.armed_at.get(), Some(80));
        hardware.now.set(500);
        first.set_alarm(0, 10);
        assert_eq!(
            hardware.armed_at.get(),
            Some(500),
            "already due: fires at once"
        );
    }
}
