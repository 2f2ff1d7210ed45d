//! Approvals in sled. Deciding is a compare-and-swap, so of two racing decisions exactly one
//! settles it.

use super::{Sled, pair};
use crate::approvals::Settle;
use crate::{
    Approval, ApprovalStatus, ApprovalStore, Decision, Error, Result, RunId, decode, encode,
};

impl ApprovalStore for Sled {
    /// Opens the approval for request `index` of a run, or returns the one opened before (a
    /// replay asks again).
    fn open_approval(&self, mut new: Approval) -> Result<Approval> {
        let key = pair(new.run, u64::from(new.index));
        if let Some(existing) = self.approval_for(new.run, new.index)? {
            return Ok(existing);
        }
        new.id = self.next_id()?;
        let bytes = encode(&new)?;
        let id = new.id;
        // Two openers racing on the same request: the first key wins.
        match self.approval_keys.compare_and_swap(
            key,
            None as Option<&[u8]>,
            Some(&id.to_be_bytes()),
        )? {
            Ok(()) => {
                self.approvals.insert(id.to_be_bytes(), bytes)?;
                Ok(new)
            }
            Err(_) => self
                .approval_for(new.run, new.index)?
                .ok_or(Error::NoApproval(id)),
        }
    }

    /// One approval.
    fn approval(&self, id: u64) -> Result<Approval> {
        let bytes = self
            .approvals
            .get(id.to_be_bytes())?
            .ok_or(Error::NoApproval(id))?;
        decode(&bytes)
    }

    /// The approval of request `index` of a run, if opened.
    fn approval_for(&self, run: RunId, index: u32) -> Result<Option<Approval>> {
        match self.approval_keys.get(pair(run, u64::from(index)))? {
            Some(id) => {
                let mut b = [0u8; 8];
                b.copy_from_slice(&id[..8]);
                self.approval(u64::from_be_bytes(b)).map(Some)
            }
            None => Ok(None),
        }
    }

    fn approvals_of(&self, run: RunId) -> Result<Vec<Approval>> {
        self.approval_keys
            .scan_prefix(run.to_be_bytes())
            .map(|item| {
                let (_, id) = item?;
                let id = <[u8; 8]>::try_from(&id[..])
                    .map(u64::from_be_bytes)
                    .map_err(|_| Error::Corrupt(format!("run {run} has a short approval key")))?;
                self.approval(id)
            })
            .collect()
    }

    /// Every approval, oldest first, with this status when given.
    fn approvals(&self, status: Option<ApprovalStatus>) -> Result<Vec<Approval>> {
        let mut out = Vec::new();
        for item in self.approvals.iter() {
            let a: Approval = decode(&item?.1)?;
            if status.is_none_or(|s| a.status == s) {
                out.push(a);
            }
        }
        Ok(out)
    }

    fn decide(
        &self,
        id: u64,
        by: &str,
        groups: &[String],
        decision: &Decision,
        now: u64,
    ) -> Result<Approval> {
        let key = id.to_be_bytes();
        loop {
            let old = self.approvals.get(key)?.ok_or(Error::NoApproval(id))?;
            let mut a: Approval = decode(&old)?;
            let refusal = match a.settle(by, groups, decision, now) {
                Ok(()) => None,
                Err(Settle::Refused(e)) => return Err(e),
                Err(Settle::Lapsed(e)) => Some(e),
            };
            if self
                .approvals
                .compare_and_swap(key, Some(old), Some(encode(&a)?))?
                .is_ok()
            {
                return refusal.map_or(Ok(a), Err);
            }
        }
    }

    /// Replaces an approval's structured details (the engine attaches a dry run's plan).
    fn set_approval_details(&self, id: u64, details_json: &str) -> Result<Approval> {
        let key = id.to_be_bytes();
        loop {
            let old = self.approvals.get(key)?.ok_or(Error::NoApproval(id))?;
            let mut a: Approval = decode(&old)?;
            a.details_json = Some(details_json.to_owned());
            if self
                .approvals
                .compare_and_swap(key, Some(old), Some(encode(&a)?))?
                .is_ok()
            {
                return Ok(a);
            }
        }
    }

    /// Settles a pending approval whose time ran out (as its expiry says). Answers the
    /// approval as this call settled it, or `None` when it had nothing to settle.
    fn expire(&self, id: u64, now: u64) -> Result<Option<Approval>> {
        let key = id.to_be_bytes();
        loop {
            let old = self.approvals.get(key)?.ok_or(Error::NoApproval(id))?;
            let mut a: Approval = decode(&old)?;
            if !a.lapse(now) {
                return Ok(None);
            }
            if self
                .approvals
                .compare_and_swap(key, Some(old), Some(encode(&a)?))?
                .is_ok()
            {
                return Ok(Some(a));
            }
        }
    }
}
