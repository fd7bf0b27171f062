//! FF-A from every core: the per-core check a secondary runs once the FF-A
//! root is ready, and its judge.
//!
//! Each secondary core, once online and once `ffa-root-ready` holds (a
//! core started before FF-A is ready waits on it, as the partition drivers
//! do), calls `FFA_ID_GET` *from itself* through the board's conduit
//! ([`id_get_on_this_core`]): the secure world (or, in protected mode, the
//! EL2 proxy trapping that core's SMCs) must answer it there, with the ID
//! the boot core's session has. [`PerCoreCheck`] compares.
//!
//! The check runs on the secondary as a plain function: it reaches no
//! capsule state, only a conduit it builds itself (`C::default()`).

use core::cell::Cell;

use ffa_abi::FunctionId;
use kernel::hil::cores::CoreWorkClient;
use kernel::hil::smccc::{SmcccConduit, SmcccRegisters};
use kernel::ErrorCode;

use crate::client::FfaClient;

/// x0 of `FFA_SUCCESS_32`.
const FFA_SUCCESS_32: u32 = 0x8400_0061;

/// On a secondary core: `FFA_ID_GET` through a `C` conduit. The result
/// packs the reply's w0 (high half) and w2 (low half).
pub fn id_get_on_this_core<C: SmcccConduit + Default>(_argument: u64) -> u64 {
    let reply = C::default().call(&SmcccRegisters::with_function(FunctionId::IdGet.raw()));
    (u64::from(reply.x[0] as u32) << 32) | u64::from(reply.x[2] as u32)
}

/// What a core's `FFA_ID_GET` answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub enum CoreAnswer {
    /// `FFA_SUCCESS` with this ID.
    Id(u16),
    /// Anything else: the reply's w0 and w2.
    Other(u32, u32),
}

impl CoreAnswer {
    /// Unpacks [`id_get_on_this_core`]'s result.
    pub fn from_result(result: u64) -> CoreAnswer {
        let (w0, w2) = ((result >> 32) as u32, result as u32);
        if w0 == FFA_SUCCESS_32 && w2 <= u32::from(u16::MAX) {
            CoreAnswer::Id(w2 as u16)
        } else {
            CoreAnswer::Other(w0, w2)
        }
    }
}

/// Judges each core's `FFA_ID_GET` against the boot core's session.
pub struct PerCoreCheck<'a> {
    client: &'a FfaClient<'a>,
    passed: Cell<usize>,
}

impl<'a> PerCoreCheck<'a> {
    /// Checks against `client`'s session.
    pub fn new(client: &'a FfaClient<'a>) -> PerCoreCheck<'a> {
        PerCoreCheck {
            client,
            passed: Cell::new(0),
        }
    }

    /// How many cores answered as the boot core.
    pub fn passed(&self) -> usize {
        self.passed.get()
    }
}

impl CoreWorkClient for PerCoreCheck<'_> {
    fn work_done(&self, core: usize, result: u64) -> Result<(), ErrorCode> {
        let Some(session) = self.client.session() else {
            defmt::warn!(
                "ffa: cpu{=usize} checked in before the FF-A session exists",
                core
            );
            return Err(ErrorCode::OFF);
        };
        let expected = session.own_id.raw();
        match CoreAnswer::from_result(result) {
            CoreAnswer::Id(id) if id == expected => {
                self.passed.set(self.passed.get() + 1);
                defmt::info!(
                    "ffa: cpu{=usize}: FFA_ID_GET from this core answers {=u16:#06x}, as on the boot core",
                    core,
                    id
                );
                Ok(())
            }
            answer => {
                defmt::warn!(
                    "ffa: cpu{=usize}: FFA_ID_GET from this core answered {}, expected ID {=u16:#06x}",
                    core,
                    answer,
                    expected
                );
                Err(ErrorCode::FAIL)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_unpack_into_answers() {
        assert_eq!(
            CoreAnswer::from_result(u64::from(FFA_SUCCESS_32) << 32),
            CoreAnswer::Id(0)
        );
        assert_eq!(
            CoreAnswer::from_result(0xffff_ffff_0000_0000),
            CoreAnswer::Other(u32::MAX, 0)
        );
        assert_eq!(
            CoreAnswer::from_result((0x8400_0060u64 << 32) | 0xffff_fffe),
            CoreAnswer::Other(0x8400_0060, 0xffff_fffe)
        );
    }
}
