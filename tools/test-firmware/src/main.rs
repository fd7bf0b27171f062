#![doc = include_str!("../README.md")]
//!
//! ## Hand-off
//!
//! It behaves like TF-A's hand-off to BL33: it sets up the secure state,
//! then enters the normal-world image at 0x6000_0000 at EL2 (or EL1 when the
//! configuration asks), MMU off, x0 = device tree address. Every SMC from
//! the normal world is answered by [`ffa_model::SecureWorld`]; with tracing
//! on, each call is printed on the secure UART.
//!
//! ## Cores
//!
//! QEMU starts every core in the firmware. Core 0 counts the cores (one
//! GICv3 redistributor each) and tells the model; the others wake their own
//! redistributor and wait in the holding pen (`cores.rs`) until the normal
//! world's PSCI `CPU_ON` releases them, then enter it at the requested entry
//! point, at the same EL as core 0, with x0 = the context ID, as TF-A does.
//! `CPU_OFF` sends a core back to the pen.
//!
//! The fault configuration is a blob ([`ffa_model::FaultConfig`]) that the
//! runner places at [`CONFIG_BLOB_ADDRESS`] with `-device loader`; without a
//! valid blob the firmware uses the default configuration.

#![no_std]
#![no_main]

mod console;
mod cores;
mod entry;
mod gic;
mod machine;
mod memory;
mod semihosting;
mod smc;
mod stacks;
mod status;

use ffa_model::tpm::config::TpmConfig;
use ffa_model::FaultConfig;

/// Where the runner loads the fault-configuration blob (non-secure DRAM,
/// below the kernel image).
pub const CONFIG_BLOB_ADDRESS: u64 = 0x5ff0_0000;
/// Where the normal-world image is entered (TF-A's BL33 address on QEMU).
const NORMAL_WORLD_ENTRY: u64 = 0x6000_0000;
/// Where QEMU places the device tree when booting with `-bios`.
const DEVICE_TREE_ADDRESS: u64 = 0x4000_0000;

/// SCR_EL3: lower ELs non-secure, FIQs to EL3 (the secure timer, Group 0),
/// HVC enabled, EL2 (and so EL1) AArch64.
const SECURE_CONFIGURATION: u64 = (1 << 0) | (1 << 2) | (1 << 8) | (1 << 10);
/// SPSR for EL2h (or EL1h) with D, A, I and F masked.
const PROGRAM_STATUS_EL2: u64 = 0x3c9;
const PROGRAM_STATUS_EL1: u64 = 0x3c5;

fn read_config() -> FaultConfig {
    let mut blob = [0u8; FaultConfig::BLOB_SIZE];
    use ffa_model::NormalWorldMemory;
    if memory::NonSecureDram
        .read(CONFIG_BLOB_ADDRESS, &mut blob)
        .is_err()
    {
        log!("[fw] config: blob address unreadable; using defaults");
        return FaultConfig::default_config();
    }
    match FaultConfig::from_bytes(&blob) {
        Ok(config) => {
            log!(
                "[fw] config: loaded from {:#x}; the SPMC answers as {}, FF-A v{}.{}",
                CONFIG_BLOB_ADDRESS,
                config.personality.name(),
                config.spmc_version.0,
                config.spmc_version.1
            );
            config
        }
        Err(error) => {
            log!("[fw] config: no valid blob ({:?}); using defaults", error);
            FaultConfig::default_config()
        }
    }
}

/// The TPM partition's faults: a blob right after the SPMC's; without a
/// valid one, the TPM is present and healthy.
fn read_tpm_config() -> TpmConfig {
    use ffa_model::NormalWorldMemory;
    let mut blob = [0u8; TpmConfig::BLOB_SIZE];
    let address = CONFIG_BLOB_ADDRESS + FaultConfig::BLOB_SIZE as u64;
    if memory::NonSecureDram.read(address, &mut blob).is_err() {
        return TpmConfig::healthy();
    }
    match TpmConfig::from_bytes(&blob) {
        Ok(config) => {
            log!(
                "[fw] config: TPM partition {}, late {} us, malformed {:?} for command {:#x}, completion notifications {}, commands run {} us{}",
                if config.absent { "absent" } else { "present" },
                config.late_microseconds,
                config.malformed,
                config.malformed_command,
                if config.notifications { "offered" } else { "not offered" },
                config.background_microseconds,
                if config.not_crb {
                    "; interface ID FIFO, not CRB"
                } else {
                    ""
                }
            );
            config
        }
        Err(_) => TpmConfig::healthy(),
    }
}

fn write_system_registers_for_el2_entry() {
    // SAFETY: EL3 configures lower ELs before entering them; these writes
    // have no memory effects.
    unsafe {
        core::arch::asm!(
            "msr scr_el3, {scr}",
            // SCTLR_EL2: RES1 bits, MMU and caches off.
            "msr sctlr_el2, {sctlr_el2}",
            "msr hcr_el2, xzr",
            "isb",
            scr = in(reg) SECURE_CONFIGURATION,
            sctlr_el2 = in(reg) 0x30c5_0830u64,
            options(nostack)
        );
    }
}

