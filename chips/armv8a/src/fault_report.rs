//! Decoding of exception syndromes (ESR/FAR/ELR) into a readable fault report.
//!
//! ```ignore
//! let report = FaultReport::new(ExceptionKind::CurrentElSync, esr, elr, far, spsr);
//! report.log(); // "fault: Data Abort (same EL) at ELR 0x60001234, FAR 0x0 ..."
//! ```

/// ESR.ISS bit 7 (S1PTW) of an abort the host's EL2 injected: hardware
/// never sets it in `ESR_EL1`, so protected mode's EL2 sets it in the aborts
/// it passes on from the host's stage 2, and the report says so.
pub const INJECTED_BY_EL2: u64 = 1 << 7;

/// Which vector an exception came through.
#[derive(Clone, Copy, PartialEq, Eq, Debug, defmt::Format)]
pub enum ExceptionKind {
    /// Synchronous, from the current EL using SP_EL0.
    CurrentElStackZeroSync,
    /// IRQ, from the current EL using SP_EL0.
    CurrentElStackZeroIrq,
    /// FIQ, from the current EL using SP_EL0.
    CurrentElStackZeroFiq,
    /// SError, from the current EL using SP_EL0.
    CurrentElStackZeroSystemError,
    /// Synchronous, from the current EL.
    CurrentElSync,
    /// IRQ, from the current EL.
    CurrentElIrq,
    /// FIQ, from the current EL.
    CurrentElFiq,
    /// SError, from the current EL.
    CurrentElSystemError,
    /// Synchronous, from a lower EL running AArch64.
    LowerElSync,
    /// IRQ, from a lower EL running AArch64.
    LowerElIrq,
    /// FIQ, from a lower EL running AArch64.
    LowerElFiq,
    /// SError, from a lower EL running AArch64.
    LowerElSystemError,
    /// Any exception from a lower EL running AArch32.
    LowerElAarch32,
    /// A vector index outside the table.
    Unknown,
}

impl ExceptionKind {
    /// Maps a vector-table index (0–15) to its kind.
    pub const fn from_vector_index(index: u64) -> Self {
        match index {
            0 => ExceptionKind::CurrentElStackZeroSync,
            1 => ExceptionKind::CurrentElStackZeroIrq,
            2 => ExceptionKind::CurrentElStackZeroFiq,
            3 => ExceptionKind::CurrentElStackZeroSystemError,
            4 => ExceptionKind::CurrentElSync,
            5 => ExceptionKind::CurrentElIrq,
            6 => ExceptionKind::CurrentElFiq,
            7 => ExceptionKind::CurrentElSystemError,
            8 => ExceptionKind::LowerElSync,
            9 => ExceptionKind::LowerElIrq,
            10 => ExceptionKind::LowerElFiq,
            11 => ExceptionKind::LowerElSystemError,
            12..=15 => ExceptionKind::LowerElAarch32,
            _ => ExceptionKind::Unknown,
        }
    }

    /// A short human-readable name.
    pub const fn name(self) -> &'static str {
        match self {
            ExceptionKind::CurrentElStackZeroSync => "synchronous (current EL, SP_EL0)",
            ExceptionKind::CurrentElStackZeroIrq => "IRQ (current EL, SP_EL0)",
            ExceptionKind::CurrentElStackZeroFiq => "FIQ (current EL, SP_EL0)",
            ExceptionKind::CurrentElStackZeroSystemError => "SError (current EL, SP_EL0)",
            ExceptionKind::CurrentElSync => "synchronous (current EL)",
            ExceptionKind::CurrentElIrq => "IRQ (current EL)",
            ExceptionKind::CurrentElFiq => "FIQ (current EL)",
            ExceptionKind::CurrentElSystemError => "SError (current EL)",
            ExceptionKind::LowerElSync => "synchronous (lower EL)",
            ExceptionKind::LowerElIrq => "IRQ (lower EL)",
            ExceptionKind::LowerElFiq => "FIQ (lower EL)",
            ExceptionKind::LowerElSystemError => "SError (lower EL)",
            ExceptionKind::LowerElAarch32 => "exception from AArch32",
            ExceptionKind::Unknown => "unknown vector",
        }
    }
}

