//! A fault-injecting HTTP/1.1 proxy for tests: it stands between mageflow and magento-sim on
//! loopback and, at a set rate, misbehaves the way a bad network, a WAF or a restarting
//! PHP-FPM does:
//!
//! - **refuse**: answers 503 without forwarding (Magento never saw the request);
//! - **fail after**: forwards, lets Magento apply it, then answers 503 instead of its answer;
//! - **drop after**: forwards, lets Magento apply it, then closes the connection unanswered.
//!
//! It can also answer 503 to everything for a while (`outage`). It parses just enough HTTP:
//! a request line, headers, `Content-Length` bodies; each request goes upstream on a fresh
//! connection.

#![allow(
    dead_code,
    reason = "shared by several test binaries, each of which uses a part"
)]

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What the proxy did, by kind.
#[derive(Debug, Default)]
pub(crate) struct Counts {
    pub(crate) forwarded: AtomicU64,
    pub(crate) refused: AtomicU64,
    pub(crate) failed_after: AtomicU64,
    pub(crate) dropped_after: AtomicU64,
    /// Each write that came through (a request that is not a GET, token logins aside): when
    /// it arrived, and its request line.
    pub(crate) writes: Mutex<Vec<(Instant, String)>>,
}

/// A running proxy; it stops when the test's runtime ends.
pub(crate) struct Proxy {
    pub(crate) url: String,
    pub(crate) counts: Arc<Counts>,
    outage: Arc<AtomicBool>,
}

impl Proxy {
    /// Starts a proxy in front of `upstream` (`http://127.0.0.1:PORT`) that misbehaves on
    /// `rate` of the requests in all, split evenly between the three kinds.
    pub(crate) async fn start(upstream: &str, rate: f64) -> Proxy {
        let upstream = upstream
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .to_owned();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let counts = Arc::new(Counts::default());
        let outage = Arc::new(AtomicBool::new(false));
        let (c, o) = (counts.clone(), outage.clone());
        tokio::spawn(async move {
            loop {
                let Ok((conn, _)) = listener.accept().await else {
                    return;
                };
                let (up, c, o) = (upstream.clone(), c.clone(), o.clone());
                tokio::spawn(async move {
                    let _ = serve(conn, &up, rate, &c, &o).await;
                });
            }
        });
        Proxy {
            url,
            counts,
            outage,
        }
    }

    /// While on, every request is answered 503 without reaching Magento.
    pub(crate) fn set_outage(&self, on: bool) {
        self.outage.store(on, Ordering::SeqCst);
    }

    /// The writes that arrived after `since`.
    pub(crate) fn writes_after(&self, since: Instant) -> Vec<String> {
        self.counts
            .writes
            .lock()
            .unwrap()
            .iter()
            .filter(|(at, _)| *at > since)
            .map(|(_, line)| line.clone())
            .collect()
    }

    /// Requests that misbehaved.
    pub(crate) fn faults(&self) -> u64 {
        self.counts.refused.load(Ordering::Relaxed)
            + self.counts.failed_after.load(Ordering::Relaxed)
            + self.counts.dropped_after.load(Ordering::Relaxed)
    }
}

const UNAVAILABLE: &[u8] =
    b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\n\
content-length: 48\r\n\r\n{\"message\":\"The service is temporarily down.\"}  ";

/// One client connection: requests in turn until it closes.
async fn serve(
    mut conn: TcpStream,
    upstream: &str,
    rate: f64,
    counts: &Counts,
    outage: &AtomicBool,
) -> std::io::Result<()> {
    let mut buf = Vec::new();
    loop {
        let Some(request) = read_message(&mut conn, &mut buf).await? else {
            return Ok(());
        };
        let line = request_line(&request);
        if !line.starts_with("GET ") && !line.contains("/token") {
            counts.writes.lock().unwrap().push((Instant::now(), line));
        }
        let roll: f64 = rand::random();
        if outage.load(Ordering::SeqCst) || roll < rate / 3.0 {
            counts.refused.fetch_add(1, Ordering::Relaxed);
            conn.write_all(UNAVAILABLE).await?;
            continue;
        }
        let mut up = TcpStream::connect(upstream).await?;
        up.write_all(&request).await?;
        let mut up_buf = Vec::new();
        let Some(answer) = read_message(&mut up, &mut up_buf).await? else {
            return Ok(());
        };
        if roll < 2.0 * rate / 3.0 {
            counts.failed_after.fetch_add(1, Ordering::Relaxed);
            conn.write_all(UNAVAILABLE).await?;
        } else if roll < rate {
            counts.dropped_after.fetch_add(1, Ordering::Relaxed);
            return Ok(()); // closed unanswered
        } else {
            counts.forwarded.fetch_add(1, Ordering::Relaxed);
            conn.write_all(&answer).await?;
        }
    }
}

/// Reads one HTTP/1.1 message (headers and a `Content-Length` or chunked body); `None` when
/// the peer closed before a new one began. `buf` keeps bytes read past it.
async fn read_message(s: &mut TcpStream, buf: &mut Vec<u8>) -> std::io::Result<Option<Vec<u8>>> {
    let head_end = loop {
        if let Some(i) = find(buf, b"\r\n\r\n") {
            break i + 4;
        }
        let mut chunk = [0u8; 16 * 1024];
        let n = s.read(&mut chunk).await?;
        if n == 0 {
            return Ok(None);
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
    let length = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse::<usize>().ok());
    let chunked = head.contains("transfer-encoding: chunked");
    let end = loop {
        let have = buf.len() - head_end;
        match (length, chunked) {
            (Some(n), _) if have >= n => break head_end + n,
            (None, true) => {
                if let Some(i) = find(&buf[head_end..], b"0\r\n\r\n") {
                    break head_end + i + 5;
                }
            }
            (None, false) => break head_end,
            _ => {}
        }
        let mut chunk = [0u8; 16 * 1024];
        let n = s.read(&mut chunk).await?;
        if n == 0 {
            return Ok(None);
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let message: Vec<u8> = buf.drain(..end).collect();
    Ok(Some(message))
}

fn request_line(request: &[u8]) -> String {
    let end = find(request, b"\r\n").unwrap_or(request.len());
    String::from_utf8_lossy(&request[..end]).into_owned()
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}
