//! Error codes shared by every HIL and capsule, as in Tock.

/// Why an operation failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
#[repr(u8)]
pub enum ErrorCode {
    /// Generic failure.
    FAIL = 1,
    /// The underlying system is busy; retry.
    BUSY = 2,
    /// The state requested is already set.
    ALREADY = 3,
    /// The component is powered down or not ready.
    OFF = 4,
    /// Reservation required before use.
    RESERVE = 5,
    /// An argument was invalid.
    INVAL = 6,
    /// The parameter passed was too large.
    SIZE = 7,
    /// The operation was cancelled.
    CANCEL = 8,
    /// Memory or capacity required was not available.
    NOMEM = 9,
    /// The operation is not supported.
    NOSUPPORT = 10,
    /// The device is not available.
    NODEVICE = 11,
    /// The device is not physically installed.
    UNINSTALLED = 12,
    /// Packet transmission was not acknowledged.
    NOACK = 13,
}

impl ErrorCode {
    /// The error's name, for logs.
    pub const fn name(self) -> &'static str {
        match self {
            ErrorCode::FAIL => "FAIL",
            ErrorCode::BUSY => "BUSY",
            ErrorCode::ALREADY => "ALREADY",
            ErrorCode::OFF => "OFF",
            ErrorCode::RESERVE => "RESERVE",
            ErrorCode::INVAL => "INVAL",
            ErrorCode::SIZE => "SIZE",
            ErrorCode::CANCEL => "CANCEL",
            ErrorCode::NOMEM => "NOMEM",
            ErrorCode::NOSUPPORT => "NOSUPPORT",
            ErrorCode::NODEVICE => "NODEVICE",
            ErrorCode::UNINSTALLED => "UNINSTALLED",
            ErrorCode::NOACK => "NOACK",
        }
    }
}