/// Name of an ESR exception class (ESR_ELx.EC, bits [31:26]).
pub const fn exception_class_name(class: u8) -> &'static str {
    match class {
        0x00 => "Unknown reason",
        0x01 => "WFI/WFE trapped",
        0x07 => "FP/SIMD access trapped",
        0x0e => "Illegal execution state",
        0x15 => "SVC (AArch64)",
        0x16 => "HVC (AArch64)",
        0x17 => "SMC (AArch64)",
        0x18 => "System register access trapped",
        0x19 => "SVE access trapped",
        0x20 => "Instruction Abort (lower EL)",
        0x21 => "Instruction Abort (same EL)",
        0x22 => "PC alignment fault",
        0x24 => "Data Abort (lower EL)",
        0x25 => "Data Abort (same EL)",
        0x26 => "SP alignment fault",
        0x2c => "FP exception (AArch64)",
        0x2f => "SError",
        0x30 | 0x31 => "Breakpoint",
        0x32 | 0x33 => "Software step",
        0x34 | 0x35 => "Watchpoint",
        0x3c => "BRK instruction",
        _ => "Reserved or unhandled class",
    }
}

/// Name of a data or instruction fault status code (ISS bits [5:0] of an abort).
pub const fn fault_status_name(status: u8) -> &'static str {
    match status {
        0x00..=0x03 => "Address size fault",
        0x04..=0x07 => "Translation fault",
        0x09..=0x0b => "Access flag fault",
        0x0d..=0x0f => "Permission fault",
        0x10 => "Synchronous external abort",
        0x21 => "Alignment fault",
        0x30 => "TLB conflict abort",
        _ => "Other fault status",
    }
}

/// A decoded exception.
#[derive(Clone, Copy, Debug)]
pub struct FaultReport {
    /// Which vector was taken.
    pub kind: ExceptionKind,
    /// ESR_ELx.
    pub syndrome: u64,
    /// ELR_ELx.
    pub exception_link: u64,
    /// FAR_ELx.
    pub fault_address: u64,
    /// SPSR_ELx.
    pub saved_program_status: u64,
}

impl FaultReport {
    /// Builds a report from raw register values.
    pub const fn new(
        kind: ExceptionKind,
        syndrome: u64,
        exception_link: u64,
        fault_address: u64,
        saved_program_status: u64,
    ) -> Self {
        FaultReport {
            kind,
            syndrome,
            exception_link,
            fault_address,
            saved_program_status,
        }
    }

    /// ESR.EC.
    pub const fn exception_class(&self) -> u8 {
        ((self.syndrome >> 26) & 0x3f) as u8
    }

    /// ESR.ISS.
    pub const fn instruction_specific_syndrome(&self) -> u32 {
        (self.syndrome & 0x01ff_ffff) as u32
    }

    /// Whether this is a data or instruction abort (FAR is meaningful).
    pub const fn is_abort(&self) -> bool {
        matches!(self.exception_class(), 0x20 | 0x21 | 0x24 | 0x25)
    }

    /// Whether EL2 injected this abort: the host's stage 2 refused the access.
    pub const fn injected_by_el2(&self) -> bool {
        matches!(self.exception_class(), 0x21 | 0x25) && self.syndrome & INJECTED_BY_EL2 != 0
    }

    /// Logs the report as a few error lines.
    pub fn log(&self) {
        let class = self.exception_class();
        defmt::error!(
            "fault: {=str}: {=str} (EC {=u8:#04x}, ISS {=u32:#x}) at ELR {=u64:#x}, SPSR {=u64:#x}",
            self.kind.name(),
            exception_class_name(class),
            class,
            self.instruction_specific_syndrome(),
            self.exception_link,
            self.saved_program_status
        );
        if self.is_abort() {
            let iss = self.instruction_specific_syndrome();
            let status = (iss & 0x3f) as u8;
            let write = class >= 0x24 && iss & (1 << 6) != 0;
            defmt::error!(
                "fault: {=str} on {=str} of address {=u64:#x}",
                fault_status_name(status),
                if write { "write" } else { "read or fetch" },
                self.fault_address
            );
            if self.injected_by_el2() {
                defmt::error!(
                    "fault: injected by EL2: the kernel's stage 2 does not grant this access (EL2's memory, or memory lent away)"
                );
            }
        }
    }
}
