//! Self-checks of the database file: what the crash test (and, later, a support tool) asks
//! after an unclean stop. Read-only; nothing here repairs.

use rusqlite::params;

use crate::{Vault, VaultError};

/// One outbox row and whether the enrollment it names is in the database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxLink {
    /// The row's bundle id, as stored.
    pub bundle_id: String,
    /// The enrollment it belongs to, as stored.
    pub enrollment_id: String,
    /// Whether that enrollment exists and names this bundle back.
    pub enrollment_matches: bool,
}

impl Vault {
    /// SQLite's `PRAGMA integrity_check` over the whole file: `"ok"` when sound, else its
    /// findings one per line.
    pub fn integrity_check(&self) -> Result<String, VaultError> {
        let conn = self.live_conn()?;
        let mut stmt = conn.prepare("PRAGMA integrity_check")?;
        let lines = stmt
            .query_map([], |r| r.get::<_, String>(0))?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(lines.join("\n"))
    }

    /// Every outbox row with whether its enrollment exists and points at it: a row whose
    /// enrollment is missing would be uploaded for a record the kit no longer shows.
    pub fn outbox_links(&self) -> Result<Vec<OutboxLink>, VaultError> {
        let conn = self.live_conn()?;
        let mut stmt = conn.prepare(
            "SELECT o.bundle_id, o.enrollment_id, e.id IS NOT NULL AND e.bundle_id = o.bundle_id
             FROM outbox o LEFT JOIN enrollments e ON e.id = o.enrollment_id
             ORDER BY o.rowid",
        )?;
        let rows = stmt.query_map(params![], |r| {
            Ok(OutboxLink {
                bundle_id: r.get(0)?,
                enrollment_id: r.get(1)?,
                enrollment_matches: r.get::<_, Option<bool>>(2)?.unwrap_or(false),
            })
        })?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }
}
