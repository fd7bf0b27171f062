//! The run-time table of hosted partitions: what each one is, how it behaves and where it stands.
//!
//! Each entry keeps the partition's discovery information, its message
//! behaviour and, per execution context (vCPU), its execution state (idle,
//! or preempted in the middle of a direct request) and how many requests
//! that context answered: an MP partition's contexts run on their own
//! cores and are preempted and resumed independently. Later features hang off the same entry without changing
//! the lookups: notification bindings and pending bitmaps become a field of
//! [`HostedPartition`], and memory transactions live in their own table
//! (see the `memory_sharing` module) whose borrowers are checked with
//! [`PartitionTable::find`].

use crate::partition::{
    partitions_of, PartitionInfo, AARCH32_PARTITION_UUID, INTERRUPTING_PARTITION_UUID,
    MAXIMUM_EXECUTION_CONTEXTS, MAXIMUM_PARTITION_COUNT, NOTIFIER_PARTITION_UUID,
    PER_CPU_PARTITION_UUID, SCHEDULING_PARTITION_UUID,
};
use crate::personality::Personality;
use crate::scheduling::Job;
use ffa_abi::Uuid;

/// Number of payload registers of the largest direct message (x4–x17 of `DIRECT_REQ2`).
pub(crate) const MAXIMUM_PAYLOAD_REGISTERS: usize = 14;

/// How a partition answers a direct request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Behaviour {
    /// Returns the payload unchanged.
    Echo,
    /// Adds 1 (wrapping) to each 32-bit payload word.
    AddOne,
    /// Gets preempted (`FFA_INTERRUPT`, then `FFA_YIELD`) the configured
    /// number of times, then returns the payload unchanged.
    Interrupting,
    /// The notifier: its commands (`crate::notifier`).
    Notifier,
    /// The scheduling partition: preemptible work and yields (`crate::scheduling`).
    Scheduling,
    /// The per-CPU partition: says which execution context answered.
    PerCpu,
    /// The TPM service (`crate::tpm`), which answers before direct messaging.
    TpmService,
}

impl Behaviour {
    /// The response payload for `payload` (only the first `length` registers are meaningful).
    pub(crate) fn respond(self, payload: &mut [u64]) {
        if self == Behaviour::AddOne {
            for value in payload.iter_mut() {
                *value = u64::from((*value as u32).wrapping_add(1));
            }
        }
    }
}

/// The form of a direct request, which decides the form of its response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RequestKind {
    /// `FFA_MSG_SEND_DIRECT_REQ_32`: payload w3–w7.
    Direct32,
    /// `FFA_MSG_SEND_DIRECT_REQ_64`: payload x3–x7.
    Direct64,
    /// `FFA_MSG_SEND_DIRECT_REQ2`: payload x4–x17.
    Direct2,
}

impl RequestKind {
    /// Number of payload registers.
    pub(crate) const fn payload_length(self) -> usize {
        match self {
            RequestKind::Direct32 | RequestKind::Direct64 => 5,
            RequestKind::Direct2 => MAXIMUM_PAYLOAD_REGISTERS,
        }
    }

    /// Index of the first payload register.
    pub(crate) const fn first_payload_register(self) -> usize {
        match self {
            RequestKind::Direct32 | RequestKind::Direct64 => 3,
            RequestKind::Direct2 => 4,
        }
    }
}

/// A direct request a partition has accepted but not yet answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PendingRequest {
    pub(crate) kind: RequestKind,
    pub(crate) sender: u16,
    pub(crate) payload: [u64; MAXIMUM_PAYLOAD_REGISTERS],
    pub(crate) interrupts_remaining: u32,
    pub(crate) yields_remaining: u32,
    /// The execution context (vCPU) the request runs on.
    pub(crate) execution_context: u16,
    /// What the scheduling partition is doing for the request.
    pub(crate) job: Job,
}

/// Where a partition stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Execution {
    /// Waiting for a direct request.
    Idle,
    /// Preempted while handling this request; resumed by `FFA_RUN`.
    Preempted(PendingRequest),
}

/// One hosted partition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct HostedPartition {
    pub(crate) behaviour: Behaviour,
    /// Each execution context's state (a UP partition uses the first).
    pub(crate) executions: [Execution; MAXIMUM_EXECUTION_CONTEXTS],
    /// Requests each execution context answered.
    pub(crate) answered: [u32; MAXIMUM_EXECUTION_CONTEXTS],
}

/// The hosted partitions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PartitionTable {
    information: [PartitionInfo; MAXIMUM_PARTITION_COUNT],
    entries: [HostedPartition; MAXIMUM_PARTITION_COUNT],
    count: usize,
    /// A partition that is not there this boot (a fault): neither
    /// discovered nor reachable.
    absent: Option<u16>,
}

