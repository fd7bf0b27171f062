//! Semihosting exit: ends an emulator run (QEMU with `-semihosting`) with
//! a status, which is how test scenarios see a kernel's verdict on boards
//! whose real power-off carries none (the Raspberry Pi 4's watchdog).
//!
//! Only for emulation: on hardware without a debugger attached the `HLT`
//! instruction is undefined. Chips call it only when the board asks for it
//! (a feature the runner turns on).

/// `SYS_EXIT`.
const SYS_EXIT: u64 = 0x18;
/// `ADP_Stopped_ApplicationExit`: the exit reason that carries a status.
const APPLICATION_EXIT: u64 = 0x20026;

/// Ends the emulator with `status`. If semihosting is off the `HLT` traps
/// (and the fault is reported); if it returns, the core halts.
pub fn exit(status: u32) -> ! {
    let block: [u64; 2] = [APPLICATION_EXIT, u64::from(status)];
    // SAFETY: the semihosting call reads the two-word block, which lives on
    // the stack for the duration of the call, and changes nothing else.
    unsafe {
        core::arch::asm!(
            "hlt #0xf000",
            in("x0") SYS_EXIT,
            in("x1") block.as_ptr(),
            options(nostack, readonly)
        );
    }
    loop {
        aarch64_cpu::asm::wfe();
    }
}
