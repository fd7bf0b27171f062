//! Interrupt lines a test raises by hand: what a chip lends capsules
//! (`kernel::hil::interrupt::InterruptLines`), with the interrupts the
//! model raised for the normal world delivered to whoever claimed them.
//!
//! ```
//! use std::cell::Cell;
//! use kernel::hil::interrupt::{InterruptClient, InterruptLines};
//! use testbed::interrupt::HostInterruptLines;
//!
//! struct Counter(Cell<u32>);
//! impl InterruptClient for Counter {
//!     fn interrupt(&self, _id: u32) { self.0.set(self.0.get() + 1) }
//! }
//! let counter: &'static Counter = testbed::leak(Counter(Cell::new(0)));
//! let lines: &'static HostInterruptLines = testbed::leak(HostInterruptLines::new());
//! lines.claim(8, counter).unwrap();
//! assert_eq!(lines.deliver(&[8, 130]), 1, "130 is nobody's");
//! assert_eq!(counter.0.get(), 1);
//! assert_eq!(lines.unclaimed(), [130]);
//! ```

use std::cell::RefCell;

use kernel::hil::interrupt::{InterruptClient, InterruptLines, LentLines};
use kernel::ErrorCode;

/// Lines lent to capsules on the host (up to 8 at once).
pub struct HostInterruptLines {
    lent: LentLines<'static, 8>,
    unclaimed: RefCell<Vec<u32>>,
}

impl HostInterruptLines {
    /// No line lent.
    pub fn new() -> HostInterruptLines {
        HostInterruptLines {
            lent: LentLines::new(),
            unclaimed: RefCell::new(Vec::new()),
        }
    }

    /// Delivers each of `ids` to the capsule that claimed it (as the
    /// chip's dispatch does); returns how many had one. The others are
    /// remembered ([`HostInterruptLines::unclaimed`]).
    pub fn deliver(&self, ids: &[u32]) -> usize {
        let mut delivered = 0;
        for id in ids {
            if self.lent.dispatch(*id) {
                delivered += 1;
            } else {
                self.unclaimed.borrow_mut().push(*id);
            }
        }
        delivered
    }

    /// Interrupts delivered that nobody had claimed.
    pub fn unclaimed(&self) -> Vec<u32> {
        self.unclaimed.borrow().clone()
    }

    /// Whether `id` is claimed.
    pub fn is_claimed(&self, id: u32) -> bool {
        self.lent.client_of(id).is_some()
    }
}

impl Default for HostInterruptLines {
    fn default() -> Self {
        HostInterruptLines::new()
    }
}

impl InterruptLines<'static> for HostInterruptLines {
    fn claim(&self, id: u32, client: &'static dyn InterruptClient) -> Result<(), ErrorCode> {
        self.lent.claim(id, client)
    }

    fn release(&self, id: u32) -> Result<(), ErrorCode> {
        self.lent.release(id)
    }
}
