//! The notifier partition (0x8004): notifications and indirect messages,
//! with the protocol of `ffa_abi::test_services::notifier`.
//!
//! * At boot it lets the normal world set its notifications 0–15 (bound to
//!   sender 0, global). When the normal world sets some, it sets the same
//!   IDs back for the normal world (those the normal world bound to it).
//! * `NOTIFY_NOW` sets the normal world's notifications from the request
//!   (global, or per vCPU) and answers the SPMC's status in w4.
//! * `NOTIFY_LATER` arms the secure timer and sets them when it expires
//!   (at most [`TIMERS`] waiting at once; more → `NO_MEMORY` in w3).
//! * `SEND_MESSAGE` sends the normal world an indirect message of the
//!   pattern the request names (`BUSY` in w3 while another one waits for
//!   the normal world's RX buffer).
//! * An indirect message from the normal world is sent back unchanged.
//! * `STATISTICS` answers the counters.
//!
//! Unknown commands answer `INVALID_PARAMETERS` in w3.

use crate::indirect::Counters as MessageCounters;
use crate::notifications::{Counters as NotificationCounters, PartitionBitmaps};
use ffa_abi::notification::Bitmap;
use ffa_abi::test_services::notifier;
use ffa_abi::Status;

/// Timed notifications that may wait at once.
pub const TIMERS: usize = 4;

/// A timed notification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Timed {
    pub(crate) deadline_us: u64,
    pub(crate) bitmap: Bitmap,
}

/// The notifier's own state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Notifier {
    pub(crate) timers: [Option<Timed>; TIMERS],
}

/// What a command asks the dispatcher to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Command {
    /// Set `bitmap` for the normal world now (for `vcpu`, if per-vCPU).
    NotifyNow { bitmap: Bitmap, vcpu: Option<u16> },
    /// Set `bitmap` after `delay_us`.
    NotifyLater { bitmap: Bitmap, delay_us: u64 },
    /// Send a message of `length` bytes of the pattern from `first`.
    SendMessage { length: usize, first: u8 },
    /// Answer the counters.
    Statistics,
    /// Unknown: `INVALID_PARAMETERS`.
    Unknown,
}

/// The status word of a response.
pub(crate) const fn status_word(status: Result<(), Status>) -> u64 {
    match status {
        Ok(()) => 0,
        Err(status) => status.code() as u32 as u64,
    }
}

impl Command {
    /// The command in request `payload` (w3 on).
    pub(crate) fn decode(payload: &[u64]) -> Command {
        let word = |index: usize| payload.get(index).copied().unwrap_or(0) as u32;
        let bitmap = Bitmap::from_words(word(1), word(2));
        match word(0) {
            notifier::NOTIFY_NOW => {
                let flags = word(3);
                Command::NotifyNow {
                    bitmap,
                    vcpu: (flags & 1 != 0).then_some((flags >> 16) as u16),
                }
            }
            notifier::NOTIFY_LATER => Command::NotifyLater {
                bitmap,
                delay_us: u64::from(word(3)),
            },
            notifier::SEND_MESSAGE => Command::SendMessage {
                length: word(1) as usize,
                first: word(2) as u8,
            },
            notifier::STATISTICS => Command::Statistics,
            _ => Command::Unknown,
        }
    }
}

impl Notifier {
    pub(crate) const fn new() -> Notifier {
        Notifier {
            timers: [None; TIMERS],
        }
    }

    /// The partition's bitmaps at boot: 0–15 bound to the normal world.
    pub(crate) const fn boot_bitmaps() -> PartitionBitmaps {
        PartitionBitmaps {
            bound_to_normal_world: notifier::BOUND_FOR_THE_NORMAL_WORLD,
            pending: 0,
        }
    }

    /// Arms a timed notification; `NO_MEMORY` when every timer waits.
    pub(crate) fn arm(&mut self, timed: Timed) -> Result<(), Status> {
        let free = self
            .timers
            .iter_mut()
            .find(|timer| timer.is_none())
            .ok_or(Status::NoMemory)?;
        *free = Some(timed);
        Ok(())
    }

    /// The earliest deadline waiting.
    pub(crate) fn next_deadline(&self) -> Option<u64> {
        self.timers
            .iter()
            .flatten()
            .map(|timed| timed.deadline_us)
            .min()
    }

    /// Takes the timed notifications due at `now`.
    pub(crate) fn take_due(&mut self, now_us: u64) -> Bitmap {
        let mut due = Bitmap::EMPTY;
        for timer in self.timers.iter_mut() {
            if timer.is_some_and(|timed| timed.deadline_us <= now_us) {
                if let Some(timed) = timer.take() {
                    due = due.union(timed.bitmap);
                }
            }
        }
        due
    }

    /// The `STATISTICS` answer.
    pub(crate) fn statistics(
        messages: MessageCounters,
        notifications: NotificationCounters,
    ) -> [u64; 5] {
        [
            0,
            u64::from(messages.received),
            u64::from(messages.sent),
            u64::from(notifications.from_normal_world),
            u64::from(notifications.for_normal_world),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_decode() {
        assert_eq!(
            Command::decode(&[1, 0x3, 0x1, 0x2_0001]),
            Command::NotifyNow {
                bitmap: Bitmap(0x1_0000_0003),
                vcpu: Some(2)
            }
        );
        assert_eq!(
            Command::decode(&[2, 0x10, 0, 500]),
            Command::NotifyLater {
                bitmap: Bitmap(0x10),
                delay_us: 500
            }
        );
        assert_eq!(Command::decode(&[77]), Command::Unknown);
    }

    #[test]
    fn timers_fill_and_fire_in_order() {
        let mut notifier = Notifier::new();
        for index in 0..TIMERS as u64 {
            notifier
                .arm(Timed {
                    deadline_us: 100 * (index + 1),
                    bitmap: Bitmap::of(index as u8),
                })
                .unwrap();
        }
        assert_eq!(
            notifier.arm(Timed {
                deadline_us: 1,
                bitmap: Bitmap::of(9)
            }),
            Err(Status::NoMemory)
        );
        assert_eq!(notifier.next_deadline(), Some(100));
        assert_eq!(notifier.take_due(250), Bitmap(0b11));
        assert_eq!(notifier.next_deadline(), Some(300));
    }
}
