//! The Arm FF-A client capsule and the FF-A bus (work in progress).
#![no_std]
#![forbid(unsafe_code)]
