//! How results are shown: aligned columns for people, one JSON object per line for programs,
//! and a progress bar on stderr when it is a terminal.

use std::io::{IsTerminal, Write};

use mageflow_magento::{AdminUser, Change, Customer};
use serde::Serialize;

/// Prints one JSON object per line.
pub(crate) fn json_line(value: &impl Serialize) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    serde_json::to_writer(&mut out, value)?;
    writeln!(out)?;
    Ok(())
}

/// Prints a value as indented JSON.
pub(crate) fn pretty(value: &impl Serialize) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

/// The header of the customer table.
pub(crate) fn customer_header() {
    println!(
        "{:>8}  {:<40}  {:<28}  {:>5}  {:>7}  {:<19}",
        "ID", "EMAIL", "NAME", "GROUP", "WEBSITE", "UPDATED"
    );
}

/// One customer as a table row.
pub(crate) fn customer_row(c: &Customer) {
    let name = format!("{} {}", c.firstname, c.lastname);
    println!(
        "{:>8}  {:<40}  {:<28}  {:>5}  {:>7}  {:<19}",
        c.id, c.email, name, c.group_id, c.website_id, c.updated_at
    );
}

/// The header of the admin-user table.
pub(crate) fn user_header() {
    println!(
        "{:>6}  {:<20}  {:<36}  {:<24}  {:>4}  {:<6}",
        "ID", "USERNAME", "EMAIL", "NAME", "ROLE", "ACTIVE"
    );
}

/// One admin user as a table row.
pub(crate) fn user_row(u: &AdminUser) {
    let name = format!("{} {}", u.firstname, u.lastname);
    let active = if u.is_active { "yes" } else { "no" };
    println!(
        "{:>6}  {:<20}  {:<36}  {:<24}  {:>4}  {:<6}",
        u.id, u.username, u.email, name, u.role_id, active
    );
}

/// Field changes as `field: before -> after`.
pub(crate) fn changes(id: u64, list: &[Change]) {
    if list.is_empty() {
        println!("customer {id}: no change");
    }
    for c in list {
        println!("customer {id}: {}: {} -> {}", c.field, c.before, c.after);
    }
}

/// A progress bar on stderr, drawn only when stderr is a terminal.
#[derive(Debug)]
pub(crate) struct Progress {
    label: &'static str,
    draw: bool,
}

impl Progress {
    pub(crate) fn new(label: &'static str) -> Progress {
        Progress {
            label,
            draw: std::io::stderr().is_terminal(),
        }
    }

    /// A bar for work whose results go to stdout: drawn only when stdout is not the same
    /// terminal (so it never tears the rows).
    pub(crate) fn beside_output(label: &'static str) -> Progress {
        Progress {
            label,
            draw: std::io::stderr().is_terminal() && !std::io::stdout().is_terminal(),
        }
    }

    /// Draws `done` of `total` (a total below `done`, as an estimate can be, counts as `done`).
    pub(crate) fn update(&self, done: usize, total: usize) {
        let total = total.max(done);
        if !self.draw || total == 0 {
            return;
        }
        let width = 30;
        let filled = done * width / total;
        eprint!(
            "\r{} [{}{}] {done}/{total}",
            self.label,
            "#".repeat(filled),
            ".".repeat(width - filled)
        );
        if done == total {
            eprintln!();
        }
    }
}

/// A one-line spinner with a message on stderr, drawn only when stderr is a terminal.
#[cfg(feature = "demo")]
#[derive(Debug)]
pub(crate) struct Spinner {
    draw: bool,
    frame: std::cell::Cell<usize>,
}

#[cfg(feature = "demo")]
impl Spinner {
    pub(crate) fn new() -> Spinner {
        Spinner {
            draw: std::io::stderr().is_terminal(),
            frame: std::cell::Cell::new(0),
        }
    }

    pub(crate) fn tick(&self, message: &str) {
        if !self.draw {
            return;
        }
        const FRAMES: [char; 4] = ['|', '/', '-', '\\'];
        let n = self.frame.get();
        self.frame.set(n + 1);
        eprint!("\r\x1b[2K{} {message}", FRAMES[n % FRAMES.len()]);
    }

    pub(crate) fn clear(&self) {
        if self.draw && self.frame.get() > 0 {
            eprint!("\r\x1b[2K");
        }
    }
}
