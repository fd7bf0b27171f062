//! Indirect messages (`FFA_MSG_SEND2`, v1.1): the header at the start of the
//! sender's TX and the receiver's RX buffer.
//!
//! | offset | size | v1.1 | v1.2 and later |
//! |---|---|---|---|
//! | 0 | 4 | flags (zero) | flags (zero) |
//! | 4 | 4 | reserved (zero) | reserved (zero) |
//! | 8 | 4 | offset of the payload from the buffer's start | the same |
//! | 12 | 4 | sender ID `[31:16]`, receiver ID `[15:0]` | the same |
//! | 16 | 4 | payload size in bytes | the same |
//! | 20 | 4 | – (the header ends at 20) | reserved (zero) |
//! | 24 | 16 | – | the receiver's service UUID (nil: none) |
//!
//! The payload starts at the offset the header gives, at least at the end
//! of the header of the sender's layout.

/// Offset of the flags word.
pub const FLAGS: usize = 0;
/// Offset of the payload-offset word.
pub const PAYLOAD_OFFSET: usize = 8;
/// Offset of the endpoints word (sender `[31:16]`, receiver `[15:0]`).
pub const ENDPOINTS: usize = 12;
/// Offset of the payload-size word.
pub const PAYLOAD_SIZE: usize = 16;
/// Offset of v1.2's reserved word.
pub const RESERVED_V1_2: usize = 20;
/// Offset of v1.2's UUID.
pub const UUID: usize = 24;
/// Size of v1.1's header.
pub const HEADER_SIZE_V1_1: usize = 20;
/// Size of v1.2's header.
pub const HEADER_SIZE_V1_2: usize = 40;

/// w2 of `FFA_MSG_SEND2`, bit 1: do not raise the schedule receiver
/// interrupt now (partitions only); every other bit must be zero.
pub const SEND2_DELAY_SCHEDULE_RECEIVER_INTERRUPT: u32 = 1 << 1;
