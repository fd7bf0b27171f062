//! The echo partition's memory check: retrieve, check a pattern, write a
//! reply, relinquish — the protocol of [`ffa_abi::memory_check`], which our
//! partition for real TF-A speaks too.
//!
//! A 64-bit direct request from the normal world to the echo partition
//! (0x8001) whose x3 carries the command magic is a memory check; anything
//! else reaches the echo behaviour as before. The partition, at the SPMC's
//! own version (v1.2 at most, so its layout may differ from the sender's):
//!
//! 1. writes a retrieve request (the handle, the sender and tag it was told,
//!    the type the flags name, itself with read-write access if it is to
//!    write the reply, else read-only; not-executable for lend and donate)
//!    and retrieves, collecting the response through 4 KiB RX fragments
//!    (`FFA_MEM_RETRIEVE_RESP`, then `FFA_MEM_FRAG_RX`);
//! 2. checks the response (handle, tag, sender, type, its own access) and
//!    that every page is normal-world memory;
//! 3. checks the region against pattern P and, if asked and it matched,
//!    writes pattern Q;
//! 4. relinquishes it (also after a failed check), unless it was donated.
//!
//! The answer is `FFA_MSG_SEND_DIRECT_RESP_64` with the report in x3–x7.

use crate::call::{Call, Reply};
use crate::config::FaultConfig;
use crate::function_id::{FFA_MSG_SEND_DIRECT_REQ_64, FFA_MSG_SEND_DIRECT_RESP_64};
use crate::memory::NormalWorldMemory;
use crate::memory_descriptor::{
    put, read_access, read_composite, read_constituent, read_header, Layout, PAGE_SIZE,
};
use crate::memory_sharing::{MemorySharing, DESCRIPTOR_CAPACITY};
use crate::partition::ECHO_PARTITION_ID;
use crate::personality::Personality;
use crate::NORMAL_WORLD_ENDPOINT_ID;
use ffa_abi::memory_check::{pattern, Flags, MemoryCheck, Outcome, Report, Request};
use ffa_abi::{Status, Version};

/// The hosted partitions' RX buffer size: a retrieve response larger than
/// this arrives in fragments.
pub(crate) const PARTITION_RX_SIZE: usize = 4096;

/// The version (and so the layout) the hosted partitions speak: the
/// SPMC's, at most v1.2.
pub(crate) fn partition_layout(config: &FaultConfig) -> Layout {
    Layout::of(Version::new(config.spmc_version.0, config.spmc_version.1))
}

/// Answers `call` if it is a memory check for the echo partition; `None`
/// leaves it to direct messaging.
pub(crate) fn intercept(
    call: &Call<'_>,
    sharing: &mut MemorySharing,
    memory: &mut dyn NormalWorldMemory,
    config: &FaultConfig,
) -> Option<Reply> {
    if call.function_id() != FFA_MSG_SEND_DIRECT_REQ_64 || call.register(2) != 0 {
        return None;
    }
    let endpoints = call.word(1);
    let (sender, receiver) = ((endpoints >> 16) as u16, endpoints as u16);
    if sender != NORMAL_WORLD_ENDPOINT_ID || receiver != ECHO_PARTITION_ID {
        return None;
    }
    let payload = [3, 4, 5, 6, 7].map(|index| call.register(index));
    let report = match Request::decode_64(&payload) {
        Request::Echo => return None,
        Request::Unknown(_) => Report::new(Outcome::UnknownCommand, payload[1]),
        Request::MemoryCheck(check) => serve(
            sharing,
            memory,
            config.personality,
            ECHO_PARTITION_ID,
            partition_layout(config),
            sender,
            &check,
        ),
    };
    let mut reply = Reply::ffa(FFA_MSG_SEND_DIRECT_RESP_64)
        .with(1, u64::from(receiver) << 16 | u64::from(sender));
    for (offset, value) in report.encode().into_iter().enumerate() {
        reply = reply.with(3 + offset, value);
    }
    Some(reply)
}

