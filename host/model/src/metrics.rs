//! What the engine counts, and its Prometheus text exposition (`GET /metrics`): runs by
//! workflow and how they ended, run duration, host calls and their latency, Magento requests
//! by status, retries, approval wait time, webhook intake and lost leases. Every series is
//! labelled with the worker that counted it, so several workers on one store can be told
//! apart once scraped.
//!
//! Counters and histograms are kept per label set behind one mutex each; recording costs a
//! map lookup, which is small beside a host call or an HTTP exchange.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

/// Upper bounds (seconds) for latencies: host calls, Magento requests, run attempts.
const LATENCY: &[f64] = &[
    0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
    30.0, 60.0, 300.0,
];
/// Upper bounds (seconds) for how long approvals wait: a minute to a week.
const WAIT: &[f64] = &[
    60.0, 300.0, 900.0, 3600.0, 14_400.0, 43_200.0, 86_400.0, 259_200.0, 604_800.0,
];

#[derive(Debug, Clone)]
struct Histogram {
    bounds: &'static [f64],
    /// Observations at or under each bound (not cumulative; summed when shown).
    counts: Vec<u64>,
    sum: f64,
    count: u64,
}

impl Histogram {
    fn new(bounds: &'static [f64]) -> Histogram {
        Histogram {
            bounds,
            counts: vec![0; bounds.len()],
            sum: 0.0,
            count: 0,
        }
    }

    fn observe(&mut self, value: f64) {
        if let Some(i) = self.bounds.iter().position(|b| value <= *b) {
            self.counts[i] += 1;
        }
        self.sum += value;
        self.count += 1;
    }
}

/// One metric: its label values -> counter or histogram.
#[derive(Debug)]
struct Family<T> {
    name: &'static str,
    help: &'static str,
    labels: &'static [&'static str],
    series: Mutex<BTreeMap<Vec<String>, T>>,
}

impl<T> Family<T> {
    const fn new(name: &'static str, help: &'static str, labels: &'static [&'static str]) -> Self {
        Family {
            name,
            help,
            labels,
            series: Mutex::new(BTreeMap::new()),
        }
    }

    fn with(&self, values: &[&str], f: impl FnOnce(&mut T), new: impl FnOnce() -> T) {
        let mut series = self.series.lock().unwrap_or_else(|e| e.into_inner());
        // Look up by borrowed values first: most recordings hit an existing series.
        if let Some(t) = series
            .iter_mut()
            .find(|(k, _)| k.iter().map(String::as_str).eq(values.iter().copied()))
            .map(|(_, t)| t)
        {
            f(t);
            return;
        }
        let mut t = new();
        f(&mut t);
        series.insert(values.iter().map(|v| (*v).to_owned()).collect(), t);
    }
}

impl Family<u64> {
    fn add(&self, values: &[&str]) {
        self.with(values, |c| *c += 1, || 0);
    }

    fn render(&self, out: &mut String, worker: &str) {
        header(out, self.name, self.help, "counter");
        let series = self.series.lock().unwrap_or_else(|e| e.into_inner());
        for (values, count) in series.iter() {
            let _ = writeln!(
                out,
                "{}{} {count}",
                self.name,
                labels(worker, self.labels, values, None)
            );
        }
    }
}

impl Family<Histogram> {
    fn observe(&self, values: &[&str], bounds: &'static [f64], value: f64) {
        self.with(values, |h| h.observe(value), || Histogram::new(bounds));
    }

    fn render(&self, out: &mut String, worker: &str) {
        header(out, self.name, self.help, "histogram");
        let series = self.series.lock().unwrap_or_else(|e| e.into_inner());
        for (values, h) in series.iter() {
            let mut cumulative = 0;
            for (bound, n) in h.bounds.iter().zip(&h.counts) {
                cumulative += n;
                let le = format!("{bound}");
                let _ = writeln!(
                    out,
                    "{}_bucket{} {cumulative}",
                    self.name,
                    labels(worker, self.labels, values, Some(&le))
                );
            }
            let _ = writeln!(
                out,
                "{}_bucket{} {}",
                self.name,
                labels(worker, self.labels, values, Some("+Inf")),
                h.count
            );
            let plain = labels(worker, self.labels, values, None);
            let _ = writeln!(out, "{}_sum{plain} {}", self.name, h.sum);
            let _ = writeln!(out, "{}_count{plain} {}", self.name, h.count);
        }
    }
}

