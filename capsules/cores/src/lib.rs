#![doc = include_str!("../README.md")]
//!
//! ```ignore
//! let bring_up = components::cores::CoresComponent::new(queue, &cores, alarm, config)
//!     .finalize(components::cores_component_static!(VirtualAlarm<'static, GenericTimer>))?;
//! ```

#![no_std]
#![forbid(unsafe_code)]

#[cfg(test)]
extern crate std;

mod bring_up;

pub use bring_up::{BringUpConfig, CoreBringUp, CoreEntry, MAXIMUM_CORES};
pub use kernel::hil::cores::CoreWorkClient;
