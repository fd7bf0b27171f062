//! Secure-side GICv3 set-up, done by EL3 firmware before the normal world
//! runs, as TF-A does: system-register access at every EL, affinity routing,
//! each core's redistributor woken (by that core), and every interrupt
//! assigned to Group 1 non-secure so the kernel can use it — except the
//! secure physical timer (PPI 29, on every core), Group 0, which the
//! partitions' timers use: it is taken as a FIQ at EL3 (SCR_EL3.FIQ)
//! whatever the normal world masks.

/// The distributor.
pub const DISTRIBUTOR_BASE: usize = 0x0800_0000;
const REDISTRIBUTOR_BASE: usize = 0x080a_0000;
/// Each redistributor: its RD frame, then its SGI frame, 64 KiB each.
const REDISTRIBUTOR_STRIDE: usize = 0x2_0000;
const SGI_FRAME_OFFSET: usize = 0x1_0000;

const DISTRIBUTOR_CONTROL: usize = 0x0000;
const DISTRIBUTOR_TYPE: usize = 0x0004;
/// GICD_IGROUPR<n>.
pub const DISTRIBUTOR_GROUP: usize = 0x0080;
/// GICD_ISENABLER<n>.
pub const DISTRIBUTOR_ENABLE: usize = 0x0100;
/// GICD_ISPENDR<n>.
pub const DISTRIBUTOR_PENDING: usize = 0x0200;
const DISTRIBUTOR_GROUP_MODIFIER: usize = 0x0d00;
const REDISTRIBUTOR_WAKER: usize = 0x0014;
const REDISTRIBUTOR_TYPE: usize = 0x0008;
/// GICR_TYPER.Last: the last redistributor of the region.
const TYPE_LAST: u64 = 1 << 4;
/// GICR_IGROUPR0.
pub const SGI_GROUP: usize = 0x0080;
/// GICR_ISENABLER0.
pub const SGI_ENABLE: usize = 0x0100;
/// GICR_ISPENDR0.
pub const SGI_PENDING: usize = 0x0200;
const SGI_PRIORITY: usize = 0x0400;
const SGI_GROUP_MODIFIER: usize = 0x0d00;

/// The secure physical timer's PPI.
pub const SECURE_TIMER_INTERRUPT: u32 = 29;
/// Its priority: above anything the normal world uses (lower is more urgent).
const SECURE_TIMER_PRIORITY: u32 = 0x40;

const CONTROL_ENABLE_GROUP0: u32 = 1 << 0;
const CONTROL_ENABLE_GROUP1_NON_SECURE: u32 = 1 << 1;
const CONTROL_AFFINITY_ROUTING_SECURE: u32 = 1 << 4;
const CONTROL_AFFINITY_ROUTING_NON_SECURE: u32 = 1 << 5;
const CONTROL_WRITE_PENDING: u32 = 1 << 31;
const WAKER_PROCESSOR_SLEEP: u32 = 1 << 1;
const WAKER_CHILDREN_ASLEEP: u32 = 1 << 2;
const SPIN_LIMIT: u32 = 1_000_000;

/// The SGI/PPI frame of `core`'s redistributor.
pub const fn sgi_frame(core: usize) -> usize {
    REDISTRIBUTOR_BASE + core * REDISTRIBUTOR_STRIDE + SGI_FRAME_OFFSET
}

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

/// Configures the GIC for a non-secure kernel (the distributor, and the boot
/// core's redistributor). Returns the number of interrupt lines, or `None`
/// (after logging) if the GIC does not respond.
pub fn initialise() -> Option<u32> {
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
        return None;
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
            | CONTROL_ENABLE_GROUP0
            | CONTROL_ENABLE_GROUP1_NON_SECURE,
    );

    if !initialise_core(0) {
        crate::log!("gic: redistributor 0 did not wake");
        return None;
    }
    Some(lines)
}

/// ICC_SRE_EL3: SRE, DFB, DIB and Enable (lower ELs may use SRE). Every core.
fn enable_system_registers() {
    // SAFETY: system-register write at EL3 with no memory effects.
    unsafe { core::arch::asm!("msr S3_6_C12_C12_5, {0}", "isb", in(reg) 0xfu64, options(nostack)) };
}

/// Wakes `core`'s redistributor, puts its SGIs and PPIs in Group 1
/// non-secure but for the secure timer (Group 0, enabled, above the normal
/// world's priorities), and opens this core's CPU interface to Group 0;
/// run by that core. Returns false if it does not wake (the caller logs it).
pub fn initialise_core(core: usize) -> bool {
    enable_system_registers();
    let base = REDISTRIBUTOR_BASE + core * REDISTRIBUTOR_STRIDE;
    let waker = read(base + REDISTRIBUTOR_WAKER);
    write(base + REDISTRIBUTOR_WAKER, waker & !WAKER_PROCESSOR_SLEEP);
    if !wait_while(base + REDISTRIBUTOR_WAKER, WAKER_CHILDREN_ASLEEP) {
        return false;
    }
    let frame = sgi_frame(core);
    let timer = 1 << SECURE_TIMER_INTERRUPT;
    write(frame + SGI_GROUP, !timer);
    write(frame + SGI_GROUP_MODIFIER, 0);
    let priority = frame + SGI_PRIORITY + (SECURE_TIMER_INTERRUPT as usize / 4) * 4;
    let shift = (SECURE_TIMER_INTERRUPT % 4) * 8;
    write(
        priority,
        (read(priority) & !(0xff << shift)) | SECURE_TIMER_PRIORITY << shift,
    );
    write(frame + SGI_ENABLE, timer);
    // ICC_IGRPEN0_EL1: Group 0 on. ICC_PMR_EL1: every priority through,
    // set here as TF-A does: with FIQs routed to EL3 (SCR_EL3.FIQ), the
    // normal world may not lower a mask that is in the Secure half (its
    // reset value, 0, is), so its own write would be ignored.
    // SAFETY: system-register writes at EL3 with no memory effects.
    unsafe {
        core::arch::asm!(
            "msr S3_0_C12_C12_6, {0}",
            "msr S3_0_C4_C6_0, {1}",
            "isb",
            in(reg) 1u64,
            in(reg) 0xffu64,
            options(nostack)
        )
    };
    true
}

/// Acknowledges the highest-priority Group 0 interrupt (ICC_IAR0_EL1).
pub fn acknowledge_group0() -> u32 {
    let id: u64;
    // SAFETY: reading the acknowledge register at EL3 only changes the
    // interrupt's state; no memory effects.
    unsafe { core::arch::asm!("mrs {0}, S3_0_C12_C8_0", out(reg) id, options(nomem, nostack)) };
    id as u32 & 0x00ff_ffff
}

/// Ends a Group 0 interrupt (ICC_EOIR0_EL1).
pub fn end_group0(id: u32) {
    // SAFETY: as above.
    unsafe {
        core::arch::asm!("msr S3_0_C12_C8_1, {0}", "isb", in(reg) u64::from(id), options(nostack))
    };
}
