//! The TPM service over FF-A (Arm DEN0138) as the driver calls it: one
//! split-phase direct request per call, through the partition's handle.
//!
//! As Linux's `tpm_crb_ffa.c` does, a call goes out as
//! `FFA_MSG_SEND_DIRECT_REQ2` when the partition receives it (properties
//! bit 9, v1.2, offered by the callee; an EL2 proxy that does not pass
//! `REQ2` on does not offer it), else as the 64-bit `DIRECT_REQ` to an
//! AArch64 partition, else the 32-bit one. The status comes back in w4/x4.
//!
//! [`send`] hands the request to the bus's request engine and returns at
//! once; the response arrives through the driver's
//! [`DirectRequestClient`](capsule_ffa::requests::DirectRequestClient),
//! from the main loop, and [`decode`] reads the service's answer out of it.
//! The engine backs off `BUSY`/`RETRY` and resumes a preempted or yielded
//! partition on its own, within its retry policy.

use capsule_ffa::messaging::{AnyDirectMessage, DirectMessage2, DirectMessage32, DirectMessage64};
use capsule_ffa::{ClientError, PartitionHandle, Status};
use ffa_abi::tpm_service::{ServiceRequest, ServiceResponse, ServiceStatus};
use kernel::ErrorCode;

/// Which direct request carries the calls.
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub enum Carrier {
    /// `FFA_MSG_SEND_DIRECT_REQ2` (x4–x7).
    DirectRequest2,
    /// 64-bit `FFA_MSG_SEND_DIRECT_REQ` (w3 zero, x4–x7).
    DirectRequest64,
    /// 32-bit `FFA_MSG_SEND_DIRECT_REQ` (w3 zero, w4–w7).
    DirectRequest32,
}

impl Carrier {
    /// The carrier Linux would choose for the partition behind `handle`.
    pub fn for_partition(handle: &PartitionHandle<'_>) -> Carrier {
        if handle.supports_direct_request_2() {
            Carrier::DirectRequest2
        } else if handle.supports_direct_request_64() {
            Carrier::DirectRequest64
        } else {
            Carrier::DirectRequest32
        }
    }

    /// Its name, for logs.
    pub const fn name(self) -> &'static str {
        match self {
            Carrier::DirectRequest2 => "FFA_MSG_SEND_DIRECT_REQ2",
            Carrier::DirectRequest64 => "FFA_MSG_SEND_DIRECT_REQ_64",
            Carrier::DirectRequest32 => "FFA_MSG_SEND_DIRECT_REQ_32",
        }
    }
}

/// Why a call failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub enum ServiceFailure {
    /// The request could not be handed to the request engine.
    NotSent(ErrorCode),
    /// The direct request failed (FF-A's error).
    Ffa(ClientError),
    /// The service answered a status other than success.
    Status(ServiceStatus),
    /// The service answered a status word the interface does not define.
    UnknownStatus(u32),
}

impl ServiceFailure {
    /// Whether trying again later may succeed: the partition is busy or not
    /// ready yet (`BUSY`, `NOT_READY`, `RETRY`, or the engine's `BUSY`
    /// retries ran out). Linux retries these for up to 2 s.
    pub const fn is_transient(&self) -> bool {
        matches!(
            self,
            ServiceFailure::Ffa(
                ClientError::RetriesExhausted
                    | ClientError::Status(Status::Busy | Status::NotReady | Status::Retry)
            )
        )
    }
}

/// Sends `request` to the service behind `handle` with `carrier`,
/// split-phase: the answer comes to the handle's request client.
pub fn send(
    handle: &PartitionHandle<'_>,
    carrier: Carrier,
    request: &ServiceRequest,
) -> Result<(), ErrorCode> {
    match carrier {
        Carrier::DirectRequest2 => {
            let mut payload = [0u64; 14];
            payload[..4].copy_from_slice(&request.direct2_payload());
            handle.send(&DirectMessage2::new(payload))
        }
        Carrier::DirectRequest64 => handle.send(&DirectMessage64::new(request.direct_payload())),
        Carrier::DirectRequest32 => handle.send(&DirectMessage32::new(
            request.direct_payload().map(|value| value as u32),
        )),
    }
}

/// The service's answer in the outcome of a request [`send`] made: the
/// status and results in w4–w7 (x4–x7), whatever carried them.
pub fn decode(
    result: Result<AnyDirectMessage, ClientError>,
) -> Result<ServiceResponse, ServiceFailure> {
    let registers = match result.map_err(ServiceFailure::Ffa)? {
        AnyDirectMessage::Two(message) => [
            message.payload[0],
            message.payload[1],
            message.payload[2],
            message.payload[3],
        ],
        AnyDirectMessage::Bits64(message) => [
            message.payload[1],
            message.payload[2],
            message.payload[3],
            message.payload[4],
        ],
        AnyDirectMessage::Bits32(message) => [
            u64::from(message.payload[1]),
            u64::from(message.payload[2]),
            u64::from(message.payload[3]),
            u64::from(message.payload[4]),
        ],
    };
    let response = ServiceResponse::from_registers(registers);
    match response.status() {
        Some(status) if status.is_success() => Ok(response),
        Some(status) => Err(ServiceFailure::Status(status)),
        None => Err(ServiceFailure::UnknownStatus(response.status)),
    }
}
