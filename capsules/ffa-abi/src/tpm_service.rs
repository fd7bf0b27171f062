//! The TPM service over FF-A (Arm DEN0138, "CRB with Arm FF-A" start
//! method 15 of the TCG ACPI TPM2 table) and the CRB register layout it
//! drives: spoken by the kernel's TPM driver (`capsule-tpm`) and by the
//! model's TPM partition (`tools/ffa-model`), so it lives in the one crate
//! both share. Plain data, like the rest of this crate.
//!
//! ## The service
//!
//! The partition implements [`TPM_SERVICE_UUID`]. A call is one direct
//! request: with `FFA_MSG_SEND_DIRECT_REQ` (32- or 64-bit) w3 is zero, w4
//! the function ID and w5–w7 its arguments; with `FFA_MSG_SEND_DIRECT_REQ2`
//! x2/x3 carry the service UUID and the same registers (x4 the function,
//! x5–x7 the arguments) follow. The response has the status in w4/x4 and
//! the results in w5–w7 (Linux's `tpm_crb_ffa.c` reads them there).
//!
//! | function | ID | arguments | results |
//! |---|---|---|---|
//! | `GET_INTERFACE_VERSION` | 0x0F000001 | – | w5: version, major `[30:16]`, minor `[15:0]` |
//! | `GET_FEATURE_INFO` (feature check) | 0x0F000101 | w5: feature ID ([`FEATURE_NOTIFICATION`]) | – |
//! | `START` | 0x0F000201 | w5: qualifier `[7:0]` ([`StartQualifier`]), w6: locality 0–4 | – |
//! | `REGISTER_FOR_NOTIFICATION` | 0x0F000301 | w5: type `[31:16]` (0: global), w6: FF-A notification ID (< 64) | – |
//! | `UNREGISTER_FROM_NOTIFICATION` | 0x0F000401 | – | – |
//! | `FINISH_NOTIFIED` | 0x0F000501 | – | – |
//!
//! Software changes a CRB control bit, then calls `START` so that the TPM
//! looks (the service never polls): qualifier 1 after writing `LOC_CTRL`
//! (request or relinquish a locality), qualifier 0 after writing the
//! control area (`cmdReady`, `goIdle`, `start`, `cancel`).
//!
//! ## The CRB
//!
//! One 4 KiB page of registers per locality, at `base + locality × 0x1000`
//! ([`crb`]): the locality registers, the interface ID, the control area and
//! the data buffer the command and response addresses point into. Where the
//! region is, firmware says (an ACPI TPM2 table's control area address, a
//! device-tree node's `reg`); for the QEMU `virt` board and the project's
//! test firmware it is [`QEMU_VIRT_CRB`], defined here once for both sides.
//!
//! ```
//! use ffa_abi::tpm_service::{self, ServiceStatus, StartQualifier, TPM_SERVICE_UUID};
//!
//! assert_eq!(TPM_SERVICE_UUID.to_words(), [0xa462b817, 0xaf4f0618, 0x9a08b386, 0x61383558]);
//! let request = tpm_service::start(StartQualifier::Command, 0);
//! assert_eq!(request.function, tpm_service::function::START);
//! assert_eq!(request.arguments, [0, 0, 0]);
//! assert_eq!(ServiceStatus::from_code(0x8E00_0005), Some(ServiceStatus::InvalidArgument));
//! assert_eq!(tpm_service::version_major(0x0001_0000), 1);
//! ```

use crate::uuid::Uuid;

/// The TPM service's UUID: `17b862a4-1806-4faf-86b3-089a58353861`.
pub const TPM_SERVICE_UUID: Uuid = Uuid::from_fields(
    0x17b8_62a4,
    0x1806,
    0x4faf,
    [0x86, 0xb3, 0x08, 0x9a, 0x58, 0x35, 0x38, 0x61],
);

/// The ACPI TPM2 table's start method for "CRB with Arm FF-A" (TCG ACPI 1.4).
pub const ACPI_START_METHOD_CRB_FFA: u8 = 15;

/// The function IDs (w4/x4 of a request).
pub mod function {
    /// Returns the interface version in w5.
    pub const GET_INTERFACE_VERSION: u32 = 0x0F00_0001;
    /// Whether a feature (w5) is supported.
    pub const GET_FEATURE_INFO: u32 = 0x0F00_0101;
    /// The CRB changed: look at it (w5 qualifier, w6 locality).
    pub const START: u32 = 0x0F00_0201;
    /// Completion notifications instead of polling.
    pub const REGISTER_FOR_NOTIFICATION: u32 = 0x0F00_0301;
    /// No more completion notifications.
    pub const UNREGISTER_FROM_NOTIFICATION: u32 = 0x0F00_0401;
    /// Acknowledges a completion notification.
    pub const FINISH_NOTIFIED: u32 = 0x0F00_0501;

