//! Notifications and indirect messages through the proxy: what the host may
//! name, and the copies between its buffers and the proxy's.
//!
//! The host is one endpoint, 0, and the monitor knows only the proxy's
//! RX/TX pair; so the proxy vouches for the IDs and carries the messages:
//!
//! - **`BIND`/`UNBIND`**: the receiver (w1 `[15:0]`) must be the host (0)
//!   and the sender a secure endpoint (bit 15 set); then passed on.
//! - **`SET`**: the sender (w1 `[31:16]`) must be the host and the receiver
//!   a secure endpoint; then passed on.
//! - **`GET`**: the receiver must be the host; passed on. If the answer
//!   says the SPM's "RX buffer full" (w6 bit 0), the message the monitor
//!   put in the proxy's RX buffer is checked (receiver 0, the payload inside
//!   both RX buffers) and copied, header and payload, into the host's RX
//!   buffer; the host releases it with `FFA_RX_RELEASE` (passed on, it
//!   releases the proxy's, which the monitor filled). A message that does
//!   not pass is dropped: the proxy releases its RX buffer at the monitor
//!   and clears the bit in the host's answer.
//! - **`FFA_MSG_SEND2`**: the monitor reads the proxy's TX buffer, never the
//!   host's (the hazard of forwarding it unchanged, as pKVM does: the
//!   message would never arrive). w1 must be 0 (only a hypervisor names a
//!   VM as sender). The header is copied into the proxy's TX buffer first
//!   and checked there, where the host cannot change it any more (sender
//!   0, flags and reserved words zero, the payload offset at least the
//!   host's header size — 20 bytes at v1.1, 40 from v1.2 — and the payload
//!   inside both TX buffers); then the payload is copied and the call made
//!   with the proxy's buffer.
//! - **`INFO_GET`** is passed through (the host is the scheduler), and so
//!   is the schedule receiver interrupt's feature ID.
//!
//! The host's notification bitmap is the hypervisor's to make: the proxy
//! creates it (`BITMAP_CREATE(0, vCPUs)`, one vCPU per host core as finalisation was told, v1.1+) when it maps its own pair
//! for the host's, and destroys it when it unmaps them; the host's own
//! `BITMAP_CREATE`/`DESTROY` are refused, as Xen refuses them to guests.
//! `FFA_RX_ACQUIRE` (a hypervisor's call, to write a VM's RX buffer the
//! monitor also knows) is refused to the host, and the proxy never needs
//! it: the monitor knows only the proxy's RX buffer and hands it over with
//! the call or notification that filled it, and the host's RX buffer is
//! written by EL2 alone.

use crate::memory::Mailbox;
use crate::proxy::HostBuffers;
use crate::reply;
use crate::Registers;
use ffa_abi::function::{
    FFA_MSG_SEND2, FFA_NOTIFICATION_BITMAP_CREATE, FFA_NOTIFICATION_BITMAP_DESTROY, FFA_RX_RELEASE,
};
use ffa_abi::notification::FRAMEWORK_RX_BUFFER_FULL;
use ffa_abi::{indirect, ReplyKind, Version};
use kernel::hil::hypervisor::El2Services;
use kernel::hil::smccc::SmcccRegisters;

fn monitor(el2: &mut dyn El2Services, call: &Registers) -> Registers {
    el2.call_monitor(&SmcccRegisters { x: *call }).x
}

/// Whether `id` is a secure endpoint's ID (bit 15 set).
pub const fn is_secure_endpoint(id: u16) -> bool {
    id & 0x8000 != 0
}

/// Why the host's w1 of a notification call is refused, if it is.
pub fn check_endpoints(function_id: u32, w1: u32) -> Result<(), &'static str> {
    use ffa_abi::function::{
        FFA_NOTIFICATION_BIND, FFA_NOTIFICATION_GET, FFA_NOTIFICATION_SET, FFA_NOTIFICATION_UNBIND,
    };
    let high = (w1 >> 16) as u16;
    let low = w1 as u16;
    match function_id {
        FFA_NOTIFICATION_BIND | FFA_NOTIFICATION_UNBIND => {
            if low != 0 {
                Err("the receiver must be the host (0)")
            } else if !is_secure_endpoint(high) {
                Err("the sender must be a secure endpoint")
            } else {
                Ok(())
            }
        }
        FFA_NOTIFICATION_SET => {
            if high != 0 {
                Err("the sender must be the host (0)")
            } else if !is_secure_endpoint(low) {
                Err("the receiver must be a secure endpoint")
            } else {
                Ok(())
            }
        }
        FFA_NOTIFICATION_GET => {
            if low != 0 {
                Err("the receiver must be the host (0)")
            } else {
                Ok(())
            }
        }
        _ => Ok(()),
    }
}

