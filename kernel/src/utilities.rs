//! Heap-free static allocation: [`StaticSlot`] and the [`static_init!`] and
//! [`static_buf!`] macros.
//!
//! A board builds its components once, at start-up, and wires them together
//! with `&'static` references. [`static_init!`] gives each call site its own
//! `static` slot and returns `&'static mut` to the value written into it, so
//! board code allocates statically without writing `unsafe` itself:
//!
//! ```
//! use kernel::static_init;
//!
//! struct Console {
//!     baud_rate: u32,
//! }
//!
//! let console: &'static mut Console = static_init!(Console, Console { baud_rate: 115_200 });
//! console.baud_rate = 9_600;
//! ```
//!
//! Each expansion of the macro owns exactly one slot. Running the same
//! expansion twice (in a loop, or by calling the function holding it twice)
//! would hand out a second `&'static mut` to the same memory, so it panics
//! instead.
//!
//! [`static_init!`]: crate::static_init
//! [`static_buf!`]: crate::static_buf

use core::cell::UnsafeCell;
use core::mem::MaybeUninit;
use core::sync::atomic::{AtomicBool, Ordering};

/// Uninitialised static storage for one `T`, initialised at most once.
///
/// Normally used through [`static_init!`](crate::static_init), which declares
/// the `static` for you.
pub struct StaticSlot<T> {
    initialised: AtomicBool,
    value: UnsafeCell<MaybeUninit<T>>,
}

// SAFETY: the only access to `value` is in `initialise`, and the atomic swap
// there lets exactly one caller, ever, through to it; that caller receives the
// sole reference to the contents. No operation on a shared `&StaticSlot<T>`
// reads or hands out a `T` that another thread placed there, so sharing the
// slot between threads cannot move a `T` across threads (a `T` that is not
// `Send` stays with the thread that wrote it, and `&mut T` is itself only
// `Send` when `T` is).
unsafe impl<T> Sync for StaticSlot<T> {}

impl<T> StaticSlot<T> {
    /// An empty slot, for use as the initialiser of a `static`.
    pub const fn new() -> Self {
        StaticSlot {
            initialised: AtomicBool::new(false),
            value: UnsafeCell::new(MaybeUninit::uninit()),
        }
    }

    /// Whether [`StaticSlot::initialise`] has been called on this slot.
    pub fn is_initialised(&self) -> bool {
        self.initialised.load(Ordering::Acquire)
    }

    /// Moves `value` into the slot and returns the only reference to it.
    ///
    /// # Panics
    ///
    /// If the slot was already initialised: handing out a second
    /// `&'static mut` to the same value would be undefined behaviour.
    #[track_caller]
    // A `&'static mut` out of `&'static self` is the point of the slot; the
    // once-only flag below is what makes it unique.
    #[allow(clippy::mut_from_ref)]
    pub fn initialise(&'static self, value: T) -> &'static mut T {
        if self.initialised.swap(true, Ordering::AcqRel) {
            panic!(
                "static_init!: this slot is already initialised; each static_init! call site \
                 can run only once (not in a loop, nor in a function called twice)"
            );
        }
        // SAFETY: the swap above returned `false`, which happens for exactly
        // one call over the life of this `'static` slot, so no other
        // reference to the contents exists or will ever be created. Writing
        // through the `UnsafeCell` pointer is therefore exclusive, and the
        // returned `&'static mut T` stays the only way to reach the value.
        unsafe { (*self.value.get()).write(value) }
    }
}

impl<T> Default for StaticSlot<T> {
    fn default() -> Self {
        StaticSlot::new()
    }
}

/// Allocates a `$T` statically, initialises it with `$value` and evaluates to
/// `&'static mut $T`.
///
/// Each expansion declares its own hidden `static` slot. Executing the same
/// expansion a second time panics with a message naming the call site.
///
/// ```
/// let numbers: &'static mut [u8; 4] = kernel::static_init!([u8; 4], [0; 4]);
/// numbers[0] = 1;
/// ```
///
/// `$T` must be a concrete, `'static` type: a `static` cannot use the generic
/// parameters of the function the macro is called from.
///
/// `in_section` places the slot in a given linker section (a board's linker
/// script gathers, for example, EL2's state into `.bss.el2.*`):
///
/// ```
/// let value: &'static mut u64 = kernel::static_init!(u64, 7, in_section ".bss.example");
/// assert_eq!(*value, 7);
/// ```
#[macro_export]
macro_rules! static_init {
    ($T:ty, $value:expr $(,)?) => {{
        static SLOT: $crate::utilities::StaticSlot<$T> = $crate::utilities::StaticSlot::new();
        SLOT.initialise($value)
    }};
    ($T:ty, $value:expr, in_section $section:literal $(,)?) => {{
        #[link_section = $section]
        static SLOT: $crate::utilities::StaticSlot<$T> = $crate::utilities::StaticSlot::new();
        SLOT.initialise($value)
    }};
}

/// Allocates uninitialised static memory for a `$T` and evaluates to
/// `&'static mut MaybeUninit<$T>`: what a component's `finalize` fills in.
///
/// Like [`static_init!`](crate::static_init), each expansion declares its
/// own hidden `static`, and running it twice panics. Components cannot
/// declare statics of their generic types themselves; a macro expanded in
/// the board, where every type is concrete, does it for them.
///
/// ```
/// use core::mem::MaybeUninit;
///
/// let slot: &'static mut MaybeUninit<u32> = kernel::static_buf!(u32);
/// let value: &'static mut u32 = slot.write(7);
/// assert_eq!(*value, 7);
/// ```
///
/// `in_section` places it in a given linker section, as for `static_init!`.
#[macro_export]
macro_rules! static_buf {
    ($T:ty $(,)?) => {
        $crate::static_init!(
            ::core::mem::MaybeUninit<$T>,
            ::core::mem::MaybeUninit::uninit()
        )
    };
    ($T:ty, in_section $section:literal $(,)?) => {
        $crate::static_init!(
            ::core::mem::MaybeUninit<$T>,
            ::core::mem::MaybeUninit::uninit(),
            in_section $section
        )
    };
}

#[cfg(test)]
mod tests {
    use core::cell::Cell;

    struct Counter {
        count: Cell<u32>,
        next: Option<&'static Counter>,
    }

    #[test]
    fn returns_a_distinct_static_per_call_site() {
        let first: &'static Counter = static_init!(
            Counter,
            Counter {
                count: Cell::new(1),
                next: None,
            }
        );
        let second = static_init!(
            Counter,
            Counter {
                count: Cell::new(2),
                next: Some(first),
            }
        );
        second.count.set(3);
        assert_eq!(first.count.get(), 1);
        assert_eq!(second.next.map(|next| next.count.get()), Some(1));
        assert_eq!(second.count.get(), 3);
    }

    #[test]
    fn slot_reports_initialisation() {
        static SLOT: super::StaticSlot<u64> = super::StaticSlot::new();
        assert!(!SLOT.is_initialised());
        let value = SLOT.initialise(5);
        *value += 1;
        assert!(SLOT.is_initialised());
        assert_eq!(*value, 6);
    }

    #[test]
    #[should_panic(expected = "already initialised")]
    fn second_initialisation_panics() {
        for index in 0..2u8 {
            let value = static_init!(u8, index);
            assert_eq!(*value, 0);
        }
    }
}
