//! PSCI power states of the cores: `CPU_ON`, `AFFINITY_INFO`, `CPU_OFF`,
//! answered as TF-A's generic PSCI layer answers them
//! (`lib/psci/psci_on.c`, `psci_common.c`).
//!
//! The firmware tells the model how many cores there are
//! ([`SecureWorld::set_core_count`](crate::SecureWorld::set_core_count)),
//! when a released core has arrived in the normal world and when a core has
//! turned itself off; the model decides every answer:
//!
//! * `CPU_ON` to an MPIDR with bits outside Aff0, or an Aff0 beyond the
//!   cores: `INVALID_PARAMETERS`; to a core that is on: `ALREADY_ON`; to one
//!   released but not yet running: `ON_PENDING`; an entry point outside
//!   non-secure DRAM or not 4-byte aligned: `INVALID_ADDRESS`; otherwise
//!   the core is marked on-pending and the firmware releases it
//!   ([`Outcome::CpuOn`](crate::Outcome::CpuOn)).
//! * `AFFINITY_INFO` (level 0 only): 0 on, 1 off, 2 on-pending.
//! * `CPU_OFF`: the caller goes off ([`Outcome::CpuOff`](crate::Outcome::CpuOff));
//!   the last core on is refused with `DENIED`.
//!
//! Core 0 (the boot core) is on from the start; the others are off.

/// Most cores the model tracks.
pub const MAXIMUM_CORES: usize = 8;

/// PSCI return codes.
pub mod status {
    /// `SUCCESS`.
    pub const SUCCESS: i32 = 0;
    /// `NOT_SUPPORTED`.
    pub const NOT_SUPPORTED: i32 = -1;
    /// `INVALID_PARAMETERS`.
    pub const INVALID_PARAMETERS: i32 = -2;
    /// `DENIED`.
    pub const DENIED: i32 = -3;
    /// `ALREADY_ON`.
    pub const ALREADY_ON: i32 = -4;
    /// `ON_PENDING`.
    pub const ON_PENDING: i32 = -5;
    /// `INVALID_ADDRESS`.
    pub const INVALID_ADDRESS: i32 = -9;
}

/// Where a normal-world entry point may lie: non-secure DRAM on QEMU `virt`.
const NON_SECURE_DRAM: core::ops::Range<u64> = 0x4000_0000..0x1_0000_0000;

/// A core's power state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PowerState {
    /// Off (or never started).
    Off,
    /// `CPU_ON` released it; it has not reached the normal world yet.
    OnPending,
    /// Running.
    On,
}

/// What `CPU_ON` decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Release {
    /// The core to release (its Aff0).
    pub core: usize,
    /// Where it enters the normal world.
    pub entry: u64,
    /// Its x0 there.
    pub context: u64,
}

/// The power states of every core.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PowerStates {
    count: usize,
    states: [PowerState; MAXIMUM_CORES],
}

impl PowerStates {
    /// One core (the boot core), on.
    pub const fn new() -> PowerStates {
        let mut states = [PowerState::Off; MAXIMUM_CORES];
        states[0] = PowerState::On;
        PowerStates { count: 1, states }
    }

    /// Sets how many cores exist (1 to [`MAXIMUM_CORES`]).
    pub fn set_core_count(&mut self, count: usize) {
        self.count = count.clamp(1, MAXIMUM_CORES);
    }

    /// How many cores exist.
    pub fn core_count(&self) -> usize {
        self.count
    }

    /// The state of `core`, if it exists.
    pub fn state(&self, core: usize) -> Option<PowerState> {
        (core < self.count).then(|| self.states[core])
    }

    /// The core an MPIDR names: Aff0 only (Aff1–Aff3 and the other bits must
    /// be zero, as on QEMU `virt` up to 16 cores), and it must exist.
    pub fn core_of(&self, mpidr: u64) -> Option<usize> {
        let core = (mpidr & 0xff) as usize;
        (mpidr & !0xff == 0 && core < self.count).then_some(core)
    }

    /// `CPU_ON(mpidr, entry, context)`.
    pub fn cpu_on(&mut self, mpidr: u64, entry: u64, context: u64) -> Result<Release, i32> {
        let core = self.core_of(mpidr).ok_or(status::INVALID_PARAMETERS)?;
        match self.states[core] {
            PowerState::On => return Err(status::ALREADY_ON),
            PowerState::OnPending => return Err(status::ON_PENDING),
            PowerState::Off => {}
        }
        if !NON_SECURE_DRAM.contains(&entry) || !entry.is_multiple_of(4) {
            return Err(status::INVALID_ADDRESS);
        }
        self.states[core] = PowerState::OnPending;
        Ok(Release {
            core,
            entry,
            context,
        })
    }

