//! Deciding on a submitted bundle: bytes in, signed receipt out.
//!
//! The order of the checks is part of the API (kits show the reason): structure, device,
//! device key, signature, ciphertext hash, duplicate/conflict, recipient, opening, record.
//! Every submission gets a receipt; only a failure of the registry itself is an error.
//!
//! What costs time runs without the store's write lock, so submissions overlap: the
//! signature and BLAKE3 checks, HPKE opening, CBOR decoding, record validation and the
//! blob's write and fsync. Lookups before them use the pool of read connections. The write
//! lock is taken at the end, only for the checks that must hold at the commit (the device
//! not revoked, the bundle id and the enrollment id not stored since) and the commit. A
//! claim on the bundle id ([`Registry::claim`]) makes a second submission of the same id
//! wait for the first, then find its row: one acceptance, one `duplicate`.

use ghidanh_bundle::{
    BundleId, DeviceId, Envelope, Error as BundleError, Keyring, Payload, Receipt, ReceiptId,
    Recipients, RejectReason, Sha256, Verdict,
};
use std::sync::{Arc, Mutex};

use ghidanh_record::{forbidden_biometrics, missing_biometrics, ValidRecord};
use time::{macros::offset, Date, OffsetDateTime};

use crate::blobs;
use crate::store::{AcceptedRow, DeviceState, Grouped, RejectionRow, Store};
use crate::{Registry, RegistryError};

/// The registry's answer to one submission.
#[derive(Debug, Clone)]
pub struct Submission {
    /// The receipt, as signed.
    pub receipt: Receipt,
    /// The signed receipt bytes sent back to the kit.
    pub bytes: Vec<u8>,
}

/// A verdict other than acceptance.
enum Refusal {
    Reject {
        reason: RejectReason,
        bundle_id: Option<BundleId>,
        device_id: Option<DeviceId>,
    },
    Duplicate {
        bundle_id: BundleId,
        accepted_receipt_id: ReceiptId,
    },
}

/// What to do with a submission, before any effect.
enum Decision {
    Refuse(Refusal),
    // Boxed: a full record and payload dwarf the other variants.
    Accept {
        payload: Box<Payload>,
        record: Box<ValidRecord>,
    },
}

