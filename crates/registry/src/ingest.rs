//! Deciding on a submitted bundle: bytes in, signed receipt out.
//!
//! The order of the checks is part of the API (kits show the reason): structure, device,
//! device key, signature, ciphertext hash, duplicate/conflict, recipient, opening, record.
//! Every submission gets a receipt; only a failure of the registry itself is an error.

use ghidanh_bundle::{
    BundleId, DeviceId, Envelope, Error as BundleError, Keyring, Payload, Receipt, ReceiptId,
    Recipients, RejectReason, Sha256, Verdict,
};
use ghidanh_record::{forbidden_biometrics, ValidRecord};
use time::{macros::offset, Date, OffsetDateTime};

use crate::blobs;
use crate::config::DataDir;
use crate::store::{AcceptedRow, DeviceState, RejectionRow, Store};
use crate::RegistryError;

/// The registry's answer to one submission.
#[derive(Debug, Clone)]
pub struct Submission {
    /// The receipt, as signed.
    pub receipt: Receipt,
    /// The signed receipt bytes sent back to the kit.
    pub bytes: Vec<u8>,
}

/// What to do with a submission, before any effect.
enum Decision {
    Reject {
        reason: RejectReason,
        bundle_id: Option<BundleId>,
        device_id: Option<DeviceId>,
    },
    Duplicate {
        bundle_id: BundleId,
        accepted_receipt_id: ReceiptId,
    },
    // Boxed: a full record and payload dwarf the other variants.
    Accept {
        payload: Box<Payload>,
        record: Box<ValidRecord>,
    },
}

/// Decides, stores what the decision calls for, and signs the receipt.
pub(crate) fn ingest(
    store: &mut Store,
    dir: &DataDir,
    ring: &Keyring,
    body: &[u8],
    now: OffsetDateTime,
) -> Result<Submission, RegistryError> {
    let submission_sha256 = Sha256::of(body);
    // The receipt is signed by the key the bundle was sealed to, when held: a kit provisioned
    // before a rotation knows only that key. Otherwise by the current key.
    let keys = Envelope::parse(body)
        .ok()
        .and_then(|e| ring.recipient(&e.header().recipient))
        .unwrap_or(ring.current());
    // Dates of birth are judged by the calendar where people are enrolled.
    let today = now.to_offset(offset!(+7)).date();
    let issued_at = u64::try_from(now.unix_timestamp()).unwrap_or(0);
    let receipt_id = ReceiptId::new();
    let receipt = |bundle_id, verdict| Receipt {
        receipt_id,
        issued_at,
        registry_key_id: keys.public().key_id().clone(),
        submission_sha256,
        bundle_id,
        verdict,
    };

    let receipt = match decide(store, ring, body, submission_sha256, today)? {
        Decision::Reject {
            reason,
            bundle_id,
            device_id,
        } => {
            store.insert_rejection(&RejectionRow {
                submission_sha256,
                bundle_id,
                device_id,
                reason: reason.code(),
                receipt_id,
                received_at: issued_at,
            })?;
            tracing::info!(
                bundle_id = ?bundle_id,
                device_id = ?device_id,
                reason = %reason.code(),
                "bundle rejected"
            );
            receipt(bundle_id, Verdict::Rejected(reason))
        }
        Decision::Duplicate {
            bundle_id,
            accepted_receipt_id,
        } => {
            tracing::info!(%bundle_id, %accepted_receipt_id, "duplicate bundle");
            receipt(
                Some(bundle_id),
                Verdict::Duplicate {
                    accepted_receipt_id,
                },
            )
        }
        Decision::Accept { payload, record } => {
            let receipt = receipt(Some(payload.bundle_id), Verdict::Accepted);
            let bytes = receipt.sign(keys);
            store_accepted(store, dir, body, &payload, &record, &receipt, &bytes)?;
            tracing::info!(
                bundle_id = %payload.bundle_id,
                device_id = %payload.device_id,
                %receipt_id,
                "bundle accepted"
            );
            return Ok(Submission { receipt, bytes });
        }
    };
    let bytes = receipt.sign(keys);
    Ok(Submission { receipt, bytes })
}

