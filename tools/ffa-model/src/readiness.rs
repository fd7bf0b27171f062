//! Delayed SPMC readiness: FF-A calls answer an error until a call count or a time limit is reached.

use crate::config::FaultConfig;
use ffa_abi::Status;

/// Tracks whether the SPMC has become ready.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Readiness {
    ready: bool,
    first_call_microseconds: Option<u64>,
    answered_not_ready: u32,
}

impl Readiness {
    pub(crate) const fn new() -> Readiness {
        Readiness {
            ready: false,
            first_call_microseconds: None,
            answered_not_ready: 0,
        }
    }

    /// Called for every FF-A call: `Some(error)` while the SPMC is not ready.
    pub(crate) fn check(&mut self, config: &FaultConfig, now_microseconds: u64) -> Option<Status> {
        if self.ready {
            return None;
        }
        let count_limit = config.not_ready_calls;
        let time_limit = config.not_ready_microseconds;
        let first = *self.first_call_microseconds.get_or_insert(now_microseconds);
        let count_reached = count_limit != 0 && self.answered_not_ready >= count_limit;
        let time_reached = time_limit != 0 && now_microseconds.saturating_sub(first) >= time_limit;
        if (count_limit == 0 && time_limit == 0) || count_reached || time_reached {
            self.ready = true;
            return None;
        }
        self.answered_not_ready = self.answered_not_ready.saturating_add(1);
        Some(config.not_ready_error.error())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ReadinessError;

    #[test]
    fn count_limit() {
        let config = FaultConfig {
            not_ready_calls: 2,
            not_ready_error: ReadinessError::Busy,
            ..FaultConfig::default_config()
        };
        let mut readiness = Readiness::new();
        assert_eq!(readiness.check(&config, 0), Some(Status::Busy));
        assert_eq!(readiness.check(&config, 0), Some(Status::Busy));
        assert_eq!(readiness.check(&config, 0), None);
        assert_eq!(readiness.check(&config, 0), None);
    }

    #[test]
    fn time_limit_counts_from_the_first_call() {
        let config = FaultConfig {
            not_ready_microseconds: 100,
            ..FaultConfig::default_config()
        };
        let mut readiness = Readiness::new();
        assert_eq!(readiness.check(&config, 1000), Some(Status::NotReady));
        assert_eq!(readiness.check(&config, 1099), Some(Status::NotReady));
        assert_eq!(readiness.check(&config, 1100), None);
        assert_eq!(readiness.check(&config, 0), None, "ready stays ready");
    }
}