fn word(bytes: &[u8], offset: usize) -> u32 {
    let mut word = [0u8; 4];
    word.copy_from_slice(&bytes[offset..offset + 4]);
    u32::from_le_bytes(word)
}

/// A message header's offset and size, checked: flags and reserved words
/// zero, the endpoints as `expected_endpoints` says (`sender`, `receiver`),
/// the payload at or after `minimum_offset` and inside `room` bytes.
/// Returns the bytes to copy (header and payload: offset + size).
pub fn check_header(
    header: &[u8; indirect::HEADER_SIZE_V1_2],
    minimum_offset: usize,
    room: u64,
    sender: Option<u16>,
    receiver: Option<u16>,
) -> Result<u64, &'static str> {
    if word(header, indirect::FLAGS) != 0 || word(header, indirect::FLAGS + 4) != 0 {
        return Err("flags or reserved word not zero");
    }
    let endpoints = word(header, indirect::ENDPOINTS);
    if sender.is_some_and(|sender| (endpoints >> 16) as u16 != sender) {
        return Err("the sender is not the host");
    }
    if receiver.is_some_and(|receiver| endpoints as u16 != receiver) {
        return Err("the receiver is not the host");
    }
    let offset = word(header, indirect::PAYLOAD_OFFSET);
    if (offset as usize) < minimum_offset {
        return Err("the payload starts inside the header");
    }
    let end = u64::from(offset) + u64::from(word(header, indirect::PAYLOAD_SIZE));
    if end > room {
        return Err("the payload does not fit the buffers");
    }
    Ok(end)
}

/// The header size a host of `version` writes.
pub fn header_size(version: Version) -> usize {
    if version >= Version::V1_2 {
        indirect::HEADER_SIZE_V1_2
    } else {
        indirect::HEADER_SIZE_V1_1
    }
}

/// `FFA_MSG_SEND2` of the host: its message, checked, into the proxy's TX
/// buffer, then the call. `Ok`: the monitor's answer and the bytes copied.
pub fn send2(
    call: &Registers,
    version: Version,
    host: HostBuffers,
    mailbox: Mailbox,
    el2: &mut dyn El2Services,
) -> Result<(Registers, u64), &'static str> {
    let room = host.size().min(mailbox.size());
    let header_bytes = (indirect::HEADER_SIZE_V1_2 as u64).min(room);
    el2.copy(mailbox.transmit, host.transmit, header_bytes as usize)
        .map_err(|_| "the header could not be copied")?;
    let mut header = [0u8; indirect::HEADER_SIZE_V1_2];
    el2.read(mailbox.transmit, &mut header[..header_bytes as usize])
        .map_err(|_| "the header could not be read")?;
    let end = check_header(&header, header_size(version), room, Some(0), None)?;
    if end > header_bytes {
        el2.copy(
            mailbox.transmit + header_bytes,
            host.transmit + header_bytes,
            (end - header_bytes) as usize,
        )
        .map_err(|_| "the payload could not be copied")?;
    }
    let answer = monitor(
        el2,
        &reply::call(FFA_MSG_SEND2, &[0, call[2] & 0xFFFF_FFFF]),
    );
    Ok((answer, end))
}

/// What became of the message a `GET` announced.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Delivery {
    /// No message announced.
    None,
    /// Copied into the host's RX buffer: this many bytes.
    Copied(u64),
    /// Dropped (released at the monitor, hidden from the host): why.
    Dropped(&'static str),
}