fn write_system_registers_for_el1_entry() {
    // SAFETY: as above; EL2 is set up so that EL1 runs AArch64 with timer,
    // GIC system-register and FP/SIMD access, as TF-A does without EL2.
    unsafe {
        core::arch::asm!(
            "msr scr_el3, {scr}",
            "msr hcr_el2, {hcr}",
            "msr cptr_el2, {cptr}",
            "msr cnthctl_el2, {cnthctl}",
            "msr cntvoff_el2, xzr",
            "msr S3_4_C12_C9_5, {sre}",
            "mrs {scratch}, midr_el1",
            "msr vpidr_el2, {scratch}",
            "mrs {scratch}, mpidr_el1",
            "msr vmpidr_el2, {scratch}",
            "msr sctlr_el1, {sctlr_el1}",
            "isb",
            scr = in(reg) SECURE_CONFIGURATION,
            hcr = in(reg) 1u64 << 31,
            cptr = in(reg) 0x33ffu64,
            cnthctl = in(reg) 3u64,
            sre = in(reg) 0xfu64,
            sctlr_el1 = in(reg) 0x30d0_0800u64,
            scratch = out(reg) _,
            options(nostack)
        );
    }
}

#[no_mangle]
extern "C" fn firmware_main() -> ! {
    console::initialise();
    log!("[fw] EL3 test firmware: PSCI, SMCCC, FF-A SPMD+SPMC model");
    stacks::paint(0);
    let Some(lines) = gic::initialise() else {
        semihosting::exit(status::GIC_FAILED);
    };
    let config = read_config();
    let at_el1 = config.enter_normal_world_at_el1;
    let cores = gic::core_count(entry::MAXIMUM_CORES);
    smc::install(config, read_tpm_config(), cores, lines);
    if cores > 1 {
        log!(
            "[fw] {} cores; cores 1-{} wait in the pen for CPU_ON",
            cores,
            cores - 1
        );
    }
    if at_el1 {
        write_system_registers_for_el1_entry();
    } else {
        write_system_registers_for_el2_entry();
    }
    log!(
        "[fw] entering the normal world at {:#x}, EL{}",
        NORMAL_WORLD_ENTRY,
        if at_el1 { 1 } else { 2 }
    );
    let program_status = if at_el1 {
        PROGRAM_STATUS_EL1
    } else {
        PROGRAM_STATUS_EL2
    };
    // SAFETY: the normal-world image was placed at its entry address by the
    // runner; EL3 state is fully set up and the vectors handle its SMCs.
    unsafe {
        entry::firmware_enter_normal_world(program_status, NORMAL_WORLD_ENTRY, DEVICE_TREE_ADDRESS)
    }
}

/// A secondary core (Aff0 = `core`): wakes its redistributor, then waits in
/// the pen and enters the normal world each time `CPU_ON` releases it.
#[no_mangle]
extern "C" fn firmware_secondary_main(core: u64) -> ! {
    let core = core as usize;
    stacks::paint(core);
    if !gic::initialise_core(core) {
        smc::with_firmware(core, |_| {
            log!("[fw] core {}: redistributor did not wake", core)
        });
        semihosting::exit(status::GIC_FAILED);
    }
    let (entry, context) = cores::wait(core);
    let at_el1 = smc::enter_at_el1();
    smc::with_firmware(core, |firmware| {
        firmware.world.core_arrived(core);
        log!(
            "[fw] core {} entering the normal world at {:#x}, EL{}, context {:#x}",
            core,
            entry,
            if at_el1 { 1 } else { 2 },
            context
        );
    });
    let program_status = if at_el1 {
        write_system_registers_for_el1_entry();
        PROGRAM_STATUS_EL1
    } else {
        write_system_registers_for_el2_entry();
        PROGRAM_STATUS_EL2
    };
    // SAFETY: the normal world asked for this entry point with CPU_ON (the
    // model checked it lies in non-secure DRAM); EL3 state is set up.
    unsafe { entry::firmware_enter_normal_world(program_status, entry, context) }
}

/// Reports an exception taken at EL3 itself, or a non-SMC exception from
/// below, and ends the run with a failure status.
#[no_mangle]
extern "C" fn firmware_fatal_exception(
    kind: u64,
    syndrome: u64,
    link: u64,
    fault_address: u64,
) -> ! {
    log!(
        "[fw] fatal exception: vector {} ESR {:#x} (EC {:#x}) ELR {:#x} FAR {:#x}",
        kind,
        syndrome,
        (syndrome >> 26) & 0x3f,
        link,
        fault_address
    );
    semihosting::exit(status::FATAL_EXCEPTION)
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    log!("[fw] panic: {}", info);
    semihosting::exit(status::PANIC)
}
