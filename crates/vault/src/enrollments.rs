//! Enrollments and their life, draft to purged. Every change of state goes through
//! [`transition`], inside the one transaction of the change.

use ghidanh_bundle::{BundleId, EnrollmentId, OperatorId};
use ghidanh_record::EnrollmentInput;
use rusqlite::{params, Connection, OptionalExtension};

use crate::{db::now_ms, AuditAction, Role, Vault, VaultError};

/// Where an enrollment is in its life on the kit (DESIGN.md):
///
/// ```text
/// draft ⇄ finalised → approved → sealed ⇄ uploading → custody → accepted → purged
///                                   └──────────┴──────────┴────→ rejected → purged
/// ```
///
/// [`EnrollmentState::can_become`] is the one table of legal moves; every change of state in
/// the vault goes through it and is refused with [`VaultError::IllegalTransition`] otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EnrollmentState {
    /// Being typed; autosaved, editable.
    Draft,
    /// The operator attested the record; waits for approval. Sent back, it is a draft again.
    Finalised,
    /// A supervisor (or the policy, when no review is asked) approved it; ready to seal.
    Approved,
    /// Sealed into a bundle in the outbox; no longer editable.
    Sealed,
    /// Being sent right now.
    Uploading,
    /// A district relay signed a custody receipt; the central receipt is still to come.
    Custody,
    /// The registry signed an `accepted` (or `duplicate`) receipt.
    Accepted,
    /// The registry signed a `rejected` receipt; it stays until an operator acts.
    Rejected,
    /// Its personal data and images are gone; the receipt and the audit entries stay.
    Purged,
}

impl EnrollmentState {
    /// Every state, in the order of the life.
    pub const ALL: [EnrollmentState; 9] = [
        EnrollmentState::Draft,
        EnrollmentState::Finalised,
        EnrollmentState::Approved,
        EnrollmentState::Sealed,
        EnrollmentState::Uploading,
        EnrollmentState::Custody,
        EnrollmentState::Accepted,
        EnrollmentState::Rejected,
        EnrollmentState::Purged,
    ];

    /// The stored and wire name.
    pub fn code(self) -> &'static str {
        match self {
            EnrollmentState::Draft => "draft",
            EnrollmentState::Finalised => "finalised",
            EnrollmentState::Approved => "approved",
            EnrollmentState::Sealed => "sealed",
            EnrollmentState::Uploading => "uploading",
            EnrollmentState::Custody => "custody",
            EnrollmentState::Accepted => "accepted",
            EnrollmentState::Rejected => "rejected",
            EnrollmentState::Purged => "purged",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Result<EnrollmentState, VaultError> {
        EnrollmentState::ALL
            .into_iter()
            .find(|st| st.code() == s)
            .ok_or(VaultError::Corrupt("enrollment state"))
    }

    /// Whether the record can still be edited (autosave writes over it).
    pub fn is_editable(self) -> bool {
        self == EnrollmentState::Draft
    }

    /// The one table of legal moves.
    pub fn can_become(self, next: EnrollmentState) -> bool {
        use EnrollmentState::*;
        matches!(
            (self, next),
            (Draft, Finalised)
                | (Finalised, Draft)
                | (Finalised, Approved)
                | (Approved, Sealed)
                | (Sealed, Uploading)
                | (Uploading, Sealed)
                | (Uploading, Custody)
                // A receipt can arrive on a USB stick while the bundle waits or is in flight.
                | (Sealed | Uploading | Custody, Accepted)
                | (Sealed | Uploading | Custody, Rejected)
                | (Sealed, Custody)
                // The relay lost it: sent again.
                | (Custody, Sealed)
                | (Accepted, Purged)
                // Only by an operator's decision, never by the retention sweep.
                | (Rejected, Purged)
        )
    }
}

impl std::fmt::Display for EnrollmentState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

/// One line of the enrollment list. Its `Debug` shows the record as [`EnrollmentInput`]'s does
/// (which fields are filled, no value) and leaves out the review comment (free text about a
/// person).
#[derive(Clone, PartialEq, Eq)]
pub struct EnrollmentSummary {
    /// The enrollment.
    pub id: EnrollmentId,
    /// The record as last saved.
    pub input: EnrollmentInput,
    /// Its state.
    pub state: EnrollmentState,
    /// The bundle, once sealed.
    pub bundle_id: Option<BundleId>,
    /// The receipt proving delivery, once accepted.
    pub receipt_id: Option<String>,
    /// The registry's reason code, when rejected.
    pub reason: Option<String>,
    /// The supervisor's comment when the record was sent back for changes.
    pub review_comment: Option<String>,
    /// Last change, Unix milliseconds.
    pub updated_at_ms: i64,
}

impl std::fmt::Debug for EnrollmentSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EnrollmentSummary")
            .field("id", &self.id)
            .field("input", &self.input)
            .field("state", &self.state)
            .field("bundle_id", &self.bundle_id)
            .field("receipt_id", &self.receipt_id)
            .field("reason", &self.reason)
            .field("updated_at_ms", &self.updated_at_ms)
            .finish_non_exhaustive()
    }
}

