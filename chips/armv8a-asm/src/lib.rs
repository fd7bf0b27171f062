#![doc = include_str!("../README.md")]
//!
//! ## The frame layout
//!
//! [`registers!`] expands to a string of instructions, for `global_asm!` or
//! `asm!`, that saves or restores a block of registers at a base register
//! (`sp`, or a scratch register), in the layout the frames of those vectors
//! share: x0 at offset 0, x1 at 8, ... x29 at 232 (x30 and the system
//! registers are up to each vector, at 240 on); q0 at offset 0 of the
//! vector block, ... q31 at 496.
//!
//! ```
//! let save = armv8a_asm::registers!("stp", x0..x29, "sp");
//! assert!(save.starts_with("stp x0, x1, [sp, #0]\n"));
//! assert!(save.ends_with("stp x28, x29, [sp, #224]\n"));
//! assert_eq!(save.lines().count(), 15);
//! assert_eq!(armv8a_asm::registers!("ldp", q0..q31, "x0").lines().count(), 16);
//! ```
//!
//! So are the other fragments those vectors and the boot code share: a
//! vector table that expects only calls from the level below
//! ([`vector_table_for_lower_sync!`]), entries that are all unexpected
//! ([`unexpected_entries!`]), [`address_of!`], [`zero_bss!`],
//! [`zero_symbol_range!`].

#![no_std]

/// Stores (`"stp"`) or loads (`"ldp"`) a block of registers in pairs at
/// `$base`: x0–x29 at `[$base, #0]` … `[$base, #224]` (240 bytes), or
/// q0–q31 at `[$base, #0]` … `[$base, #480]` (512 bytes).
///
/// ```
/// let save = armv8a_asm::registers!("stp", x0..x29, "sp");
/// assert_eq!(save.lines().next(), Some("stp x0, x1, [sp, #0]"));
/// let restore = armv8a_asm::registers!("ldp", q0..q31, "x0");
/// assert_eq!(restore.lines().last(), Some("ldp q30, q31, [x0, #480]"));
/// ```
#[macro_export]
macro_rules! registers {
    ($op:literal, x0..x29, $base:literal) => {
        $crate::pairs!($op, "x", $base, 16)
    };
    ($op:literal, q0..q31, $base:literal) => {
        $crate::pairs!($op, "q", $base, 32)
    };
}

/// One `$op` per register pair: x0–x29 (15 pairs of 8-byte registers) or
/// q0–q31 (16 pairs of 16-byte registers).
#[doc(hidden)]
#[macro_export]
macro_rules! pairs {
    ($op:literal, "x", $base:literal, 16) => {
        concat!(
            $op,
            " x0, x1, [",
            $base,
            ", #0]\n",
            $op,
            " x2, x3, [",
            $base,
            ", #16]\n",
            $op,
            " x4, x5, [",
            $base,
            ", #32]\n",
            $op,
            " x6, x7, [",
            $base,
            ", #48]\n",
            $op,
            " x8, x9, [",
            $base,
            ", #64]\n",
            $op,
            " x10, x11, [",
            $base,
            ", #80]\n",
            $op,
            " x12, x13, [",
            $base,
            ", #96]\n",
            $op,
            " x14, x15, [",
            $base,
            ", #112]\n",
            $op,
            " x16, x17, [",
            $base,
            ", #128]\n",
            $op,
            " x18, x19, [",
            $base,
            ", #144]\n",
            $op,
            " x20, x21, [",
            $base,
            ", #160]\n",
            $op,
            " x22, x23, [",
            $base,
            ", #176]\n",
            $op,
            " x24, x25, [",
            $base,
            ", #192]\n",
            $op,
            " x26, x27, [",
            $base,
            ", #208]\n",
            $op,
            " x28, x29, [",
            $base,
            ", #224]\n",
        )
    };
    ($op:literal, "q", $base:literal, 32) => {
        concat!(
            $op,
            " q0, q1, [",
            $base,
            ", #0]\n",
            $op,
            " q2, q3, [",
            $base,
            ", #32]\n",
            $op,
            " q4, q5, [",
            $base,
            ", #64]\n",
            $op,
            " q6, q7, [",
            $base,
            ", #96]\n",
            $op,
            " q8, q9, [",
            $base,
            ", #128]\n",
            $op,
            " q10, q11, [",
            $base,
            ", #160]\n",
            $op,
            " q12, q13, [",
            $base,
            ", #192]\n",
            $op,
            " q14, q15, [",
            $base,
            ", #224]\n",
            $op,
            " q16, q17, [",
            $base,
            ", #256]\n",
            $op,
            " q18, q19, [",
            $base,
            ", #288]\n",
            $op,
            " q20, q21, [",
            $base,
            ", #320]\n",
            $op,
            " q22, q23, [",
            $base,
            ", #352]\n",
            $op,
            " q24, q25, [",
            $base,
            ", #384]\n",
            $op,
            " q26, q27, [",
            $base,
            ", #416]\n",
            $op,
            " q28, q29, [",
            $base,
            ", #448]\n",
            $op,
            " q30, q31, [",
            $base,
            ", #480]\n",
        )
    };
}

