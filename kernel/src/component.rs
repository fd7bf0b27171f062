//! Components: how a board builds a capsule and wires it, in one call.
//!
//! A component takes what the capsule needs from the board (chip objects,
//! the init queue, other components' outputs) in `new`, and static memory
//! for what it creates in [`Component::finalize`], which builds, wires,
//! registers (deferred calls, init-queue entries, clients) and returns
//! `&'static` references. The static memory comes from a macro expanded in
//! the board (`..._component_static!`), because a component cannot declare
//! `static`s of its generic types itself (see
//! [`static_buf!`](crate::static_buf)). A board's `main` is then a list of
//! `finalize` calls.
//!
//! ```
//! use core::mem::MaybeUninit;
//! use kernel::component::Component;
//!
//! struct Counter {
//!     start: u32,
//! }
//!
//! /// Builds a `Counter` starting at `start`.
//! struct CounterComponent {
//!     start: u32,
//! }
//!
//! impl Component for CounterComponent {
//!     type StaticInput = &'static mut MaybeUninit<Counter>;
//!     type Output = &'static Counter;
//!
//!     fn finalize(self, memory: Self::StaticInput) -> Self::Output {
//!         memory.write(Counter { start: self.start })
//!     }
//! }
//!
//! let counter = CounterComponent { start: 3 }.finalize(kernel::static_buf!(Counter));
//! assert_eq!(counter.start, 3);
//! ```

/// A part of a board, built and wired in one call.
pub trait Component {
    /// The static memory `finalize` builds in (from a `..._component_static!` macro).
    type StaticInput;
    /// What the board gets back: `&'static` references to what was built.
    type Output;

    /// Builds the component in `static_memory`, wires and registers it,
    /// and returns it.
    fn finalize(self, static_memory: Self::StaticInput) -> Self::Output;
}
