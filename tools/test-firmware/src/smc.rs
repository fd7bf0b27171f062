//! SMC dispatch: every SMC from the normal world goes to the FF-A model;
//! PSCI power-off ends QEMU through semihosting with the kernel's status.

use core::cell::UnsafeCell;
use ffa_model::tpm::config::TpmConfig;
use ffa_model::{FaultConfig, Outcome, Registers, SecureWorld, SMCCC_REGISTER_COUNT};

use crate::entry::SmcFrame;
use crate::memory::NonSecureDram;
use crate::{log, semihosting};

/// ESR_EL3.EC of an SMC from AArch64.
const EXCEPTION_CLASS_SMC64: u64 = 0x17;

struct Firmware {
    world: SecureWorld,
    trace: bool,
}

struct FirmwareCell(UnsafeCell<Option<Firmware>>);

// SAFETY: one core; EL3 handles one exception at a time with interrupts
// masked, so the state is never accessed concurrently.
unsafe impl Sync for FirmwareCell {}

static FIRMWARE: FirmwareCell = FirmwareCell(UnsafeCell::new(None));

/// Installs the model with its configuration and boots its partitions
/// (the TPM sets its CRB up) before the normal world runs.
pub fn install(config: FaultConfig, tpm: TpmConfig) {
    let trace = config.trace;
    let mut world = SecureWorld::new(config);
    world.configure_tpm(tpm);
    if !world.boot_partitions(&mut NonSecureDram) {
        log!("[fw] the TPM partition could not set its CRB up; it tries again when called");
    }
    // SAFETY: called once from `firmware_main`, before any SMC can arrive.
    unsafe { *FIRMWARE.0.get() = Some(Firmware { world, trace }) };
}

fn now_microseconds() -> u64 {
    let (count, frequency): (u64, u64);
    // SAFETY: reading the generic counter has no side effects.
    unsafe {
        core::arch::asm!("mrs {0}, cntpct_el0", "mrs {1}, cntfrq_el0", out(reg) count, out(reg) frequency, options(nomem, nostack))
    };
    ((count as u128 * 1_000_000) / frequency.max(1) as u128) as u64
}

fn trace_call(call: &Registers, reply: &Registers) {
    log!(
        "[smc] {} -> {}",
        ffa_model::describe_call(call),
        ffa_model::describe_result(reply)
    );
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
        semihosting::exit(4);
    }
    // SAFETY: installed before the normal world ran; one exception at a time.
    let Some(firmware) = (unsafe { (*FIRMWARE.0.get()).as_mut() }) else {
        log!("[fw] SMC before the model was installed");
        semihosting::exit(4);
    };
    let mut call: Registers = [0; SMCCC_REGISTER_COUNT];
    call.copy_from_slice(&frame.registers[..SMCCC_REGISTER_COUNT]);
    match firmware
        .world
        .handle(&call, &mut NonSecureDram, now_microseconds())
    {
        Outcome::Return(reply) => {
            if firmware.trace {
                trace_call(&call, &reply);
            }
            frame.registers[..SMCCC_REGISTER_COUNT].copy_from_slice(&reply);
        }
        Outcome::SystemOff { status } => {
            log!("[fw] PSCI SYSTEM_OFF, status {}", status);
            semihosting::exit(status);
        }
        Outcome::SystemReset => {
            log!("[fw] PSCI SYSTEM_RESET: ending the run (QEMU runs with -no-reboot)");
            semihosting::exit(0);
        }
    }
}
