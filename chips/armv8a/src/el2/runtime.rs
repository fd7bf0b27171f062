//! The EL2 side of protected mode: decodes each exception from EL1, runs the proxy's decision logic, and performs what it decides.
//!
//! Everything here runs at EL2, on the EL2 stack, with exceptions masked
//! and the EL2 MMU off. Decisions come from the `ffa-proxy` crate; this
//! module only moves registers, issues `SMC #0` to the monitor, copies bytes
//! with volatile accesses, sets `HCR_EL2.TSC`, and logs.
//!
//! - HVC (EC 0x16): the kernel's control calls (`ffa_proxy::control`):
//!   query, start finalisation, one finalisation step, status. Anything
//!   else, or an HVC immediate other than 0, is answered x0 = -1.
//! - Trapped SMC (EC 0x17, only after finalisation): `ELR_EL2` points at the
//!   `SMC` instruction, so it is advanced by 4; the call goes to
//!   `Proxy::handle_host_call`. An SMC immediate other than 0 is answered
//!   x0 = -1 without reaching the monitor.
//! - Any other exception class was never enabled: logged, then power off.

use core::cell::UnsafeCell;

use aarch64_cpu::asm::barrier;
use aarch64_cpu::registers::{ReadWriteable, Readable, ESR_EL2, HCR_EL2};
use ffa_proxy::control::{self, StatusRegisters};
use ffa_proxy::memory::{MemoryError, MemoryRange, ProxyLayout, ProxyMemory};
use ffa_proxy::proxy::{Disposition, Handled};
use ffa_proxy::{function, Proxy, Registers, StartError, REGISTER_COUNT};
use kernel::hil::smccc::{SmcccConduit, SmcccRegisters};

use super::vectors::{self, El2Frame};
use crate::conduit::SecureMonitorCall;

/// ESR_EL2.EC of an HVC from AArch64.
const EXCEPTION_CLASS_HVC64: u64 = 0x16;
/// ESR_EL2.EC of an SMC from AArch64 trapped by `HCR_EL2.TSC`.
const EXCEPTION_CLASS_SMC64: u64 = 0x17;
/// PSCI `SYSTEM_OFF`, for the fatal path.
const PSCI_SYSTEM_OFF: u64 = 0x8400_0008;
/// The status the fatal path powers off with (as a panic does).
const FATAL_STATUS: u64 = 1;

/// The proxy, owned by EL2.
struct El2State(UnsafeCell<Proxy>);

// SAFETY: the state is touched only by `with_proxy`, which only the EL2
// exception handler calls. There is one core, EL2 runs with every exception
// masked, and the handler never re-enters itself, so accesses never overlap.
unsafe impl Sync for El2State {}

static STATE: El2State = El2State(UnsafeCell::new(Proxy::new()));

/// Runs `operation` on the proxy. Call only from the EL2 handler.
fn with_proxy<R>(operation: impl FnOnce(&mut Proxy) -> R) -> R {
    // SAFETY: see `El2State`: only the EL2 handler gets here, one exception
    // at a time, so this is the only reference to the proxy while it lives.
    operation(unsafe { &mut *STATE.0.get() })
}

/// The proxy's state as a physical range, so the host cannot name it as a buffer.
fn state_range() -> MemoryRange {
    MemoryRange::new(
        STATE.0.get() as u64,
        core::mem::size_of::<El2State>() as u64,
    )
}

/// One SMC from EL2 to the monitor (EL2's own SMCs are never trapped).
fn call_monitor(call: &Registers) -> Registers {
    SecureMonitorCall.call(&SmcccRegisters { x: *call }).x
}

/// Physical memory as EL2 sees it with its MMU off.
struct PhysicalMemory;

impl ProxyMemory for PhysicalMemory {
    fn copy(&mut self, destination: u64, source: u64, length: usize) -> Result<(), MemoryError> {
        for offset in 0..length as u64 {
            // SAFETY: the proxy checked both ranges before asking: `source`
            // is in its own RX buffer (its carve-out) and `destination` in
            // the host's recorded RX buffer, which lies in host memory and
            // outside everything EL2 owns. With the EL2 MMU off these are
            // physical addresses; byte accesses are always aligned, as
            // Device memory requires, and volatile because the monitor and
            // the host access the same memory behind the compiler's back.
            unsafe {
                let byte = core::ptr::read_volatile((source + offset) as *const u8);
                core::ptr::write_volatile((destination + offset) as *mut u8, byte);
            }
        }
        Ok(())
    }
}

/// Called by the vector code for every synchronous exception from EL1.
#[no_mangle]
extern "C" fn armv8a_el2_handle_lower_sync(frame: &mut El2Frame) {
    let syndrome = ESR_EL2.get();
    let class = (syndrome >> 26) & 0x3F;
    let immediate = syndrome & 0xFFFF;
    let mut call: Registers = [0; REGISTER_COUNT];
    call.copy_from_slice(&frame.general[..REGISTER_COUNT]);
    let reply = match class {
        EXCEPTION_CLASS_HVC64 => control_call(&call, immediate),
        EXCEPTION_CLASS_SMC64 => {
            // A trapped SMC: ELR_EL2 points at the SMC itself.
            frame.exception_link += 4;
            trapped_smc(&call, immediate)
        }
        _ => {
            defmt::error!(
                "el2: unexpected exception from EL1: ESR_EL2 {=u64:#x} (EC {=u64:#x}), ELR_EL2 {=u64:#x}",
                syndrome,
                class,
                frame.exception_link
            );
            power_off(FATAL_STATUS)
        }
    };
    frame.general[..REGISTER_COUNT].copy_from_slice(&reply);
}

