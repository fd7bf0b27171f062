//! Secure-side GICv3 set-up, done by EL3 firmware before the normal world
//! runs, as TF-A does: system-register access at every EL, affinity routing,
//! each core's redistributor woken (by that core), and every interrupt
//! assigned to Group 1 non-secure so the kernel can use it.

const DISTRIBUTOR_BASE: usize = 0x0800_0000;
const REDISTRIBUTOR_BASE: usize = 0x080a_0000;
/// Each redistributor: its RD frame, then its SGI frame, 64 KiB each.
const REDISTRIBUTOR_STRIDE: usize = 0x2_0000;
const SGI_FRAME_OFFSET: usize = 0x1_0000;

const DISTRIBUTOR_CONTROL: usize = 0x0000;
const DISTRIBUTOR_TYPE: usize = 0x0004;
const DISTRIBUTOR_GROUP: usize = 0x0080;
const DISTRIBUTOR_GROUP_MODIFIER: usize = 0x0d00;
const REDISTRIBUTOR_WAKER: usize = 0x0014;
const REDISTRIBUTOR_TYPE: usize = 0x0008;
/// GICR_TYPER.Last: the last redistributor of the region.
const TYPE_LAST: u64 = 1 << 4;
const SGI_GROUP: usize = 0x0080;
const SGI_GROUP_MODIFIER: usize = 0x0d00;

const CONTROL_ENABLE_GROUP1_NON_SECURE: u32 = 1 << 1;
const CONTROL_AFFINITY_ROUTING_SECURE: u32 = 1 << 4;
const CONTROL_AFFINITY_ROUTING_NON_SECURE: u32 = 1 << 5;
const CONTROL_WRITE_PENDING: u32 = 1 << 31;
const WAKER_PROCESSOR_SLEEP: u32 = 1 << 1;
const WAKER_CHILDREN_ASLEEP: u32 = 1 << 2;
const SPIN_LIMIT: u32 = 1_000_000;

fn read(address: usize) -> u32 {
    // SAFETY: GICv3 registers of QEMU virt, 32-bit aligned MMIO.
    unsafe { core::ptr::read_volatile(address as *const u32) }
}

fn write(address: usize, value: u32) {
    // SAFETY: GICv3 registers of QEMU virt, 32-bit aligned MMIO.
    unsafe { core::ptr::write_volatile(address as *mut u32, value) }
}

fn wait_while(address: usize, mask: u32) -> bool {
    for _ in 0..SPIN_LIMIT {
        if read(address) & mask == 0 {
            return true;
        }
    }
    false
}

/// How many redistributors (one per core) the GIC has: they follow each
/// other until the one whose `GICR_TYPER.Last` is set (at most `limit`).
pub fn core_count(limit: usize) -> usize {
    for index in 0..limit {
        let type_address = REDISTRIBUTOR_BASE + index * REDISTRIBUTOR_STRIDE + REDISTRIBUTOR_TYPE;
        // SAFETY: GICR_TYPER of QEMU virt's redistributor `index` (the region
        // holds at least `limit` frames), a 64-bit aligned MMIO register.
        let value = unsafe { core::ptr::read_volatile(type_address as *const u64) };
        if value & TYPE_LAST != 0 {
            return index + 1;
        }
    }
    limit
}

/// Configures the GIC for a non-secure kernel. Returns false (after logging)
/// if the GIC does not respond.
pub fn initialise() -> bool {
    enable_system_registers();

    write(
        DISTRIBUTOR_BASE + DISTRIBUTOR_CONTROL,
        CONTROL_AFFINITY_ROUTING_SECURE | CONTROL_AFFINITY_ROUTING_NON_SECURE,
    );
    if !wait_while(
        DISTRIBUTOR_BASE + DISTRIBUTOR_CONTROL,
        CONTROL_WRITE_PENDING,
    ) {
        crate::log!("gic: distributor write never completed");
        return false;
    }
    let lines = ((read(DISTRIBUTOR_BASE + DISTRIBUTOR_TYPE) & 0x1f) + 1) * 32;
    for index in 1..(lines / 32) as usize {
        write(DISTRIBUTOR_BASE + DISTRIBUTOR_GROUP + index * 4, u32::MAX);
        write(DISTRIBUTOR_BASE + DISTRIBUTOR_GROUP_MODIFIER + index * 4, 0);
    }
    write(
        DISTRIBUTOR_BASE + DISTRIBUTOR_CONTROL,
        CONTROL_AFFINITY_ROUTING_SECURE
            | CONTROL_AFFINITY_ROUTING_NON_SECURE
            | CONTROL_ENABLE_GROUP1_NON_SECURE,
    );

    if !initialise_core(0) {
        crate::log!("gic: redistributor 0 did not wake");
        return false;
    }
    true
}

/// ICC_SRE_EL3: SRE, DFB, DIB and Enable (lower ELs may use SRE). Every core.
fn enable_system_registers() {
    // SAFETY: system-register write at EL3 with no memory effects.
    unsafe { core::arch::asm!("msr S3_6_C12_C12_5, {0}", "isb", in(reg) 0xfu64, options(nostack)) };
}

/// Wakes `core`'s redistributor and puts its SGIs and PPIs in Group 1
/// non-secure; run by that core. Returns false if it does not wake (the
/// caller logs it).
pub fn initialise_core(core: usize) -> bool {
    enable_system_registers();
    let base = REDISTRIBUTOR_BASE + core * REDISTRIBUTOR_STRIDE;
    let waker = read(base + REDISTRIBUTOR_WAKER);
    write(base + REDISTRIBUTOR_WAKER, waker & !WAKER_PROCESSOR_SLEEP);
    if !wait_while(base + REDISTRIBUTOR_WAKER, WAKER_CHILDREN_ASLEEP) {
        return false;
    }
    write(base + SGI_FRAME_OFFSET + SGI_GROUP, u32::MAX);
    write(base + SGI_FRAME_OFFSET + SGI_GROUP_MODIFIER, 0);
    true
}
