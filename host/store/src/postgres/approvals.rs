//! Approvals in PostgreSQL: opened once per request (`UNIQUE (run, request)`), fenced by the
//! run's lease; decided by compare-and-swap on the revision, so of two racing decisions, on
//! any workers, exactly one settles it, and the decision that settles it makes its run due in
//! the same transaction, for whichever worker claims it next.

use super::pool::Conn;
use super::runs::{swap, wake};
use super::{Postgres, big, id, read, text};
use crate::approvals::Settle;
use crate::{Approval, ApprovalStatus, ApprovalStore, Decision, Error, Result, RunId};

const APPROVAL: &str = "SELECT rev, record FROM approvals WHERE id = $1";
const WRITE_APPROVAL: &str =
    "UPDATE approvals SET rev = $2 + 1, record = $3, status = $4 WHERE id = $1 AND rev = $2";

impl Postgres {
    fn swap_approval(
        &self,
        conn: &mut Conn,
        approval: u64,
        change: impl FnMut(&mut Approval) -> bool,
    ) -> Result<(Approval, bool)> {
        let s = swap(
            conn,
            (APPROVAL, WRITE_APPROVAL),
            big(approval)?,
            || Error::NoApproval(approval),
            |a: &Approval| a.status.name(),
            change,
        )?;
        Ok((s.value, s.wrote))
    }

    /// Changes an approval and, when that settles it, makes its run due: in one transaction.
    fn settle_approval(
        &self,
        approval: u64,
        now: u64,
        change: impl FnMut(&mut Approval) -> bool,
    ) -> Result<(Approval, bool)> {
        self.conn()?.transaction(false, |tx| {
            let (a, wrote) = self.swap_approval(tx, approval, change)?;
            if wrote && a.status != ApprovalStatus::Pending {
                wake(tx, a.run, now)?;
            }
            Ok((a, wrote))
        })
    }
}

impl ApprovalStore for Postgres {
    fn open_approval(&self, mut new: Approval) -> Result<Approval> {
        if let Some(existing) = self.approval_for(new.run, new.index)? {
            return Ok(existing);
        }
        let fence = self.leases.fences(&[big(new.run)?].into());
        if !fence.1.is_empty() {
            return Err(Error::LeaseLost(new.run));
        }
        let mut conn = self.conn()?;
        let opened = conn.transaction(false, |tx| {
            if !self.leases.check_fences(tx, &fence.0)?.is_empty() {
                self.leases.lose(&[big(new.run)?].into());
                return Err(Error::LeaseLost(new.run));
            }
            let row = tx.query_opt("SELECT nextval('mageflow_ids')", &[])?;
            new.id = row.map_or(0, |r| id(r.get(0)));
            tx.query_opt(
                "INSERT INTO approvals (id, run, request, status, rev, record)
                 VALUES ($1, $2, $3, $4, 0, $5)
                 ON CONFLICT (run, request) DO NOTHING RETURNING id",
                &[
                    &big(new.id)?,
                    &big(new.run)?,
                    &i64::from(new.index),
                    &new.status.name(),
                    &text(&new)?,
                ],
            )
        })?;
        drop(conn);
        match opened {
            Some(_) => Ok(new),
            // Another opener was first.
            None => self
                .approval_for(new.run, new.index)?
                .ok_or(Error::NoApproval(new.id)),
        }
    }

    fn approval(&self, approval: u64) -> Result<Approval> {
        let row = self
            .conn()?
            .query_opt(
                "SELECT record FROM approvals WHERE id = $1",
                &[&big(approval)?],
            )?
            .ok_or(Error::NoApproval(approval))?;
        read(row.get(0))
    }

    fn approval_for(&self, run: RunId, index: u32) -> Result<Option<Approval>> {
        self.conn()?
            .query_opt(
                "SELECT record FROM approvals WHERE run = $1 AND request = $2",
                &[&big(run)?, &i64::from(index)],
            )?
            .map(|r| read(r.get(0)))
            .transpose()
    }

    fn approvals_of(&self, run: RunId) -> Result<Vec<Approval>> {
        let rows = self.conn()?.query(
            "SELECT record FROM approvals WHERE run = $1 ORDER BY request",
            &[&big(run)?],
        )?;
        rows.iter().map(|r| read(r.get(0))).collect()
    }

    fn approvals(&self, status: Option<ApprovalStatus>) -> Result<Vec<Approval>> {
        let mut conn = self.conn()?;
        let rows = match status {
            Some(s) => conn.query(
                "SELECT record FROM approvals WHERE status = $1 ORDER BY id",
                &[&s.name()],
            )?,
            None => conn.query("SELECT record FROM approvals ORDER BY id", &[])?,
        };
        rows.iter().map(|r| read(r.get(0))).collect()
    }

    fn decide(
        &self,
        approval: u64,
        by: &str,
        groups: &[String],
        decision: &Decision,
        now: u64,
    ) -> Result<Approval> {
        let mut refusal = None;
        let (a, _) = self.settle_approval(approval, now, |a| {
            match a.settle(by, groups, decision, now) {
                Ok(()) => {
                    refusal = None;
                    true
                }
                Err(Settle::Refused(e)) => {
                    refusal = Some(e);
                    false
                }
                Err(Settle::Lapsed(e)) => {
                    refusal = Some(e);
                    true
                }
            }
        })?;
        refusal.map_or(Ok(a), Err)
    }

    fn set_approval_details(&self, approval: u64, details_json: &str) -> Result<Approval> {
        Ok(self
            .swap_approval(&mut *self.conn()?, approval, |a| {
                a.details_json = Some(details_json.to_owned());
                true
            })?
            .0)
    }

    fn expire(&self, approval: u64, now: u64) -> Result<Option<Approval>> {
        let (a, lapsed) = self.settle_approval(approval, now, |a| a.lapse(now))?;
        Ok(lapsed.then_some(a))
    }
}
