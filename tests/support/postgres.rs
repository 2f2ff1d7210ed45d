//! A real PostgreSQL server for the tests, one per test process, and a fresh schema per test.
//!
//! `MAGEFLOW_TEST_POSTGRES=postgres://…` names a server to use (one the tests may create
//! schemas on). Otherwise the first test that asks starts a private one from Debian's package
//! (`apt-get install -y postgresql`, which `bash .ci/run` does): `initdb` into a directory
//! under /tmp, `pg_ctl start` listening on 127.0.0.1 and a free port. PostgreSQL refuses to
//! run as root, so as root both run as the package's `postgres` user (`runuser`). A watcher
//! stops the server with its own `pg_ctl stop` and removes the directory once the test
//! process has exited.

#![allow(
    dead_code,
    unreachable_pub,
    reason = "shared by several test crates, each of which uses a part"
)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};

/// The server the tests share.
pub struct Server {
    /// `postgres://postgres@127.0.0.1:PORT/postgres`, or the URL given.
    pub url: String,
    psql: PathBuf,
    host: String,
    port: String,
    /// How to stop and start it again (none for a server named by URL).
    control: Option<Control>,
}

/// A private server's `pg_ctl` and its arguments.
struct Control {
    pg_ctl: PathBuf,
    data: PathBuf,
    options: String,
    log: PathBuf,
    root: bool,
}

static NEXT: AtomicU32 = AtomicU32::new(0);

/// The test process's server, started on first use.
pub fn server() -> &'static Server {
    static SERVER: OnceLock<Server> = OnceLock::new();
    SERVER.get_or_init(start)
}

impl Server {
    /// The URL of a new, empty schema of its own: every test starts from nothing.
    pub fn fresh(&self) -> String {
        let schema = format!(
            "t{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::SeqCst)
        );
        self.sql(&format!("CREATE SCHEMA {schema}"));
        let sep = if self.url.contains('?') { '&' } else { '?' };
        format!("{}{sep}options=-csearch_path%3D{schema}", self.url)
    }

    /// Runs one statement with psql, panicking with its error.
    pub fn sql(&self, statement: &str) -> String {
        let out = Command::new(&self.psql)
            .args(["-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1"])
            .arg(&self.url)
            .args(["-c", statement])
            .output()
            .expect("psql runs");
        assert!(
            out.status.success(),
            "psql {statement:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    /// `host:port`.
    pub fn address(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }

    /// A server of the caller's own (one it may stop), stopped when the test process ends.
    pub fn private() -> Server {
        start_private()
    }

    /// Stops it at once, as a crash would (`pg_ctl stop -m immediate`).
    pub fn stop(&self) {
        let c = self.control.as_ref().expect("a private server");
        let out = as_server_user(c.root, &c.pg_ctl)
            .args(["-w", "-D"])
            .arg(&c.data)
            .args(["-m", "immediate", "stop"])
            .output()
            .unwrap();
        assert!(out.status.success(), "pg_ctl stop: {out:?}");
    }

    /// Starts it again after [`Server::stop`].
    pub fn start(&self) {
        let c = self.control.as_ref().expect("a private server");
        let out = as_server_user(c.root, &c.pg_ctl)
            .args(["-w", "-D"])
            .arg(&c.data)
            .args(["-o", &c.options, "-l"])
            .arg(&c.log)
            .arg("start")
            .stdout(Stdio::null())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "pg_ctl start failed: {}\n{}",
            String::from_utf8_lossy(&out.stderr),
            std::fs::read_to_string(&c.log).unwrap_or_default()
        );
    }
}

fn bin_dir() -> PathBuf {
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path().join("bin"))
        .filter(|p| p.join("initdb").exists())
        .collect();
    found.sort();
    found.pop().unwrap_or_else(|| {
        panic!(
            "PostgreSQL is not installed: run `apt-get install -y postgresql` (bash .ci/run does), \
             or set MAGEFLOW_TEST_POSTGRES=postgres://USER@HOST:PORT/DATABASE"
        )
    })
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// A command run as the server's user: `postgres` when the tests run as root.
fn as_server_user(root: bool, program: &Path) -> Command {
    if root {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(program);
        c
    } else {
        Command::new(program)
    }
}

fn start() -> Server {
    if let Ok(url) = std::env::var("MAGEFLOW_TEST_POSTGRES") {
        return Server {
            url,
            psql: bin_dir().join("psql"),
            host: String::new(),
            port: String::new(),
            control: None,
        };
    }
    start_private()
}

fn start_private() -> Server {
    let bin = bin_dir();
    let psql = bin.join("psql");
    let root = is_root();
    let dir = PathBuf::from(format!(
        "/tmp/mageflow-pg-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos())
    ));
    std::fs::create_dir_all(&dir).unwrap();
    if root {
        let chown = Command::new("chown")
            .args(["postgres:postgres"])
            .arg(&dir)
            .status()
            .unwrap();
        assert!(chown.success(), "chown postgres {}", dir.display());
    }
    let data = dir.join("data");
    let init = as_server_user(root, &bin.join("initdb"))
        .args([
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
            "--no-sync",
            "-D",
        ])
        .arg(&data)
        .stdout(Stdio::null())
        .output()
        .unwrap();
    assert!(
        init.status.success(),
        "initdb failed: {}",
        String::from_utf8_lossy(&init.stderr)
    );
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port().to_string()
    };
    let options = format!(
        "-k {} -c listen_addresses=127.0.0.1 -p {port} -c max_connections=300",
        dir.display()
    );
    let log = dir.join("log");
    let control = Control {
        pg_ctl: bin.join("pg_ctl"),
        data: data.clone(),
        options,
        log,
        root,
    };
    // Stopped with its own pg_ctl once this process is gone.
    let stop = format!(
        "{}{} -D {} -m fast stop",
        if root { "runuser -u postgres -- " } else { "" },
        bin.join("pg_ctl").display(),
        data.display()
    );
    let watcher = format!(
        "while kill -0 {pid} 2>/dev/null; do sleep 1; done; {stop} >/dev/null 2>&1; rm -rf {dir}",
        pid = std::process::id(),
        dir = dir.display()
    );
    {
        use std::os::unix::process::CommandExt;
        // Left running on purpose: it outlives this process to stop the server.
        let watcher = Command::new("sh")
            .args(["-c", &watcher])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .unwrap();
        std::mem::forget(watcher);
    }
    let server = Server {
        url: format!("postgres://postgres@127.0.0.1:{port}/postgres"),
        psql,
        host: "127.0.0.1".into(),
        port,
        control: Some(control),
    };
    server.start();
    server
}
