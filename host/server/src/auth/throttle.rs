//! Slows down repeated failed sign-ins from one client: after a few failures each further
//! attempt must wait, twice as long each time, up to a quarter of an hour.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;

/// Failures allowed before waiting starts.
const FREE: u32 = 5;
/// The longest wait, seconds.
const MAX_WAIT: u64 = 15 * 60;
/// Failures older than this are forgotten, seconds.
const FORGET: u64 = 3600;

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    last: u64,
}

/// Failed sign-ins by client address.
#[derive(Debug, Default)]
pub(crate) struct Throttle(Mutex<HashMap<IpAddr, Failures>>);

impl Throttle {
    /// Seconds the client must still wait before it may try again (0: it may).
    pub(crate) fn wait(&self, client: IpAddr, now: u64) -> u64 {
        let map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let Some(f) = map.get(&client) else {
            return 0;
        };
        if f.count < FREE || now >= f.last + FORGET {
            return 0;
        }
        let wait = (1u64 << (f.count - FREE).min(10)).min(MAX_WAIT);
        (f.last + wait).saturating_sub(now)
    }

    /// Counts a failed sign-in.
    pub(crate) fn failed(&self, client: IpAddr, now: u64) {
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        map.retain(|_, f| now < f.last + FORGET);
        let f = map.entry(client).or_insert(Failures {
            count: 0,
            last: now,
        });
        f.count += 1;
        f.last = now;
    }

    /// Forgets a client's failures after it signed in.
    pub(crate) fn succeeded(&self, client: IpAddr) {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&client);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_grow_after_the_free_failures() {
        let t = Throttle::default();
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        for _ in 0..FREE {
            assert_eq!(t.wait(ip, 100), 0);
            t.failed(ip, 100);
        }
        assert_eq!(t.wait(ip, 100), 1);
        t.failed(ip, 101);
        assert_eq!(t.wait(ip, 101), 2);
        assert_eq!(t.wait(ip, 103), 0);
        let other: IpAddr = "10.0.0.2".parse().unwrap();
        assert_eq!(t.wait(other, 101), 0, "another client is not slowed");
        t.succeeded(ip);
        assert_eq!(t.wait(ip, 101), 0);
    }
}