/// After a successful `GET` of the host: delivers the message the SPM's
/// "RX buffer full" announces, into the host's RX buffer, or drops it.
pub fn deliver(
    answer: &mut Registers,
    host: Option<HostBuffers>,
    mailbox: Mailbox,
    el2: &mut dyn El2Services,
) -> Delivery {
    if !reply::kind(answer).is_success() || answer[6] as u32 & FRAMEWORK_RX_BUFFER_FULL == 0 {
        return Delivery::None;
    }
    let outcome = (|| {
        let host = host.ok_or("the host has no RX buffer")?;
        let room = host.size().min(mailbox.size());
        let mut header = [0u8; indirect::HEADER_SIZE_V1_2];
        let length = header.len().min(room as usize);
        el2.read(mailbox.receive, &mut header[..length])
            .map_err(|_| "the header could not be read")?;
        let end = check_header(&header, indirect::HEADER_SIZE_V1_1, room, None, Some(0))?;
        el2.copy(host.receive, mailbox.receive, end as usize)
            .map_err(|_| "the copy into the host's RX buffer failed")?;
        Ok(end)
    })();
    match outcome {
        Ok(bytes) => Delivery::Copied(bytes),
        Err(reason) => {
            // The host will not see it: give the monitor its buffer back.
            monitor(el2, &reply::call(FFA_RX_RELEASE, &[]));
            answer[6] &= !u64::from(FRAMEWORK_RX_BUFFER_FULL);
            Delivery::Dropped(reason)
        }
    }
}

/// `BITMAP_CREATE` of the host's bitmap (VM 0) at the monitor, with a
/// vCPU for each of the host's `cores`.
pub fn create_host_bitmap(el2: &mut dyn El2Services, cores: u16) -> ReplyKind {
    reply::kind(&monitor(
        el2,
        &reply::call(FFA_NOTIFICATION_BITMAP_CREATE, &[0, u64::from(cores)]),
    ))
}

/// `BITMAP_DESTROY` of the host's bitmap at the monitor.
pub fn destroy_host_bitmap(el2: &mut dyn El2Services) -> ReplyKind {
    reply::kind(&monitor(
        el2,
        &reply::call(FFA_NOTIFICATION_BITMAP_DESTROY, &[0]),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(offset: u32, endpoints: u32, size: u32) -> [u8; 40] {
        let mut bytes = [0u8; 40];
        bytes[8..12].copy_from_slice(&offset.to_le_bytes());
        bytes[12..16].copy_from_slice(&endpoints.to_le_bytes());
        bytes[16..20].copy_from_slice(&size.to_le_bytes());
        bytes
    }

    #[test]
    fn headers_are_checked() {
        let good = header(40, 0x0000_8004, 10);
        assert_eq!(check_header(&good, 40, 4096, Some(0), None), Ok(50));
        assert!(check_header(&good, 40, 4096, Some(0x8001), None).is_err());
        assert!(check_header(&header(20, 0x8004, 10), 40, 4096, Some(0), None).is_err());
        assert!(check_header(&header(40, 0x8004, u32::MAX), 40, 4096, Some(0), None).is_err());
        let mut flagged = good;
        flagged[0] = 1;
        assert!(check_header(&flagged, 40, 4096, Some(0), None).is_err());
        let incoming = header(40, 0x8004_0000, 10);
        assert_eq!(check_header(&incoming, 20, 4096, None, Some(0)), Ok(50));
        assert!(check_header(&incoming, 20, 4096, None, Some(1)).is_err());
    }

    #[test]
    fn endpoints_the_host_may_name() {
        use ffa_abi::function::*;
        assert!(check_endpoints(FFA_NOTIFICATION_BIND, 0x8004_0000).is_ok());
        assert!(check_endpoints(FFA_NOTIFICATION_BIND, 0x8004_0001).is_err());
        assert!(check_endpoints(FFA_NOTIFICATION_BIND, 0x0001_0000).is_err());
        assert!(check_endpoints(FFA_NOTIFICATION_SET, 0x0000_8004).is_ok());
        assert!(check_endpoints(FFA_NOTIFICATION_SET, 0x0001_8004).is_err());
        assert!(check_endpoints(FFA_NOTIFICATION_SET, 0x0000_0001).is_err());
        assert!(check_endpoints(FFA_NOTIFICATION_GET, 0x0000_0000).is_ok());
        assert!(check_endpoints(FFA_NOTIFICATION_GET, 0x0000_0002).is_err());
    }
}