/// Decides, stores what the decision calls for, and signs the receipt. `sha256`: the
/// body's SHA-256 when the caller has it already; `upload`: the resumable upload that
/// brought the body, whose row keeps the receipt (committed with the verdict).
pub(crate) fn ingest(
    registry: &Registry,
    body: &[u8],
    sha256: Option<Sha256>,
    upload: Option<&str>,
    now: OffsetDateTime,
) -> Result<Submission, RegistryError> {
    let ring = &registry.keys;
    let submission_sha256 = sha256.unwrap_or_else(|| Sha256::of(body));
    let envelope = Envelope::parse(body).ok();
    // The receipt is signed by the key the bundle was sealed to, when held: a kit provisioned
    // before a rotation knows only that key. Otherwise by the current key.
    let keys = envelope
        .as_ref()
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

    // Until this returns, no other submission of this bundle id gets past its checks here.
    let _claim = envelope
        .as_ref()
        .map(|e| registry.claim(e.header().bundle_id));
    let decision = match &envelope {
        None => Decision::Refuse(Refusal::Reject {
            reason: RejectReason::Malformed,
            bundle_id: None,
            device_id: None,
        }),
        Some(envelope) => decide(registry, ring, envelope, submission_sha256, today)?,
    };
    let refusal = match decision {
        Decision::Refuse(refusal) => refusal,
        Decision::Accept { payload, record } => {
            let receipt = receipt(Some(payload.bundle_id), Verdict::Accepted);
            let bytes = receipt.sign(keys);
            let stored =
                store_accepted(registry, body, &payload, &record, &receipt, &bytes, upload)?;
            match stored {
                None => {
                    tracing::info!(
                        bundle_id = %payload.bundle_id,
                        device_id = %payload.device_id,
                        %receipt_id,
                        "bundle accepted"
                    );
                    return Ok(Submission { receipt, bytes });
                }
                // Something changed between the checks and the commit.
                Some(refusal) => refusal,
            }
        }
    };
    let receipt = match refusal {
        Refusal::Reject {
            reason,
            bundle_id,
            device_id,
        } => {
            tracing::info!(
                bundle_id = ?bundle_id,
                device_id = ?device_id,
                reason = %reason.code(),
                "bundle rejected"
            );
            let code = reason.code();
            let receipt = receipt(bundle_id, Verdict::Rejected(reason));
            let bytes = receipt.sign(keys);
            let row = RejectionRow {
                submission_sha256,
                bundle_id,
                device_id,
                reason: code,
                receipt_id,
                received_at: issued_at,
            };
            registry
                .lock()
                .insert_rejection(&row, upload.map(|id| (id, &bytes[..])))?;
            return Ok(Submission { receipt, bytes });
        }
        Refusal::Duplicate {
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
    };
    let bytes = receipt.sign(keys);
    if let Some(upload_id) = upload {
        registry.lock().complete_upload(upload_id, &bytes)?;
    }
    Ok(Submission { receipt, bytes })
}

/// The decision, from the read connections: nothing here holds the write lock.
fn decide(
    registry: &Registry,
    keys: &Keyring,
    envelope: &Envelope<'_>,
    submission_sha256: Sha256,
    today: Date,
) -> Result<Decision, RegistryError> {
    let reject = |reason, bundle_id, device_id| {
        Ok(Decision::Refuse(Refusal::Reject {
            reason,
            bundle_id,
            device_id,
        }))
    };
    let header = envelope.header();
    let (bundle_id, device_id) = (Some(header.bundle_id), Some(header.device_id));

    let (device, stored) =
        registry.read(|s| Ok((s.device(header.device_id)?, s.bundle(header.bundle_id)?)))?;
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
    // Verified once: the proof opens the payload below without a second signature check
    // and BLAKE3 pass over the ciphertext.
    let verified = match envelope.verified() {
        Ok(verified) => verified,
        Err(BundleError::BadSignature) => {
            return reject(RejectReason::BadSignature, bundle_id, device_id)
        }
        Err(BundleError::CiphertextMismatch(_)) => {
            return reject(RejectReason::CiphertextMismatch, bundle_id, device_id)
        }
        Err(_) => return reject(RejectReason::Malformed, bundle_id, device_id),
    };
    // After the signature: the refusal goes to whoever holds the device key, and a kit
    // that verifies it destroys its vault.
    if revoked {
        return reject(RejectReason::DeviceRevoked, bundle_id, device_id);
    }

    // Checked before opening: a resend must not cost a decryption, and the kit needs the
    // first receipt's id even if the registry's keys have rotated since.
    if let Some(stored) = stored {
        if stored.submission_sha256 == submission_sha256 {
            return Ok(Decision::Refuse(Refusal::Duplicate {
                bundle_id: header.bundle_id,
                accepted_receipt_id: stored.receipt_id,
            }));
        }
        return reject(RejectReason::BundleIdConflict, bundle_id, device_id);
    }

    let payload = match verified.open(keys) {
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
    // The age rule both ways: nothing under 6; from 6 the portrait and ten fingers, each a
    // print or an exception with its reason.
    // As on the day the kit finalised (a bundle sealed at 5 may arrive after the sixth
    // birthday), never later than today.
    let finalised = time::OffsetDateTime::from_unix_timestamp(
        i64::try_from(payload.finalised_at).unwrap_or(i64::MAX),
    )
    .map(|t| t.to_offset(offset!(+7)).date())
    .unwrap_or(today)
    .min(today);
    let requirement = record.biometric_requirement(finalised);
    let taken = payload.biometrics.taken();
    let age_rule = forbidden_biometrics(requirement, &taken)
        .into_iter()
        .chain(missing_biometrics(requirement, &taken));
    if let Some(e) = age_rule.into_iter().next() {
        let reason = RejectReason::InvalidRecord {
            field: e.field.code().to_owned(),
            rule: e.rule.code().to_owned(),
        };
        return reject(reason, bundle_id, device_id);
    }
    if let Some(field) = unreadable_record(&payload.biometrics) {
        let reason = RejectReason::InvalidRecord {
            field: field.to_owned(),
            rule: "notIsoRecord".to_owned(),
        };
        return reject(reason, bundle_id, device_id);
    }
    // One enrollment travels as one bundle; the same enrollment under a second bundle id
    // is a kit bug that must not create a second enrollment row.
    let enrollment_id = payload.enrollment_id.to_string();
    if registry.read(|s| s.has_enrollment(&enrollment_id))? {
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

/// The checks that must still hold at the commit, under the write lock: what `decide` read
/// may have changed since (a revocation; another process on this data directory, such as
/// `ghidanh relay import`; the same enrollment under another bundle id).
fn recheck(store: &Store, row: &AcceptedRow) -> Result<Option<Refusal>, RegistryError> {
    let sha256 = row.submission_sha256;
    let (bundle_id, device_id) = (Some(row.bundle_id), Some(row.device_id));
    let reject = |reason| {
        Ok(Some(Refusal::Reject {
            reason,
            bundle_id,
            device_id,
        }))
    };
    match store.device(row.device_id)?.map(|d| d.state) {
        Some(DeviceState::Active) => {}
        Some(DeviceState::Revoked) => return reject(RejectReason::DeviceRevoked),
        _ => return reject(RejectReason::UnknownDevice),
    }
    if let Some(stored) = store.bundle(row.bundle_id)? {
        if stored.submission_sha256 == sha256 {
            return Ok(Some(Refusal::Duplicate {
                bundle_id: row.bundle_id,
                accepted_receipt_id: stored.receipt_id,
            }));
        }
        return reject(RejectReason::BundleIdConflict);
    }
    if store.has_enrollment(&row.enrollment_id)? {
        return reject(RejectReason::Other("enrollment_id_conflict".into()));
    }
    Ok(None)
}

/// An accepted bundle whose blob is on disk, waiting for the group commit.
pub(crate) struct Queued {
    row: AcceptedRow,
    /// Set by whichever submission committed the group, before it released the lock.
    outcome: Arc<Mutex<Option<Grouped<Refusal>>>>,
}

/// Writes the blob durably (outside the write lock), then commits its rows: a stored row
/// always has its file. `None` when stored; otherwise the verdict a second look under the
/// write lock found.
///
/// Group commit: the row joins the queue, then its submission waits for the write lock.
/// Whoever holds it next commits everything queued by then in one transaction (one fsync of
/// the WAL for all of them, each row checked again first) and sets every outcome before
/// letting go; a submission that gets the lock and finds its outcome set is done.
fn store_accepted(
    registry: &Registry,
    body: &[u8],
    payload: &Payload,
    record: &ValidRecord,
    receipt: &Receipt,
    receipt_bytes: &[u8],
    upload: Option<&str>,
) -> Result<Option<Refusal>, RegistryError> {
    let blob = registry.dir.blob(payload.bundle_id);
    // The claim on the bundle id keeps every other submission of it in this process away
    // from this file until the claim is released.
    blobs::write_durably(&blob, body)?;
    let record_json = match serde_json::to_string(&record.to_input()) {
        Ok(json) => json,
        Err(_) => {
            let _ = std::fs::remove_file(&blob);
            return Err(RegistryError::Corrupt("record"));
        }
    };
    let outcome = Arc::new(Mutex::new(None));
    let queued = Queued {
        row: AcceptedRow {
            bundle_id: payload.bundle_id,
            device_id: payload.device_id,
            submission_sha256: receipt.submission_sha256,
            size: body.len() as u64,
            receipt_id: receipt.receipt_id,
            receipt: receipt_bytes.to_vec(),
            received_at: receipt.issued_at,
            enrollment_id: payload.enrollment_id.to_string(),
            operator_id: payload.operator.id.to_string(),
            personal_id: record.personal_id().as_str().to_owned(),
            record_json,
            captured_at: payload.captured_at,
            upload_id: upload.map(str::to_owned),
        },
        outcome: Arc::clone(&outcome),
    };
    lock(&registry.commit_queue).push(queued);
    let store = registry.lock();
    let mine = lock(&outcome).take();
    let mine = match mine {
        Some(committed) => committed,
        None => {
            let group = std::mem::take(&mut *lock(&registry.commit_queue));
            let rows: Vec<&AcceptedRow> = group.iter().map(|q| &q.row).collect();
            let results = store.insert_accepted_group(&rows, recheck);
            match results {
                Ok(results) => {
                    for (q, result) in group.iter().zip(results) {
                        *lock(&q.outcome) = Some(result);
                    }
                }
                Err(e) => {
                    let message = e.to_string();
                    for q in &group {
                        *lock(&q.outcome) =
                            Some(Grouped::Failed(RegistryError::GroupCommit(message.clone())));
                    }
                }
            }
            drop(store);
            lock(&outcome)
                .take()
                .unwrap_or(Grouped::Failed(RegistryError::GroupCommit(
                    "the submission was not in its group".into(),
                )))
        }
    };
    match mine {
        Grouped::Stored => Ok(None),
        Grouped::Refused(refusal) => {
            // A row of this bundle id was committed by another process meanwhile: the file
            // is (or is about to be) that row's; leave it.
            if store_has_row(&refusal) {
                tracing::warn!(bundle_id = %payload.bundle_id, "bundle stored by another process meanwhile");
            } else {
                // No row points at the blob: remove it so the disk holds only stored bundles.
                let _ = std::fs::remove_file(&blob);
            }
            Ok(Some(refusal))
        }
        Grouped::Failed(e) => {
            // No row points at the blob: remove it so the disk holds only stored bundles.
            let _ = std::fs::remove_file(&blob);
            Err(e)
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // Whatever a panicking holder left is a whole value (a queue, an outcome).
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Whether the refusal `recheck` found means a row of the bundle id exists.
fn store_has_row(refusal: &Refusal) -> bool {
    matches!(
        refusal,
        Refusal::Duplicate { .. }
            | Refusal::Reject {
                reason: RejectReason::BundleIdConflict,
                ..
            }
    )
}

#[cfg(test)]
mod tests;

/// The first biometric that claims to be an ISO/IEC 19794 record and is not one (or names
/// another finger than its entry): the registry keeps what the kit sealed, so it must read.
fn unreadable_record(b: &ghidanh_bundle::Biometrics) -> Option<&'static str> {
    use ghidanh_biometrics::face::FaceRecord;
    use ghidanh_biometrics::finger::iso19794_4::FingerImageRecord;
    use ghidanh_bundle::{FaceFormat, FingerCapture, FingerFormat};
    if let Some(face) = &b.face {
        if face.format == FaceFormat::Iso19794_5 && FaceRecord::parse(&face.image).is_err() {
            return Some("biometrics.face");
        }
    }
    b.fingers.iter().find_map(|f| match &f.capture {
        FingerCapture::Captured {
            format: FingerFormat::Iso19794_4,
            image,
            ..
        } => match FingerImageRecord::parse(image) {
            Ok(r) if r.position == f.position.code() => None,
            _ => Some("biometrics.fingers"),
        },
        _ => None,
    })
}
