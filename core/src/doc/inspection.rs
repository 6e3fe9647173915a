//! `inspection`: a supervisor's store visit, written only by the supervisor who owns it.
//!
//! Merge behaviour: `answers` is a map keyed by checklist item id and `photos` a map keyed by the
//! photo's SHA-256, so answers to different items and photos taken on two devices all survive.
//! An answer is replaced whole, never merged field by field: each answer carries a fresh `id`
//! key, so two devices answering the same item keep one device's whole answer (last writer
//! wins), never a mix nobody gave. Check-in and
//! check-out are last-writer-wins registers. `promotions_started` is a map keyed by promotion id
//! (the supervisor's confirmations that a promotion runs in the store). The document holds photo
//! references only, never photo bytes.

use std::collections::BTreeMap;

use autosurgeon::{Hydrate, Reconcile};

use super::{DocKind, DocumentModel, IndexFields};
use crate::photo::QualityMetrics;

/// A GPS fix as the phone reported it.
#[derive(Debug, Clone, Copy, PartialEq, Hydrate, Reconcile)]
pub struct GeoFix {
    /// Latitude in degrees, -90..=90.
    pub latitude: f64,
    /// Longitude in degrees, -180..=180.
    pub longitude: f64,
    /// Reported horizontal accuracy in metres.
    pub accuracy_m: f64,
}

/// A check-in or check-out: when and where.
#[derive(Debug, Clone, Copy, PartialEq, Hydrate, Reconcile)]
pub struct Visit {
    /// Time, ms since the Unix epoch.
    pub at: i64,
    /// Where the phone was.
    pub position: GeoFix,
}

/// Where a visit is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hydrate, Reconcile)]
pub enum InspectionStatus {
    /// Checked in, being filled.
    Open,
    /// Checked out: ready to score once its photos arrive.
    CheckedOut,
}

impl InspectionStatus {
    /// The name used in the index and in lists.
    pub fn as_str(self) -> &'static str {
        match self {
            InspectionStatus::Open => "open",
            InspectionStatus::CheckedOut => "checked-out",
        }
    }
}

/// An answer to one checklist item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hydrate, Reconcile)]
pub enum AnswerValue {
    /// Compliant.
    Yes,
    /// Not compliant.
    No,
    /// Does not apply to this store.
    NotApplicable,
}

/// The supervisor's answer to one item.
#[derive(Debug, Clone, PartialEq, Hydrate, Reconcile)]
pub struct Answer {
    /// A fresh id per answer given; it makes a re-answer replace the whole answer.
    #[key]
    pub id: String,
    /// Yes, no or not applicable.
    pub value: AnswerValue,
    /// An optional count (facings, units on shelf).
    pub count: Option<i64>,
    /// Free text.
    pub note: String,
    /// When answered, ms since the Unix epoch.
    pub answered_at: i64,
}

/// A reference to a photo stored elsewhere (content-addressed by SHA-256).
#[derive(Debug, Clone, PartialEq, Hydrate, Reconcile)]
pub struct PhotoRef {
    /// Lowercase hex SHA-256 of the stored JPEG: the blob id.
    pub sha256: String,
    /// The checklist item it is evidence for.
    pub item_id: String,
    /// Size of the stored JPEG in bytes.
    pub byte_size: u64,
    /// Width of the stored JPEG.
    pub width: u32,
    /// Height of the stored JPEG.
    pub height: u32,
    /// Capture time reported by the phone, ms since the Unix epoch.
    pub captured_at: i64,
    /// Where the phone was when it took the photo.
    pub position: Option<GeoFix>,
    /// Perceptual hash (after EXIF orientation), for near-duplicate detection.
    pub phash: String,
    /// What the camera's original file said about itself (EXIF), read on the phone before the
    /// stored copy dropped it. Absent in references written before it was recorded.
    #[autosurgeon(missing = "Default::default")]
    pub original: Option<OriginalCapture>,
    /// The phone's quality figures, measured on the stored JPEG with the relay's own code
    /// ([`crate::photo::analyze`]). Absent in references written before they were recorded.
    #[autosurgeon(missing = "Default::default")]
    pub measured: Option<QualityMetrics>,
}

/// The capture facts of a photo's original file, beside the app's own claims
/// ([`PhotoRef::captured_at`], [`PhotoRef::position`]).
#[derive(Debug, Clone, PartialEq, Hydrate, Reconcile)]
pub struct OriginalCapture {
    /// Lowercase hex SHA-256 of the original file (the bytes the camera gave the app).
    pub sha256: String,
    /// EXIF `DateTimeOriginal` as the camera wrote it (`YYYY:MM:DD HH:MM:SS`, its local time),
    /// if any.
    pub taken_at: Option<String>,
    /// EXIF `OffsetTimeOriginal` in minutes east of UTC, if any: with it, `taken_at` is an instant.
    pub utc_offset_minutes: Option<i64>,
    /// EXIF GPS position, if any.
    pub position: Option<ExifPosition>,
}

/// A position from a photo's EXIF (no accuracy: EXIF rarely records one).
#[derive(Debug, Clone, Copy, PartialEq, Hydrate, Reconcile)]
pub struct ExifPosition {
    /// Latitude in degrees, -90..=90.
    pub latitude: f64,
    /// Longitude in degrees, -180..=180.
    pub longitude: f64,
}

/// A supervisor's store visit.
#[derive(Debug, Clone, PartialEq, Hydrate, Reconcile)]
pub struct Inspection {
    /// The supervisor's user id.
    pub owner: String,
    /// The store inspected.
    pub store_id: String,
    /// The checklist template's document id.
    pub template_id: String,
    /// Open or checked out.
    pub status: InspectionStatus,
    /// Check-in time and place.
    pub check_in: Visit,
    /// Check-out time and place.
    pub check_out: Option<Visit>,
    /// Answers by checklist item id.
    pub answers: BTreeMap<String, Answer>,
    /// Photos by SHA-256.
    pub photos: BTreeMap<String, PhotoRef>,
    /// Last edit, ms since the Unix epoch.
    pub updated_at: i64,
    /// Promotions the supervisor saw running in the store during this visit: catalog promotion id
    /// → when confirmed, ms since the Unix epoch. A map keyed by promotion id, so confirmations
    /// made on two devices all survive. The relay closes a store's "promotion not started" alert
    /// once any inspection of the store confirms the promotion. Absent in documents written
    /// before it existed, which load with no confirmations.
    #[autosurgeon(missing = "Default::default")]
    pub promotions_started: BTreeMap<String, i64>,
}

impl DocumentModel for Inspection {
    const KIND: DocKind = DocKind::Inspection;
    const SCHEMA: u64 = 1;

    fn index_fields(&self) -> IndexFields {
        IndexFields {
            status: Some(self.status.as_str().to_owned()),
            store_id: Some(self.store_id.clone()),
            owner: Some(self.owner.clone()),
            subject_id: Some(self.template_id.clone()),
            created_at: Some(self.check_in.at),
            updated_at: Some(self.updated_at),
            amount_cents: None,
            item_count: i64::try_from(self.photos.len()).ok(),
        }
    }
}
