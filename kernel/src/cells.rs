//! Interior-mutability cells for capsules that are shared through `&self`.
//!
//! Kernel components are allocated once, statically, and reach each other
//! through shared references; everything they change at run time therefore
//! lives in a cell. All three cells here are built on [`core::cell::Cell`]
//! and need no `unsafe`:
//!
//! - [`TakeCell`] lends out a mutable reference (typically a `&'static mut
//!   [u8]` buffer) that can be taken, used and put back;
//! - [`OptionalCell`] holds an optional `Copy` value (a client reference, an
//!   index, a configuration word);
//! - [`MapCell`] owns an optional value of any type and lets a closure modify
//!   it in place.
//!
//! While a closure passed to one of the `map` methods runs, the cell it was
//! called on is empty: a nested `map` on the same cell returns `None`
//! instead of creating a second mutable reference.
//!
//! ```
//! use kernel::cells::{MapCell, OptionalCell, TakeCell};
//!
//! let mut storage = [0u8; 4];
//! let buffer = TakeCell::new(&mut storage[..]);
//! buffer.map(|bytes| bytes[0] = 7);
//! let lent = buffer.take().unwrap(); // the cell is now empty
//! assert!(buffer.is_none());
//! buffer.replace(lent);
//!
//! let length = OptionalCell::empty();
//! length.set(3usize);
//! assert_eq!(length.unwrap_or(0), 3);
//!
//! let counter = MapCell::new(0u32);
//! counter.map(|value| *value += 1);
//! assert_eq!(counter.take(), Some(1));
//! ```

use core::cell::Cell;

/// A cell holding an optional mutable reference that is lent out and returned.
///
/// `TakeCell` is how a capsule keeps a buffer (usually `&'static mut [u8]`)
/// it can hand to a lower layer and get back in a completion callback.
pub struct TakeCell<'a, T: ?Sized> {
    value: Cell<Option<&'a mut T>>,
}

impl<'a, T: ?Sized> TakeCell<'a, T> {
    /// A cell that holds nothing.
    pub const fn empty() -> Self {
        TakeCell {
            value: Cell::new(None),
        }
    }

    /// A cell holding `value`.
    pub const fn new(value: &'a mut T) -> Self {
        TakeCell {
            value: Cell::new(Some(value)),
        }
    }

    /// Whether the cell holds nothing.
    pub fn is_none(&self) -> bool {
        !self.is_some()
    }

    /// Whether the cell holds a reference.
    pub fn is_some(&self) -> bool {
        let value = self.value.take();
        let present = value.is_some();
        self.value.set(value);
        present
    }

    /// Removes the reference from the cell and returns it.
    pub fn take(&self) -> Option<&'a mut T> {
        self.value.take()
    }

    /// Stores `value` in the cell, dropping (forgetting) any reference it held.
    pub fn put(&self, value: Option<&'a mut T>) {
        self.value.set(value);
    }

    /// Stores `value` in the cell and returns the reference it held before.
    pub fn replace(&self, value: &'a mut T) -> Option<&'a mut T> {
        self.value.replace(Some(value))
    }

    /// Calls `closure` with the held reference and returns its result, or
    /// returns `None` if the cell is empty. The reference is back in the cell
    /// when this returns.
    pub fn map<F, R>(&self, closure: F) -> Option<R>
    where
        F: FnOnce(&mut T) -> R,
    {
        let value = self.value.take()?;
        let result = closure(&mut *value);
        self.value.set(Some(value));
        Some(result)
    }

    /// Like [`TakeCell::map`], but returns `default` if the cell is empty.
    pub fn map_or<F, R>(&self, default: R, closure: F) -> R
    where
        F: FnOnce(&mut T) -> R,
    {
        self.map(closure).unwrap_or(default)
    }

    /// Like [`TakeCell::map`], but calls `default` if the cell is empty.
    pub fn map_or_else<D, F, R>(&self, default: D, closure: F) -> R
    where
        D: FnOnce() -> R,
        F: FnOnce(&mut T) -> R,
    {
        self.map(closure).unwrap_or_else(default)
    }
}

impl<T: ?Sized> Default for TakeCell<'_, T> {
    fn default() -> Self {
        TakeCell::empty()
    }
}

/// A cell holding an optional `Copy` value.
pub struct OptionalCell<T: Copy> {
    value: Cell<Option<T>>,
}

impl<T: Copy> OptionalCell<T> {
    /// A cell that holds nothing.
    pub const fn empty() -> Self {
        OptionalCell {
            value: Cell::new(None),
        }
    }

