//! Loading and running plugins: compile once, `InstancePre` once per plugin, a fresh `Store`
//! per run with wall-time (epoch) and memory limits, WASI with no files, no network and no
//! environment, and stdout/stderr captured into the run's log.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mageflow_model::grants::{Grant, Grants, ImportCheck, check_import};
use mageflow_model::{Limits, MAX_MEMORY};
use sha2::{Digest, Sha256};
use wasmtime::component::{Component, ResourceTable, types::ComponentItem};
use wasmtime::{
    Cache, CacheConfig, Config, Enabled, Engine, InstanceAllocationStrategy,
    PoolingAllocationConfig, Store, Trap, UpdateDeadline,
};
use wasmtime_wasi::WasiCtxBuilder;
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;

use crate::determinism::Hooks;
use crate::error::{Error, Result};
use crate::gateway::Gateway;
use crate::generated::mageflow::workflow::types::{Outcome, Trigger};
use crate::generated::{Workflow, WorkflowPre};
use crate::host::approvals::{ApprovalsHost, Approver, Preset, Suspended};
use crate::host::magento::MagentoHost;
use crate::host::runtime::{LogLine, RuntimeHost};
use crate::host::types::Postponed;
use crate::policy::Gate;
use crate::state::{HostState, MemoryLimit, MemoryLimiter};

/// How often the epoch ticks; wall-time limits are counted in these ticks.
const TICK: Duration = Duration::from_millis(10);
/// Runs the pooling allocator keeps room for at once.
const RUNS_IN_FLIGHT: u32 = 64;
/// Bytes of each memory, table and stack slot reset in place rather than decommitted.
const KEEP_RESIDENT: usize = 2 << 20;
/// Captured stdout/stderr per run.
const OUTPUT_CAPACITY: usize = 256 * 1024;

/// The engine plugins run on, with its epoch ticker and its linker.
pub struct Runtime {
    engine: Engine,
    /// The on-disk cache of compiled components, when the runtime has one.
    disk: Option<Cache>,
    /// Compiled components by the SHA-256 of their bytes: loading the same plugin again is free.
    compiled: Mutex<HashMap<[u8; 32], Component>>,
    linker: wasmtime::component::Linker<HostState>,
    stop: Arc<AtomicBool>,
}

impl std::fmt::Debug for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runtime").finish_non_exhaustive()
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// What a plugin imports and exports, for `mageflow plugin check`.
#[derive(Debug, Clone)]
pub struct Inspection {
    /// Import names with what the grants say of each.
    pub imports: Vec<(String, ImportCheck)>,
    /// Export names.
    pub exports: Vec<String>,
}

impl Inspection {
    /// Imports mageflow does not provide.
    pub fn unknown(&self) -> Vec<&str> {
        self.imports
            .iter()
            .filter(|(_, c)| *c == ImportCheck::Unknown)
            .map(|(n, _)| n.as_str())
            .collect()
    }

    /// The grants that would cover every refused import, deduplicated.
    pub fn missing(&self) -> Vec<Grant> {
        let mut out: Vec<Grant> = Vec::new();
        for (_, c) in &self.imports {
            if let ImportCheck::Missing(any) = c
                && let Some(g) = any.first()
                && !out.contains(g)
            {
                out.push(*g);
            }
        }
        out
    }
}

/// How often the on-disk cache answered: compiled artifacts reused, and components compiled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheStats {
    /// Components loaded from the on-disk cache without compiling.
    pub hits: usize,
    /// Components compiled (and then written to the cache).
    pub misses: usize,
}

impl Runtime {
    /// An engine with the component model and epoch interruption, and a ticker thread. Compiled
    /// components are kept in memory only.
    pub fn new() -> Result<Runtime> {
        Runtime::build(None)
    }

    /// Like [`Runtime::new`], and keeps compiled components in `dir` (an absolute path,
    /// created when missing), keyed by the component's hash and the engine's settings, so a
    /// restart does not compile a plugin again.
    pub fn with_disk_cache(dir: &Path) -> Result<Runtime> {
        let mut settings = CacheConfig::new();
        settings.with_directory(dir);
        let cache = Cache::new(settings).map_err(|e| Error::Host {
            what: format!(
                "cannot use {} as the compile cache (give an absolute, writable directory)",
                dir.display()
            ),
            source: e.into(),
        })?;
        Runtime::build(Some(cache))
    }