fn header(out: &mut String, name: &str, help: &str, kind: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

/// `{worker="w",a="x",b="y",le="0.5"}`, values escaped as the exposition format asks (no
/// worker label when none is named).
fn labels(worker: &str, names: &[&str], values: &[String], le: Option<&str>) -> String {
    let mut pairs: Vec<String> = Vec::with_capacity(names.len() + 2);
    if !worker.is_empty() {
        pairs.push(format!("worker=\"{}\"", escape(worker)));
    }
    pairs.extend(
        names
            .iter()
            .zip(values)
            .map(|(n, v)| format!("{n}=\"{}\"", escape(v))),
    );
    if let Some(le) = le {
        pairs.push(format!("le=\"{le}\""));
    }
    if pairs.is_empty() {
        String::new()
    } else {
        format!("{{{}}}", pairs.join(","))
    }
}

fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// The engine's metrics. Shared by the engine, the Magento clients (as their
/// [`mageflow_magento::Observer`]) and the server (webhook intake).
#[derive(Debug)]
pub struct Metrics {
    runs: Family<u64>,
    run_seconds: Family<Histogram>,
    host_calls: Family<u64>,
    host_call_seconds: Family<Histogram>,
    magento_requests: Family<u64>,
    magento_seconds: Family<Histogram>,
    retries: Family<u64>,
    approval_wait: Family<Histogram>,
    webhooks: Family<u64>,
    leases_lost: Family<u64>,
    /// The worker's name, a label on every series.
    worker: OnceLock<String>,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics {
            runs: Family::new(
                "mageflow_runs_total",
                "Run attempts by workflow and how they ended (succeeded, failed, awaiting-approval).",
                &["workflow", "status"],
            ),
            run_seconds: Family::new(
                "mageflow_run_duration_seconds",
                "Wall time of a run attempt, from start to end or suspension.",
                &["workflow"],
            ),
            host_calls: Family::new(
                "mageflow_host_calls_total",
                "Host calls made by plugins, by call and outcome (ok, error).",
                &["call", "outcome"],
            ),
            host_call_seconds: Family::new(
                "mageflow_host_call_duration_seconds",
                "Latency of host calls, journaling included.",
                &["call"],
            ),
            magento_requests: Family::new(
                "mageflow_magento_requests_total",
                "HTTP exchanges with Magento by method and status (transport-error when none came).",
                &["method", "status"],
            ),
            magento_seconds: Family::new(
                "mageflow_magento_request_duration_seconds",
                "Latency of one HTTP exchange with Magento.",
                &["method"],
            ),
            retries: Family::new(
                "mageflow_magento_retries_total",
                "Requests sent to Magento again after a transient failure or an expired token.",
                &["method", "reason"],
            ),
            approval_wait: Family::new(
                "mageflow_approval_wait_seconds",
                "Time from an approval request to its settlement (approved, rejected, expired).",
                &["workflow", "status"],
            ),
            webhooks: Family::new(
                "mageflow_webhook_deliveries_total",
                "Webhook deliveries by workflow and outcome (queued, duplicate, ignored, refused).",
                &["workflow", "outcome"],
            ),
            leases_lost: Family::new(
                "mageflow_leases_lost_total",
                "Runs this worker stopped because another worker took their lease over.",
                &[],
            ),
            worker: OnceLock::new(),
        }
    }
}

impl Metrics {
    /// A run attempt ended (or suspended) with `status` after `took`.
    pub fn run_ended(&self, workflow: &str, status: &str, took: Duration) {
        self.runs.add(&[workflow, status]);
        self.run_seconds
            .observe(&[workflow], LATENCY, took.as_secs_f64());
    }

