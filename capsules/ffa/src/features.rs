//! `FFA_FEATURES`: which optional ABIs the callee offers, and the RX/TX buffer granule.
//!
//! Set-up asks once, right after version negotiation, and records the
//! answers in a [`FeatureSet`]. ABIs newer than the negotiated version are
//! never asked about (nor used); an optional ABI the callee refuses is simply
//! absent.
//!
//! ```
//! use capsule_ffa::features::RxTxGranule;
//!
//! assert_eq!(RxTxGranule::from_properties(0), Ok(RxTxGranule::Size4K));
//! assert_eq!(RxTxGranule::from_properties(1).unwrap().bytes(), 64 * 1024);
//! assert_eq!(RxTxGranule::from_properties(2).unwrap().bytes(), 16 * 1024);
//! assert!(RxTxGranule::from_properties(3).is_err());
//! ```

use crate::conduit::{FfaConduit, Request};
use crate::error::ClientError;
use crate::version::{NegotiatedVersion, SupportedVersion};
use ffa_abi::FunctionId;
use ffa_abi::Status;

/// Minimum size and alignment of the RX/TX buffers (`FFA_FEATURES(FFA_RXTX_MAP)` `w2[1:0]`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub enum RxTxGranule {
    /// 4 KiB.
    Size4K,
    /// 16 KiB.
    Size16K,
    /// 64 KiB.
    Size64K,
}

impl RxTxGranule {
    /// Decodes w2 of the `FFA_FEATURES(FFA_RXTX_MAP)` reply; 3 is reserved.
    pub const fn from_properties(properties: u32) -> Result<RxTxGranule, ClientError> {
        match properties & 0b11 {
            0 => Ok(RxTxGranule::Size4K),
            1 => Ok(RxTxGranule::Size64K),
            2 => Ok(RxTxGranule::Size16K),
            _ => Err(ClientError::MalformedReply),
        }
    }

    /// The granule in bytes.
    pub const fn bytes(self) -> usize {
        match self {
            RxTxGranule::Size4K => 4 * 1024,
            RxTxGranule::Size16K => 16 * 1024,
            RxTxGranule::Size64K => 64 * 1024,
        }
    }
}

/// Notification and managed-exit interrupt feature IDs (v1.1+).
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub enum InterruptFeature {
    /// Feature ID 1: notification pending interrupt.
    NotificationPending = 1,
    /// Feature ID 2: schedule receiver interrupt.
    ScheduleReceiver = 2,
    /// Feature ID 3: managed exit interrupt.
    ManagedExit = 3,
}

/// What `FFA_FEATURES` reported for one function or feature.
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub struct FeatureProperties {
    /// w2 of the reply: interface properties (or an interrupt ID for feature IDs).
    pub properties: u32,
    /// w3 of the reply.
    pub extra: u32,
}

/// The optional ABIs and parameters the callee offers at the negotiated version.
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub struct FeatureSet {
    /// Minimum size and alignment of the RX/TX buffers.
    pub rxtx_granule: RxTxGranule,
    /// Largest RX/TX buffer the callee maps, in 4 KiB pages (v1.2, `w2[31:16]`; `None`: no limit).
    pub rxtx_maximum_pages: Option<u16>,
    /// `FFA_MSG_SEND_DIRECT_REQ2` (v1.2).
    pub direct_request_2: bool,
    /// `FFA_PARTITION_INFO_GET_REGS` (v1.2).
    pub partition_info_get_registers: bool,
    /// `FFA_MEM_SHARE` (64-bit form).
    pub memory_share: bool,
    /// `FFA_MEM_LEND` (64-bit form).
    pub memory_lend: bool,
    /// Interrupt ID of the notification pending interrupt (v1.1+).
    pub notification_pending_interrupt: Option<u32>,
    /// Interrupt ID of the schedule receiver interrupt (v1.1+).
    pub schedule_receiver_interrupt: Option<u32>,
    /// Interrupt ID of the managed exit interrupt (v1.1+).
    pub managed_exit_interrupt: Option<u32>,
    /// The notification calls (`FFA_NOTIFICATION_BIND` offered, v1.1+).
    pub notifications: bool,
    /// The 64-bit `FFA_NOTIFICATION_INFO_GET` (v1.1+; else the 32-bit one).
    pub notification_info_get_64: bool,
    /// `FFA_MSG_SEND2` (v1.1+).
    pub indirect_messaging: bool,
}