    /// The on-disk cache's hits and misses so far, when the runtime has one.
    pub fn cache_stats(&self) -> Option<CacheStats> {
        self.disk.as_ref().map(|c| CacheStats {
            hits: c.cache_hits(),
            misses: c.cache_misses(),
        })
    }

    fn build(disk: Option<Cache>) -> Result<Runtime> {
        let mut config = Config::new();
        config.cache(disk.clone());
        config.wasm_component_model(true);
        // Plugins are synchronous guests called through the async API; without the
        // component-model-async machinery a store has no concurrent state to set up or tear
        // down (tearing it down built an error, with a backtrace, on every run).
        config.concurrency_support(false);
        config.epoch_interruption(true);
        // The pooling allocator keeps instance slots ready, so a run instantiates in
        // microseconds. Sized for RUNS_IN_FLIGHT concurrent runs of a wasip2 component.
        let mut pool = PoolingAllocationConfig::default();
        pool.total_component_instances(RUNS_IN_FLIGHT)
            .total_core_instances(RUNS_IN_FLIGHT * 16)
            .total_memories(RUNS_IN_FLIGHT * 4)
            .total_tables(RUNS_IN_FLIGHT * 8)
            .max_memory_size(MAX_MEMORY)
            // Reset a small plugin's memory, tables and stack with memset and keep the pages,
            // instead of returning them to the kernel and faulting them in on the next run.
            .linear_memory_keep_resident(KEEP_RESIDENT)
            .table_keep_resident(KEEP_RESIDENT)
            .async_stack_keep_resident(KEEP_RESIDENT)
            .pagemap_scan(Enabled::Auto);
        config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
        let engine = Engine::new(&config).map_err(|e| Error::Host {
            what: "cannot create the engine".into(),
            source: e.into(),
        })?;
        let linker = crate::linker::linker(&engine).map_err(|e| Error::Host {
            what: "cannot build the linker".into(),
            source: e.into(),
        })?;
        let stop = Arc::new(AtomicBool::new(false));
        let (ticking, flag) = (engine.clone(), stop.clone());
        std::thread::Builder::new()
            .name("mageflow-epoch".into())
            .spawn(move || {
                while !flag.load(Ordering::Relaxed) {
                    std::thread::sleep(TICK);
                    ticking.increment_epoch();
                }
            })
            .map_err(|e| Error::Host {
                what: "cannot start the epoch ticker".into(),
                source: e.into(),
            })?;
        Ok(Runtime {
            engine,
            disk,
            compiled: Mutex::default(),
            linker,
            stop,
        })
    }

    fn compile(&self, name: &str, bytes: &[u8]) -> Result<Component> {
        let key: [u8; 32] = Sha256::digest(bytes).into();
        if let Some(c) = self
            .compiled
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key)
        {
            return Ok(c.clone());
        }
        let component = Component::new(&self.engine, bytes)
            .map_err(|e| Error::NotAComponent(name.to_owned(), format!("{e:#}")))?;
        self.compiled
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key, component.clone());
        Ok(component)
    }

    /// Lists a component's imports and exports and what `grants` say of each import.
    pub fn inspect(&self, name: &str, bytes: &[u8], grants: &Grants) -> Result<Inspection> {
        Ok(self.inspect_component(&self.compile(name, bytes)?, grants))
    }

    fn inspect_component(&self, component: &Component, grants: &Grants) -> Inspection {
        let ty = component.component_type();
        let imports = ty
            .imports(&self.engine)
            .map(|(n, _)| (n.to_owned(), check_import(n, grants)))
            .collect();
        let exports = ty
            .exports(&self.engine)
            .map(|(n, item)| match item.ty {
                ComponentItem::ComponentFunc(_) => format!("{n} (func)"),
                _ => n.to_owned(),
            })
            .collect();
        Inspection { imports, exports }
    }

    /// Compiles a plugin, refuses it when it imports what its grants do not cover, and
    /// pre-instantiates it.
    pub fn load(&self, name: &str, bytes: &[u8], grants: Grants) -> Result<Plugin> {
        let component = self.compile(name, bytes)?;
        let inspection = self.inspect_component(&component, &grants);
        let unknown = inspection.unknown();
        if !unknown.is_empty() {
            return Err(Error::UnknownImport(unknown.join(", ")));
        }
        let missing = inspection.missing();
        if !missing.is_empty() {
            let interfaces: Vec<&str> = inspection
                .imports
                .iter()
                .filter(|(_, c)| matches!(c, ImportCheck::Missing(_)))
                .map(|(n, _)| n.as_str())
                .collect();
            return Err(Error::MissingGrants {
                interfaces: interfaces.join(", "),
                grants: missing
                    .iter()
                    .map(|g| g.name())
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        }
        let pre = self
            .linker
            .instantiate_pre(&component)
            .map_err(|e| Error::WrongWorld(format!("{e:#}")))?;
        let pre = WorkflowPre::new(pre).map_err(|e| Error::WrongWorld(format!("{e:#}")))?;
        Ok(Plugin {
            engine: self.engine.clone(),
            pre,
            grants,
        })
    }
}

/// What a run needs besides its trigger.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Where the run's Magento calls go: a [`mageflow_magento::MagentoClient`], or a gateway
    /// that journals, replays or plans them.
    pub gateway: Arc<dyn Gateway>,
    /// Limits for this run.
    pub limits: Limits,
    /// Who answers `approvals.request`.
    pub approver: Arc<dyn Approver>,
    /// Calls that need an approval granted earlier in the run (`customers.delete`, ...).
    pub gated: BTreeSet<String>,
    /// The workflow's `[config]` values.
    pub config: BTreeMap<String, String>,
    /// The run's clock and random seed.
    pub hooks: Hooks,
}