/// What the partition asks for in its retrieve request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Retrieval {
    /// The transaction's sender.
    pub(crate) sender: u16,
    /// The handle.
    pub(crate) handle: u64,
    /// The tag.
    pub(crate) tag: u64,
    /// Flags `[4:3]`: 0 any, 1 share, 2 lend, 3 donate.
    pub(crate) transaction_type: u32,
    /// The permissions byte asked for.
    pub(crate) permissions: u8,
}

/// A descriptor the partition received.
pub(crate) struct Received {
    pub(crate) length: usize,
    pub(crate) fragments: u16,
}

/// Retrieves as `partition` into `descriptor`: the request, the response
/// and its fragments.
pub(crate) fn retrieve_into(
    sharing: &mut MemorySharing,
    memory: &mut dyn NormalWorldMemory,
    rules: Personality,
    partition: u16,
    layout: Layout,
    retrieval: &Retrieval,
    descriptor: &mut [u8],
) -> Result<Received, (Outcome, Status)> {
    let mut request = [0u8; 80];
    let header = layout.header_size();
    put(&mut request, 0, &retrieval.sender.to_le_bytes());
    put(
        &mut request,
        4,
        &(retrieval.transaction_type << 3).to_le_bytes(),
    );
    put(&mut request, 8, &retrieval.handle.to_le_bytes());
    put(&mut request, 16, &retrieval.tag.to_le_bytes());
    put(&mut request, 28, &1u32.to_le_bytes());
    let access = layout.access_descriptor_size();
    if layout != Layout::V1_0 {
        put(&mut request, 24, &(access as u32).to_le_bytes());
        put(&mut request, 32, &(header as u32).to_le_bytes());
    }
    put(&mut request, header, &partition.to_le_bytes());
    request[header + 2] = retrieval.permissions;
    let length = header + access;
    let mut rx = [0u8; PARTITION_RX_SIZE];
    let (total, first) = sharing
        .retrieve(
            memory,
            rules,
            partition,
            layout,
            &request[..length],
            &mut rx,
        )
        .map_err(|status| (Outcome::RetrieveFailed, status))?;
    if total > descriptor.len() {
        return Err((Outcome::FragmentFailed, Status::NoMemory));
    }
    descriptor[..first].copy_from_slice(&rx[..first]);
    let mut received = first;
    let mut fragments = 1u16;
    while received < total {
        let length = sharing
            .fragment_to_borrower(
                rules,
                partition,
                layout,
                retrieval.handle,
                received,
                &mut rx,
            )
            .map_err(|status| (Outcome::FragmentFailed, status))?;
        descriptor[received..received + length].copy_from_slice(&rx[..length]);
        received += length;
        fragments += 1;
    }
    Ok(Received {
        length: total,
        fragments,
    })
}

/// Runs a memory check as `partition` (speaking `layout`) for a request from `sender`.
pub(crate) fn serve(
    sharing: &mut MemorySharing,
    memory: &mut dyn NormalWorldMemory,
    rules: Personality,
    partition: u16,
    layout: Layout,
    sender: u16,
    check: &MemoryCheck,
) -> Report {
    let mut report = Report::new(Outcome::Passed, check.handle);
    let flags = check.flags;
    let transaction_type = if flags.has(Flags::EXPECT_DONATE) {
        3
    } else {
        match (
            flags.has(Flags::EXPECT_SHARE),
            flags.has(Flags::EXPECT_LEND),
        ) {
            (true, false) => 1,
            (false, true) => 2,
            _ => 0,
        }
    };
    let write_reply = flags.has(Flags::WRITE_REPLY);
    let data = if write_reply { 0b10 } else { 0b01 };
    let instruction = if matches!(transaction_type, 2 | 3) {
        0b01 << 2
    } else {
        0
    };
    let retrieval = Retrieval {
        sender,
        handle: check.handle,
        tag: check.tag,
        transaction_type,
        permissions: data | instruction,
    };
    let mut descriptor = [0u8; DESCRIPTOR_CAPACITY];
    let received = match retrieve_into(
        sharing,
        memory,
        rules,
        partition,
        layout,
        &retrieval,
        &mut descriptor,
    ) {
        Ok(received) => received,
        Err((outcome, status)) => {
            report.outcome = outcome;
            report.status = status.code() as i16;
            return report;
        }
    };
    report.fragments = received.fragments;
    let donated = check_region(
        memory,
        rules,
        partition,
        layout,
        check,
        transaction_type,
        &descriptor[..received.length],
        &mut report,
    );
    if !donated {
        let mut relinquish = [0u8; 18];
        put(&mut relinquish, 0, &check.handle.to_le_bytes());
        put(&mut relinquish, 12, &1u32.to_le_bytes());
        put(&mut relinquish, 16, &partition.to_le_bytes());
        if let Err(status) = sharing.relinquish(memory, rules, partition, &relinquish) {
            if report.outcome == Outcome::Passed {
                report.outcome = Outcome::RelinquishFailed;
                report.status = status.code() as i16;
            }
        }
    }
    report
}

