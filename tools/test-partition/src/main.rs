//! The test partition's image: an S-EL1 secure partition for TF-A's EL3 SPMC on QEMU `virt`.
//!
//! BL2 loads the raw image at 0x0e10_0000 (TF-A's BL32 address on QEMU) and
//! the EL3 SPMC enters it there at S-EL1 with its MMU off, x0 = the FF-A
//! boot information blob (the manifest says `gp-register-num = <0>`) and
//! x4 = the core's linear ID. The partition sets itself up
//! ([`test_partition::service::Partition::start`]), calls `FFA_MSG_WAIT`,
//! and from then on answers each direct request with its response, whose
//! SMC returns with the next request. It logs on QEMU's secure PL011
//! (`[sp] ...` lines, which the runner shows as `[secure] [sp] ...`).
//!
//! Only the hardware lives here (`hardware/`): entry code and vectors, the
//! SMC conduit with the static RX/TX pair, the UART, physical memory.
//! Everything the partition decides is in the library, tested on the host.
//! A host build (unit tests, host clippy) gets a stand-in `main`.

#![cfg_attr(target_os = "none", no_std)]
#![cfg_attr(target_os = "none", no_main)]

#[cfg(target_os = "none")]
mod hardware;

#[cfg(not(target_os = "none"))]
fn main() {
    eprintln!(
        "test-partition is a secure partition image for aarch64-unknown-none-softfloat; \
         build it with `cargo xtask peer`"
    );
    std::process::exit(2);
}
