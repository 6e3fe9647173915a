//! Store inspections on the phone: check in, answer, photograph, check out.

use rusqlite::{OptionalExtension, params};

use super::LocalStore;
use crate::clock::now_ms;
use crate::doc::{
    Answer, AnswerValue, DocKind, ExifPosition, GeoFix, Inspection, InspectionStatus, OriginalCapture, PhotoRef,
    RetailStore, Template, Visit,
};
use crate::error::{Error, Result};
use crate::id::DocumentId;
use crate::photo::{self, PhotoLimits, QualityPreview};

/// A check-in at a store.
#[derive(Debug, Clone)]
pub struct CheckIn {
    /// The store's document id.
    pub store_id: String,
    /// The checklist template's document id.
    pub template_id: String,
    /// When, ms since the Unix epoch.
    pub at: i64,
    /// Where the phone was.
    pub position: GeoFix,
}

/// What the phone knows about a photo as it is taken.
#[derive(Debug, Clone, Copy)]
pub struct PhotoCapture {
    /// When, ms since the Unix epoch.
    pub captured_at: i64,
    /// Where the phone was, when it had a fix.
    pub position: Option<GeoFix>,
}

/// A photo added to an inspection: its reference and the local quality preview.
#[derive(Debug, Clone)]
pub struct AddedPhoto {
    /// What the inspection document now holds.
    pub reference: PhotoRef,
    /// Sharpness and exposure, with a plain reason ("blurry") when a retake is advised.
    pub preview: QualityPreview,
}

/// Which inspections to list. Empty fields do not filter.
#[derive(Debug, Clone, Default)]
pub struct InspectionFilter {
    /// Only inspections in this state.
    pub status: Option<InspectionStatus>,
    /// Only inspections of this store.
    pub store_id: Option<String>,
    /// At most this many, newest first.
    pub limit: Option<u32>,
}

/// One row of an inspection list, read from the index.
#[derive(Debug, Clone, PartialEq)]
pub struct InspectionSummary {
    /// The inspection's document id.
    pub id: DocumentId,
    /// `open` or `checked-out`.
    pub status: String,
    /// The store.
    pub store_id: String,
    /// The supervisor.
    pub owner: String,
    /// Check-in time, ms since the Unix epoch.
    pub checked_in_at: i64,
    /// Last edit, ms since the Unix epoch.
    pub updated_at: i64,
    /// Number of photos.
    pub photo_count: i64,
}

impl LocalStore {
    /// Checks in at a store and opens an inspection owned by the signed-in user.
    pub fn check_in(&self, check_in: CheckIn) -> Result<DocumentId> {
        let identity = self.require_identity()?;
        validate_fix(&check_in.position)?;
        validate_time("at", check_in.at)?;
        let store_id: DocumentId = check_in.store_id.parse()?;
        let template_id: DocumentId = check_in.template_id.parse()?;
        self.get::<RetailStore>(&store_id)?;
        self.get::<Template>(&template_id)?;
        let inspection = Inspection {
            owner: identity.user_id,
            store_id: store_id.to_string(),
            template_id: template_id.to_string(),
            status: InspectionStatus::Open,
            check_in: Visit { at: check_in.at, position: check_in.position },
            check_out: None,
            answers: Default::default(),
            photos: Default::default(),
            updated_at: now_ms(),
            promotions_started: Default::default(),
        };
        self.create_doc(&inspection, |_| Ok(()))
    }

    /// Reads an inspection.
    pub fn inspection(&self, id: &DocumentId) -> Result<Inspection> {
        self.get(id)
    }

    /// Answers a checklist item of an open inspection.
    pub fn answer(
        &self,
        id: &DocumentId,
        item_id: &str,
        value: AnswerValue,
        count: Option<i64>,
        note: &str,
    ) -> Result<()> {
        if let Some(count) = count.filter(|c| *c < 0) {
            return Err(Error::InvalidInput { field: "count", reason: format!("count {count} is negative") });
        }
        self.require_item(id, item_id)?;
        self.edit_open(id, "answer an item", |inspection| {
            let now = now_ms();
            inspection.answers.insert(
                item_id.to_owned(),
                Answer { id: crate::id::short_id(), value, count, note: note.to_owned(), answered_at: now },
            );
            inspection.updated_at = now;
            Ok(())
        })
    }