    /// The name of function `id`, for logs.
    pub const fn name(id: u32) -> &'static str {
        match id {
            GET_INTERFACE_VERSION => "GET_INTERFACE_VERSION",
            GET_FEATURE_INFO => "GET_FEATURE_INFO",
            START => "START",
            REGISTER_FOR_NOTIFICATION => "REGISTER_FOR_NOTIFICATION",
            UNREGISTER_FROM_NOTIFICATION => "UNREGISTER_FROM_NOTIFICATION",
            FINISH_NOTIFIED => "FINISH_NOTIFIED",
            _ => "unknown",
        }
    }
}

/// The feature ID of completion notifications (`GET_FEATURE_INFO`).
pub const FEATURE_NOTIFICATION: u32 = 0xFEA7_0000;

/// The interface version the service implements: 1.0.
pub const INTERFACE_VERSION: u32 = 0x0001_0000;

/// The major version in a version word (bits `[30:16]`, as Linux masks it).
pub const fn version_major(word: u32) -> u16 {
    ((word >> 16) & 0x7FFF) as u16
}

/// The minor version in a version word (bits `[15:0]`).
pub const fn version_minor(word: u32) -> u16 {
    word as u16
}

/// How many localities a TPM has (0–4).
pub const LOCALITY_COUNT: u8 = 5;

/// What a `START` tells the service to look at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum StartQualifier {
    /// 0: the control area changed (`cmdReady`, `goIdle`, `start`, `cancel`).
    Command,
    /// 1: the locality control register changed (request, relinquish).
    LocalityRequest,
}

impl StartQualifier {
    /// The value in w5 `[7:0]`.
    pub const fn raw(self) -> u64 {
        match self {
            StartQualifier::Command => 0,
            StartQualifier::LocalityRequest => 1,
        }
    }

    /// The qualifier `raw` names, if any.
    pub const fn from_raw(raw: u64) -> Option<StartQualifier> {
        match raw {
            0 => Some(StartQualifier::Command),
            1 => Some(StartQualifier::LocalityRequest),
            _ => None,
        }
    }
}

/// A service status (w4/x4 of a response).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ServiceStatus {
    /// 0x05000001.
    Ok,
    /// 0x05000002: success, with results.
    OkResultsReturned,
    /// 0x8E000001: unknown function.
    NoFunction,
    /// 0x8E000002.
    NotSupported,
    /// 0x8E000005: an argument is out of range.
    InvalidArgument,
    /// 0x8E000006: the CRB control area holds something the service cannot act on.
    InvalidCrbControlData,
    /// 0x8E000009: already done (registered twice).
    Already,
    /// 0x8E00000A.
    Denied,
    /// 0x8E00000B.
    NoMemory,
}

impl ServiceStatus {
    /// The 32-bit code.
    pub const fn code(self) -> u32 {
        match self {
            ServiceStatus::Ok => 0x0500_0001,
            ServiceStatus::OkResultsReturned => 0x0500_0002,
            ServiceStatus::NoFunction => 0x8E00_0001,
            ServiceStatus::NotSupported => 0x8E00_0002,
            ServiceStatus::InvalidArgument => 0x8E00_0005,
            ServiceStatus::InvalidCrbControlData => 0x8E00_0006,
            ServiceStatus::Already => 0x8E00_0009,
            ServiceStatus::Denied => 0x8E00_000A,
            ServiceStatus::NoMemory => 0x8E00_000B,
        }
    }

    /// The status `code` names, if any.
    pub const fn from_code(code: u32) -> Option<ServiceStatus> {
        Some(match code {
            0x0500_0001 => ServiceStatus::Ok,
            0x0500_0002 => ServiceStatus::OkResultsReturned,
            0x8E00_0001 => ServiceStatus::NoFunction,
            0x8E00_0002 => ServiceStatus::NotSupported,
            0x8E00_0005 => ServiceStatus::InvalidArgument,
            0x8E00_0006 => ServiceStatus::InvalidCrbControlData,
            0x8E00_0009 => ServiceStatus::Already,
            0x8E00_000A => ServiceStatus::Denied,
            0x8E00_000B => ServiceStatus::NoMemory,
            _ => return None,
        })
    }

