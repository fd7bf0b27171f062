//! A `critical-section` implementation for a single core: mask DAIF.
//!
//! The saved state is the previous DAIF value, restored on release, so
//! critical sections nest.

struct MaskInterrupts;

critical_section::set_impl!(MaskInterrupts);

// SAFETY: on a single core, masking D, A, I and F at the current EL
// excludes every other context that could run kernel code.
unsafe impl critical_section::Impl for MaskInterrupts {
    unsafe fn acquire() -> critical_section::RawRestoreState {
        let previous: u64;
        // SAFETY: reading DAIF and setting its mask bits has no memory effects.
        unsafe {
            core::arch::asm!("mrs {0}, daif", "msr daifset, #0xf", out(reg) previous, options(nostack));
        }
        previous
    }

    unsafe fn release(previous: critical_section::RawRestoreState) {
        // SAFETY: restores the DAIF value saved by `acquire`.
        unsafe { core::arch::asm!("msr daif, {0}", in(reg) previous, options(nostack)) };
    }
}