    /// Adds a photo (JPEG or PNG bytes) as evidence for a checklist item of an open inspection.
    ///
    /// The photo is decoded under limits, oriented, downscaled, re-encoded and hashed; its bytes
    /// and thumbnail go to the blob table and the upload queue, and only its reference goes into
    /// the inspection — all in one transaction. Bad input changes nothing.
    ///
    /// The same original bytes added again for the same item return the photo already there at
    /// once, without decoding anything (a double tap, or a retry after the app was killed).
    pub fn add_photo(&self, id: &DocumentId, item_id: &str, bytes: &[u8], capture: PhotoCapture) -> Result<AddedPhoto> {
        validate_time("captured_at", capture.captured_at)?;
        if let Some(fix) = &capture.position {
            validate_fix(fix)?;
        }
        self.require_item(id, item_id)?;
        let user = self.require_identity()?.user_id;
        let original_sha256 = photo::sha256_hex(bytes);
        let inspection: Inspection = self.get(id)?;
        check_open_and_owned(&user, id, &inspection, "add a photo")?;
        let existing = inspection
            .photos
            .values()
            .find(|p| p.item_id == item_id && p.original.as_ref().is_some_and(|o| o.sha256 == original_sha256));
        if let Some((reference, metrics)) = existing.and_then(|p| p.measured.map(|m| (p, m))) {
            return Ok(AddedPhoto { reference: reference.clone(), preview: QualityPreview::from_metrics(metrics) });
        }
        // The expensive part runs before any lock is taken.
        let ingested = photo::ingest_hashed(bytes, original_sha256, &PhotoLimits::default())?;
        let reference = PhotoRef {
            sha256: ingested.sha256.clone(),
            item_id: item_id.to_owned(),
            byte_size: ingested.jpeg.len() as u64,
            width: ingested.width,
            height: ingested.height,
            captured_at: capture.captured_at,
            position: capture.position,
            phash: ingested.phash.clone(),
            original: Some(OriginalCapture {
                sha256: ingested.original_sha256.clone(),
                taken_at: ingested.exif.date_time_original.clone(),
                utc_offset_minutes: ingested.exif.utc_offset_minutes.map(i64::from),
                position: ingested
                    .exif
                    .gps
                    .map(|gps| ExifPosition { latitude: gps.latitude, longitude: gps.longitude }),
            }),
            measured: Some(ingested.quality.metrics),
        };
        let added = reference.clone();
        self.edit_doc(
            id,
            |inspection: &mut Inspection| {
                check_open_and_owned(&user, id, inspection, "add a photo")?;
                inspection.photos.insert(added.sha256.clone(), added);
                inspection.updated_at = now_ms();
                Ok(())
            },
            |tx| {
                let now = now_ms();
                tx.prepare_cached(
                    "INSERT OR IGNORE INTO blobs (sha256, bytes, thumbnail, created_at) VALUES (?1, ?2, ?3, ?4)",
                )?
                .execute(params![ingested.sha256, ingested.jpeg, ingested.thumbnail_jpeg, now])?;
                tx.prepare_cached(
                    "INSERT OR IGNORE INTO photo_outbox (sha256, byte_size, queued_at) VALUES (?1, ?2, ?3)",
                )?
                .execute(params![ingested.sha256, ingested.jpeg.len() as i64, now])?;
                Ok(())
            },
        )?;
        Ok(AddedPhoto { reference, preview: ingested.quality })
    }

