//! The partition on the hardware: entry, conduit, UART and memory, and the main loop that joins them.

#[macro_use]
mod console;
mod conduit;
mod entry;
mod memory;

use test_partition::service::{Next, Partition, Spmc};

use conduit::Conduit;
use console::Uart;
use memory::PhysicalDram;

/// `FFA_ERROR`: reported to the SPMC when set-up fails, so it marks the partition failed.
const FFA_ERROR: u32 = 0x8400_0060;
/// FF-A status `ABORTED`.
const ABORTED: i32 = -8;

/// Called by the entry code with the boot information address (x0) and the core's linear ID (x4).
#[no_mangle]
extern "C" fn partition_main(boot_info: u64, core: u64) -> ! {
    console::initialise();
    let exception_level = entry::current_exception_level();
    log!(
        "[sp] test-partition entered at EL{exception_level} on core {core}, boot information at {boot_info:#x}"
    );
    let mut partition = Partition::new(
        Conduit::take(),
        PhysicalDram,
        Uart,
        conduit::descriptor_buffer(),
    );
    partition.log_boot_info(boot_info);
    if let Err(error) = partition.start() {
        log!("[sp] set-up failed: {error}; reporting FFA_ERROR to the SPMC");
        let mut report = [0u64; 8];
        report[0] = u64::from(FFA_ERROR);
        report[2] = ABORTED as u32 as u64;
        partition.spmc.call(report);
        entry::halt();
    }
    log!("[sp] ready; FFA_MSG_WAIT");
    let mut next = Next::Call(partition.wait());
    while let Next::Call(call) = next {
        let message = partition.spmc.call(call);
        next = partition.answer(message);
    }
    log!("[sp] halted after {} request(s)", partition.served());
    entry::halt();
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    log!("[sp] panicked: {info}");
    entry::halt();
}