/// Who approves a finalised record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Approval {
    /// The signed-in supervisor reviewed it (refused for an operator's session).
    Supervisor,
    /// The team works without review: the kit approves on the operator's finalise.
    NoReviewPolicy,
}

pub(crate) fn to_json(input: &EnrollmentInput) -> Result<String, VaultError> {
    serde_json::to_string(input).map_err(|_| VaultError::Corrupt("draft encoding"))
}

fn from_json(s: &str) -> Result<EnrollmentInput, VaultError> {
    serde_json::from_str(s).map_err(|_| VaultError::Corrupt("stored draft"))
}

impl Vault {
    /// Saves a draft: a new one when `id` is `None`, else overwrites that draft.
    /// Only drafts can be overwritten: a sealed enrollment is immutable.
    pub fn save_draft(
        &self,
        id: Option<EnrollmentId>,
        operator: OperatorId,
        input: &EnrollmentInput,
    ) -> Result<EnrollmentId, VaultError> {
        let json = to_json(input)?;
        let now = now_ms();
        let mut conn = self.live_conn()?;
        let tx = conn.transaction()?;
        let id = match id {
            None => {
                let id = EnrollmentId::new();
                tx.execute(
                    "INSERT INTO enrollments (id, operator_id, input, state, created_at, updated_at)
                     VALUES (?1, ?2, ?3, 'draft', ?4, ?4)",
                    params![id.to_string(), operator.to_string(), json, now],
                )?;
                id
            }
            Some(id) => {
                require_draft(&tx, id)?;
                tx.execute(
                    "UPDATE enrollments SET input = ?2, updated_at = ?3 WHERE id = ?1",
                    params![id.to_string(), json, now],
                )?;
                id
            }
        };
        self.audit(&tx, AuditAction::DraftSaved, &id.to_string())?;
        tx.commit()?;
        // The input's Debug names the filled fields only (no value: personal data).
        tracing::trace!(enrollment = %id, ?input, "draft saved");
        Ok(id)
    }

    /// The record of one enrollment, as last saved, for display (audited as a read).
    pub fn enrollment(&self, id: EnrollmentId) -> Result<EnrollmentSummary, VaultError> {
        let mut conn = self.live_conn()?;
        let tx = conn.transaction()?;
        let summary = tx
            .query_row(
                &format!("{SUMMARY_SELECT} WHERE id = ?1"),
                [id.to_string()],
                |r| Ok(row_to_raw(r)),
            )
            .optional()?
            .ok_or(VaultError::NotFound("enrollment"))?
            .and_then(RawSummary::parse)?;
        self.audit(&tx, AuditAction::Read, &id.to_string())?;
        tx.commit()?;
        Ok(summary)
    }

    /// Every enrollment, newest first. The first call of an unlocked session appends one
    /// `listed` audit entry (the list holds names); later calls do not: the kit polls it for
    /// the list screen, and an entry per poll would bury the reads of one person's record
    /// (`enrollment`, `media`).
    pub fn list(&self) -> Result<Vec<EnrollmentSummary>, VaultError> {
        let mut conn = self.live_conn()?;
        let list: Vec<EnrollmentSummary> = {
            let mut stmt = conn.prepare(&format!(
                "{SUMMARY_SELECT} ORDER BY created_at DESC, id DESC"
            ))?;
            let rows = stmt.query_map([], |r| Ok(row_to_raw(r)))?;
            rows.map(|r| r?.and_then(RawSummary::parse))
                .collect::<Result<_, _>>()?
        };
        if !self.listed.swap(true, std::sync::atomic::Ordering::SeqCst) {
            let tx = conn.transaction()?;
            self.audit(&tx, AuditAction::Listed, &list.len().to_string())?;
            tx.commit()?;
        }
        Ok(list)
    }

    /// The operator attests the draft: Draft → Finalised. It waits for approval.
    pub fn finalise(&self, id: EnrollmentId) -> Result<(), VaultError> {
        let mut conn = self.live_conn()?;
        let tx = conn.transaction()?;
        transition(&tx, id, EnrollmentState::Finalised)?;
        self.audit(&tx, AuditAction::Finalised, &id.to_string())?;
        tx.commit()?;
        Ok(())
    }