    /// Removes photo `sha256` from item `item_id` of an open inspection (allowed until check-out).
    /// Its upload is cancelled when no other inspection on this phone holds it; the relay never
    /// scores a photo the inspection no longer references.
    pub fn remove_photo(&self, id: &DocumentId, item_id: &str, sha256: &str) -> Result<()> {
        let user = self.require_identity()?.user_id;
        let mut others = Vec::new();
        for summary in self.list_inspections(&InspectionFilter::default())? {
            if summary.id != *id && summary.photo_count > 0 {
                others.push(summary.id);
            }
        }
        let mut held_elsewhere = false;
        for other in &others {
            held_elsewhere |= self.inspection(other)?.photos.contains_key(sha256);
        }
        self.edit_doc(
            id,
            |inspection: &mut Inspection| {
                check_open_and_owned(&user, id, inspection, "remove a photo")?;
                match inspection.photos.get(sha256) {
                    None => {
                        return Err(Error::InvalidInput {
                            field: "sha256",
                            reason: format!("inspection {id} has no photo {sha256}"),
                        });
                    }
                    Some(photo) if photo.item_id != item_id => {
                        return Err(Error::InvalidInput {
                            field: "item_id",
                            reason: format!("photo {sha256} backs item {}, not {item_id}", photo.item_id),
                        });
                    }
                    Some(_) => {}
                }
                inspection.photos.remove(sha256);
                inspection.updated_at = now_ms();
                Ok(())
            },
            |tx| {
                if !held_elsewhere {
                    tx.prepare_cached("DELETE FROM photo_outbox WHERE sha256 = ?1")?.execute([sha256])?;
                }
                Ok(())
            },
        )
    }

    /// Checks out of an open inspection; it is then read-only and ready to be scored.
    pub fn check_out(&self, id: &DocumentId, at: i64, position: GeoFix) -> Result<()> {
        validate_fix(&position)?;
        validate_time("at", at)?;
        self.edit_open(id, "check out", |inspection| {
            if at < inspection.check_in.at {
                return Err(Error::InvalidInput {
                    field: "at",
                    reason: format!("check-out at {at} is before check-in at {}", inspection.check_in.at),
                });
            }
            inspection.check_out = Some(Visit { at, position });
            inspection.status = InspectionStatus::CheckedOut;
            inspection.updated_at = now_ms();
            Ok(())
        })
    }

    /// Records, during an open visit, that the supervisor saw promotion `promotion_id` (a key of
    /// the catalog's promotions) running in the inspected store at `at`. The relay closes the
    /// store's "promotion not started" alert once this syncs. The promotion must be in the
    /// catalog on the phone and cover the store; confirming it again keeps the first time.
    pub fn confirm_promotion_started(&self, id: &DocumentId, promotion_id: &str, at: i64) -> Result<()> {
        validate_time("at", at)?;
        let inspection: Inspection = self.get(id)?;
        let catalog = self.catalog()?;
        let promotion = catalog.promotions.get(promotion_id).ok_or_else(|| Error::InvalidInput {
            field: "promotion_id",
            reason: format!("promotion {promotion_id} is not in the catalog"),
        })?;
        let store_id: DocumentId = inspection.store_id.parse()?;
        let store: RetailStore = self.get(&store_id)?;
        let covers = |list: &[String], value: &str| list.is_empty() || list.iter().any(|v| v == value);
        if !covers(&promotion.stores, store_id.as_str()) || !covers(&promotion.regions, &store.region) {
            return Err(Error::InvalidInput {
                field: "promotion_id",
                reason: format!("promotion {promotion_id} does not run in store {}", store.name),
            });
        }
        self.edit_open(id, "confirm a promotion", |inspection| {
            if !inspection.promotions_started.contains_key(promotion_id) {
                inspection.promotions_started.insert(promotion_id.to_owned(), at);
                inspection.updated_at = now_ms();
            }
            Ok(())
        })
    }

    /// Lists inspections from the index, newest first.
    pub fn list_inspections(&self, filter: &InspectionFilter) -> Result<Vec<InspectionSummary>> {
        let inner = self.lock();
        let mut stmt = inner.conn.prepare_cached(
            "SELECT id, status, store_id, owner, created_at, updated_at, item_count FROM doc_index
             WHERE kind = 'inspection' AND (?1 IS NULL OR status = ?1) AND (?2 IS NULL OR store_id = ?2)
             ORDER BY updated_at DESC, id LIMIT ?3",
        )?;
        let limit = filter.limit.map_or(-1, i64::from);
        let rows =
            stmt.query_map(params![filter.status.map(InspectionStatus::as_str), filter.store_id, limit], |row| {
                Ok((
                    row.get::<_, String>(0)?,
                    row.get::<_, String>(1)?,
                    row.get::<_, String>(2)?,
                    row.get::<_, String>(3)?,
                    row.get::<_, i64>(4)?,
                    row.get::<_, i64>(5)?,
                    row.get::<_, i64>(6)?,
                ))
            })?;
        rows.map(|row| {
            let (id, status, store_id, owner, checked_in_at, updated_at, photo_count) = row?;
            Ok(InspectionSummary { id: id.parse()?, status, store_id, owner, checked_in_at, updated_at, photo_count })
        })
        .collect()
    }

