//! SMC dispatch: every SMC from the normal world goes to the FF-A model,
//! on whichever core it comes from, under one lock, on that core's
//! [`Machine`] (time, the GIC, the secure timer); PSCI power-off ends QEMU
//! through semihosting with the kernel's status, `CPU_ON` releases a core
//! from the pen, `CPU_OFF` sends the caller back to it. The secure timer's
//! FIQ goes to the model too.

use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicBool, Ordering};
use ffa_model::tpm::config::TpmConfig;
use ffa_model::{FaultConfig, Outcome, Registers, SecureWorld, SMCCC_REGISTER_COUNT};

use crate::cores::{self, BakeryLock};
use crate::entry::SmcFrame;
use crate::gic;
use crate::machine::Machine;
use crate::memory::NonSecureDram;
use crate::{log, semihosting, stacks, status};

/// ESR_EL3.EC of an SMC from AArch64.
const EXCEPTION_CLASS_SMC64: u64 = 0x17;

/// The model and how to log its calls.
pub struct Firmware {
    /// The secure world.
    pub world: SecureWorld,
    /// Interrupt lines of the GIC's distributor.
    lines: u32,
    /// Print a line per SMC.
    trace: bool,
}

struct FirmwareCell(UnsafeCell<Firmware>);

// SAFETY: every access but `install`'s goes through `with_firmware`, which
// holds `LOCK` (and refuses until `INSTALLED`); `install` runs on core 0
// before any core can reach the model (secondaries wait in the pen until a
// CPU_ON, which needs an SMC). Each core handles one exception at a time
// with interrupts masked.
unsafe impl Sync for FirmwareCell {}

/// The model, built at compile time in `.data` and reset in place by
/// [`install`]: it is tens of KiB, and building it at run time
/// (`SecureWorld::new`, then a move into the static) put two copies of it
/// in `firmware_main`'s frame, 66 KiB of core 0's EL3 stack.
static FIRMWARE: FirmwareCell = FirmwareCell(UnsafeCell::new(Firmware {
    world: SecureWorld::new(FaultConfig::default_config()),
    lines: 0,
    trace: false,
}));
/// Whether [`install`] configured the model (no SMC reaches it before).
static INSTALLED: AtomicBool = AtomicBool::new(false);
/// Serialises the cores' access to the model (and their log lines).
static LOCK: BakeryLock = BakeryLock::new();
/// Whether cores enter the normal world at EL1 (the configuration's choice).
static ENTER_AT_EL1: AtomicBool = AtomicBool::new(false);

/// Installs the model with its configuration (the SPMC's and the TPM
/// partition's), the core count and the GIC's number of interrupt lines,
/// and boots its partitions (the TPM sets its CRB up) before the normal
/// world runs.
pub fn install(config: FaultConfig, tpm: TpmConfig, cores: usize, lines: u32) {
    let trace = config.trace;
    ENTER_AT_EL1.store(config.enter_normal_world_at_el1, Ordering::SeqCst);
    // Reset in its static, not built on this core's stack: the model is
    // tens of KiB, and a copy or two of it would not fit in one EL3 stack.
    // SAFETY: called once from `firmware_main`, before any SMC can arrive,
    // so nothing else refers to `FIRMWARE`.
    let firmware = unsafe { &mut *FIRMWARE.0.get() };
    firmware.world.reset(config);
    firmware.lines = lines;
    firmware.trace = trace;
    let world = &mut firmware.world;
    world.set_core_count(cores);
    world.configure_tpm(tpm);
    if !world.boot_partitions(&mut NonSecureDram) {
        log!("[fw] the TPM partition could not set its CRB up; it tries again when called");
    }
    INSTALLED.store(true, Ordering::SeqCst);
}

/// Whether cores enter the normal world at EL1 rather than EL2.
pub fn enter_at_el1() -> bool {
    ENTER_AT_EL1.load(Ordering::SeqCst)
}

/// Runs `operation` on the model with the lock held by `core`. A lock not
/// had within its (enormous) bound, or a model not yet installed, ends the
/// run with a failure status.
pub fn with_firmware<R>(core: usize, operation: impl FnOnce(&mut Firmware) -> R) -> R {
    if !LOCK.lock(core) {
        log!("[fw] core {}: the model's lock was never released", core);
        semihosting::exit(status::MODEL_UNAVAILABLE);
    }
    if !INSTALLED.load(Ordering::SeqCst) {
        log!("[fw] core {}: SMC before the model was installed", core);
        semihosting::exit(status::MODEL_UNAVAILABLE);
    }
    // SAFETY: the lock is held and the model installed (see
    // `FirmwareCell`); the reference ends before the lock is released.
    let result = operation(unsafe { &mut *FIRMWARE.0.get() });
    LOCK.unlock(core);
    result
}