    /// Whether the call succeeded.
    pub const fn is_success(self) -> bool {
        matches!(self, ServiceStatus::Ok | ServiceStatus::OkResultsReturned)
    }
}

/// One call of the service: a function and up to three arguments.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ServiceRequest {
    /// The function ID.
    pub function: u32,
    /// w5–w7.
    pub arguments: [u64; 3],
}

impl ServiceRequest {
    /// `function` with no arguments.
    pub const fn new(function: u32) -> ServiceRequest {
        ServiceRequest {
            function,
            arguments: [0; 3],
        }
    }

    /// The five payload registers of a `DIRECT_REQ` (w3–w7): w3 zero.
    pub const fn direct_payload(&self) -> [u64; 5] {
        [
            0,
            self.function as u64,
            self.arguments[0],
            self.arguments[1],
            self.arguments[2],
        ]
    }

    /// The first payload registers of a `DIRECT_REQ2` (x4–x7).
    pub const fn direct2_payload(&self) -> [u64; 4] {
        [
            self.function as u64,
            self.arguments[0],
            self.arguments[1],
            self.arguments[2],
        ]
    }
}

/// `GET_INTERFACE_VERSION`.
pub const fn get_interface_version() -> ServiceRequest {
    ServiceRequest::new(function::GET_INTERFACE_VERSION)
}

/// `START` with `qualifier` for `locality`.
pub const fn start(qualifier: StartQualifier, locality: u8) -> ServiceRequest {
    ServiceRequest {
        function: function::START,
        arguments: [qualifier.raw(), locality as u64, 0],
    }
}

/// The notification type of `REGISTER_FOR_NOTIFICATION` (w5 `[31:16]`):
/// a global notification, not one per vCPU.
pub const NOTIFICATION_TYPE_GLOBAL: u16 = 0;

/// `GET_FEATURE_INFO` of `feature` (`OK`: supported; `NOTSUP`: not).
pub const fn get_feature_info(feature: u32) -> ServiceRequest {
    ServiceRequest {
        function: function::GET_FEATURE_INFO,
        arguments: [feature as u64, 0, 0],
    }
}

/// `REGISTER_FOR_NOTIFICATION`: the service sets FF-A notification `id`
/// (< 64, global) for the caller when it has completed what a `START`
/// asked; the caller acknowledges each with [`finish_notified`].
pub const fn register_for_notification(id: u8) -> ServiceRequest {
    ServiceRequest {
        function: function::REGISTER_FOR_NOTIFICATION,
        arguments: [(NOTIFICATION_TYPE_GLOBAL as u64) << 16, id as u64, 0],
    }
}

/// `UNREGISTER_FROM_NOTIFICATION`: the service stops setting the caller's
/// notification (Linux's driver sends it when it lets the TPM go; the
/// service answers `DENIED` if the caller is not registered).
pub const fn unregister_from_notification() -> ServiceRequest {
    ServiceRequest::new(function::UNREGISTER_FROM_NOTIFICATION)
}

/// `FINISH_NOTIFIED`: the caller has taken the service's notification.
pub const fn finish_notified() -> ServiceRequest {
    ServiceRequest::new(function::FINISH_NOTIFIED)
}

/// The status and results of a response (w4–w7 / x4–x7).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ServiceResponse {
    /// The raw status word (w4).
    pub status: u32,
    /// w5–w7.
    pub results: [u64; 3],
}

impl ServiceResponse {
    /// A response from its four registers (w4–w7 or x4–x7).
    pub const fn from_registers(registers: [u64; 4]) -> ServiceResponse {
        ServiceResponse {
            status: registers[0] as u32,
            results: [registers[1], registers[2], registers[3]],
        }
    }

    /// The status, if it is one the interface defines.
    pub const fn status(&self) -> Option<ServiceStatus> {
        ServiceStatus::from_code(self.status)
    }
}

/// Where a TPM's CRB is: one register page per locality from `base`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct CrbRegion {
    /// Physical address of locality 0's registers (4 KiB aligned).
    pub base: u64,
    /// How many localities have a register page (1–5).
    pub localities: u8,
}

impl CrbRegion {
    /// The region's size in bytes.
    pub const fn size(&self) -> u64 {
        self.localities as u64 * crb::LOCALITY_STRIDE as u64
    }