    /// The stored JPEG of a photo.
    pub fn photo_bytes(&self, sha256: &str) -> Result<Vec<u8>> {
        self.blob_column(sha256, "bytes")
    }

    /// The stored thumbnail of a photo.
    pub fn photo_thumbnail(&self, sha256: &str) -> Result<Vec<u8>> {
        self.blob_column(sha256, "thumbnail")
    }

    /// Photos waiting for upload and their bytes still to send: (count, bytes).
    pub fn pending_photos(&self) -> Result<(u64, u64)> {
        let inner = self.lock();
        let (count, bytes): (i64, i64) = inner.conn.query_row(
            "SELECT COUNT(*), COALESCE(SUM(byte_size - uploaded_bytes), 0) FROM photo_outbox",
            [],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )?;
        Ok((count.max(0) as u64, bytes.max(0) as u64))
    }

    fn blob_column(&self, sha256: &str, column: &'static str) -> Result<Vec<u8>> {
        let inner = self.lock();
        let sql = format!("SELECT {column} FROM blobs WHERE sha256 = ?1");
        inner
            .conn
            .prepare_cached(&sql)?
            .query_row([sha256], |row| row.get(0))
            .optional()?
            .ok_or_else(|| Error::InvalidInput { field: "sha256", reason: format!("photo {sha256} not found") })
    }

    /// Fails unless `item_id` is an item of the inspection's template.
    fn require_item(&self, id: &DocumentId, item_id: &str) -> Result<()> {
        let inspection: Inspection = self.get(id)?;
        let template_id: DocumentId = inspection.template_id.parse()?;
        let template: Template = self.get(&template_id)?;
        if template.item(item_id).is_none() {
            return Err(Error::InvalidInput {
                field: "item_id",
                reason: format!("checklist {} has no item {item_id}", template.name),
            });
        }
        Ok(())
    }

    fn edit_open(
        &self,
        id: &DocumentId,
        action: &'static str,
        edit: impl FnOnce(&mut Inspection) -> Result<()>,
    ) -> Result<()> {
        let user = self.require_identity()?.user_id;
        self.edit_doc(
            id,
            |inspection: &mut Inspection| {
                check_open_and_owned(&user, id, inspection, action)?;
                edit(inspection)
            },
            |_| Ok(()),
        )
    }
}

fn check_open_and_owned(user: &str, id: &DocumentId, inspection: &Inspection, action: &'static str) -> Result<()> {
    if inspection.owner != user {
        return Err(Error::NotOwner {
            kind: DocKind::Inspection,
            id: id.clone(),
            owner: inspection.owner.clone(),
            user: user.to_owned(),
        });
    }
    if inspection.status != InspectionStatus::Open {
        return Err(Error::InvalidState {
            kind: DocKind::Inspection,
            id: id.clone(),
            state: inspection.status.as_str().to_owned(),
            action,
        });
    }
    Ok(())
}

fn validate_fix(fix: &GeoFix) -> Result<()> {
    let ok = fix.latitude.is_finite()
        && fix.longitude.is_finite()
        && fix.accuracy_m.is_finite()
        && (-90.0..=90.0).contains(&fix.latitude)
        && (-180.0..=180.0).contains(&fix.longitude)
        && fix.accuracy_m >= 0.0;
    if ok {
        Ok(())
    } else {
        Err(Error::InvalidInput {
            field: "position",
            reason: format!(
                "GPS fix {},{} ±{} m is not a position on Earth",
                fix.latitude, fix.longitude, fix.accuracy_m
            ),
        })
    }
}

fn validate_time(field: &'static str, at: i64) -> Result<()> {
    // 2000-01-01 .. 2200-01-01: anything else is a broken clock or a unit mistake (seconds).
    if (946_684_800_000..7_258_118_400_000).contains(&at) {
        Ok(())
    } else {
        Err(Error::InvalidInput {
            field,
            reason: format!("time {at} is not milliseconds since 1970 in a plausible range"),
        })
    }
}