    /// A supervisor sends a finalised record back for changes: Finalised → Draft, with a
    /// comment the operator sees.
    pub fn send_back(&self, id: EnrollmentId, comment: &str) -> Result<(), VaultError> {
        let mut conn = self.live_conn()?;
        let tx = conn.transaction()?;
        if self.session_role(&tx)? != Role::Supervisor {
            return Err(VaultError::NotSupervisor("send a record back"));
        }
        transition(&tx, id, EnrollmentState::Draft)?;
        tx.execute(
            "UPDATE enrollments SET review_comment = ?2 WHERE id = ?1",
            params![id.to_string(), comment],
        )?;
        // The comment may quote the record, so the audit names the enrollment only.
        self.audit(&tx, AuditAction::SentBack, &id.to_string())?;
        tx.commit()?;
        Ok(())
    }

    /// Approves a finalised record: Finalised → Approved.
    pub fn approve(&self, id: EnrollmentId, approval: Approval) -> Result<(), VaultError> {
        let mut conn = self.live_conn()?;
        let tx = conn.transaction()?;
        let (approved_by, subject) = match approval {
            Approval::Supervisor => {
                if self.session_role(&tx)? != Role::Supervisor {
                    return Err(VaultError::NotSupervisor("approve a record"));
                }
                (Some(self.session_operator_id()), id.to_string())
            }
            // Told apart in the audit: nobody reviewed this record.
            Approval::NoReviewPolicy => (None, format!("{id} no-review-policy")),
        };
        transition(&tx, id, EnrollmentState::Approved)?;
        tx.execute(
            "UPDATE enrollments SET approved_by = ?2 WHERE id = ?1",
            params![id.to_string(), approved_by],
        )?;
        self.audit(&tx, AuditAction::Approved, &subject)?;
        tx.commit()?;
        Ok(())
    }

    /// Moves an approved record into the outbox with its sealed bundle: Approved → Sealed.
    pub fn seal(
        &self,
        id: EnrollmentId,
        sealed_input: &EnrollmentInput,
        bundle_id: BundleId,
        bundle: &[u8],
    ) -> Result<(), VaultError> {
        let json = to_json(sealed_input)?;
        let mut conn = self.live_conn()?;
        let tx = conn.transaction()?;
        transition(&tx, id, EnrollmentState::Sealed)?;
        tx.execute(
            "UPDATE enrollments SET input = ?2, bundle_id = ?3 WHERE id = ?1",
            params![id.to_string(), json, bundle_id.to_string()],
        )?;
        tx.execute(
            "INSERT INTO outbox (bundle_id, enrollment_id, bytes, next_attempt_at)
             VALUES (?1, ?2, ?3, 0)",
            params![bundle_id.to_string(), id.to_string(), bundle],
        )?;
        self.audit(&tx, AuditAction::Sealed, &bundle_id.to_string())?;
        tx.commit()?;
        Ok(())
    }

    /// The session's role, read from the database so a role changed since unlock counts.
    fn session_role(&self, conn: &Connection) -> Result<Role, VaultError> {
        let role: Option<String> = conn
            .query_row(
                "SELECT role FROM operators WHERE id = ?1",
                [self.session_operator_id()],
                |r| r.get(0),
            )
            .optional()?;
        Role::parse(&role.ok_or(VaultError::Corrupt("session operator is missing"))?)
    }

    /// The signed-in operator's id as stored.
    pub(crate) fn session_operator_id(&self) -> String {
        self.operator.clone()
    }
}

const SUMMARY_SELECT: &str = "SELECT id, input, state, bundle_id, receipt_id, reason, \
     updated_at, review_comment FROM enrollments";

type RawRow = (
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    i64,
    Option<String>,
);

struct RawSummary(RawRow);

fn row_to_raw(r: &rusqlite::Row<'_>) -> Result<RawSummary, VaultError> {
    Ok(RawSummary((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
        r.get(7)?,
    )))
}

impl RawSummary {
    fn parse(self) -> Result<EnrollmentSummary, VaultError> {
        let (id, input, state, bundle_id, receipt_id, reason, updated_at_ms, review_comment) =
            self.0;
        Ok(EnrollmentSummary {
            id: EnrollmentId::parse(&id).map_err(|_| VaultError::Corrupt("enrollment id"))?,
            input: from_json(&input)?,
            state: EnrollmentState::parse(&state)?,
            bundle_id: bundle_id
                .map(|b| BundleId::parse(&b).map_err(|_| VaultError::Corrupt("bundle id")))
                .transpose()?,
            receipt_id,
            reason,
            review_comment,
            updated_at_ms,
        })
    }
}