/// The kernel's control calls (HVC).
fn control_call(call: &Registers, immediate: u64) -> Registers {
    let mut answer: StatusRegisters = [control::NOT_SUPPORTED, 0, 0, 0, 0, 0, 0];
    if immediate == 0 {
        match call[0] as u32 {
            control::QUERY => {
                answer[..3].copy_from_slice(&[
                    control::SUCCESS,
                    control::INTERFACE_MAGIC,
                    control::INTERFACE_VERSION,
                ]);
            }
            control::START_FINALISATION => answer[0] = start_finalisation(call),
            control::FINALISATION_STEP => answer = finalisation_step(),
            control::STATUS => answer = with_proxy(|proxy| control::encode_status(&proxy.status())),
            _ => {}
        }
    }
    // x0–x7 are results; x8–x17 are preserved.
    let mut reply = *call;
    reply[..answer.len()].copy_from_slice(&answer);
    reply[answer.len()] = 0;
    reply
}

fn start_finalisation(call: &Registers) -> u64 {
    let (stack_base, stack_size) = vectors::stack_range();
    let layout = ProxyLayout::with_mailbox_in(
        MemoryRange::new(call[1], call[2]),
        MemoryRange::new(call[3], call[4]),
        [MemoryRange::new(stack_base, stack_size), state_range()],
    );
    match with_proxy(|proxy| proxy.start_finalisation(layout)) {
        Ok(()) => {
            defmt::info!(
                "el2: proxy finalisation started: mailbox TX {=u64:#x}, RX {=u64:#x} ({=u32} page each); host memory {=u64:#x}+{=u64:#x}",
                layout.mailbox.transmit,
                layout.mailbox.receive,
                layout.mailbox.page_count,
                layout.host_memory.base,
                layout.host_memory.size
            );
            control::SUCCESS
        }
        Err(StartError::AlreadyStarted) => control::NOT_REQUIRED,
        Err(StartError::Layout(error)) => {
            defmt::error!("el2: proxy finalisation refused: bad layout ({})", error);
            control::INVALID_PARAMETER
        }
    }
}

fn finalisation_step() -> StatusRegisters {
    let (was_finalised, status, now_finalised) = with_proxy(|proxy| {
        let was_finalised = proxy.is_finalised();
        let status = proxy.finalise_step(&mut call_monitor);
        (was_finalised, status, proxy.is_finalised())
    });
    if now_finalised && !was_finalised {
        // From the next return to EL1 on, every SMC of the host traps here.
        HCR_EL2.modify(HCR_EL2::TSC::EnableTrapEl1SmcToEl2);
        barrier::isb(barrier::SY);
        defmt::info!("el2: proxy {}; host SMCs now trap to EL2", status);
    }
    control::encode_status(&status)
}

/// A host SMC trapped after finalisation.
fn trapped_smc(call: &Registers, immediate: u64) -> Registers {
    let function_id = call[0] as u32;
    if immediate != 0 {
        defmt::warn!(
            "el2 proxy: SMC #{=u64} ({=str}) refused: SMCCC calls use SMC #0",
            immediate,
            function::name(function_id)
        );
        let mut reply = *call;
        reply[0] = control::NOT_SUPPORTED;
        return reply;
    }
    let outcome =
        with_proxy(|proxy| proxy.handle_host_call(call, &mut PhysicalMemory, &mut call_monitor));
    match outcome.disposition {
        Disposition::Refused(refusal) => defmt::warn!(
            "el2 proxy: {=str} from the host refused with {=str}: {}",
            function::name(function_id),
            refusal.error().name(),
            refusal
        ),
        Disposition::Handled(
            handled @ (Handled::VersionNegotiated { .. }
            | Handled::HostBuffersRecorded(_)
            | Handled::HostBuffersForgotten
            | Handled::PartitionInfoCopied { .. }),
        ) => defmt::info!("el2 proxy: {}", handled),
        Disposition::Handled(handled) => defmt::debug!("el2 proxy: {}", handled),
        Disposition::PassedThrough | Disposition::Forwarded => {}
    }
    outcome.reply
}

/// Powers off through PSCI with `status` (the test firmware's exit status);
/// halts if that returns.
fn power_off(status: u64) -> ! {
    let mut call: Registers = [0; REGISTER_COUNT];
    call[0] = PSCI_SYSTEM_OFF;
    call[1] = status;
    call_monitor(&call);
    loop {
        aarch64_cpu::asm::wfe();
    }
}

/// Called by the vector code for an exception EL2 never expects.
#[no_mangle]
extern "C" fn armv8a_el2_fatal(vector: u64, syndrome: u64, link: u64, fault_address: u64) -> ! {
    defmt::error!(
        "el2: fatal exception at EL2: vector {=u64}, ESR_EL2 {=u64:#x} (EC {=u64:#x}), ELR_EL2 {=u64:#x}, FAR_EL2 {=u64:#x}",
        vector,
        syndrome,
        (syndrome >> 26) & 0x3F,
        link,
        fault_address
    );
    power_off(FATAL_STATUS)
}