impl FeatureSet {
    /// Nothing optional offered; 4 KiB buffers.
    pub const MINIMAL: FeatureSet = FeatureSet {
        rxtx_granule: RxTxGranule::Size4K,
        rxtx_maximum_pages: None,
        direct_request_2: false,
        partition_info_get_registers: false,
        memory_share: false,
        memory_lend: false,
        notification_pending_interrupt: None,
        schedule_receiver_interrupt: None,
        managed_exit_interrupt: None,
        notifications: false,
        notification_info_get_64: false,
        indirect_messaging: false,
    };
}

/// Asks `FFA_FEATURES` about one function ID or feature ID. `Ok(None)` if the callee does not offer it.
pub fn query(
    conduit: &FfaConduit<'_>,
    _version: &NegotiatedVersion,
    function_or_feature: u32,
) -> Result<Option<FeatureProperties>, ClientError> {
    let request = Request::new(FunctionId::Features).with(1, function_or_feature as u64);
    match conduit.call_expecting_success(&request) {
        Ok(registers) => Ok(Some(FeatureProperties {
            properties: registers.word(2),
            extra: registers.word(3),
        })),
        Err(ClientError::Status(Status::NotSupported)) => Ok(None),
        Err(error) => Err(error),
    }
}

/// Like [`query`], but an optional ABI that fails to answer counts as
/// absent (logged), unless the refusal is transient (`BUSY`, `RETRY`): then
/// set-up is tried again later.
fn query_optional(
    conduit: &FfaConduit<'_>,
    version: &NegotiatedVersion,
    function_or_feature: u32,
) -> Result<Option<FeatureProperties>, ClientError> {
    match query(conduit, version, function_or_feature) {
        Ok(answer) => Ok(answer),
        Err(error) if error.is_transient() => Err(error),
        Err(error) => {
            defmt::warn!(
                "ffa: FFA_FEATURES({=u32:#010x}) failed ({}); treating as absent",
                function_or_feature,
                error
            );
            Ok(None)
        }
    }
}

/// Queries every feature the capsule uses, at the negotiated version.
pub fn discover(
    conduit: &FfaConduit<'_>,
    version: &NegotiatedVersion,
) -> Result<FeatureSet, ClientError> {
    let mut features = FeatureSet::MINIMAL;
    match query(conduit, version, FunctionId::RxTxMap64.raw()) {
        Ok(Some(properties)) => {
            features.rxtx_granule = RxTxGranule::from_properties(properties.properties)
                .inspect_err(|_| {
                    defmt::error!(
                        "ffa: FFA_FEATURES(RXTX_MAP) reports reserved granule {=u32}",
                        properties.properties & 0b11
                    )
                })?;
            let maximum = (properties.properties >> 16) as u16;
            if version.at_least(SupportedVersion::V1_2) && maximum != 0 {
                features.rxtx_maximum_pages = Some(maximum);
            }
        }
        Err(error) if error.is_transient() => return Err(error),
        Ok(None) | Err(ClientError::Status(_)) => {
            defmt::warn!("ffa: FFA_FEATURES(RXTX_MAP) gave no granule; assuming 4 KiB");
        }
        Err(error) => return Err(error),
    }
    let offered = |function: FunctionId| {
        query_optional(conduit, version, function.raw()).map(|answer| answer.is_some())
    };
    features.memory_share = offered(FunctionId::MemoryShare64)?;
    features.memory_lend = offered(FunctionId::MemoryLend64)?;
    if version.at_least(SupportedVersion::V1_1) {
        let interrupt = |feature: InterruptFeature| {
            query_optional(conduit, version, feature as u32)
                .map(|answer| answer.map(|answer| answer.properties))
        };
        features.notification_pending_interrupt = interrupt(InterruptFeature::NotificationPending)?;
        features.schedule_receiver_interrupt = interrupt(InterruptFeature::ScheduleReceiver)?;
        features.managed_exit_interrupt = interrupt(InterruptFeature::ManagedExit)?;
        features.notifications = offered(FunctionId::NotificationBind)?;
        features.indirect_messaging = offered(FunctionId::MessageSend2)?;
        features.notification_info_get_64 = offered(FunctionId::NotificationInfoGet64)?;
    }
    if version.at_least(SupportedVersion::V1_2) {
        features.direct_request_2 = offered(FunctionId::DirectRequest2)?;
        features.partition_info_get_registers = offered(FunctionId::PartitionInfoGetRegisters)?;
    }
    Ok(features)
}
