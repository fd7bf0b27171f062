//! The SMC Calling Convention conduit (SMCCC v1.2): x0–x17 in, x0–x17 out.
//!
//! A chip implements [`SmcccConduit`] with either the `SMC` or the `HVC`
//! instruction; the board chooses which one a capsule gets. Calls are
//! synchronous by nature: the caller is suspended until the callee returns.
//!
//! ```ignore
//! let mut call = SmcccRegisters::with_function(0x8400_0063); // FFA_VERSION
//! call.x[1] = 0x0001_0002;
//! let reply = conduit.call(&call);
//! ```

/// Number of registers SMCCC v1.2 passes in each direction (x0–x17).
pub const SMCCC_REGISTER_COUNT: usize = 18;

/// A register file passed to or returned from an SMCCC call.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct SmcccRegisters {
    /// x0 to x17, in order. x0 holds the function ID on the way in.
    pub x: [u64; SMCCC_REGISTER_COUNT],
}

impl SmcccRegisters {
    /// A register file with `function_id` in x0 and every other register zero.
    pub const fn with_function(function_id: u32) -> Self {
        let mut x = [0u64; SMCCC_REGISTER_COUNT];
        x[0] = function_id as u64;
        SmcccRegisters { x }
    }

    /// A register file from the first registers given; the rest are zero.
    pub fn from_slice(values: &[u64]) -> Self {
        let mut x = [0u64; SMCCC_REGISTER_COUNT];
        let count = values.len().min(SMCCC_REGISTER_COUNT);
        x[..count].copy_from_slice(&values[..count]);
        SmcccRegisters { x }
    }
}

/// Which instruction carries SMCCC calls.
#[derive(Clone, Copy, PartialEq, Eq, Debug, defmt::Format)]
pub enum ConduitKind {
    /// `SMC #0`: calls go to EL3 (or are trapped by EL2 when HCR_EL2.TSC is set).
    Smc,
    /// `HVC #0`: calls go to EL2.
    Hvc,
    /// No conduit: nothing at a higher exception level answers SMCCC calls
    /// (a board without secure firmware, such as a Raspberry Pi 4 booted by
    /// its stock armstub, where an `SMC` would be undefined or hang). Every
    /// call answers `NOT_SUPPORTED` without leaving the caller.
    Absent,
}

/// A synchronous SMCCC conduit.
pub trait SmcccConduit {
    /// Which instruction this conduit uses.
    fn kind(&self) -> ConduitKind;

    /// Issues one call and returns the callee's x0–x17.
    fn call(&self, arguments: &SmcccRegisters) -> SmcccRegisters;
}
