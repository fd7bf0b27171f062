//! The direct-request protocols of the model's test partitions that the
//! kernel's drivers speak: the notifier (notifications and indirect
//! messages), the scheduling partition (preemptible work, yields with a
//! timeout) and the per-CPU partition (one execution context per core).
//! Shared by `tools/ffa-model` and the drivers in `capsule-ffa`.
//!
//! A request carries the command in its first payload word (w3/x3) and
//! its arguments in the next; the response carries a status in its first
//! word (0, or an FF-A error code as a 32-bit two's complement) and
//! results in the next.

/// The notifier partition (0x8004 in the model).
pub mod notifier {
    /// Set the normal world's notifications now: w4 = bitmap bits 0–31,
    /// w5 = bits 32–63, w6 = flags (bit 0 per-vCPU, bits `[31:16]` the vCPU).
    /// Answers w4 = the SPMC's status of the `FFA_NOTIFICATION_SET` it made.
    pub const NOTIFY_NOW: u32 = 1;
    /// Set them later, from the partition's secure timer: w4/w5 the bitmap,
    /// w6 the delay in microseconds.
    pub const NOTIFY_LATER: u32 = 2;
    /// Send the normal world an indirect message: w4 = payload bytes, w5 =
    /// the first byte of the pattern (byte `i` is `w5 + i`, wrapping).
    pub const SEND_MESSAGE: u32 = 3;
    /// Counters: answers w4 = indirect messages received, w5 = indirect
    /// messages sent, w6 = notifications received from the normal world,
    /// w7 = notifications set for the normal world.
    pub const STATISTICS: u32 = 4;
    /// The notification IDs the partition lets the normal world set (bound
    /// to sender 0 at boot, global): 0–15. When the normal world sets one,
    /// the partition sets the same ID back for the normal world.
    pub const BOUND_FOR_THE_NORMAL_WORLD: u64 = 0xFFFF;
    /// Most payload bytes the partition echoes in one indirect message.
    pub const MAXIMUM_MESSAGE: usize = 256;
}

/// The scheduling partition (0x8005 in the model).
pub mod scheduling {
    /// Work for w4 microseconds; with w5 an interrupt ID (SPI, 128–159),
    /// make it pending for the normal world first and then every w6
    /// microseconds of work. The partition is preempted (`FFA_INTERRUPT`)
    /// whenever an interrupt the normal world enabled is pending. Answers
    /// w4 = preemptions, w5 = doorbells raised, w6 = resumptions that found
    /// an interrupt still pending, w7 = milliseconds worked.
    pub const WORK: u32 = 1;
    /// Yield w5 times with a timeout of w4 microseconds (`FFA_YIELD`, the
    /// timeout in nanoseconds in w2/w3). Answers w4 = resumptions before
    /// the timeout, w5 = the shortest wait in microseconds, w6 = yields.
    pub const YIELD: u32 = 2;
    /// The doorbell interrupt IDs the partition accepts: spare SPIs.
    pub const DOORBELLS: core::ops::Range<u32> = 128..160;
}

/// The per-CPU partition (0x8006 in the model): several execution contexts
/// (one per core, as an MP partition's manifest gives it), each with state
/// of its own.
pub mod per_cpu {
    /// Which execution context answers: w4 = how many times to be preempted
    /// (`FFA_INTERRUPT`, resumed with `FFA_RUN` of that context) before
    /// answering, at most [`MAXIMUM_PREEMPTIONS`]. Answers w4 = the vCPU
    /// (execution context) that ran the request, w5 = requests that vCPU
    /// has answered (this one included: its own count, kept per vCPU),
    /// w6 = the partition's execution contexts.
    pub const WHO_AM_I: u32 = 1;
    /// Most preemptions a `WHO_AM_I` asks for.
    pub const MAXIMUM_PREEMPTIONS: u32 = 8;
}