    /// The physical address of `locality`'s register page.
    pub const fn locality_base(&self, locality: u8) -> u64 {
        self.base + locality as u64 * crb::LOCALITY_STRIDE as u64
    }
}

/// The CRB of the TPM partition on the QEMU `virt` board with the project's
/// test firmware: five 4 KiB pages of non-secure DRAM at 0x5FD0_0000, below
/// the EL2 proxy's carve-out (0x5FE0_0000) and the firmware's configuration
/// blob (0x5FF0_0000), above the device tree, outside the kernel image
/// (from 0x6000_0000). The one definition the firmware's model and the
/// board share, as an ACPI TPM2 table or a device-tree node would carry it.
pub const QEMU_VIRT_CRB: CrbRegion = CrbRegion {
    base: 0x5FD0_0000,
    localities: LOCALITY_COUNT,
};

/// The CRB register layout of one locality's page (TCG PC Client Platform
/// TPM Profile; offsets as Linux's `tpm_crb.c` maps them).
pub mod crb {
    /// Distance between the register pages of two localities.
    pub const LOCALITY_STRIDE: usize = 0x1000;

    /// `TPM_LOC_STATE` (read-only): [`loc_state`] bits.
    pub const LOC_STATE: usize = 0x00;
    /// `TPM_LOC_CTRL` (write): [`loc_ctrl`] bits.
    pub const LOC_CTRL: usize = 0x08;
    /// `TPM_LOC_STS` (read-only): [`loc_sts`] bits.
    pub const LOC_STS: usize = 0x0C;
    /// `TPM_CRB_INTF_ID`, low word: [`intf_id`] fields.
    pub const INTF_ID: usize = 0x30;
    /// `TPM_CRB_INTF_ID`, high word: vendor ID `[15:0]`, device ID `[31:16]`.
    pub const INTF_ID_HIGH: usize = 0x34;
    /// `TPM_CRB_CTRL_EXT`.
    pub const CTRL_EXT: usize = 0x38;
    /// `TPM_CRB_CTRL_REQ`: [`ctrl_req`] bits (software sets, the TPM clears).
    pub const CTRL_REQ: usize = 0x40;
    /// `TPM_CRB_CTRL_STS`: [`ctrl_sts`] bits.
    pub const CTRL_STS: usize = 0x44;
    /// `TPM_CRB_CTRL_CANCEL`: bit 0 cancels the command in progress.
    pub const CTRL_CANCEL: usize = 0x48;
    /// `TPM_CRB_CTRL_START`: bit 0 starts a command; the TPM clears it when done.
    pub const CTRL_START: usize = 0x4C;
    /// `TPM_CRB_CTRL_INT_ENABLE`.
    pub const CTRL_INT_ENABLE: usize = 0x50;
    /// `TPM_CRB_CTRL_INT_STS`.
    pub const CTRL_INT_STS: usize = 0x54;
    /// `TPM_CRB_CTRL_CMD_SIZE`: the command buffer's size.
    pub const CTRL_CMD_SIZE: usize = 0x58;
    /// `TPM_CRB_CTRL_CMD_LADDR`: the command buffer's physical address, low word.
    pub const CTRL_CMD_PA_LOW: usize = 0x5C;
    /// `TPM_CRB_CTRL_CMD_HADDR`: the command buffer's physical address, high word.
    pub const CTRL_CMD_PA_HIGH: usize = 0x60;
    /// `TPM_CRB_CTRL_RSP_SIZE`: the response buffer's size.
    pub const CTRL_RSP_SIZE: usize = 0x64;
    /// `TPM_CRB_CTRL_RSP_ADDR`: the response buffer's physical address (64-bit).
    pub const CTRL_RSP_PA: usize = 0x68;
    /// `TPM_CRB_DATA_BUFFER`: where the buffers usually are.
    pub const DATA_BUFFER: usize = 0x80;
    /// Size of the data buffer (to the end of the page).
    pub const DATA_BUFFER_SIZE: usize = LOCALITY_STRIDE - DATA_BUFFER;

    /// `TPM_LOC_STATE` bits.
    pub mod loc_state {
        /// Bit 0: `tpmEstablished`.
        pub const ESTABLISHED: u32 = 1 << 0;
        /// Bit 1: `locAssigned`: some locality is active.
        pub const ASSIGNED: u32 = 1 << 1;
        /// Bits `[4:2]`: `activeLocality`.
        pub const ACTIVE_SHIFT: u32 = 2;
        /// The mask of `activeLocality`, in place.
        pub const ACTIVE_MASK: u32 = 0b111 << ACTIVE_SHIFT;
        /// Bit 7: `tpmRegValidSts`: the register contents are valid.
        pub const VALID: u32 = 1 << 7;
    }

