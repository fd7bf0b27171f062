//! Interrupt lines a capsule learns of at run time: the capsule names an
//! interrupt ID (for example the FF-A schedule receiver interrupt that
//! `FFA_FEATURES` reports) and the chip enables it and routes it to the
//! capsule's [`InterruptClient`].
//!
//! The kernel takes interrupts by polling from the main loop, so
//! [`InterruptClient::interrupt`] runs in the main loop, after the chip has
//! acknowledged the interrupt and before it ends it; never inside
//! [`InterruptLines::claim`].
//!
//! ```ignore
//! lines.claim(8, &notifications)?; // SGI 8, as Hafnium reports the SRI
//! // ... later, from the main loop: notifications.interrupt(8)
//! lines.release(8);
//! ```

use crate::ErrorCode;

/// Told when a claimed interrupt fires.
pub trait InterruptClient {
    /// Interrupt `id` fired (acknowledged; it is ended when this returns).
    fn interrupt(&self, id: u32);
}

/// Interrupt lines a chip lends to capsules.
pub trait InterruptLines<'a> {
    /// Enables interrupt `id` and routes it to `client`. Fails with
    /// `INVAL` for an ID the chip cannot lend (special IDs, or one its own
    /// drivers use), `ALREADY` if another client holds it, `NOMEM` if the
    /// chip's table of lent lines is full.
    fn claim(&self, id: u32, client: &'a dyn InterruptClient) -> Result<(), ErrorCode>;

    /// Disables interrupt `id` and forgets its client. `ALREADY` if it was
    /// not claimed.
    fn release(&self, id: u32) -> Result<(), ErrorCode>;
}

/// The bookkeeping half of [`InterruptLines`] for a chip: which IDs are
/// lent to which clients, at most `N` at once. The chip enables and
/// disables the lines at its interrupt controller, and calls
/// [`LentLines::dispatch`] for interrupts its own drivers do not handle.
///
/// ```
/// use kernel::hil::interrupt::{InterruptClient, LentLines};
/// use kernel::ErrorCode;
/// # use core::cell::Cell;
/// struct Counter(Cell<u32>);
/// impl InterruptClient for Counter {
///     fn interrupt(&self, _id: u32) { self.0.set(self.0.get() + 1) }
/// }
/// let counter = Counter(Cell::new(0));
/// let lines: LentLines<'_, 2> = LentLines::new();
/// lines.claim(8, &counter).unwrap();
/// assert_eq!(lines.claim(8, &counter), Err(ErrorCode::ALREADY));
/// assert!(lines.dispatch(8));
/// assert!(!lines.dispatch(9), "not lent: the chip handles it");
/// assert_eq!(counter.0.get(), 1);
/// ```
pub struct LentLines<'a, const N: usize> {
    slots: [crate::cells::OptionalCell<(u32, &'a dyn InterruptClient)>; N],
}

impl<'a, const N: usize> LentLines<'a, N> {
    /// No line lent.
    pub const fn new() -> Self {
        LentLines {
            slots: [const { crate::cells::OptionalCell::empty() }; N],
        }
    }

    /// Records that `id` goes to `client` (see [`InterruptLines::claim`]
    /// for the errors; `INVAL` is the chip's to decide).
    pub fn claim(&self, id: u32, client: &'a dyn InterruptClient) -> Result<(), ErrorCode> {
        if self.client_of(id).is_some() {
            return Err(ErrorCode::ALREADY);
        }
        let free = self
            .slots
            .iter()
            .find(|slot| slot.is_none())
            .ok_or(ErrorCode::NOMEM)?;
        free.set((id, client));
        Ok(())
    }

    /// Forgets `id`'s client; `ALREADY` if it had none.
    pub fn release(&self, id: u32) -> Result<(), ErrorCode> {
        let slot = self
            .slots
            .iter()
            .find(|slot| slot.get().is_some_and(|(lent, _)| lent == id))
            .ok_or(ErrorCode::ALREADY)?;
        slot.clear();
        Ok(())
    }

    /// The client `id` is lent to.
    pub fn client_of(&self, id: u32) -> Option<&'a dyn InterruptClient> {
        self.slots
            .iter()
            .find_map(|slot| slot.get().filter(|(lent, _)| *lent == id))
            .map(|(_, client)| client)
    }

    /// Tells `id`'s client; `false` if `id` is not lent.
    pub fn dispatch(&self, id: u32) -> bool {
        match self.client_of(id) {
            Some(client) => {
                client.interrupt(id);
                true
            }
            None => false,
        }
    }
}

impl<const N: usize> Default for LentLines<'_, N> {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::cell::Cell;

    struct Seen(Cell<u32>);
    impl InterruptClient for Seen {
        fn interrupt(&self, id: u32) {
            self.0.set(id);
        }
    }

    #[test]
    fn claims_release_and_fill_up() {
        let first = Seen(Cell::new(0));
        let second = Seen(Cell::new(0));
        let lines: LentLines<'_, 1> = LentLines::new();
        assert_eq!(lines.release(8), Err(ErrorCode::ALREADY));
        lines.claim(8, &first).unwrap();
        assert_eq!(lines.claim(9, &second), Err(ErrorCode::NOMEM));
        assert!(lines.dispatch(8));
        assert_eq!(first.0.get(), 8);
        lines.release(8).unwrap();
        assert!(!lines.dispatch(8));
        lines.claim(9, &second).unwrap();
        assert!(lines.dispatch(9));
        assert_eq!(second.0.get(), 9);
    }
}
