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
//!
//! [`vcpu_on_core`] and [`run_target`] map a core to a partition's vCPU,
//! as the SPMCs do: a partition with one execution context (UP) runs its
//! vCPU 0 on whichever core asks, and Hafnium migrates it there; a
//! partition with several (MP; the count comes from discovery, one per
//! core as its manifest says) must be run on core N with vCPU N, which
//! Hafnium checks (`FFA_RUN` from core N naming another vCPU of an MP
//! partition is `INVALID_PARAMETERS`). pKVM builds `FFA_RUN` targets the
//! same way (`partition << 16 | current core`). The direct-messaging path
//! resumes a preempted partition with the vCPU the SPMC reported, which is
//! the same one.

use core::cell::Cell;

use ffa_abi::FunctionId;
use kernel::hil::cores::CoreWorkClient;
use kernel::hil::smccc::{SmcccConduit, SmcccRegisters};
use kernel::ErrorCode;

use crate::client::FfaClient;
use crate::partition::PartitionInfo;

/// x0 of `FFA_SUCCESS_32`.
const FFA_SUCCESS_32: u32 = 0x8400_0061;

/// Why a partition has no vCPU for a core.
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub enum VcpuError {
    /// The ID names no PE endpoint (a peripheral's SEPID, an auxiliary
    /// ID): nothing runs there.
    NotAnEndpoint,
    /// The partition reported no execution context at all (malformed).
    NoExecutionContext,
    /// An MP partition with fewer execution contexts than the core's index.
    NoContextForCore {
        /// The core.
        core: usize,
        /// The partition's execution contexts.
        contexts: u16,
    },
}

/// The vCPU of `partition` that runs on core `core`: 0 for a UP partition,
/// the core's index for an MP one.
pub fn vcpu_on_core(partition: &PartitionInfo, core: usize) -> Result<u16, VcpuError> {
    let Some(contexts) = partition.execution_contexts() else {
        return Err(VcpuError::NotAnEndpoint);
    };
    match contexts {
        0 => Err(VcpuError::NoExecutionContext),
        1 => Ok(0),
        contexts => u16::try_from(core)
            .ok()
            .filter(|&vcpu| vcpu < contexts)
            .ok_or(VcpuError::NoContextForCore { core, contexts }),
    }
}

/// The `FFA_RUN` target (w1) that runs `partition` on core `core`:
/// endpoint ID in \[31:16\], vCPU in \[15:0\].
pub fn run_target(partition: &PartitionInfo, core: usize) -> Result<u32, VcpuError> {
    let vcpu = vcpu_on_core(partition, core)?;
    Ok((u32::from(partition.id.raw()) << 16) | u32::from(vcpu))
}

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
    use crate::partition::{PartitionKind, PartitionProperties, PropertiesRevision};
    use ffa_abi::{PartitionId, Uuid};

    fn partition(id: u16, contexts: u16) -> PartitionInfo {
        PartitionInfo {
            id: PartitionId::new(id),
            kind: PartitionKind::Endpoint {
                execution_contexts: contexts,
            },
            properties: PartitionProperties::new(0, PropertiesRevision::V1_2),
            uuid: Uuid::NIL,
        }
    }

    #[test]
    fn up_partitions_run_vcpu_0_anywhere_and_mp_ones_the_cores_own() {
        let up = partition(0x8003, 1);
        let mp = partition(0x8001, 4);
        for core in 0..4 {
            assert_eq!(vcpu_on_core(&up, core), Ok(0));
            assert_eq!(vcpu_on_core(&mp, core), Ok(core as u16));
        }
        assert_eq!(run_target(&mp, 2), Ok(0x8001_0002));
        assert_eq!(run_target(&up, 3), Ok(0x8003_0000));
        assert_eq!(
            vcpu_on_core(&mp, 4),
            Err(VcpuError::NoContextForCore {
                core: 4,
                contexts: 4
            })
        );
        assert_eq!(
            vcpu_on_core(&partition(0x8002, 0), 0),
            Err(VcpuError::NoExecutionContext)
        );
        assert!(vcpu_on_core(&mp, usize::MAX).is_err());
        let peripheral = PartitionInfo {
            kind: PartitionKind::IndependentPeripheral,
            ..partition(0x8004, 1)
        };
        assert_eq!(vcpu_on_core(&peripheral, 0), Err(VcpuError::NotAnEndpoint));
        assert_eq!(run_target(&peripheral, 0), Err(VcpuError::NotAnEndpoint));
    }

    /// A monitor that answers `FFA_ID_GET` with ID 0x0007, and anything else -1.
    #[derive(Default)]
    struct AnswersIdGet;

    impl SmcccConduit for AnswersIdGet {
        fn kind(&self) -> kernel::hil::smccc::ConduitKind {
            kernel::hil::smccc::ConduitKind::Smc
        }
        fn call(&self, arguments: &SmcccRegisters) -> SmcccRegisters {
            if arguments.x[0] == u64::from(FunctionId::IdGet.raw()) {
                SmcccRegisters::from_slice(&[u64::from(FFA_SUCCESS_32), 0, 0x0007])
            } else {
                SmcccRegisters::from_slice(&[u64::MAX])
            }
        }
    }

    #[test]
    fn the_core_work_makes_the_call_and_packs_the_answer() {
        let result = id_get_on_this_core::<AnswersIdGet>(0);
        assert_eq!(CoreAnswer::from_result(result), CoreAnswer::Id(7));
    }

    #[test]
    fn a_check_before_the_session_exists_fails() {
        static RX: no_buffer::Buffer = no_buffer::Buffer;
        let client = FfaClient::new(&AnswersIdGet, &RX, &RX, crate::ClientConfig::DEFAULT);
        let check = PerCoreCheck::new(&client);
        assert_eq!(
            check.work_done(1, (u64::from(FFA_SUCCESS_32) << 32) | 7),
            Err(ErrorCode::OFF)
        );
        assert_eq!(check.passed(), 0);
    }

    /// A shared buffer that holds nothing (the check never maps it).
    mod no_buffer {
        use kernel::hil::shared_memory::SharedBuffer;
        use kernel::ErrorCode;

        pub struct Buffer;

        impl SharedBuffer for Buffer {
            fn physical_address(&self) -> u64 {
                0x4000_0000
            }
            fn len(&self) -> usize {
                4096
            }
            fn read(&self, _: usize, _: &mut [u8]) -> Result<(), ErrorCode> {
                Err(ErrorCode::FAIL)
            }
            fn write(&self, _: usize, _: &[u8]) -> Result<(), ErrorCode> {
                Err(ErrorCode::FAIL)
            }
        }
    }

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
