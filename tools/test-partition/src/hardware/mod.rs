//! The partition on the hardware: entry, conduit, UART and memory, and the main loop that joins them.

#[macro_use]
mod console;
mod conduit;
mod entry;
mod memory;

use test_partition::abi::{call, Status, FFA_ERROR};
use test_partition::service::{Next, Partition, Spmc};

use conduit::Conduit;
use console::Uart;
use memory::PhysicalDram;

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
        // FFA_ERROR(ABORTED) tells the SPMC the partition failed to start.
        log!("[sp] set-up failed: {error}; reporting FFA_ERROR to the SPMC");
        partition
            .spmc
            .call(call(FFA_ERROR, &[0, Status::Aborted.register_value()]));
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
