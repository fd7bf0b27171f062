//! The console: UART0 on GPIO 14/15 at 115200 8N1, set up before the first
//! log line. With `enable_uart=1` and `dtoverlay=disable-bt` the firmware
//! leaves UART0 on those pins already; setting it again makes the kernel
//! independent of that (and of `init_uart_baud`).

use crate::memory_map::{CONSOLE_BAUD, GPIO_BASE, UART0_BASE, UART0_CLOCK_HZ};

/// Connects UART0 to GPIO 14/15 and sets its line.
pub fn initialise() -> Result<pl011::line::Divisor, pl011::line::LineError> {
    // SAFETY: the BCM2711's GPIO block and UART0, as device memory; nothing
    // else uses them while the kernel boots.
    unsafe {
        crate::gpio::select_uart0_pins(GPIO_BASE);
        pl011::line::configure(UART0_BASE, UART0_CLOCK_HZ, CONSOLE_BAUD)
    }
}
