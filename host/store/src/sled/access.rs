//! Tokens and the access audit in sled.

use super::Sled;
use crate::{AccessEvent, AccessStore, Error, Result, TokenRecord, decode, encode};

impl AccessStore for Sled {
    /// Stores a new token; refused when its id is taken.
    fn put_token(&self, token: &TokenRecord) -> Result<()> {
        let taken = self.tokens.compare_and_swap(
            token.id.as_bytes(),
            None as Option<&[u8]>,
            Some(encode(token)?),
        )?;
        if taken.is_err() {
            return Err(Error::Refused(format!("token id {} is taken", token.id)));
        }
        self.db.flush()?;
        Ok(())
    }

    /// The token with this id.
    fn token(&self, id: &str) -> Result<Option<TokenRecord>> {
        self.tokens
            .get(id.as_bytes())?
            .map(|v| decode(&v))
            .transpose()
    }

    /// Every token, by id.
    fn tokens(&self) -> Result<Vec<TokenRecord>> {
        self.tokens.iter().map(|item| decode(&item?.1)).collect()
    }

    /// Changes a token in place (revocation, last use).
    fn update_token_with(
        &self,
        id: &str,
        change: &dyn Fn(&mut TokenRecord),
    ) -> Result<TokenRecord> {
        loop {
            let old = self
                .tokens
                .get(id.as_bytes())?
                .ok_or_else(|| Error::Refused(format!("no token has the id {id}")))?;
            let mut t: TokenRecord = decode(&old)?;
            change(&mut t);
            if self
                .tokens
                .compare_and_swap(id.as_bytes(), Some(old), Some(encode(&t)?))?
                .is_ok()
            {
                return Ok(t);
            }
        }
    }

    /// Appends an access event (its `seq` is assigned here) and makes it durable.
    fn record_event(&self, mut event: AccessEvent) -> Result<AccessEvent> {
        event.seq = self.next_id()?;
        self.events
            .insert(event.seq.to_be_bytes(), encode(&event)?)?;
        Ok(event)
    }

    /// The access audit, oldest first, from `after` (exclusive) on.
    fn events(&self, after: u64) -> Result<Vec<AccessEvent>> {
        self.events
            .range((after + 1).to_be_bytes()..)
            .map(|item| decode(&item?.1))
            .collect()
    }
}
