//! The SMC conduit to the EL3 SPMC and the partition's static RX/TX pair.
//!
//! The RX/TX pair and the descriptor reassembly buffer are statics in the
//! partition's BSS (secure DRAM). The SPMC reads TX and writes RX during an
//! SMC, so [`Conduit`] keeps raw pointers and lends slices only between
//! calls: no reference to either buffer is alive while the SPMC runs.

use core::arch::asm;
use core::ptr::addr_of_mut;
use core::sync::atomic::{AtomicBool, Ordering};

use test_partition::abi::Registers;
use test_partition::service::Spmc;

/// Size of each of RX and TX: one 4 KiB page.
const BUFFER_SIZE: usize = 4096;
/// Size of the descriptor reassembly buffer: the EL3 SPMC keeps at most
/// 64 KiB of descriptors (`PLAT_SPMC_SHMEM_DATASTORE_SIZE` on QEMU).
const DESCRIPTOR_BUFFER_SIZE: usize = 64 * 1024;

#[repr(C, align(4096))]
struct Page([u8; BUFFER_SIZE]);

static mut RX: Page = Page([0; BUFFER_SIZE]);
static mut TX: Page = Page([0; BUFFER_SIZE]);
static mut DESCRIPTOR_BUFFER: [u8; DESCRIPTOR_BUFFER_SIZE] = [0; DESCRIPTOR_BUFFER_SIZE];
static TAKEN: AtomicBool = AtomicBool::new(false);
static DESCRIPTOR_TAKEN: AtomicBool = AtomicBool::new(false);

/// The SMC conduit and the RX/TX pair; there is one.
pub struct Conduit {
    rx: *mut u8,
    tx: *mut u8,
}

impl Conduit {
    /// The conduit. Panics if taken twice (the buffers have one owner).
    pub fn take() -> Conduit {
        assert!(!TAKEN.swap(true, Ordering::Relaxed), "conduit taken twice");
        Conduit {
            rx: addr_of_mut!(RX).cast(),
            tx: addr_of_mut!(TX).cast(),
        }
    }
}

/// The descriptor reassembly buffer. Panics if taken twice.
pub fn descriptor_buffer() -> &'static mut [u8] {
    assert!(
        !DESCRIPTOR_TAKEN.swap(true, Ordering::Relaxed),
        "descriptor buffer taken twice"
    );
    // SAFETY: taken once (checked above), so this is the only reference.
    unsafe { &mut *addr_of_mut!(DESCRIPTOR_BUFFER) }
}

impl Spmc for Conduit {
    fn call(&mut self, registers: Registers) -> Registers {
        let mut answer = registers;
        // SAFETY: an SMC to EL3 with SMCCC v1.2 register use: x0-x7 carry the
        // call and the answer; x8-x17 may be changed. The SPMC may read TX and
        // write RX, which this asm's memory clobber (no `nomem`) covers; no
        // reference to either buffer is alive across it (`&mut self`).
        unsafe {
            asm!(
                "smc #0",
                inout("x0") answer[0],
                inout("x1") answer[1],
                inout("x2") answer[2],
                inout("x3") answer[3],
                inout("x4") answer[4],
                inout("x5") answer[5],
                inout("x6") answer[6],
                inout("x7") answer[7],
                out("x8") _, out("x9") _, out("x10") _, out("x11") _,
                out("x12") _, out("x13") _, out("x14") _, out("x15") _,
                out("x16") _, out("x17") _,
                options(nostack)
            );
        }
        answer
    }

    fn rx(&self) -> &[u8] {
        // SAFETY: RX is a static page owned by this conduit; the SPMC writes
        // it only during `call`, which needs `&mut self`, so not while this
        // borrow lives.
        unsafe { core::slice::from_raw_parts(self.rx, BUFFER_SIZE) }
    }

    fn tx(&mut self) -> &mut [u8] {
        // SAFETY: as for `rx`; the SPMC only reads TX, during `call`.
        unsafe { core::slice::from_raw_parts_mut(self.tx, BUFFER_SIZE) }
    }

    fn buffer_addresses(&self) -> (u64, u64) {
        // The MMU is off: addresses are physical.
        (self.tx as u64, self.rx as u64)
    }
}
