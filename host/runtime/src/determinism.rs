//! Where a run's time and randomness come from. Both are hooks so the engine can make a run
//! repeatable: it records every clock reading (and answers them again on replay) through its
//! own [`Clock`], and stores the run's random seed, from which every random byte the plugin
//! sees is derived. The same clock answers `runtime.now` and WASI's wall and monotonic clocks.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rand_wasi::rngs::StdRng;
use rand_wasi::{Rng as _, SeedableRng as _};
use sha2::{Digest, Sha256};
use wasmtime_wasi::{HostMonotonicClock, HostWallClock, WasiCtxBuilder};

/// A source of the current time.
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// Now, as the time since the Unix epoch.
    fn now(&self) -> Duration;
}

/// The machine's clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Duration {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
    }
}

/// A clock that always answers the same instant (tests, and replays that pin a reading).
#[derive(Debug, Clone, Copy)]
pub struct FixedClock(pub Duration);

impl Clock for FixedClock {
    fn now(&self) -> Duration {
        self.0
    }
}

/// Where `runtime.state-get` and `state-set` keep a workflow's values between runs. The engine
/// keeps them in its store and journals each read, so a replay reads what the run read.
pub trait StateStore: Send + Sync + std::fmt::Debug {
    /// The value stored under `key`.
    fn get(&self, key: &str) -> Option<String>;
    /// Stores `value` under `key`.
    fn set(&self, key: &str, value: &str);
}

/// State kept in memory, for one `RunOptions` (what `mageflow plugin run` uses).
#[derive(Debug, Default)]
pub struct MemoryState(std::sync::Mutex<std::collections::BTreeMap<String, String>>);

impl StateStore for MemoryState {
    fn get(&self, key: &str) -> Option<String> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(key)
            .cloned()
    }

    fn set(&self, key: &str, value: &str) {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key.to_owned(), value.to_owned());
    }
}

/// A seed from the operating system's randomness.
pub fn fresh_seed() -> [u8; 32] {
    let mut seed = [0u8; 32];
    rand_wasi::rng().fill_bytes(&mut seed);
    seed
}

/// A run's clock and the seed of its randomness.
#[derive(Debug, Clone)]
pub struct Hooks {
    /// Answers `runtime.now` and the WASI clocks.
    pub clock: Arc<dyn Clock>,
    /// Keeps `runtime.state-*` values.
    pub state: Arc<dyn StateStore>,
    /// Every random byte the plugin reads (WASI `random` and `insecure`) derives from this
    /// seed. `None`: a fresh seed from the operating system for each run.
    pub seed: Option<[u8; 32]>,
}

impl Default for Hooks {
    /// The system clock and a fresh seed for each run.
    fn default() -> Self {
        Hooks {
            clock: Arc::new(SystemClock),
            state: Arc::new(MemoryState::default()),
            seed: None,
        }
    }
}

impl Hooks {
    /// Installs the hooks into a WASI context under construction.
    pub(crate) fn install(&self, wasi: &mut WasiCtxBuilder) {
        let seed = self.seed.unwrap_or_else(fresh_seed);
        let derived = |label: &[u8]| -> [u8; 32] {
            Sha256::new()
                .chain_update(label)
                .chain_update(seed)
                .finalize()
                .into()
        };
        let insecure = derived(b"insecure");
        let mut seed128 = [0u8; 16];
        seed128.copy_from_slice(&derived(b"insecure-seed")[..16]);
        wasi.secure_random(StdRng::from_seed(derived(b"random")))
            .insecure_random(StdRng::from_seed(insecure))
            .insecure_random_seed(u128::from_le_bytes(seed128))
            .wall_clock(Wall(self.clock.clone()))
            .monotonic_clock(Monotonic {
                clock: self.clock.clone(),
                start: OnceLock::new(),
                last: AtomicU64::new(0),
            });
    }
}

/// WASI's wall clock, read from the hook.
struct Wall(Arc<dyn Clock>);

impl HostWallClock for Wall {
    fn resolution(&self) -> Duration {
        Duration::from_micros(1)
    }

    fn now(&self) -> Duration {
        self.0.now()
    }
}

/// WASI's monotonic clock: nanoseconds since the plugin first read it, by the hook's clock,
/// never going back even when the wall clock does. The origin is read lazily: most runs never
/// ask, and every reading is a journal record.
struct Monotonic {
    clock: Arc<dyn Clock>,
    start: OnceLock<Duration>,
    last: AtomicU64,
}

impl HostMonotonicClock for Monotonic {
    fn resolution(&self) -> u64 {
        1_000
    }

    fn now(&self) -> u64 {
        let start = *self.start.get_or_init(|| self.clock.now());
        let since = self.clock.now().saturating_sub(start);
        let nanos = u64::try_from(since.as_nanos()).unwrap_or(u64::MAX);
        self.last.fetch_max(nanos, Ordering::Relaxed).max(nanos)
    }
}