    /// A cell holding `value`.
    pub const fn new(value: T) -> Self {
        OptionalCell {
            value: Cell::new(Some(value)),
        }
    }

    /// Stores `value`, replacing whatever the cell held.
    pub fn set(&self, value: T) {
        self.value.set(Some(value));
    }

    /// Stores `value` (which may be `None`), replacing whatever the cell held.
    pub fn insert(&self, value: Option<T>) {
        self.value.set(value);
    }

    /// Stores `value` and returns what the cell held before.
    pub fn replace(&self, value: T) -> Option<T> {
        self.value.replace(Some(value))
    }

    /// Empties the cell.
    pub fn clear(&self) {
        self.value.set(None);
    }

    /// Empties the cell and returns what it held.
    pub fn take(&self) -> Option<T> {
        self.value.take()
    }

    /// A copy of the value, if any.
    pub fn get(&self) -> Option<T> {
        self.value.get()
    }

    /// Whether the cell holds a value.
    pub fn is_some(&self) -> bool {
        self.value.get().is_some()
    }

    /// Whether the cell holds nothing.
    pub fn is_none(&self) -> bool {
        self.value.get().is_none()
    }

    /// Whether the cell holds a value equal to `value`.
    pub fn contains(&self, value: &T) -> bool
    where
        T: PartialEq,
    {
        self.value.get().as_ref() == Some(value)
    }

    /// Calls `closure` with a copy of the value and returns its result, or
    /// returns `None` if the cell is empty.
    pub fn map<F, R>(&self, closure: F) -> Option<R>
    where
        F: FnOnce(T) -> R,
    {
        self.value.get().map(closure)
    }

    /// Like [`OptionalCell::map`], but returns `default` if the cell is empty.
    pub fn map_or<F, R>(&self, default: R, closure: F) -> R
    where
        F: FnOnce(T) -> R,
    {
        self.value.get().map_or(default, closure)
    }

    /// Like [`OptionalCell::map`], but calls `default` if the cell is empty.
    pub fn map_or_else<D, F, R>(&self, default: D, closure: F) -> R
    where
        D: FnOnce() -> R,
        F: FnOnce(T) -> R,
    {
        self.value.get().map_or_else(default, closure)
    }

    /// Calls `closure` with a copy of the value and returns what it returns,
    /// or returns `None` if the cell is empty.
    pub fn and_then<F, R>(&self, closure: F) -> Option<R>
    where
        F: FnOnce(T) -> Option<R>,
    {
        self.value.get().and_then(closure)
    }

    /// The value, or `default` if the cell is empty.
    pub fn unwrap_or(&self, default: T) -> T {
        self.value.get().unwrap_or(default)
    }

    /// The value, or what `default` returns if the cell is empty.
    pub fn unwrap_or_else<D>(&self, default: D) -> T
    where
        D: FnOnce() -> T,
    {
        self.value.get().unwrap_or_else(default)
    }

    /// The value, or `T::default()` if the cell is empty.
    pub fn unwrap_or_default(&self) -> T
    where
        T: Default,
    {
        self.value.get().unwrap_or_default()
    }
}

impl<T: Copy> Default for OptionalCell<T> {
    fn default() -> Self {
        OptionalCell::empty()
    }
}

/// A cell that owns an optional value of any type, modified in place through
/// closures.
///
/// The value lives inside the cell, not behind a reference. Without
/// `unsafe`, [`MapCell::map`] moves the value out of the cell for the
/// duration of the closure and back afterwards; for large values that costs
/// two copies, so keep large buffers in a [`TakeCell`] instead.
pub struct MapCell<T> {
    value: Cell<Option<T>>,
}

impl<T> MapCell<T> {
    /// A cell that holds nothing.
    pub const fn empty() -> Self {
        MapCell {
            value: Cell::new(None),
        }
    }

    /// A cell holding `value`.
    pub const fn new(value: T) -> Self {
        MapCell {
            value: Cell::new(Some(value)),
        }
    }

    /// Whether the cell holds a value.
    pub fn is_some(&self) -> bool {
        let value = self.value.take();
        let present = value.is_some();
        self.value.set(value);
        present
    }

    /// Whether the cell holds nothing.
    pub fn is_none(&self) -> bool {
        !self.is_some()
    }

    /// Removes the value from the cell and returns it.
    pub fn take(&self) -> Option<T> {
        self.value.take()
    }

