//! Sessions of the pages, kept on the server. The cookie carries a random session id; the
//! server keeps only its SHA-256, with the principal, the CSRF token of its forms, and its
//! times. A session ends when idle too long, when too old, or at sign-out, and a copied
//! cookie then opens nothing.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use super::principal::Principal;
use super::tokens::{hash, random_text};

/// How long sessions live.
#[derive(Debug, Clone, Copy)]
pub struct SessionTimeouts {
    /// Ends a session nobody used for this long.
    pub idle: Duration,
    /// Ends a session this long after sign-in, used or not.
    pub absolute: Duration,
}

impl Default for SessionTimeouts {
    fn default() -> SessionTimeouts {
        SessionTimeouts {
            idle: Duration::from_secs(30 * 60),
            absolute: Duration::from_secs(12 * 3600),
        }
    }
}

/// A live session.
#[derive(Debug, Clone)]
pub(crate) struct Session {
    /// Who signed in.
    pub(crate) principal: Principal,
    /// The token every form of this session carries.
    pub(crate) csrf: String,
    /// The hash of the id, to end it.
    pub(crate) key: String,
    created: u64,
    seen: u64,
}

/// The live sessions.
#[derive(Debug, Default)]
pub(crate) struct Sessions {
    live: Mutex<HashMap<String, Session>>,
    pub(crate) timeouts: SessionTimeouts,
}

impl Sessions {
    pub(crate) fn new(timeouts: SessionTimeouts) -> Sessions {
        Sessions {
            live: Mutex::default(),
            timeouts,
        }
    }

    /// Opens a session: answers the id for the cookie.
    pub(crate) fn open(&self, principal: Principal, now: u64) -> String {
        let id = random_text(32);
        let key = hash(&id);
        let session = Session {
            principal,
            csrf: random_text(24),
            key: key.clone(),
            created: now,
            seen: now,
        };
        let mut live = self.live.lock().unwrap_or_else(|e| e.into_inner());
        // Sessions that ended are dropped as new ones open, so the map does not grow.
        live.retain(|_, s| self.alive(s, now));
        live.insert(key, session);
        id
    }

    fn alive(&self, s: &Session, now: u64) -> bool {
        now < s.seen + self.timeouts.idle.as_secs()
            && now < s.created + self.timeouts.absolute.as_secs()
    }

    /// The session with this id, if it is alive; using it resets its idle time.
    pub(crate) fn get(&self, id: &str, now: u64) -> Option<Session> {
        let key = hash(id);
        let mut live = self.live.lock().unwrap_or_else(|e| e.into_inner());
        let alive = live.get(&key).is_some_and(|s| self.alive(s, now));
        if !alive {
            live.remove(&key);
            return None;
        }
        let s = live.get_mut(&key)?;
        s.seen = now;
        Some(s.clone())
    }

    /// Ends a session (sign-out).
    pub(crate) fn close(&self, key: &str) {
        self.live
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::principal::Via;

    fn someone() -> Principal {
        Principal {
            name: "alice".into(),
            grants: vec![],
            groups: vec![],
            via: Via::Sso,
        }
    }

    #[test]
    fn sessions_end_when_idle_old_or_closed() {
        let s = Sessions::new(SessionTimeouts {
            idle: Duration::from_secs(10),
            absolute: Duration::from_secs(25),
        });
        let id = s.open(someone(), 100);
        assert!(s.get(&id, 109).is_some());
        assert!(s.get(&id, 118).is_some(), "use resets the idle time");
        assert!(s.get(&id, 126).is_none(), "past the absolute timeout");
        let id = s.open(someone(), 200);
        assert!(s.get(&id, 211).is_none(), "idle too long");
        let id = s.open(someone(), 300);
        let key = s.get(&id, 301).unwrap().key;
        s.close(&key);
        assert!(s.get(&id, 302).is_none(), "signed out");
        assert!(s.get("made-up", 302).is_none());
    }
}