/// How the partition with `uuid` answers (by UUID: OP-TEE's SPMC numbers
/// the same partitions differently; OP-TEE's own partition is answered by
/// `src/optee/` before direct messaging sees it).
const fn behaviour_of(uuid: [u8; 16]) -> Behaviour {
    let uuid = Uuid::from_bytes(uuid);
    if same(&uuid, &AARCH32_PARTITION_UUID) {
        Behaviour::AddOne
    } else if same(&uuid, &INTERRUPTING_PARTITION_UUID) {
        Behaviour::Interrupting
    } else if same(&uuid, &NOTIFIER_PARTITION_UUID) {
        Behaviour::Notifier
    } else if same(&uuid, &SCHEDULING_PARTITION_UUID) {
        Behaviour::Scheduling
    } else if same(&uuid, &PER_CPU_PARTITION_UUID) {
        Behaviour::PerCpu
    } else if same(&uuid, &ffa_abi::tpm_service::TPM_SERVICE_UUID) {
        Behaviour::TpmService
    } else {
        Behaviour::Echo
    }
}

const fn same(left: &Uuid, right: &Uuid) -> bool {
    let (left, right) = (left.as_bytes(), right.as_bytes());
    let mut index = 0;
    while index < 16 {
        if left[index] != right[index] {
            return false;
        }
        index += 1;
    }
    true
}

impl PartitionTable {
    /// The partitions of a secure world answering as `personality`.
    pub(crate) const fn new(personality: Personality) -> PartitionTable {
        let hosted = partitions_of(personality);
        let mut information = [hosted[0]; MAXIMUM_PARTITION_COUNT];
        let mut entries = [HostedPartition {
            behaviour: Behaviour::Echo,
            executions: [Execution::Idle; MAXIMUM_EXECUTION_CONTEXTS],
            answered: [0; MAXIMUM_EXECUTION_CONTEXTS],
        }; MAXIMUM_PARTITION_COUNT];
        let mut index = 0;
        while index < hosted.len() {
            information[index] = hosted[index];
            entries[index].behaviour = behaviour_of(hosted[index].uuid);
            index += 1;
        }
        PartitionTable {
            information,
            entries,
            count: hosted.len(),
            absent: None,
        }
    }

    /// Makes this table what [`PartitionTable::new`] makes for
    /// `personality`, in place: entry by entry, so no second table is built
    /// on the stack first.
    pub(crate) fn reset(&mut self, personality: Personality) {
        let hosted = partitions_of(personality);
        self.information.fill(hosted[0]);
        self.entries.fill(HostedPartition {
            behaviour: Behaviour::Echo,
            executions: [Execution::Idle; MAXIMUM_EXECUTION_CONTEXTS],
            answered: [0; MAXIMUM_EXECUTION_CONTEXTS],
        });
        for ((information, entry), partition) in self
            .information
            .iter_mut()
            .zip(&mut self.entries)
            .zip(hosted)
        {
            *information = *partition;
            entry.behaviour = behaviour_of(partition.uuid);
        }
        self.count = hosted.len();
        self.absent = None;
    }

    /// Partition `id` is not there this boot.
    pub(crate) fn remove(&mut self, id: u16) {
        self.absent = Some(id);
    }

    /// Partition `id` does not have `properties` this boot (a personality
    /// or fault turned a feature off).
    pub(crate) fn clear_properties(&mut self, id: u16, properties: u32) {
        for information in self.information.iter_mut() {
            if information.id == id {
                information.properties &= !properties;
            }
        }
    }

    /// Discovery information of every hosted partition.
    pub(crate) fn information(&self) -> &[PartitionInfo] {
        &self.information[..self.count]
    }

    /// The index of the partition with this ID.
    pub(crate) fn find(&self, id: u16) -> Option<usize> {
        if self.absent == Some(id) {
            return None;
        }
        self.information()
            .iter()
            .position(|information| information.id == id)
    }

    /// Discovery information of the partition at `index`.
    pub(crate) fn information_at(&self, index: usize) -> &PartitionInfo {
        &self.information[index]
    }

    /// Run-time entry of the partition at `index`.
    pub(crate) fn entry_mut(&mut self, index: usize) -> &mut HostedPartition {
        &mut self.entries[index]
    }

    /// The execution context of the partition at `index` that runs a
    /// request made on core `core`, as Hafnium picks it: vCPU 0 of a UP
    /// partition wherever it is called from, vCPU `core` of an MP one
    /// (none for a core at or beyond its count).
    pub(crate) fn context_for_core(&self, index: usize, core: usize) -> Option<u16> {
        match self.information[index].execution_context_count {
            1 => Some(0),
            count => u16::try_from(core).ok().filter(|vcpu| *vcpu < count),
        }
    }

    /// The ID of the partition after the one at `index` (wrapping): the
    /// impostor used by the wrong-responder fault.
    pub(crate) fn next_id(&self, index: usize) -> u16 {
        self.information[(index + 1) % self.count].id
    }

    /// The partitions matching `uuid` (all of them for the nil UUID), in table order.
    pub(crate) fn matching(&self, uuid: Uuid) -> impl Iterator<Item = &PartitionInfo> {
        let absent = self.absent;
        self.information().iter().filter(move |information| {
            Some(information.id) != absent
                && (uuid.is_nil() || information.uuid == *uuid.as_bytes())
        })
    }
}