pub(crate) fn state_of(conn: &Connection, id: EnrollmentId) -> Result<EnrollmentState, VaultError> {
    let s: Option<String> = conn
        .query_row(
            "SELECT state FROM enrollments WHERE id = ?1",
            [id.to_string()],
            |r| r.get(0),
        )
        .optional()?;
    EnrollmentState::parse(&s.ok_or(VaultError::NotFound("enrollment"))?)
}

/// The one way an enrollment changes state: reads where it is, asks
/// [`EnrollmentState::can_become`], and writes the new state. `conn` is the transaction of the
/// whole change; the caller adds its own columns and the audit entry to it. Returns the state
/// it left.
pub(crate) fn transition(
    conn: &Connection,
    id: EnrollmentId,
    to: EnrollmentState,
) -> Result<EnrollmentState, VaultError> {
    let from = state_of(conn, id)?;
    if !from.can_become(to) {
        return Err(VaultError::IllegalTransition { from, to });
    }
    conn.execute(
        "UPDATE enrollments SET state = ?2, updated_at = ?3 WHERE id = ?1",
        params![id.to_string(), to.code(), now_ms()],
    )?;
    Ok(from)
}

/// The enrollment a bundle was sealed from.
pub(crate) fn enrollment_of_bundle(
    conn: &Connection,
    bundle_id: BundleId,
) -> Result<EnrollmentId, VaultError> {
    let id: Option<String> = conn
        .query_row(
            "SELECT id FROM enrollments WHERE bundle_id = ?1",
            [bundle_id.to_string()],
            |r| r.get(0),
        )
        .optional()?;
    EnrollmentId::parse(&id.ok_or(VaultError::NotFound("bundle"))?)
        .map_err(|_| VaultError::Corrupt("enrollment id"))
}

/// Only drafts are edited: anything past a draft is what was attested or signed. The error
/// stays `WrongState` because the kit shows it as "not a draft", not as a refused move.
pub(crate) fn require_draft(conn: &Connection, id: EnrollmentId) -> Result<(), VaultError> {
    match state_of(conn, id)? {
        s if s.is_editable() => Ok(()),
        other => Err(VaultError::WrongState {
            expected: "draft",
            actual: other.code().into(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::KdfParams;

    #[test]
    fn only_a_supervisor_sends_back_or_approves_as_supervisor() {
        let dir = tempfile::tempdir().unwrap();
        let (v, op) = Vault::create(
            dir.path(),
            "Trần Văn Cảnh",
            "mật khẩu",
            KdfParams::insecure_fast_for_tests(),
        )
        .unwrap();
        let id = v
            .save_draft(None, op.id, &EnrollmentInput::default())
            .unwrap();
        v.finalise(id).unwrap();
        // Accounts are added by another module; a role change in place stands in for it.
        v.conn()
            .execute("UPDATE operators SET role = 'operator'", [])
            .unwrap();
        assert!(matches!(
            v.send_back(id, "?"),
            Err(VaultError::NotSupervisor(_))
        ));
        assert!(matches!(
            v.approve(id, Approval::Supervisor),
            Err(VaultError::NotSupervisor(_))
        ));
        assert_eq!(state_of(&v.conn(), id).unwrap(), EnrollmentState::Finalised);
        // The policy needs no supervisor: nobody reviews under it.
        v.approve(id, Approval::NoReviewPolicy).unwrap();
        let approved_by: Option<String> = v
            .conn()
            .query_row(
                "SELECT approved_by FROM enrollments WHERE id = ?1",
                [id.to_string()],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(approved_by, None);
    }

    #[test]
    fn a_supervisor_approval_names_the_supervisor() {
        let dir = tempfile::tempdir().unwrap();
        let (v, op) = Vault::create(
            dir.path(),
            "Trần Văn Cảnh",
            "mật khẩu",
            KdfParams::insecure_fast_for_tests(),
        )
        .unwrap();
        let id = v
            .save_draft(None, op.id, &EnrollmentInput::default())
            .unwrap();
        v.finalise(id).unwrap();
        v.approve(id, Approval::Supervisor).unwrap();
        let approved_by: Option<String> = v
            .conn()
            .query_row(
                "SELECT approved_by FROM enrollments WHERE id = ?1",
                [id.to_string()],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(approved_by, Some(op.id.to_string()));
    }
}