/// The calling core's index (MPIDR Aff0; the reset code halted any other).
pub fn this_core() -> usize {
    let mpidr: u64;
    // SAFETY: reading MPIDR_EL1 has no side effects.
    unsafe { core::arch::asm!("mrs {0}, mpidr_el1", out(reg) mpidr, options(nomem, nostack)) };
    (mpidr & 0xff) as usize
}

fn trace_call(call: &Registers, reply: &Registers) {
    log!(
        "[smc] {} -> {}",
        ffa_model::describe_call(call),
        ffa_model::describe_result(reply)
    );
}

/// `status`, unless a core's EL3 stack reached its guard: then
/// [`status::STACK_OVERFLOW`]. Logs the deepest stack use either way.
fn checked_stacks(status: u32) -> u32 {
    let (deepest, overflowed) = stacks::deepest();
    if let Some((core, bytes)) = deepest {
        log!(
            "[fw] EL3 stacks: deepest use {} of {} bytes (core {})",
            bytes,
            crate::entry::CORE_STACK_SIZE,
            core
        );
    }
    match overflowed {
        Some((core, bytes)) => {
            log!(
                "[fw] EL3 stack overflow: core {} used {} bytes, within {} of the end of its {}: ending with status {}",
                core,
                bytes,
                stacks::GUARD_SIZE,
                crate::entry::CORE_STACK_SIZE,
                status::STACK_OVERFLOW
            );
            status::STACK_OVERFLOW
        }
        None => status,
    }
}

/// Called by the EL3 vector for a synchronous exception from a lower EL.
#[no_mangle]
extern "C" fn firmware_handle_lower_sync(frame: &mut SmcFrame) {
    let syndrome: u64;
    let link: u64;
    // SAFETY: reading EL3 syndrome registers has no side effects.
    unsafe {
        core::arch::asm!("mrs {0}, esr_el3", "mrs {1}, elr_el3", out(reg) syndrome, out(reg) link, options(nomem, nostack))
    };
    if (syndrome >> 26) & 0x3f != EXCEPTION_CLASS_SMC64 {
        log!(
            "[fw] unexpected exception from the normal world: ESR {:#x} ELR {:#x}",
            syndrome,
            link
        );
        semihosting::exit(status::FATAL_EXCEPTION);
    }
    let core = this_core();
    let mut call: Registers = [0; SMCCC_REGISTER_COUNT];
    call.copy_from_slice(&frame.registers[..SMCCC_REGISTER_COUNT]);
    let reply = with_firmware(core, |firmware| {
        let mut machine = Machine::new(firmware.lines, core);
        let outcome =
            firmware
                .world
                .handle_from_core(core, &call, &mut NonSecureDram, &mut machine);
        match outcome {
            Outcome::Return(reply) => {
                if firmware.trace {
                    trace_call(&call, &reply);
                }
                Some(reply)
            }
            Outcome::CpuOn { release, reply } => {
                if firmware.trace {
                    trace_call(&call, &reply);
                }
                log!(
                    "[fw] CPU_ON from core {}: core {} released at {:#x}, context {:#x}",
                    core,
                    release.core,
                    release.entry,
                    release.context
                );
                cores::release(&release);
                Some(reply)
            }
            Outcome::CpuOff => {
                log!("[fw] CPU_OFF: core {} is off, back in the pen", core);
                None
            }
            Outcome::SystemOff { status } => {
                log!("[fw] PSCI SYSTEM_OFF, status {}", status);
                semihosting::exit(checked_stacks(status));
            }
            Outcome::SystemReset => {
                log!("[fw] PSCI SYSTEM_RESET: ending the run (QEMU runs with -no-reboot)");
                semihosting::exit(checked_stacks(0));
            }
        }
    });
    match reply {
        Some(reply) => frame.registers[..SMCCC_REGISTER_COUNT].copy_from_slice(&reply),
        // SAFETY: CPU_OFF succeeded: this core leaves the normal world for
        // the pen, on a fresh EL3 stack; nothing of this frame is used again.
        None => unsafe { crate::entry::firmware_return_to_pen() },
    }
}

/// Called by the EL3 vector for a FIQ from a lower EL: a Group 0 interrupt,
/// the secure timer of this core. The normal world's registers (x0–x30,
/// q0–q31) were saved by the vector, which restores them after.
#[no_mangle]
extern "C" fn firmware_handle_lower_fiq() {
    let id = gic::acknowledge_group0();
    if id >= 1020 {
        return; // Spurious.
    }
    if id == gic::SECURE_TIMER_INTERRUPT {
        let core = this_core();
        with_firmware(core, |firmware| {
            let mut machine = Machine::new(firmware.lines, core);
            // The timer is re-armed, or disabled, by the model.
            machine.set_secure_timer_off();
            firmware
                .world
                .secure_timer_expired(&mut NonSecureDram, &mut machine);
            if firmware.trace {
                log!("[fiq] secure timer: the partitions' timers ran");
            }
        });
    } else {
        log!("[fw] unexpected Group 0 interrupt {}", id);
    }
    gic::end_group0(id);
}
