//! Semihosting exit: ends QEMU (run with `-semihosting`) with a status code.

/// SYS_EXIT.
const SYS_EXIT: u64 = 0x18;
/// ADP_Stopped_ApplicationExit: the exit reason that carries a status.
const APPLICATION_EXIT: u64 = 0x20026;

/// Exits QEMU with `status`. Without semihosting the `HLT` traps; the
/// fallback is to halt the core.
pub fn exit(status: u32) -> ! {
    let block: [u64; 2] = [APPLICATION_EXIT, status as u64];
    // SAFETY: the semihosting call reads the two-word block, which lives on
    // the stack for the duration of the call.
    unsafe {
        core::arch::asm!(
            "hlt #0xf000",
            in("x0") SYS_EXIT,
            in("x1") block.as_ptr(),
            options(nostack)
        );
    }
    loop {
        aarch64_cpu::asm::wfe();
    }
}
