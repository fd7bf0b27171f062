//! Memory sharing (`FFA_MEM_SHARE`, `LEND`, `DONATE`, `RETRIEVE`, `RELINQUISH`, `RECLAIM`, fragments): not modelled yet.
//!
//! Every memory-management call answers `FFA_ERROR(NOT_SUPPORTED)` and
//! `FFA_FEATURES` reports them unsupported. The state lives here so adding
//! the feature touches only this module and the dispatcher: a fixed-size
//! table of transactions (handle, sender, borrowers checked against the
//! partition table, constituents read from the TX buffer through
//! [`crate::NormalWorldMemory`]).

use crate::call::{Call, Reply};
use crate::function_id::*;
use ffa_abi::Status;

/// Whether `function_id` is a memory-management call.
pub(crate) fn handles(function_id: u32) -> bool {
    matches!(
        function_id,
        FFA_MEM_DONATE_32
            | FFA_MEM_DONATE_64
            | FFA_MEM_LEND_32
            | FFA_MEM_LEND_64
            | FFA_MEM_SHARE_32
            | FFA_MEM_SHARE_64
            | FFA_MEM_RETRIEVE_REQ_32
            | FFA_MEM_RETRIEVE_REQ_64
            | FFA_MEM_RETRIEVE_RESP
            | FFA_MEM_RELINQUISH
            | FFA_MEM_RECLAIM
            | FFA_MEM_OP_PAUSE
            | FFA_MEM_OP_RESUME
            | FFA_MEM_FRAG_RX
            | FFA_MEM_FRAG_TX
            | FFA_MEM_PERM_GET_32
            | FFA_MEM_PERM_GET_64
            | FFA_MEM_PERM_SET_32
            | FFA_MEM_PERM_SET_64
    )
}

/// The memory transactions in flight (none can exist yet).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct MemorySharing;

impl MemorySharing {
    /// Handle a call for which [`handles`] is true.
    pub(crate) fn handle(&mut self, _call: &Call<'_>) -> Reply {
        Reply::error(Status::NotSupported)
    }
}