    /// `AFFINITY_INFO(mpidr, level)`: 0 on, 1 off, 2 on-pending.
    pub fn affinity_info(&self, mpidr: u64, level: u64) -> i32 {
        if level != 0 {
            return status::INVALID_PARAMETERS;
        }
        match self.core_of(mpidr).map(|core| self.states[core]) {
            None => status::INVALID_PARAMETERS,
            Some(PowerState::On) => 0,
            Some(PowerState::Off) => 1,
            Some(PowerState::OnPending) => 2,
        }
    }

    /// A released core reached the normal world.
    pub fn arrived(&mut self, core: usize) {
        if core < self.count && self.states[core] == PowerState::OnPending {
            self.states[core] = PowerState::On;
        }
    }

    /// `CPU_OFF` from `core`: `Ok` if it may go off (it is then off).
    pub fn cpu_off(&mut self, core: usize) -> Result<(), i32> {
        let others_on = (0..self.count)
            .filter(|&other| other != core && self.states[other] != PowerState::Off)
            .count();
        if core >= self.count || others_on == 0 {
            return Err(status::DENIED);
        }
        self.states[core] = PowerState::Off;
        Ok(())
    }
}

impl Default for PowerStates {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ENTRY: u64 = 0x6000_1000;

    fn four_cores() -> PowerStates {
        let mut states = PowerStates::new();
        states.set_core_count(4);
        states
    }

    #[test]
    fn cpu_on_releases_an_off_core_once() {
        let mut states = four_cores();
        assert_eq!(
            states.cpu_on(2, ENTRY, 0x22),
            Ok(Release {
                core: 2,
                entry: ENTRY,
                context: 0x22
            })
        );
        assert_eq!(states.affinity_info(2, 0), 2);
        assert_eq!(states.cpu_on(2, ENTRY, 0), Err(status::ON_PENDING));
        states.arrived(2);
        assert_eq!(states.affinity_info(2, 0), 0);
        assert_eq!(states.cpu_on(2, ENTRY, 0), Err(status::ALREADY_ON));
        assert_eq!(states.cpu_on(0, ENTRY, 0), Err(status::ALREADY_ON));
    }

    #[test]
    fn bad_mpidrs_and_entry_points_are_refused() {
        let mut states = four_cores();
        assert_eq!(states.cpu_on(4, ENTRY, 0), Err(status::INVALID_PARAMETERS));
        assert_eq!(states.cpu_on(7, ENTRY, 0), Err(status::INVALID_PARAMETERS));
        assert_eq!(
            states.cpu_on(0x100, ENTRY, 0),
            Err(status::INVALID_PARAMETERS)
        );
        assert_eq!(
            states.cpu_on(0x8000_0001, ENTRY, 0),
            Err(status::INVALID_PARAMETERS)
        );
        assert_eq!(
            states.cpu_on(1, 0x0e00_0000, 0),
            Err(status::INVALID_ADDRESS)
        );
        assert_eq!(states.cpu_on(1, ENTRY + 2, 0), Err(status::INVALID_ADDRESS));
        assert_eq!(states.affinity_info(1, 0), 1, "nothing changed");
        assert_eq!(states.affinity_info(9, 0), status::INVALID_PARAMETERS);
        assert_eq!(states.affinity_info(1, 1), status::INVALID_PARAMETERS);
    }

    #[test]
    fn one_core_has_nothing_to_start() {
        let mut states = PowerStates::new();
        assert_eq!(states.cpu_on(1, ENTRY, 0), Err(status::INVALID_PARAMETERS));
        assert_eq!(states.cpu_off(0), Err(status::DENIED));
    }

    #[test]
    fn a_core_goes_off_and_can_be_started_again() {
        let mut states = four_cores();
        states.cpu_on(1, ENTRY, 0).unwrap();
        states.arrived(1);
        assert_eq!(states.cpu_off(1), Ok(()));
        assert_eq!(states.affinity_info(1, 0), 1);
        assert!(states.cpu_on(1, ENTRY, 0).is_ok());
        // Arrival of a core that was not released changes nothing.
        states.arrived(3);
        assert_eq!(states.state(3), Some(PowerState::Off));
        assert_eq!(states.state(4), None);
    }
}
