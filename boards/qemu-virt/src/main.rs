//! The QEMU `virt` board: wires the chip, alarm, init queue and FF-A, then
//! runs the main loop.
//!
//! The image is a drop-in BL33 for standard TF-A on QEMU (linked at
//! 0x6000_0000, entered at EL2 or EL1 with the MMU off).

#![no_std]
#![no_main]

use kernel::init_queue::{InitQueue, InitQueueClient};
use kernel::main_loop::{LoopService, MainLoop};
use kernel::static_init;
use qemu_virt::QemuVirt;

armv8a::entry!(main);

/// Capacity of the board's init queue.
const INIT_ENTRIES: usize = 16;
/// Readiness conditions the board can declare.
const INIT_CONDITIONS: usize = 16;

type BoardInitQueue = InitQueue<'static, INIT_ENTRIES, INIT_CONDITIONS>;

/// Told when the init queue settles: prints the boot report.
struct BootReport {
    queue: &'static BoardInitQueue,
}

impl InitQueueClient for BootReport {
    fn settled(&self) {
        defmt::info!("boot: init queue settled");
        self.queue.report_pending();
        #[cfg(feature = "scenario-panic")]
        panic!("scenario-panic: panicking on purpose after boot");
        #[cfg(feature = "exit-when-settled")]
        {
            defmt::info!("boot: exit-when-settled, powering off");
            qemu_virt::psci::system_off(0);
        }
    }
}

fn main(boot: armv8a::BootInfo) -> ! {
    defmt::info!(
        "boot: qemu-virt kernel entered at EL{=u8}, device tree at {=u64:#x}",
        boot.entry_exception_level,
        boot.device_tree_address
    );
    let chip = static_init!(QemuVirt<'static>, QemuVirt::new());
    chip.initialise();

    let queue = static_init!(BoardInitQueue, InitQueue::new());
    let report = static_init!(BootReport, BootReport { queue });
    queue.set_client(report);

    let services = static_init!([&'static dyn LoopService; 1], [queue]);
    let main_loop = static_init!(
        MainLoop<'static, QemuVirt<'static>>,
        MainLoop::new(chip, services)
    );
    defmt::info!("boot: entering the main loop");
    main_loop.run()
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    defmt::error!("{}", defmt::Display2Format(info));
    qemu_virt::psci::system_off(1)
}
