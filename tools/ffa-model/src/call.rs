//! Reading the caller's registers and building reply register files.

use crate::error_code::SMCCC_NOT_SUPPORTED;
use crate::function_id;
use crate::{Registers, SMCCC_REGISTER_COUNT};
use ffa_abi::Status;

/// The caller's registers, read according to the calling convention of its function ID.
#[derive(Clone, Copy)]
pub(crate) struct Call<'a> {
    registers: &'a Registers,
    function_id: u32,
}

impl<'a> Call<'a> {
    pub(crate) fn new(registers: &'a Registers) -> Call<'a> {
        Call {
            registers,
            // SMCCC: the function ID is w0; the upper half of x0 is ignored,
            // and so is the SMCCC v1.3 SVE hint (bit 16).
            function_id: ffa_abi::function::without_sve_hint(registers[0] as u32),
        }
    }

    pub(crate) fn function_id(&self) -> u32 {
        self.function_id
    }

    pub(crate) fn is_64_bit(&self) -> bool {
        function_id::is_64_bit(self.function_id)
    }

    /// Register `index` as the calling convention defines it: for SMC32 calls
    /// only the lower 32 bits (w registers) are meaningful.
    pub(crate) fn register(&self, index: usize) -> u64 {
        let value = self.registers[index];
        if self.is_64_bit() {
            value
        } else {
            value & 0xFFFF_FFFF
        }
    }

    /// The lower 32 bits of register `index`.
    pub(crate) fn word(&self, index: usize) -> u32 {
        self.registers[index] as u32
    }

    pub(crate) fn registers(&self) -> &'a Registers {
        self.registers
    }
}

/// A reply under construction.
///
/// FF-A replies define x0–x7 (anything not set is zero) and preserve x8–x17
/// unless a result is written there. SMCCC replies define x0–x3 and preserve
/// x4–x17.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Reply {
    registers: Registers,
    first_preserved: usize,
    uses_extended_registers: bool,
}

impl Reply {
    /// An FF-A reply with x0 = `function_id`.
    pub(crate) fn ffa(function_id: u32) -> Reply {
        let mut registers = [0; SMCCC_REGISTER_COUNT];
        registers[0] = u64::from(function_id);
        Reply {
            registers,
            first_preserved: 8,
            uses_extended_registers: false,
        }
    }

    /// `FFA_SUCCESS_32` with everything else zero.
    pub(crate) fn success_32() -> Reply {
        Reply::ffa(function_id::FFA_SUCCESS_32)
    }

    /// `FFA_ERROR` with w2 = the error code (upper half of x2 zero).
    pub(crate) fn error(error: Status) -> Reply {
        Reply::ffa(function_id::FFA_ERROR).with(2, error.register_value())
    }

    /// An SMCCC / PSCI reply with x0 = `value`.
    pub(crate) fn smccc(value: u64) -> Reply {
        let mut registers = [0; SMCCC_REGISTER_COUNT];
        registers[0] = value;
        Reply {
            registers,
            first_preserved: 4,
            uses_extended_registers: false,
        }
    }

    /// x0 = -1 as a 64-bit register: the answer to any unimplemented function.
    pub(crate) fn unknown_function() -> Reply {
        Reply::smccc(SMCCC_NOT_SUPPORTED)
    }

    /// Set register `index` to `value`.
    pub(crate) fn with(mut self, index: usize, value: u64) -> Reply {
        self.registers[index] = value;
        if index >= self.first_preserved {
            self.uses_extended_registers = true;
        }
        self
    }

    /// Declare that x8–x17 carry results of this ABI: the ones not set are zero
    /// instead of preserved.
    pub(crate) fn with_extended_results(mut self) -> Reply {
        self.uses_extended_registers = true;
        self
    }

    /// The complete register file, preserving the caller's registers the
    /// convention says must be preserved.
    pub(crate) fn finish(self, call: &Call<'_>) -> Registers {
        let mut registers = self.registers;
        if !self.uses_extended_registers {
            registers[self.first_preserved..]
                .copy_from_slice(&call.registers()[self.first_preserved..]);
        }
        registers
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smc32_calls_read_only_the_lower_half() {
        let mut registers = [0u64; SMCCC_REGISTER_COUNT];
        registers[0] = 0xFFFF_FFFF_0000_0000 | u64::from(function_id::FFA_ID_GET);
        registers[1] = 0x1234_5678_9ABC_DEF0;
        let call = Call::new(&registers);
        assert_eq!(call.function_id(), function_id::FFA_ID_GET);
        assert_eq!(call.register(1), 0x9ABC_DEF0);
        registers[0] = u64::from(function_id::FFA_RXTX_MAP_64);
        let call = Call::new(&registers);
        assert_eq!(call.register(1), 0x1234_5678_9ABC_DEF0);
    }

    #[test]
    fn replies_preserve_upper_registers() {
        let registers: Registers = core::array::from_fn(|index| 100 + index as u64);
        let call = Call::new(&registers);
        let ffa = Reply::success_32().with(2, 7).finish(&call);
        assert_eq!(&ffa[..8], &[0x8400_0061, 0, 7, 0, 0, 0, 0, 0]);
        assert_eq!(&ffa[8..], &registers[8..]);
        let extended = Reply::success_32().with(9, 1).finish(&call);
        assert_eq!(extended[8], 0);
        assert_eq!(extended[9], 1);
        let smccc = Reply::smccc(5).finish(&call);
        assert_eq!(&smccc[..4], &[5, 0, 0, 0]);
        assert_eq!(&smccc[4..], &registers[4..]);
    }
}