impl RunOptions {
    /// Options with default limits, no approver (requests are refused, naming how to
    /// decide), no gated calls, no config, the system clock and a fresh random seed.
    pub fn new(gateway: Arc<dyn Gateway>) -> RunOptions {
        RunOptions {
            gateway,
            limits: Limits::default(),
            approver: Arc::new(Preset::Undecided),
            gated: BTreeSet::new(),
            config: BTreeMap::new(),
            hooks: Hooks::default(),
        }
    }
}

/// How a run ended, with its log.
#[derive(Debug)]
pub struct RunReport {
    /// The plugin's answer, or why the run was stopped.
    pub outcome: Result<Result<Outcome, String>>,
    /// Log lines from `runtime.log`, then captured stdout and stderr.
    pub log: Vec<LogLine>,
    /// Titles of the approvals the plugin asked for.
    pub approvals: Vec<String>,
}

/// A loaded, pre-instantiated plugin. Each run gets a fresh store.
pub struct Plugin {
    engine: Engine,
    pre: WorkflowPre<HostState>,
    grants: Grants,
}

impl std::fmt::Debug for Plugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Plugin")
            .field("grants", &self.grants)
            .finish_non_exhaustive()
    }
}

impl Plugin {
    /// Runs the plugin once for `trigger`.
    pub async fn run(&self, trigger: &Trigger, opts: &RunOptions) -> RunReport {
        let stdout = MemoryOutputPipe::new(OUTPUT_CAPACITY);
        let stderr = MemoryOutputPipe::new(OUTPUT_CAPACITY);
        // No preopened directories, no environment, no sockets; time and randomness from the
        // run's hooks.
        let mut wasi = WasiCtxBuilder::new();
        wasi.stdout(stdout.clone())
            .stderr(stderr.clone())
            .allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false);
        opts.hooks.install(&mut wasi);
        let wasi = wasi.build();
        let granted = Arc::new(AtomicBool::new(false));
        let gated: Arc<dyn Gateway> = if opts.gated.is_empty() {
            opts.gateway.clone()
        } else {
            Arc::new(Gate {
                inner: opts.gateway.clone(),
                gated: opts.gated.clone(),
                granted: granted.clone(),
            })
        };
        // The wall-time limit bounds the plugin's own running: time spent waiting on Magento
        // (a slow store, a flaky network) does not count against it.
        let waited = Arc::new(AtomicU64::new(0));
        let gateway: Arc<dyn Gateway> = Arc::new(Timed {
            inner: gated,
            waited: waited.clone(),
        });
        let gateway = &gateway;
        let state = HostState {
            wasi,
            table: ResourceTable::new(),
            limits: MemoryLimiter {
                bytes: opts.limits.memory_bytes.min(MAX_MEMORY),
            },
            magento: MagentoHost {
                gateway: gateway.clone(),
                grants: self.grants.clone(),
            },
            approvals: ApprovalsHost {
                grants: self.grants.clone(),
                approver: opts.approver.clone(),
                granted,
                requested: Vec::new(),
            },
            runtime: RuntimeHost {
                clock: opts.hooks.clock.clone(),
                log: Vec::new(),
                config: opts.config.clone(),
                state: opts.hooks.state.clone(),
            },
        };
        let mut store = Store::new(&self.engine, state);
        store.limiter(|s| &mut s.limits);
        let limit = opts.limits.wall_time;
        let ticks = |d: Duration| (d.as_millis() / TICK.as_millis()).max(1) as u64;
        store.set_epoch_deadline(ticks(limit));
        let started = Instant::now();
        store.epoch_deadline_callback(move |_| {
            let own = started
                .elapsed()
                .saturating_sub(Duration::from_nanos(waited.load(Ordering::Relaxed)));
            match limit.checked_sub(own) {
                Some(left) if !left.is_zero() => Ok(UpdateDeadline::Continue(ticks(left))),
                _ => Err(Trap::Interrupt.into()),
            }
        });
        let outcome = match self.pre.instantiate_async(&mut store).await {
            Ok(bindings) => {
                self.call(&bindings, &mut store, trigger, &opts.limits)
                    .await
            }
            // Every slot of the pool in use (RUNS_IN_FLIGHT runs at once): time cures it,
            // and nothing has been sent for this run yet.
            Err(e)
                if e.downcast_ref::<wasmtime::PoolConcurrencyLimitError>()
                    .is_some() =>
            {
                Err(Error::Postponed {
                    reason: format!(
                        "no free plugin slot ({e}; the pool holds {RUNS_IN_FLIGHT} runs at once)"
                    ),
                    after: Duration::from_secs(1),
                })
            }
            Err(e) => Err(Error::WrongWorld(format!("{e:#}"))),
        };
        let state = store.into_data();
        let mut log = state.runtime.log;
        let errors = String::from_utf8_lossy(&stderr.contents()).into_owned();
        for (level, text) in [
            (
                "stdout",
                String::from_utf8_lossy(&stdout.contents()).into_owned(),
            ),
            ("stderr", errors.clone()),
        ] {
            log.extend(text.lines().map(|l| LogLine {
                level,
                message: l.to_owned(),
            }));
        }
        // A trap's headline is its cause in one line; the wasm backtrace goes to the log.
        let outcome = outcome.map_err(|e| match e {
            Error::Trap(text) => {
                log.extend(text.lines().map(|l| LogLine {
                    level: "trap",
                    message: l.to_owned(),
                }));
                Error::Trap(crate::headline::of_trap(&errors, &text))
            }
            other => other,
        });
        RunReport {
            outcome,
            log,
            approvals: state.approvals.requested,
        }
    }

    async fn call(
        &self,
        bindings: &Workflow,
        store: &mut Store<HostState>,
        trigger: &Trigger,
        limits: &Limits,
    ) -> Result<Result<Outcome, String>> {
        bindings.call_run(store, trigger).await.map_err(|e| {
            // Why it stopped, by the error's type: wall time, memory, a suspension, a
            // postponement, or else a trap.
            if e.downcast_ref::<Trap>() == Some(&Trap::Interrupt) {
                Error::WallTime(limits.wall_time)
            } else if e.downcast_ref::<MemoryLimit>().is_some() {
                Error::Memory(limits.memory_bytes)
            } else if let Some(s) = e.downcast_ref::<Suspended>() {
                Error::Suspended(s.title.clone())
            } else if let Some(p) = e.downcast_ref::<Postponed>() {
                Error::Postponed {
                    reason: p.reason.clone(),
                    after: p.after,
                }
            } else {
                // The root cause first (a host fault, a wasm trap), then the whole chain
                // with its backtrace.
                Error::Trap(format!("{}\n{e:#}", e.root_cause()))
            }
        })
    }
}

/// A gateway that counts the time its calls take (waiting on Magento), so the wall-time
/// limit counts only the plugin's own running.
#[derive(Debug)]
struct Timed {
    inner: Arc<dyn Gateway>,
    waited: Arc<AtomicU64>,
}

impl Gateway for Timed {
    fn call(&self, call: crate::gateway::Call) -> crate::gateway::Pending<'_> {
        Box::pin(async move {
            let began = Instant::now();
            let answer = self.inner.call(call).await;
            let took = u64::try_from(began.elapsed().as_nanos()).unwrap_or(u64::MAX);
            self.waited.fetch_add(took, Ordering::Relaxed);
            answer
        })
    }
}