/// Checks the retrieved descriptor and the region; returns whether the
/// region was donated (the partition keeps it).
#[allow(clippy::too_many_arguments)]
fn check_region(
    memory: &mut dyn NormalWorldMemory,
    rules: Personality,
    partition: u16,
    layout: Layout,
    check: &MemoryCheck,
    transaction_type: u32,
    bytes: &[u8],
    report: &mut Report,
) -> bool {
    let response = rules.response_layout(layout);
    let Ok(header) = read_header(bytes, response) else {
        report.outcome = Outcome::BadDescriptor;
        return false;
    };
    let donated = (header.flags >> 3) & 0b11 == 3;
    let access = (0..header.receiver_count)
        .filter_map(|index| read_access(bytes, &header, index).ok())
        .find(|access| access.receiver == partition);
    let Some(access) = access else {
        report.outcome = Outcome::BadDescriptor;
        return donated;
    };
    let Ok(composite) = read_composite(bytes, access.composite_offset as usize) else {
        report.outcome = Outcome::BadDescriptor;
        return donated;
    };
    report.constituents = composite.range_count as u32;
    if header.handle != check.handle
        || header.tag != check.tag
        || (transaction_type != 0 && (header.flags >> 3) & 0b11 != transaction_type)
    {
        report.outcome = Outcome::BadDescriptor;
        return donated;
    }
    let ranges =
        || (0..composite.range_count).map(|index| read_constituent(bytes, &composite, index));
    let mut probe = [0u8; 1];
    if ranges().any(|(address, pages, _)| {
        memory.read(address, &mut probe).is_err()
            || memory
                .read(address + u64::from(pages) * PAGE_SIZE - 1, &mut probe)
                .is_err()
    }) {
        report.outcome = Outcome::OutsideNonSecureMemory;
        return donated;
    }
    let write_reply = check.flags.has(Flags::WRITE_REPLY);
    if write_reply && access.permissions & 0b11 != 0b10 && !donated {
        report.outcome = Outcome::NotWritable;
        return donated;
    }
    let mut chunk = [0u8; 256];
    let mut offset = 0u64;
    for (address, pages, _) in ranges() {
        let size = u64::from(pages) * PAGE_SIZE;
        let mut done = 0u64;
        while done < size {
            let take = (size - done).min(chunk.len() as u64) as usize;
            if memory.read(address + done, &mut chunk[..take]).is_err() {
                report.outcome = Outcome::OutsideNonSecureMemory;
                return donated;
            }
            if let Some(at) = pattern::first_mismatch(check.check_seed, offset, &chunk[..take]) {
                report.outcome = Outcome::PatternMismatch;
                report.first_mismatch = at;
                report.bytes_checked = at;
                return donated;
            }
            offset += take as u64;
            done += take as u64;
        }
    }
    report.bytes_checked = offset;
    if write_reply {
        let mut offset = 0u64;
        for (address, pages, _) in ranges() {
            let size = u64::from(pages) * PAGE_SIZE;
            let mut done = 0u64;
            while done < size {
                let take = (size - done).min(chunk.len() as u64) as usize;
                pattern::fill(check.reply_seed, offset, &mut chunk[..take]);
                let _ = memory.write(address + done, &chunk[..take]);
                offset += take as u64;
                done += take as u64;
            }
        }
    }
    donated
}
