//! SMC dispatch: every SMC from the normal world goes to the FF-A model, on
//! the [`Machine`] (time, the GIC, the secure timer); PSCI power-off ends
//! QEMU through semihosting with the kernel's status. The secure timer's
//! FIQ goes to the model too.

use core::cell::UnsafeCell;
use ffa_model::tpm::config::TpmConfig;
use ffa_model::{FaultConfig, Outcome, Registers, SecureWorld, SMCCC_REGISTER_COUNT};

use crate::entry::SmcFrame;
use crate::gic;
use crate::machine::Machine;
use crate::memory::NonSecureDram;
use crate::{log, semihosting};

/// ESR_EL3.EC of an SMC from AArch64.
const EXCEPTION_CLASS_SMC64: u64 = 0x17;

struct Firmware {
    world: SecureWorld,
    machine: Machine,
    trace: bool,
}

struct FirmwareCell(UnsafeCell<Option<Firmware>>);

// SAFETY: one core; EL3 handles one exception at a time with interrupts
// masked, so the state is never accessed concurrently.
unsafe impl Sync for FirmwareCell {}

static FIRMWARE: FirmwareCell = FirmwareCell(UnsafeCell::new(None));

/// Installs the model with its configuration and boots its partitions
/// (the TPM sets its CRB up) before the normal world runs, on a GIC of
/// `lines` interrupt lines.
pub fn install(config: FaultConfig, tpm: TpmConfig, lines: u32) {
    let trace = config.trace;
    let mut world = SecureWorld::new(config);
    world.configure_tpm(tpm);
    if !world.boot_partitions(&mut NonSecureDram) {
        log!("[fw] the TPM partition could not set its CRB up; it tries again when called");
    }
    // SAFETY: called once from `firmware_main`, before any SMC can arrive.
    unsafe {
        *FIRMWARE.0.get() = Some(Firmware {
            world,
            machine: Machine::new(lines),
            trace,
        })
    };
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
        .handle_on(&call, &mut NonSecureDram, &mut firmware.machine)
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

/// Called by the EL3 vector for a FIQ from a lower EL: a Group 0 interrupt,
/// the secure timer. The normal world's registers (x0–x30, q0–q31) were
/// saved by the vector, which restores them after.
#[no_mangle]
extern "C" fn firmware_handle_lower_fiq() {
    let id = gic::acknowledge_group0();
    if id >= 1020 {
        return; // Spurious.
    }
    if id == gic::SECURE_TIMER_INTERRUPT {
        // SAFETY: installed before the normal world ran; one exception at a time.
        match unsafe { (*FIRMWARE.0.get()).as_mut() } {
            Some(firmware) => {
                // The timer is re-armed, or disabled, by the model.
                firmware.machine.set_secure_timer_off();
                firmware
                    .world
                    .secure_timer_expired(&mut NonSecureDram, &mut firmware.machine);
                if firmware.trace {
                    log!("[fiq] secure timer: the partitions' timers ran");
                }
            }
            None => log!("[fw] secure timer before the model was installed"),
        }
    } else {
        log!("[fw] unexpected Group 0 interrupt {}", id);
    }
    gic::end_group0(id);
}