fn decide(
    store: &Store,
    keys: &Keyring,
    body: &[u8],
    submission_sha256: Sha256,
    today: Date,
) -> Result<Decision, RegistryError> {
    let reject = |reason, bundle_id, device_id| {
        Ok(Decision::Reject {
            reason,
            bundle_id,
            device_id,
        })
    };
    let Ok(envelope) = Envelope::parse(body) else {
        return reject(RejectReason::Malformed, None, None);
    };
    let header = envelope.header();
    let (bundle_id, device_id) = (Some(header.bundle_id), Some(header.device_id));

    let device = store.device(header.device_id)?;
    let (registered_key, revoked) = match device {
        Some(d) if d.state == DeviceState::Active => (d.key, false),
        Some(d) if d.state == DeviceState::Revoked => (d.key, true),
        _ => return reject(RejectReason::UnknownDevice, bundle_id, device_id),
    };
    // A device revoked before it registered has no key to compare: its own signature
    // (checked next) is then all there is; the refusal only tells the sender to stop.
    let key_matches = registered_key.is_none_or(|k| k == header.device_key);
    if !key_matches || (!revoked && registered_key.is_none()) {
        return reject(RejectReason::DeviceKeyMismatch, bundle_id, device_id);
    }
    match envelope.verify() {
        Ok(()) => {}
        Err(BundleError::BadSignature) => {
            return reject(RejectReason::BadSignature, bundle_id, device_id)
        }
        Err(BundleError::CiphertextMismatch(_)) => {
            return reject(RejectReason::CiphertextMismatch, bundle_id, device_id)
        }
        Err(_) => return reject(RejectReason::Malformed, bundle_id, device_id),
    }
    // After the signature: the refusal goes to whoever holds the device key, and a kit
    // that verifies it destroys its vault.
    if revoked {
        return reject(RejectReason::DeviceRevoked, bundle_id, device_id);
    }

    // Checked before opening: a resend must not cost a decryption, and the kit needs the
    // first receipt's id even if the registry's keys have rotated since.
    if let Some(stored) = store.bundle(header.bundle_id)? {
        if stored.submission_sha256 == submission_sha256 {
            return Ok(Decision::Duplicate {
                bundle_id: header.bundle_id,
                accepted_receipt_id: stored.receipt_id,
            });
        }
        return reject(RejectReason::BundleIdConflict, bundle_id, device_id);
    }

    let payload = match envelope.open(keys) {
        Ok(p) => p,
        Err(BundleError::WrongRecipient { .. }) => {
            return reject(RejectReason::WrongRecipient, bundle_id, device_id)
        }
        Err(_) => return reject(RejectReason::CannotOpen, bundle_id, device_id),
    };
    let record = match ValidRecord::validate(&payload.record, today) {
        Ok(r) => r,
        Err(errors) => {
            let reason = match errors.first() {
                Some(e) => RejectReason::InvalidRecord {
                    field: e.field.code().to_owned(),
                    rule: e.rule.code().to_owned(),
                },
                // `validate` never fails without an error; refuse rather than trust that.
                None => RejectReason::CannotOpen,
            };
            return reject(reason, bundle_id, device_id);
        }
    };
    // The age rule's prohibition binds today; its "from 6, all of them" binds once the kit
    // captures (docs/ARCHITECTURE.md § Known limits).
    let requirement = record.biometric_requirement(today);
    if let Some(e) = forbidden_biometrics(requirement, &payload.biometrics.taken()).first() {
        let reason = RejectReason::InvalidRecord {
            field: e.field.code().to_owned(),
            rule: e.rule.code().to_owned(),
        };
        return reject(reason, bundle_id, device_id);
    }
    // One enrollment travels as one bundle; the same enrollment under a second bundle id
    // is a kit bug that must not create a second enrollment row.
    if store.has_enrollment(&payload.enrollment_id.to_string())? {
        return reject(
            RejectReason::Other("enrollment_id_conflict".into()),
            bundle_id,
            device_id,
        );
    }
    Ok(Decision::Accept {
        payload: Box::new(payload),
        record: Box::new(record),
    })
}

/// Writes the blob durably, then commits its rows: a stored row always has its file.
fn store_accepted(
    store: &mut Store,
    dir: &DataDir,
    body: &[u8],
    payload: &Payload,
    record: &ValidRecord,
    receipt: &Receipt,
    receipt_bytes: &[u8],
) -> Result<(), RegistryError> {
    let blob = dir.blob(payload.bundle_id);
    blobs::write_durably(&blob, body)?;
    let record_json =
        serde_json::to_string(&record.to_input()).map_err(|_| RegistryError::Corrupt("record"))?;
    let row = AcceptedRow {
        bundle_id: payload.bundle_id,
        device_id: payload.device_id,
        submission_sha256: receipt.submission_sha256,
        size: body.len() as u64,
        receipt_id: receipt.receipt_id,
        receipt: receipt_bytes,
        received_at: receipt.issued_at,
        enrollment_id: payload.enrollment_id.to_string(),
        operator_id: payload.operator.id.to_string(),
        personal_id: record.personal_id().as_str(),
        record_json: &record_json,
        captured_at: payload.captured_at,
    };
    if let Err(e) = store.insert_accepted(&row) {
        // No row points at the blob: remove it so the disk holds only stored bundles.
        let _ = std::fs::remove_file(&blob);
        return Err(e);
    }
    Ok(())
}

#[cfg(test)]
mod tests;
