//! Tokens and the access audit in PostgreSQL.

use super::{Postgres, big, id, read, text};
use crate::{AccessEvent, AccessStore, Error, Result, TokenRecord};

impl AccessStore for Postgres {
    fn put_token(&self, token: &TokenRecord) -> Result<()> {
        let record = text(token)?;
        let stored = self.conn()?.transaction(true, |tx| {
            tx.execute(
                "INSERT INTO tokens (id, rev, record) VALUES ($1, 0, $2) ON CONFLICT DO NOTHING",
                &[&token.id, &record],
            )
        })?;
        if stored == 0 {
            return Err(Error::Refused(format!("token id {} is taken", token.id)));
        }
        Ok(())
    }

    fn token(&self, token: &str) -> Result<Option<TokenRecord>> {
        self.conn()?
            .query_opt("SELECT record FROM tokens WHERE id = $1", &[&token])?
            .map(|r| read(r.get(0)))
            .transpose()
    }

    fn tokens(&self) -> Result<Vec<TokenRecord>> {
        let rows = self
            .conn()?
            .query("SELECT record FROM tokens ORDER BY id", &[])?;
        rows.iter().map(|r| read(r.get(0))).collect()
    }

    fn update_token_with(
        &self,
        token: &str,
        change: &dyn Fn(&mut TokenRecord),
    ) -> Result<TokenRecord> {
        let mut conn = self.conn()?;
        loop {
            let row = conn
                .query_opt("SELECT rev, record FROM tokens WHERE id = $1", &[&token])?
                .ok_or_else(|| Error::Refused(format!("no token has the id {token}")))?;
            let rev: i64 = row.get(0);
            let mut t: TokenRecord = read(row.get(1))?;
            change(&mut t);
            let written = conn.execute(
                "UPDATE tokens SET rev = $2 + 1, record = $3 WHERE id = $1 AND rev = $2",
                &[&token, &rev, &text(&t)?],
            )?;
            if written == 1 {
                return Ok(t);
            }
        }
    }

    fn record_event(&self, mut event: AccessEvent) -> Result<AccessEvent> {
        let mut conn = self.conn()?;
        let row = conn.query_opt("SELECT nextval('mageflow_ids')", &[])?;
        event.seq = row.map_or(0, |r| id(r.get(0)));
        conn.execute(
            "INSERT INTO access_events (seq, record) VALUES ($1, $2)",
            &[&big(event.seq)?, &text(&event)?],
        )?;
        Ok(event)
    }

    fn events(&self, after: u64) -> Result<Vec<AccessEvent>> {
        let rows = self.conn()?.query(
            "SELECT record FROM access_events WHERE seq > $1 ORDER BY seq",
            &[&big(after)?],
        )?;
        rows.iter().map(|r| read(r.get(0))).collect()
    }
}
