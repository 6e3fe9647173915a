//! Evidence trust: is a photo evidence of *this* visit? Kept apart from the audit score on
//! purpose (a well-kept shelf photographed from the car park is a trust problem, not a
//! compliance one).
//!
//! Checks, each giving a [`Finding`] with a reason a supervisor understands:
//! - capture time inside the visit window, check-in − slack to check-out + slack;
//! - GPS distance to the store: within max(minimum radius, factor × reported accuracy) passes, up
//!   to the review distance needs review, beyond is rejected; an accuracy so coarse that the pass
//!   radius would reach the review distance needs review too (a reported accuracy is not proof);
//! - the original file's own EXIF ([`check_original`]): a capture time or a GPS position that
//!   contradicts the visit is rejected; an original without them needs review (many apps strip
//!   EXIF, so its absence is not proof of anything);
//! - reuse: the same file (SHA-256) or a near-duplicate (perceptual hash within a few bits, of
//!   the photo or of any of its flips and quarter turns) of a photo from another visit of the
//!   tenant, at this store or another, is rejected;
//! - identical GPS on every photo of a visit (a fixed or spoofed position) needs review.
//!
//! The photo's trust is the worst of its findings. The visit itself is checked too
//! ([`check_visit_place`]): check-in and check-out against the store's geofence (the photos'
//! radii) and against each other.

use autosurgeon::{Hydrate, Reconcile};

use super::{format_duration, format_utc};
use crate::doc::{GeoFix, OriginalCapture, Trust, Visit};
use crate::i18n::Message;
use crate::photo::phash_distance;

/// Trust thresholds; a template may carry its own ([`crate::doc::Template::trust`]).
#[derive(Debug, Clone, Copy, PartialEq, Hydrate, Reconcile)]
pub struct TrustThresholds {
    /// Photos may be taken this long before check-in or after check-out, ms.
    pub window_slack_ms: i64,
    /// Smallest pass radius around the store, metres.
    pub geofence_min_m: f64,
    /// The pass radius is at least this many times the reported GPS accuracy.
    pub accuracy_factor: f64,
    /// Beyond the pass radius and up to this distance a photo needs review; further, rejected.
    pub review_within_m: f64,
    /// Perceptual hashes at most this many bits apart are the same picture.
    pub near_duplicate_bits: u64,
    /// A visit with at least this many photos, all at exactly the same GPS position, needs review.
    pub identical_gps_min_photos: u64,
}

impl Default for TrustThresholds {
    /// 15 min slack; pass within max(150 m, 2× accuracy), review up to 500 m; near-duplicates
    /// within 8 bits; identical GPS flagged from 3 photos.
    ///
    /// Why: phone GPS in a shop is typically good to 5–50 m but a large store's car park or a
    /// mall reaches 150 m; 500 m is "the next street". Re-encoding, resizing or brightening moves
    /// the perceptual hash 0–2 bits (6 at worst on the samples) while different photos differ by
    /// 16 or more (24+ typically), so 8 bits sits between with margin on both sides. Two photos
    /// from a phone standing still may share a cached fix; three or more rarely do.
    fn default() -> Self {
        Self {
            window_slack_ms: 15 * 60 * 1000,
            geofence_min_m: 150.0,
            accuracy_factor: 2.0,
            review_within_m: 500.0,
            near_duplicate_bits: 8,
            identical_gps_min_photos: 3,
        }
    }
}

/// A place on Earth, degrees (WGS 84).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Location {
    /// Latitude, -90..=90.
    pub latitude: f64,
    /// Longitude, -180..=180.
    pub longitude: f64,
}

impl Location {
    fn is_valid(&self) -> bool {
        self.latitude.is_finite()
            && self.longitude.is_finite()
            && (-90.0..=90.0).contains(&self.latitude)
            && (-180.0..=180.0).contains(&self.longitude)
    }
}