    /// `TPM_LOC_CTRL` bits.
    pub mod loc_ctrl {
        /// Bit 0: request this locality.
        pub const REQUEST_ACCESS: u32 = 1 << 0;
        /// Bit 1: give this locality up.
        pub const RELINQUISH: u32 = 1 << 1;
        /// Bit 2: seize (from a lower locality).
        pub const SEIZE: u32 = 1 << 2;
        /// Bit 3: reset the established bit.
        pub const RESET_ESTABLISHMENT: u32 = 1 << 3;
    }

    /// `TPM_LOC_STS` bits.
    pub mod loc_sts {
        /// Bit 0: this locality is granted.
        pub const GRANTED: u32 = 1 << 0;
        /// Bit 1: this locality was seized.
        pub const BEEN_SEIZED: u32 = 1 << 1;
    }

    /// `TPM_CRB_INTF_ID` (low word) fields.
    pub mod intf_id {
        /// `[3:0]` InterfaceType: 1 is CRB.
        pub const TYPE_MASK: u32 = 0xF;
        /// InterfaceType CRB.
        pub const TYPE_CRB: u32 = 1;
        /// `[7:4]` InterfaceVersion: 1 is CRB.
        pub const VERSION_SHIFT: u32 = 4;
        /// Bit 8: more than locality 0.
        pub const CAP_LOCALITY: u32 = 1 << 8;
        /// Bit 14: CapCRB.
        pub const CAP_CRB: u32 = 1 << 14;
    }

    /// `TPM_CRB_CTRL_REQ` bits.
    pub mod ctrl_req {
        /// Bit 0: `cmdReady`: leave idle, get ready for a command.
        pub const COMMAND_READY: u32 = 1 << 0;
        /// Bit 1: `goIdle`.
        pub const GO_IDLE: u32 = 1 << 1;
    }

    /// `TPM_CRB_CTRL_STS` bits.
    pub mod ctrl_sts {
        /// Bit 0: `tpmSts`: a fatal error; the TPM needs a reset.
        pub const ERROR: u32 = 1 << 0;
        /// Bit 1: `tpmIdle`.
        pub const IDLE: u32 = 1 << 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_uuid_travels_as_linux_sends_it() {
        assert_eq!(
            TPM_SERVICE_UUID.to_register_pair(),
            [0xaf4f_0618_a462_b817, 0x6138_3558_9a08_b386]
        );
        assert_eq!(
            Uuid::parse("17b862a4-1806-4faf-86b3-089a58353861"),
            Some(TPM_SERVICE_UUID)
        );
    }

    #[test]
    fn statuses_round_trip() {
        for status in [
            ServiceStatus::Ok,
            ServiceStatus::OkResultsReturned,
            ServiceStatus::NoFunction,
            ServiceStatus::NotSupported,
            ServiceStatus::InvalidArgument,
            ServiceStatus::InvalidCrbControlData,
            ServiceStatus::Already,
            ServiceStatus::Denied,
            ServiceStatus::NoMemory,
        ] {
            assert_eq!(ServiceStatus::from_code(status.code()), Some(status));
        }
        assert_eq!(ServiceStatus::from_code(0x8E00_0003), None);
    }

    #[test]
    fn payloads_put_the_function_in_w4() {
        let request = start(StartQualifier::LocalityRequest, 3);
        assert_eq!(
            request.direct_payload(),
            [0, function::START as u64, 1, 3, 0]
        );
        assert_eq!(request.direct2_payload(), [function::START as u64, 1, 3, 0]);
        assert_eq!(version_major(0x8001_0002), 1, "bit 31 is not the major");
        assert_eq!(version_minor(0x0001_0002), 2);
    }

    #[test]
    fn the_qemu_region_is_five_pages_below_the_kernel() {
        assert_eq!(QEMU_VIRT_CRB.size(), 0x5000);
        assert_eq!(QEMU_VIRT_CRB.locality_base(4), 0x5FD0_4000);
        assert!(QEMU_VIRT_CRB.base + QEMU_VIRT_CRB.size() <= 0x5FE0_0000);
        assert_eq!(crb::DATA_BUFFER_SIZE, 0xF80);
    }
}
