//! Notifications (`FFA_NOTIFICATION_BITMAP_CREATE/DESTROY`, `BIND`, `UNBIND`, `SET`, `GET`, `INFO_GET`): not modelled yet.
//!
//! Every notification call answers `FFA_ERROR(NOT_SUPPORTED)`, `FFA_FEATURES`
//! reports them (and the NPI/SRI feature IDs) unsupported, and no partition
//! advertises the notifications property. The state lives here so adding the
//! feature touches only this module, the dispatcher and one field per
//! partition-table entry: the normal-world bitmap (created by
//! `BITMAP_CREATE`), per-partition bindings and pending bits.

use crate::call::{Call, Reply};
use crate::function_id::*;
use ffa_abi::Status;

/// Whether `function_id` is a notification call.
pub(crate) fn handles(function_id: u32) -> bool {
    matches!(
        function_id,
        FFA_NOTIFICATION_BITMAP_CREATE
            | FFA_NOTIFICATION_BITMAP_DESTROY
            | FFA_NOTIFICATION_BIND
            | FFA_NOTIFICATION_UNBIND
            | FFA_NOTIFICATION_SET
            | FFA_NOTIFICATION_GET
            | FFA_NOTIFICATION_INFO_GET_32
            | FFA_NOTIFICATION_INFO_GET_64
    )
}

/// The notification state of the normal world (no bitmap can exist yet).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Notifications;

impl Notifications {
    /// Handle a call for which [`handles`] is true.
    pub(crate) fn handle(&mut self, _call: &Call<'_>) -> Reply {
        Reply::error(Status::NotSupported)
    }
}