/// A photo of another visit of the tenant, as the reuse check needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EarlierPhoto {
    /// SHA-256 of the stored JPEG.
    pub sha256: String,
    /// Perceptual hash (16 hex digits).
    pub phash: String,
    /// The inspection it was submitted with.
    pub inspection_id: String,
    /// The store of that inspection.
    pub store_id: String,
    /// Its capture time, ms since the Unix epoch.
    pub captured_at: i64,
}

/// One check's outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// What the check concluded.
    pub trust: Trust,
    /// Why, as a message (`reason-…`).
    pub reason: Message,
}

impl Finding {
    fn new(trust: Trust, reason: Message) -> Self {
        Self { trust, reason }
    }
}

/// The worse of two trust levels (Pass < Review < Rejected).
pub fn worst(a: Trust, b: Trust) -> Trust {
    let rank = |t: Trust| match t {
        Trust::Pass => 0,
        Trust::Review => 1,
        Trust::Rejected => 2,
    };
    if rank(b) > rank(a) { b } else { a }
}

/// Great-circle distance in metres (haversine, mean Earth radius).
pub fn distance_m(a: Location, b: Location) -> f64 {
    const EARTH_RADIUS_M: f64 = 6_371_008.8;
    let (lat1, lat2) = (a.latitude.to_radians(), b.latitude.to_radians());
    let dlat = lat2 - lat1;
    let dlon = (b.longitude - a.longitude).to_radians();
    let h = (dlat / 2.0).sin().powi(2) + lat1.cos() * lat2.cos() * (dlon / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_M * h.sqrt().min(1.0).asin()
}

/// Whether the capture time lies in the visit window.
pub fn check_capture_time(captured_at: i64, check_in: i64, check_out: Option<i64>, t: &TrustThresholds) -> Finding {
    let slack = format_duration(t.window_slack_ms);
    let opens = check_in.saturating_sub(t.window_slack_ms);
    if captured_at < opens {
        return Finding::new(
            Trust::Rejected,
            Message::new("reason-taken-before-check-in")
                .arg("before", format_duration(check_in.saturating_sub(captured_at)))
                .arg("at", format_utc(captured_at))
                .arg("slack", slack),
        );
    }
    let Some(check_out) = check_out else {
        return Finding::new(Trust::Review, Message::new("reason-no-check-out"));
    };
    if captured_at > check_out.saturating_add(t.window_slack_ms) {
        return Finding::new(
            Trust::Rejected,
            Message::new("reason-taken-after-check-out")
                .arg("after", format_duration(captured_at.saturating_sub(check_out)))
                .arg("at", format_utc(captured_at))
                .arg("slack", slack),
        );
    }
    Finding::new(Trust::Pass, Message::new("reason-taken-during-visit"))
}

/// Whether the photo was taken at the store.
pub fn check_position(position: Option<GeoFix>, store: Location, t: &TrustThresholds) -> Vec<Finding> {
    let Some(fix) = position else {
        if !store.is_valid() {
            return vec![Finding::new(Trust::Review, Message::new("reason-store-without-location"))];
        }
        return vec![Finding::new(Trust::Review, Message::new("reason-photo-without-gps"))];
    };
    judge_place(fix, store, t, "taken")
}

/// Judges one reported fix against the store's geofence; `done` says what happened there
/// (`taken`, `checked-in`, `checked-out`: the `done` argument of the messages).
fn judge_place(fix: GeoFix, store: Location, t: &TrustThresholds, done: &str) -> Vec<Finding> {
    if !store.is_valid() {
        return vec![Finding::new(Trust::Review, Message::new("reason-store-without-location"))];
    }
    let here = Location { latitude: fix.latitude, longitude: fix.longitude };
    if !here.is_valid() || !fix.accuracy_m.is_finite() || fix.accuracy_m < 0.0 {
        return vec![Finding::new(Trust::Review, Message::new("reason-position-invalid").arg("done", done))];
    }
    let distance = distance_m(here, store);
    let pass_radius = t.geofence_min_m.max(t.accuracy_factor * fix.accuracy_m);
    let mut findings = Vec::new();
    if distance <= pass_radius {
        findings.push(Finding::new(
            Trust::Pass,
            Message::new("reason-place-at-store")
                .arg("done", done)
                .arg("distance", format_distance(distance))
                .arg("allowed", format_distance(pass_radius)),
        ));
    } else if distance <= t.review_within_m {
        findings.push(Finding::new(
            Trust::Review,
            Message::new("reason-place-near-store")
                .arg("done", done)
                .arg("distance", format_distance(distance))
                .arg("allowed", format_distance(pass_radius)),
        ));
    } else {
        findings.push(Finding::new(
            Trust::Rejected,
            Message::new("reason-place-far-from-store")
                .arg("done", done)
                .arg("distance", format_distance(distance))
                .arg("limit", format_distance(t.review_within_m)),
        ));
    }
    if t.accuracy_factor * fix.accuracy_m > t.review_within_m {
        findings.push(Finding::new(
            Trust::Review,
            Message::new("reason-gps-too-coarse").arg("done", done).arg("accuracy", format_distance(fix.accuracy_m)),
        ));
    }
    findings
}

/// Whether the visit itself happened at the store: check-in and check-out positions against the
/// store's geofence (the radii of the photos), and against each other (a check-out further than
/// the review distance from the check-in needs review). Only findings other than a pass are
/// returned, and one pass summary when all is well.
pub fn check_visit_place(
    check_in: &Visit,
    check_out: Option<&Visit>,
    store: Location,
    t: &TrustThresholds,
) -> Vec<Finding> {
    let mut findings = judge_place(check_in.position, store, t, "checked-in");
    if let Some(check_out) = check_out {
        findings.extend(judge_place(check_out.position, store, t, "checked-out"));
        let apart = distance_m(
            Location { latitude: check_in.position.latitude, longitude: check_in.position.longitude },
            Location { latitude: check_out.position.latitude, longitude: check_out.position.longitude },
        );
        if apart.is_finite() && apart > t.review_within_m {
            findings.push(Finding::new(
                Trust::Review,
                Message::new("reason-check-in-and-out-apart")
                    .arg("apart", format_distance(apart))
                    .arg("limit", format_distance(t.review_within_m)),
            ));
        }
    }
    if findings.iter().all(|f| f.trust == Trust::Pass) {
        let mut reasons = findings.into_iter().rev().map(|f| f.reason);
        let last = reasons.next().unwrap_or_else(|| Message::new("reason-taken-during-visit"));
        let summary =
            reasons.fold(last, |rest, first| Message::new("reason-list").part("first", first).part("rest", rest));
        return vec![Finding::new(Trust::Pass, summary)];
    }
    findings.retain(|f| f.trust != Trust::Pass);
    findings
}

/// Longest a camera clock without a recorded zone can be off from UTC (UTC+14 to UTC-12).
const UNKNOWN_ZONE_SLACK_MS: i64 = 14 * 3_600_000;

/// Whether the photo's original file (its EXIF, read on the phone before the stored copy
/// dropped it) agrees with the visit: its capture time inside the visit window (exactly, when
/// the camera wrote its UTC offset; within ±14 h of zone uncertainty when not), and its GPS
/// position at the store (within the review distance; EXIF records no accuracy).
///
/// `None` (a reference written by an app that did not record the original) gives no finding.
pub fn check_original(
    original: Option<&OriginalCapture>,
    check_in: i64,
    check_out: Option<i64>,
    store: Location,
    t: &TrustThresholds,
) -> Vec<Finding> {
    let Some(original) = original else { return Vec::new() };
    let mut findings = Vec::new();
    match original.taken_at.as_deref() {
        None => findings.push(Finding::new(Trust::Review, Message::new("reason-exif-no-time"))),
        Some(text) => match exif_local_ms(text) {
            None => findings.push(Finding::new(
                Trust::Review,
                Message::new("reason-exif-time-unreadable").arg("time", format!("{text:?}")),
            )),
            Some(local) => {
                let offset_ms = original.utc_offset_minutes.map(|m| m.saturating_mul(60_000));
                let at = offset_ms.map_or(local, |offset| local.saturating_sub(offset));
                let zone = if offset_ms.is_some() { 0 } else { UNKNOWN_ZONE_SLACK_MS };
                let opens = check_in.saturating_sub(t.window_slack_ms).saturating_sub(zone);
                let late = check_out.filter(|out| at > out.saturating_add(t.window_slack_ms).saturating_add(zone));
                let shown = exif_time_text(text, original.utc_offset_minutes);
                if at < opens {
                    findings.push(Finding::new(
                        Trust::Rejected,
                        Message::new("reason-exif-before-check-in")
                            .part("taken", shown)
                            .arg("before", format_duration(check_in.saturating_sub(at))),
                    ));
                } else if let Some(out) = late {
                    findings.push(Finding::new(
                        Trust::Rejected,
                        Message::new("reason-exif-after-check-out")
                            .part("taken", shown)
                            .arg("after", format_duration(at.saturating_sub(out))),
                    ));
                } else if offset_ms.is_some() {
                    findings
                        .push(Finding::new(Trust::Pass, Message::new("reason-exif-during-visit").part("taken", shown)));
                } else {
                    findings.push(Finding::new(
                        Trust::Pass,
                        Message::new("reason-exif-consistent-with-visit").part("taken", shown),
                    ));
                }
            }
        },
    }
    if let Some(position) = original.position {
        let here = Location { latitude: position.latitude, longitude: position.longitude };
        if !here.is_valid() || !store.is_valid() {
            findings.push(Finding::new(Trust::Review, Message::new("reason-exif-gps-uncomparable")));
        } else {
            let distance = distance_m(here, store);
            let (trust, verdict) = if distance <= t.geofence_min_m {
                (Trust::Pass, "at")
            } else if distance <= t.review_within_m {
                (Trust::Review, "near")
            } else {
                (Trust::Rejected, "far")
            };
            findings.push(Finding::new(
                trust,
                Message::new("reason-exif-gps").arg("distance", format_distance(distance)).arg("verdict", verdict),
            ));
        }
    }
    findings
}

/// An EXIF `YYYY:MM:DD HH:MM:SS` (the camera's wall clock) read as if it were UTC, ms since the
/// Unix epoch.
fn exif_local_ms(text: &str) -> Option<i64> {
    let civil = jiff::civil::DateTime::strptime("%Y:%m:%d %H:%M:%S", text.trim()).ok()?;
    jiff::tz::TimeZone::UTC.to_timestamp(civil).ok().map(|at| at.as_millisecond())
}

/// `2023-01-15 10:30 (UTC+01:00)` or `2023-01-15 10:30 (camera clock)`.
fn exif_time_text(text: &str, offset_minutes: Option<i64>) -> Message {
    let shown = jiff::civil::DateTime::strptime("%Y:%m:%d %H:%M:%S", text.trim())
        .map(|civil| civil.strftime("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_else(|_| text.to_owned());
    match offset_minutes {
        Some(m) => Message::new("reason-exif-time-in-zone")
            .arg("time", shown)
            .arg("offset", format!("UTC{}{:02}:{:02}", if m < 0 { '-' } else { '+' }, m.abs() / 60, m.abs() % 60)),
        None => Message::new("reason-exif-time-camera-clock").arg("time", shown),
    }
}

/// Whether the photo (by file or by picture) was already submitted with another visit.
///
/// `phash` is the photo's perceptual hash, when its pixels could be read, and `transformed` the
/// hashes of its flips and quarter turns ([`crate::photo::PhotoAnalysis::transformed_phashes`]):
/// an earlier photo near any of them is the same picture, mirrored or turned.
pub fn check_reuse(
    sha256: &str,
    phash: Option<&str>,
    transformed: &[String],
    inspection_id: &str,
    store_id: &str,
    earlier: &[EarlierPhoto],
    t: &TrustThresholds,
) -> Option<Finding> {
    let others = || earlier.iter().filter(|e| e.inspection_id != inspection_id);
    let place = |e: &EarlierPhoto| {
        if e.store_id == store_id { "same-store" } else { "other-store" }
    };
    if let Some(e) = others().find(|e| e.sha256 == sha256) {
        return Some(Finding::new(
            Trust::Rejected,
            Message::new("reason-reused-file").arg("place", place(e)).arg("taken", format_utc(e.captured_at)),
        ));
    }
    let phash = phash?;
    let mine: Vec<(Option<u64>, &str, bool)> = std::iter::once((hash_u64(phash), phash, false))
        .chain(transformed.iter().map(|h| (hash_u64(h), h.as_str(), true)))
        .collect();
    let nearest = others()
        .filter_map(|e| {
            let theirs = hash_u64(&e.phash);
            mine.iter()
                .filter_map(|(number, text, turned)| {
                    let bits = match (number, theirs) {
                        (Some(x), Some(y)) => Some((x ^ y).count_ones()),
                        _ => phash_distance(text, &e.phash).ok(),
                    }?;
                    Some((bits, *turned))
                })
                .min()
                .map(|(bits, turned)| (bits, turned, e))
        })
        .filter(|(d, _, _)| u64::from(*d) <= t.near_duplicate_bits)
        .min_by_key(|(d, turned, e)| (*d, *turned, e.captured_at));
    nearest.map(|(bits, turned, e)| {
        let how = if turned { "turned" } else { "resaved" };
        Finding::new(
            Trust::Rejected,
            Message::new("reason-reused-copy")
                .arg("place", place(e))
                .arg("taken", format_utc(e.captured_at))
                .arg("bits", bits)
                .arg("how", how),
        )
    })
}

/// A 64-bit perceptual hash (all that [`crate::photo`] makes) as a number, for the fast path of
/// the reuse check: a tenant's whole history is compared with every photo. Other lengths go
/// through [`phash_distance`].
fn hash_u64(hash: &str) -> Option<u64> {
    (hash.len() == 16 && hash.bytes().all(|c| c.is_ascii_hexdigit())).then(|| u64::from_str_radix(hash, 16).ok())?
}

/// A visit-level finding when every photo of the visit carries exactly the same GPS position.
pub fn check_identical_gps(positions: &[Option<GeoFix>], t: &TrustThresholds) -> Option<Finding> {
    let enough = u64::try_from(positions.len()).unwrap_or(u64::MAX) >= t.identical_gps_min_photos.max(2);
    let first = positions.first().copied().flatten()?;
    let same = |p: &Option<GeoFix>| {
        p.is_some_and(|p| {
            p.latitude.to_bits() == first.latitude.to_bits() && p.longitude.to_bits() == first.longitude.to_bits()
        })
    };
    (enough && positions.iter().all(same)).then(|| {
        Finding::new(
            Trust::Review,
            Message::new("reason-identical-gps")
                .arg("count", positions.len())
                .arg("latitude", format!("{:.6}", first.latitude))
                .arg("longitude", format!("{:.6}", first.longitude)),
        )
    })
}

/// Metres as `35 m` or `2.3 km`.
pub fn format_distance(metres: f64) -> String {
    if metres >= 1000.0 { format!("{:.1} km", metres / 1000.0) } else { format!("{metres:.0} m") }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const STORE: Location = Location { latitude: 52.370_000, longitude: 4.890_000 };
    const MIN: i64 = 60_000;
    const CHECK_IN: i64 = 1_750_000_000_000;
    const CHECK_OUT: i64 = CHECK_IN + 45 * MIN;

    /// A fix `north_m` metres north of the store.
    fn north(north_m: f64, accuracy_m: f64) -> GeoFix {
        GeoFix { latitude: STORE.latitude + north_m / 111_195.0, longitude: STORE.longitude, accuracy_m }
    }

    #[test]
    fn distance_matches_known_values() {
        let one_degree_lat =
            distance_m(Location { latitude: 0.0, longitude: 0.0 }, Location { latitude: 1.0, longitude: 0.0 });
        assert!((one_degree_lat - 111_195.0).abs() < 10.0, "{one_degree_lat}");
        assert!((distance_m(STORE, Location { latitude: north(300.0, 0.0).latitude, ..STORE }) - 300.0).abs() < 0.5);
        assert_eq!(distance_m(STORE, STORE), 0.0);
    }

    #[test]
    fn geofence_boundaries() {
        let t = TrustThresholds::default();
        // (metres north, accuracy, expected trust)
        let table = [
            (0.0, 10.0, Trust::Pass),
            (149.0, 10.0, Trust::Pass),
            (151.0, 10.0, Trust::Review),
            (199.0, 100.0, Trust::Pass), // 2 x 100 m accuracy widens the pass radius to 200 m
            (201.0, 100.0, Trust::Review),
            (499.0, 10.0, Trust::Review),
            (501.0, 10.0, Trust::Rejected),
            (5_000.0, 10.0, Trust::Rejected),
            (100.0, 300.0, Trust::Review), // inside, but ±300 m cannot place it at the store
        ];
        for (metres, accuracy, expected) in table {
            let findings = check_position(Some(north(metres, accuracy)), STORE, &t);
            let trust = findings.iter().fold(Trust::Pass, |acc, f| worst(acc, f.trust));
            assert_eq!(trust, expected, "{metres} m ±{accuracy}: {findings:?}");
            assert!(findings.iter().all(|f| f.reason.english().contains(" m") || f.reason.english().contains("km")));
        }
    }

    #[test]
    fn a_photo_without_gps_or_a_store_without_location_needs_review() {
        let t = TrustThresholds::default();
        assert_eq!(check_position(None, STORE, &t)[0].trust, Trust::Review);
        let nowhere = Location { latitude: f64::NAN, longitude: 0.0 };
        assert_eq!(check_position(Some(north(0.0, 5.0)), nowhere, &t)[0].trust, Trust::Review);
        let broken = GeoFix { latitude: 95.0, longitude: 0.0, accuracy_m: 5.0 };
        assert!(
            check_position(Some(broken), STORE, &t)[0]
                .reason
                .english()
                .contains("the photo's GPS position is not a valid")
        );
        assert_eq!(check_position(Some(broken), STORE, &t)[0].trust, Trust::Review);
    }

    #[test]
    fn visit_window_boundaries() {
        let t = TrustThresholds::default();
        let table = [
            (CHECK_IN - 15 * MIN, Trust::Pass),
            (CHECK_IN - 15 * MIN - 1, Trust::Rejected),
            (CHECK_IN, Trust::Pass),
            (CHECK_OUT + 15 * MIN, Trust::Pass),
            (CHECK_OUT + 15 * MIN + 1, Trust::Rejected),
            (CHECK_IN - 3 * 24 * 60 * MIN, Trust::Rejected),
        ];
        for (at, expected) in table {
            let finding = check_capture_time(at, CHECK_IN, Some(CHECK_OUT), &t);
            assert_eq!(finding.trust, expected, "{at}: {}", finding.reason);
        }
        let early = check_capture_time(CHECK_IN - 2 * 60 * MIN - 5 * MIN, CHECK_IN, Some(CHECK_OUT), &t);
        assert!(early.reason.english().starts_with("taken 2 h 5 min before check-in"), "{}", early.reason);
        let open = check_capture_time(CHECK_IN, CHECK_IN, None, &t);
        assert_eq!(open.trust, Trust::Review);
    }

    #[test]
    fn per_template_thresholds_move_the_boundaries() {
        let strict = TrustThresholds { window_slack_ms: 0, geofence_min_m: 50.0, ..TrustThresholds::default() };
        assert_eq!(check_capture_time(CHECK_IN - 1, CHECK_IN, Some(CHECK_OUT), &strict).trust, Trust::Rejected);
        assert_eq!(check_position(Some(north(100.0, 5.0)), STORE, &strict)[0].trust, Trust::Review);
    }

    fn earlier(sha: &str, phash: &str, inspection: &str, store: &str) -> EarlierPhoto {
        EarlierPhoto {
            sha256: sha.into(),
            phash: phash.into(),
            inspection_id: inspection.into(),
            store_id: store.into(),
            captured_at: CHECK_IN - 7 * 24 * 60 * MIN,
        }
    }

    #[test]
    fn reuse_is_caught_by_file_or_by_picture_but_not_within_the_same_visit() {
        let t = TrustThresholds::default();
        let seen = [earlier("aaa", "00000000000000ff", "visit-1", "store-1")];
        let exact = check_reuse("aaa", Some("ffffffffffffffff"), &[], "visit-2", "store-2", &seen, &t).unwrap();
        assert_eq!(exact.trust, Trust::Rejected);
        assert!(
            exact.reason.english().contains("same photo file") && exact.reason.english().contains("another store"),
            "{}",
            exact.reason
        );
        // 3 bits apart: a re-saved copy, at the same store.
        let near = check_reuse("bbb", Some("00000000000000f8"), &[], "visit-2", "store-1", &seen, &t).unwrap();
        assert!(
            near.reason.english().contains("3 of 64 bits") && near.reason.english().contains("this store"),
            "{}",
            near.reason
        );
        // 8 bits: still a copy; 9 bits: a different picture.
        assert!(check_reuse("ccc", Some("0000000000000000"), &[], "visit-2", "store-1", &seen, &t).is_some());
        assert!(check_reuse("ccc", Some("0000000000000100"), &[], "visit-2", "store-1", &seen, &t).is_none());
        // The same visit's own photos are not reuse.
        assert!(check_reuse("aaa", Some("00000000000000ff"), &[], "visit-1", "store-1", &seen, &t).is_none());
        // No pixels: only the file check applies.
        assert!(check_reuse("ddd", None, &[], "visit-2", "store-1", &seen, &t).is_none());
    }

    #[test]
    fn identical_gps_on_every_photo_is_flagged() {
        let t = TrustThresholds::default();
        let fix = Some(north(10.0, 5.0));
        assert!(check_identical_gps(&[fix, fix, fix], &t).is_some_and(|f| f.trust == Trust::Review));
        assert!(check_identical_gps(&[fix, fix], &t).is_none(), "two photos may share a cached fix");
        assert!(check_identical_gps(&[fix, fix, Some(north(11.0, 5.0))], &t).is_none());
        assert!(check_identical_gps(&[fix, fix, None], &t).is_none());
        assert!(check_identical_gps(&[None, None, None], &t).is_none());
    }

    fn visit(north_m: f64, at: i64) -> Visit {
        Visit { at, position: north(north_m, 8.0) }
    }

    #[test]
    fn a_check_in_outside_the_geofence_is_flagged_and_one_far_away_rejected() {
        let t = TrustThresholds::default();
        let trust = |f: &[Finding]| f.iter().fold(Trust::Pass, |acc, f| worst(acc, f.trust));
        let fine = check_visit_place(&visit(20.0, CHECK_IN), Some(&visit(30.0, CHECK_OUT)), STORE, &t);
        assert_eq!(trust(&fine), Trust::Pass);
        assert!(fine[0].reason.english().starts_with("checked in 20 m from the store"), "{fine:?}");
        let far = check_visit_place(&visit(2_000.0, CHECK_IN), Some(&visit(2_000.0, CHECK_OUT)), STORE, &t);
        assert_eq!(trust(&far), Trust::Rejected);
        assert!(far[0].reason.english().starts_with("checked in 2.0 km from the store"), "{far:?}");
        assert!(far.iter().any(|f| f.reason.english().starts_with("checked out 2.0 km")), "{far:?}");
        let near = check_visit_place(&visit(300.0, CHECK_IN), None, STORE, &t);
        assert_eq!(trust(&near), Trust::Review);
        // In at the store, out 700 m away: the check-out is rejected and the two are far apart.
        let wandered = check_visit_place(&visit(0.0, CHECK_IN), Some(&visit(700.0, CHECK_OUT)), STORE, &t);
        assert!(
            wandered.iter().any(|f| f.reason.english().starts_with("checked in and out 700 m apart")),
            "{wandered:?}"
        );
    }

    fn original(taken_at: Option<&str>, offset: Option<i64>, north_m: Option<f64>) -> OriginalCapture {
        OriginalCapture {
            sha256: "orig".into(),
            taken_at: taken_at.map(str::to_owned),
            utc_offset_minutes: offset,
            position: north_m.map(|m| {
                let fix = north(m, 0.0);
                crate::doc::ExifPosition { latitude: fix.latitude, longitude: fix.longitude }
            }),
        }
    }

    #[test]
    fn the_originals_exif_time_and_place_are_compared_with_the_visit() {
        let t = TrustThresholds::default();
        // CHECK_IN is 2025-06-15 15:06:40 UTC.
        let check = |o: &OriginalCapture| check_original(Some(o), CHECK_IN, Some(CHECK_OUT), STORE, &t);
        let trust = |f: &[Finding]| f.iter().fold(Trust::Pass, |acc, f| worst(acc, f.trust));
        let during = check(&original(Some("2025:06:15 17:20:00"), Some(120), Some(10.0)));
        assert_eq!(trust(&during), Trust::Pass, "{during:?}");
        let old = check(&original(Some("2023:01:15 10:30:00"), Some(60), Some(300_000.0)));
        assert_eq!(trust(&old), Trust::Rejected);
        assert!(old[0].reason.english().starts_with("EXIF says taken 2023-01-15 10:30 (UTC+01:00)"), "{old:?}");
        assert!(old[1].reason.english().starts_with("EXIF GPS says taken 300.0 km from the store"), "{old:?}");
        // Without an offset the camera's zone is unknown: 10 h off passes, 2 days off does not.
        assert_eq!(trust(&check(&original(Some("2025:06:16 01:00:00"), None, None))), Trust::Pass);
        assert_eq!(trust(&check(&original(Some("2025:06:17 15:00:00"), None, None))), Trust::Rejected);
        let stripped = check(&original(None, None, None));
        assert_eq!(trust(&stripped), Trust::Review);
        assert!(stripped[0].reason.english().contains("no EXIF capture time"), "{stripped:?}");
        assert_eq!(trust(&check(&original(Some("yesterday"), None, None))), Trust::Review);
        assert!(check_original(None, CHECK_IN, Some(CHECK_OUT), STORE, &t).is_empty());
    }

    #[test]
    fn a_mirrored_or_turned_copy_is_caught_through_its_transformed_hashes() {
        let t = TrustThresholds::default();
        let seen = [earlier("aaa", "00000000000000ff", "visit-1", "store-1")];
        let turned = ["ffff000000000000".to_owned(), "00000000000000fe".to_owned()];
        let found = check_reuse("bbb", Some("ffffffffffffffff"), &turned, "visit-2", "store-2", &seen, &t).unwrap();
        assert!(
            found.reason.english().contains("1 of 64 bits") && found.reason.english().contains("mirrored or turned"),
            "{}",
            found.reason
        );
        assert!(check_reuse("bbb", Some("ffffffffffffffff"), &turned[..1], "visit-2", "store-2", &seen, &t).is_none());
    }

    #[test]
    fn worst_orders_trust() {
        assert_eq!(worst(Trust::Pass, Trust::Review), Trust::Review);
        assert_eq!(worst(Trust::Rejected, Trust::Review), Trust::Rejected);
        assert_eq!(worst(Trust::Pass, Trust::Pass), Trust::Pass);
    }
}
