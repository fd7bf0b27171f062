//! The system commands: `version`, `init`, `reboot`, `poweroff`.
//!
//! `init` shows the init queue through its `Queue` trait: every entry in
//! the order it was added, with its state and what it waits on, then every
//! condition and whether it has been signalled.
//!
//! ```text
//! init: arm-ffa: ready, provides ffa-root-ready
//! init: ffa-echo: waiting on ffa-root-ready
//! init: condition secure-monitor-ready: signalled
//! init: 1 ready, 0 failed, 1 waiting, 0 timed out, 0 unbound, 0 not probed; settled
//! ```

use kernel::hil::power::SystemPower;
use kernel::init_queue::{ConditionNames, EntryState, Queue};

use crate::command::{Arguments, Command, CommandError, CommandGroup};

/// The system commands, in `help`'s order.
static SYSTEM_COMMANDS: [Command; 4] = [
    Command::new("version", "", "the kernel image: board, version, mode"),
    Command::new(
        "init",
        "",
        "the init queue: each entry's state and what it waits on, and each condition",
    ),
    Command::new("reboot", "", "resets the system (PSCI, or the board's own reset)"),
    Command::new(
        "poweroff",
        "[status]",
        "switches the system off (PSCI, or the board's own power-off); QEMU exits with status where the board passes it on",
    ),
];

/// The system commands' group.
pub struct SystemCommands<'a> {
    queue: &'a dyn Queue<'a>,
    power: &'a dyn SystemPower,
    about: &'static str,
}

impl<'a> SystemCommands<'a> {
    /// The commands over the board's init queue and power control; `about`
    /// is what `version` says (board, version, mode).
    pub const fn new(
        queue: &'a dyn Queue<'a>,
        power: &'a dyn SystemPower,
        about: &'static str,
    ) -> SystemCommands<'a> {
        SystemCommands {
            queue,
            power,
            about,
        }
    }

    fn version(&self) {
        defmt::println!(
            "version: {=str}; console {=str}",
            self.about,
            env!("CARGO_PKG_VERSION")
        );
    }

    fn init(&self) {
        let queue = self.queue;
        let mut entries = 0usize;
        for entry in (0..).map_while(|index| queue.entry(index)) {
            entries += 1;
            let name = queue.entry_name(entry);
            match queue.state(entry) {
                EntryState::NotProbed => defmt::println!("init: {=str}: not probed yet", name),
                EntryState::Ready => match queue.provides(entry) {
                    Some(condition) => defmt::println!(
                        "init: {=str}: ready, provides {=str}",
                        name,
                        queue.condition_name(condition)
                    ),
                    None => defmt::println!("init: {=str}: ready", name),
                },
                EntryState::Waiting(conditions) => {
                    let missing = queue.missing(conditions);
                    if missing.is_empty() {
                        defmt::println!("init: {=str}: due to be probed again", name);
                    } else {
                        defmt::println!(
                            "init: {=str}: waiting on {}",
                            name,
                            ConditionNames::new(queue, missing)
                        );
                    }
                }
                EntryState::Unbound => {
                    defmt::println!("init: {=str}: unbound: nothing to drive", name)
                }
                EntryState::Failed(error) => {
                    defmt::println!("init: {=str}: failed ({})", name, error)
                }
                EntryState::TimedOut(missing) => defmt::println!(
                    "init: {=str}: timed out waiting on {}",
                    name,
                    ConditionNames::new(queue, missing)
                ),
            }
        }
        if entries == 0 {
            defmt::println!("init: no entries");
        }
        for condition in queue.declared().iter() {
            let state = if queue.is_signalled(condition) {
                "signalled"
            } else {
                "not signalled"
            };
            defmt::println!(
                "init: condition {=str}: {=str}",
                queue.condition_name(condition),
                state
            );
        }
        let counts = queue.counts();
        defmt::println!(
            "init: {=usize} ready, {=usize} failed, {=usize} waiting, {=usize} timed out, {=usize} unbound, {=usize} not probed; {=str}",
            counts.ready,
            counts.failed,
            counts.waiting,
            counts.timed_out,
            counts.unbound,
            counts.not_probed,
            if queue.is_settled() { "settled" } else { "still probing" }
        );
    }
}

impl CommandGroup for SystemCommands<'_> {
    fn commands(&self) -> &'static [Command] {
        &SYSTEM_COMMANDS
    }

    fn run<'l>(
        &self,
        command: &Command,
        arguments: &Arguments<'l>,
    ) -> Result<(), CommandError<'l>> {
        match command.name {
            "poweroff" => {
                arguments.expect_count(0, 1)?;
                let status =
                    arguments.optional_number(0, 0, u32::MAX as u64, "a 32-bit exit status")?;
                defmt::println!("poweroff: switching the system off, status {=u64}", status);
                self.power.power_off(status as u32)
            }
            name => {
                arguments.expect_count(0, 0)?;
                match name {
                    "version" => self.version(),
                    "init" => self.init(),
                    _ => {
                        defmt::println!("reboot: resetting the system");
                        self.power.reset()
                    }
                }
                Ok(())
            }
        }
    }
}