    /// Stores `value`, dropping whatever the cell held.
    pub fn put(&self, value: T) {
        self.value.set(Some(value));
    }

    /// Stores `value` and returns what the cell held before.
    pub fn replace(&self, value: T) -> Option<T> {
        self.value.replace(Some(value))
    }

    /// Calls `closure` with mutable access to the value and returns its
    /// result, or returns `None` if the cell is empty.
    pub fn map<F, R>(&self, closure: F) -> Option<R>
    where
        F: FnOnce(&mut T) -> R,
    {
        let mut value = self.value.take()?;
        let result = closure(&mut value);
        self.value.set(Some(value));
        Some(result)
    }

    /// Like [`MapCell::map`], but returns `default` if the cell is empty.
    pub fn map_or<F, R>(&self, default: R, closure: F) -> R
    where
        F: FnOnce(&mut T) -> R,
    {
        self.map(closure).unwrap_or(default)
    }

    /// Like [`MapCell::map`], but calls `default` if the cell is empty.
    pub fn map_or_else<D, F, R>(&self, default: D, closure: F) -> R
    where
        D: FnOnce() -> R,
        F: FnOnce(&mut T) -> R,
    {
        self.map(closure).unwrap_or_else(default)
    }
}

impl<T> Default for MapCell<T> {
    fn default() -> Self {
        MapCell::empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn take_cell_lends_and_returns() {
        let mut storage = [1u8, 2, 3];
        let cell = TakeCell::new(&mut storage[..]);
        assert!(cell.is_some());
        assert_eq!(cell.map(|bytes| bytes.len()), Some(3));
        let lent = cell.take().unwrap();
        assert!(cell.is_none());
        assert_eq!(cell.map(|bytes| bytes.len()), None);
        assert_eq!(cell.map_or(0, |bytes| bytes.len()), 0);
        lent[0] = 9;
        assert!(cell.replace(lent).is_none());
        assert_eq!(cell.map_or_else(|| 0, |bytes| bytes[0]), 9);
        cell.put(None);
        assert!(cell.is_none());
    }

    #[test]
    fn take_cell_is_empty_during_map() {
        let mut value = 5u32;
        let cell = TakeCell::new(&mut value);
        let nested = cell.map(|outer| {
            *outer += 1;
            cell.map(|inner| *inner)
        });
        assert_eq!(nested, Some(None));
        assert_eq!(cell.map(|value| *value), Some(6));
        let empty: TakeCell<'_, u32> = TakeCell::default();
        assert!(empty.is_none());
    }

    #[test]
    fn optional_cell_basics() {
        let cell: OptionalCell<u32> = OptionalCell::default();
        assert!(cell.is_none());
        assert_eq!(cell.unwrap_or(4), 4);
        assert_eq!(cell.unwrap_or_default(), 0);
        cell.set(7);
        assert!(cell.is_some());
        assert!(cell.contains(&7));
        assert_eq!(cell.get(), Some(7));
        assert_eq!(cell.map(|value| value * 2), Some(14));
        assert_eq!(cell.map_or(0, |value| value + 1), 8);
        assert_eq!(cell.and_then(|value| value.checked_sub(8)), None);
        assert_eq!(cell.replace(8), Some(7));
        assert_eq!(cell.take(), Some(8));
        assert!(cell.is_none());
        assert_eq!(cell.unwrap_or_else(|| 1), 1);
        assert_eq!(cell.map_or_else(|| 2, |value| value), 2);
        cell.insert(Some(3));
        assert_eq!(OptionalCell::new(3).get(), cell.get());
        cell.clear();
        assert_eq!(cell.get(), None);
    }

    #[test]
    fn map_cell_modifies_in_place() {
        let cell = MapCell::new([0u16; 8]);
        assert!(cell.is_some());
        cell.map(|array| array[2] = 5);
        assert_eq!(cell.map(|array| array[2]), Some(5));
        let nested = cell.map(|_| cell.map(|_| ()));
        assert_eq!(nested, Some(None));
        assert!(cell.is_some());
        assert_eq!(cell.replace([1; 8]).map(|array| array[2]), Some(5));
        assert_eq!(cell.take(), Some([1; 8]));
        assert!(cell.is_none());
        assert_eq!(cell.map_or(9, |array| array[0]), 9);
        cell.put([2; 8]);
        assert_eq!(cell.map_or_else(|| 0, |array| array[7]), 2);
        let empty: MapCell<u8> = MapCell::default();
        assert!(empty.is_none());
    }
}
