//! Property tests of the layout checks: whatever the layout (host memory,
//! carve-out, the ranges of EL2's image as a linker script may place them),
//! a range the proxy accepts from the host is inside host memory and
//! disjoint from every range EL2 owns, and one that is would be accepted.

use capsule_ffa_proxy::memory::{BufferProblem, ProxyLayout, PAGE_SIZE};
use kernel::hil::hypervisor::{El2Memory, MemoryRange, EL2_MEMORY_RANGES};
use proptest::prelude::*;

/// Whether `[a, a + a_size)` and `[b, b + b_size)` share an address, in
/// 128-bit arithmetic (an oracle independent of `MemoryRange::overlaps`).
fn intersect(a: u64, a_size: u64, b: u64, b_size: u64) -> bool {
    let (a, a_end) = (u128::from(a), u128::from(a) + u128::from(a_size));
    let (b, b_end) = (u128::from(b), u128::from(b) + u128::from(b_size));
    a_size != 0 && b_size != 0 && a < b_end && b < a_end
}

fn inside(outer: &MemoryRange, base: u64, size: u64) -> bool {
    u128::from(base) >= u128::from(outer.base)
        && u128::from(base) + u128::from(size) <= u128::from(outer.base) + u128::from(outer.size)
}

/// Host memory: DRAM of 16 MiB to 1 GiB somewhere in the first 8 GiB.
fn host_memory() -> impl Strategy<Value = MemoryRange> {
    (0u64..0x20_0000, 0x1000u64..=0x4_0000)
        .prop_map(|(page, pages)| MemoryRange::new(page * PAGE_SIZE, pages * PAGE_SIZE))
}

/// A page-aligned range starting in `host` (or just before it), 1 page to 1 MiB,
/// as a linker script places EL2's image or a board its carve-out.
fn range_in(host: MemoryRange) -> impl Strategy<Value = MemoryRange> {
    let pages = host.size / PAGE_SIZE;
    (0..pages + 16, 1u64..=0x100).prop_map(move |(page, size)| {
        MemoryRange::new(
            (host.base + page * PAGE_SIZE).saturating_sub(16 * PAGE_SIZE),
            size * PAGE_SIZE,
        )
    })
}

fn layout() -> impl Strategy<Value = ProxyLayout> {
    host_memory().prop_flat_map(|host| {
        (
            Just(host),
            range_in(host),
            prop::collection::vec(range_in(host), 0..=EL2_MEMORY_RANGES),
        )
            .prop_map(|(host, carve_out, el2)| {
                let el2 = el2.into_iter().fold(El2Memory::EMPTY, |memory, range| {
                    memory.with(range).unwrap()
                });
                ProxyLayout::with_mailbox_in(host, MemoryRange::new(carve_out.base, 0x1_0000), el2)
            })
    })
}

/// A layout and a host buffer address: mostly in host memory, near EL2's
/// ranges, sometimes anything at all.
fn layout_and_address() -> impl Strategy<Value = (ProxyLayout, u64)> {
    layout().prop_flat_map(|layout| {
        let host = layout.host_memory;
        let near_el2: Vec<u64> = layout.el2.ranges().map(|range| range.base).collect();
        let address = prop_oneof![
            (0..host.size / PAGE_SIZE).prop_map(move |page| host.base + page * PAGE_SIZE),
            (0..near_el2.len().max(1), 0u64..=64).prop_map(move |(index, page)| {
                near_el2.get(index).map_or(host.base, |base| {
                    (base + page * PAGE_SIZE).saturating_sub(32 * PAGE_SIZE)
                })
            }),
            any::<u64>(),
        ];
        (Just(layout), address)
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4096))]

    #[test]
    fn what_the_host_may_name_never_touches_el2(
        (layout, address) in layout_and_address(),
        pages in 1u64..=63,
    ) {
        let size = pages * PAGE_SIZE;
        let verdict = layout.check_host_buffer(address, size);
        let owned: Vec<(u64, u64)> = layout
            .el2
            .ranges()
            .chain([
                layout.carve_out,
                layout.mailbox.transmit_range(),
                layout.mailbox.receive_range(),
            ])
            .map(|range| (range.base, range.size))
            .collect();
        let aligned = address != 0 && address % PAGE_SIZE == 0;
        let in_host = inside(&layout.host_memory, address, size);
        let clear = owned
            .iter()
            .all(|&(base, owned_size)| !intersect(address, size, base, owned_size));
        match verdict {
            Ok(()) => {
                prop_assert!(aligned && in_host && clear, "{address:#x}+{size:#x} accepted in {layout:?}");
                for range in layout.el2.ranges() {
                    prop_assert!(!intersect(address, size, range.base, range.size));
                }
            }
            Err(problem) => {
                prop_assert!(!(aligned && in_host && clear), "{address:#x} refused: {problem:?}");
                if problem == BufferProblem::InEl2Memory {
                    prop_assert!(layout
                        .el2
                        .ranges()
                        .any(|range| intersect(address, size, range.base, range.size)));
                }
            }
        }
    }

    #[test]
    fn a_carve_out_in_el2_memory_is_never_a_layout(layout in layout()) {
        let in_el2 = layout
            .el2
            .ranges()
            .any(|range| intersect(range.base, range.size, layout.carve_out.base, layout.carve_out.size));
        if layout.check().is_ok() {
            prop_assert!(!in_el2);
        }
    }
}