    /// A host call answered.
    pub fn host_call(&self, call: &str, ok: bool, took: Duration) {
        self.host_calls
            .add(&[call, if ok { "ok" } else { "error" }]);
        self.host_call_seconds
            .observe(&[call], LATENCY, took.as_secs_f64());
    }

    /// An approval settled after waiting `waited` seconds.
    pub fn approval_settled(&self, workflow: &str, status: &str, waited: u64) {
        self.approval_wait
            .observe(&[workflow, status], WAIT, waited as f64);
    }

    /// A webhook delivery was `outcome`.
    pub fn webhook(&self, workflow: &str, outcome: &str) {
        self.webhooks.add(&[workflow, outcome]);
    }

    /// This worker lost a run's lease to another.
    pub fn lease_lost(&self) {
        self.leases_lost.add(&[]);
    }

    /// Names the worker every series is labelled with (once; later names are ignored).
    pub fn set_worker(&self, name: &str) {
        let _ = self.worker.set(name.to_owned());
    }

    fn worker(&self) -> &str {
        self.worker.get().map_or("", String::as_str)
    }

    /// Appends a gauge, labelled with the worker, to an exposition.
    pub fn gauge(&self, out: &mut String, name: &str, help: &str, value: f64) {
        header(out, name, help, "gauge");
        let _ = writeln!(
            out,
            "{name}{} {value}",
            labels(self.worker(), &[], &[], None)
        );
    }

    /// The Prometheus text exposition (format 0.0.4).
    pub fn render(&self) -> String {
        let mut out = String::new();
        let worker = self.worker();
        self.runs.render(&mut out, worker);
        self.run_seconds.render(&mut out, worker);
        self.host_calls.render(&mut out, worker);
        self.host_call_seconds.render(&mut out, worker);
        self.magento_requests.render(&mut out, worker);
        self.magento_seconds.render(&mut out, worker);
        self.retries.render(&mut out, worker);
        self.approval_wait.render(&mut out, worker);
        self.webhooks.render(&mut out, worker);
        self.leases_lost.render(&mut out, worker);
        out
    }
}

impl mageflow_magento::Observer for Metrics {
    fn exchange(&self, method: &str, status: Option<u16>, took: Duration) {
        let status = status.map_or_else(|| "transport-error".to_owned(), |s| s.to_string());
        self.magento_requests.add(&[method, &status]);
        self.magento_seconds
            .observe(&[method], LATENCY, took.as_secs_f64());
    }

    fn retry(&self, method: &str, reason: &str) {
        self.retries.add(&[method, reason]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histograms_are_cumulative_and_counted() {
        let m = Metrics::default();
        m.run_ended("a", "succeeded", Duration::from_millis(3));
        m.run_ended("a", "succeeded", Duration::from_secs(2));
        m.run_ended("a", "failed", Duration::from_secs(1000));
        let text = m.render();
        assert!(text.contains("mageflow_runs_total{workflow=\"a\",status=\"succeeded\"} 2\n"));
        assert!(
            text.contains("mageflow_run_duration_seconds_bucket{workflow=\"a\",le=\"0.005\"} 1\n")
        );
        assert!(
            text.contains("mageflow_run_duration_seconds_bucket{workflow=\"a\",le=\"2.5\"} 2\n")
        );
        assert!(
            text.contains("mageflow_run_duration_seconds_bucket{workflow=\"a\",le=\"+Inf\"} 3\n")
        );
        assert!(text.contains("mageflow_run_duration_seconds_count{workflow=\"a\"} 3\n"));
    }

    #[test]
    fn label_values_are_escaped() {
        let m = Metrics::default();
        m.webhook("we\"ird\\name\n", "queued");
        assert!(m.render().contains(
            "mageflow_webhook_deliveries_total{workflow=\"we\\\"ird\\\\name\\n\",outcome=\"queued\"} 1"
        ));
    }
}