/// The exception vector table `$table` (2 KiB aligned, global), whose only
/// expected exception is a synchronous one from a lower EL in AArch64
/// (entry 8: an `SMC` or `HVC` of the level below), which branches to
/// `$lower_sync`. Every other entry branches to `$unexpected` with its
/// index (0–15) in x0.
#[macro_export]
macro_rules! vector_table_for_lower_sync {
    ($table:literal, $lower_sync:literal, $unexpected:literal) => {
        concat!(
            ".balign 2048\n",
            ".global ",
            $table,
            "\n",
            $table,
            ":\n",
            $crate::unexpected_entries!("0, 1, 2, 3, 4, 5, 6, 7", $unexpected),
            ".balign 128\n",
            "b ",
            $lower_sync,
            "\n",
            $crate::unexpected_entries!("9, 10, 11, 12, 13, 14, 15", $unexpected),
        )
    };
}

/// Vector entries `$indices` (128 bytes each), each branching to
/// `$unexpected` with its index in x0. With all of 0–15 after a 2 KiB
/// aligned label, it is a table in which every exception is unexpected
/// (the test partition's).
#[macro_export]
macro_rules! unexpected_entries {
    ($indices:literal, $unexpected:literal) => {
        concat!(
            ".irp index, ",
            $indices,
            "\n.balign 128\nmov x0, #\\index\nb ",
            $unexpected,
            "\n.endr\n",
        )
    };
}

/// Points `$vbar` (`vbar_el1`, `vbar_el2`, `vbar_el3`) at the vector table
/// `$table`, with `$scratch` as scratch, and synchronises.
#[macro_export]
macro_rules! set_vector_base {
    ($vbar:literal, $table:literal, $scratch:literal) => {
        concat!(
            $crate::address_of!($scratch, $table),
            "msr ",
            $vbar,
            ", ",
            $scratch,
            "\n",
            "isb\n",
        )
    };
}

/// Loads the address of `$symbol` (within ±4 GiB of the code) into `$register`.
#[macro_export]
macro_rules! address_of {
    ($register:literal, $symbol:literal) => {
        concat!(
            "adrp ", $register, ", ", $symbol, "\n", "add ", $register, ", ", $register,
            ", :lo12:", $symbol, "\n",
        )
    };
}

/// Zeroes the image's BSS (`__bss_start` to `__bss_end`, 8-byte aligned, as
/// the linker scripts define them), with `$start` and `$end` as scratch.
#[macro_export]
macro_rules! zero_bss {
    ($start:literal, $end:literal) => {
        $crate::zero_symbol_range!($start, $end, "__bss_start", "__bss_end")
    };
}

/// Zeroes the memory from symbol `$first` up to symbol `$last` (8-byte
/// aligned, as a linker script defines them), with `$start` and `$end` as
/// scratch: a second BSS, such as EL2's (`__el2_bss_start` to `__el2_bss_end`).
#[macro_export]
macro_rules! zero_symbol_range {
    ($start:literal, $end:literal, $first:literal, $last:literal) => {
        concat!(
            $crate::address_of!($start, $first),
            $crate::address_of!($end, $last),
            $crate::zero_words!($start, $end),
        )
    };
}

/// Zeroes the 8-byte words from `[$start]` up to `[$end]` (exclusive),
/// advancing `$start` (as boot code zeroes BSS). Uses local labels 8 and 9.
#[macro_export]
macro_rules! zero_words {
    ($start:literal, $end:literal) => {
        concat!(
            "9:\n",
            "cmp ",
            $start,
            ", ",
            $end,
            "\n",
            "b.hs 8f\n",
            "str xzr, [",
            $start,
            "], #8\n",
            "b 9b\n",
            "8:\n",
        )
    };
}

/// Bytes x0–x29 take in a frame (and so the offset of x30).
pub const X0_TO_X29_BYTES: usize = 240;

/// Bytes q0–q31 take in a frame.
pub const Q0_TO_Q31_BYTES: usize = 512;
