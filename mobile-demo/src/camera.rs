//! The demo phone's camera: what a real phone camera puts into a photo's EXIF (capture time with
//! its UTC offset, GPS position), which the relay compares with the visit
//! ([`fieldsync_core::scoring::evidence::check_original`]). The EXIF itself is written by
//! [`fieldsync_core::photo::with_camera_exif`], which the tests use too.

use std::io::Cursor;

use fieldsync_core::photo::{CameraExif, with_camera_exif};

/// Photo bytes (JPEG or PNG) as the phone's camera hands them over: a JPEG whose EXIF says it was
/// taken at `at_ms` (ms since the Unix epoch, UTC, to the minute) at `position` (degrees).
pub fn camera_jpeg(bytes: &[u8], at_ms: i64, position: (f64, f64)) -> Vec<u8> {
    let jpeg = if bytes.starts_with(&[0xFF, 0xD8]) {
        bytes.to_vec()
    } else {
        let mut out = Cursor::new(Vec::new());
        match image::load_from_memory(bytes).map(|image| image.to_rgb8().write_to(&mut out, image::ImageFormat::Jpeg)) {
            Ok(Ok(())) => out.into_inner(),
            // Not an image the camera could have made: hand it over as it is.
            _ => return bytes.to_vec(),
        }
    };
    // `YYYY-MM-DD HH:MM UTC` to EXIF's `YYYY:MM:DD HH:MM:SS`.
    let utc = fieldsync_core::scoring::format_utc(at_ms);
    let part = |range: std::ops::Range<usize>| utc.get(range).unwrap_or("00");
    let taken_at = format!("{}:{}:{} {}:00", part(0..4), part(5..7), part(8..10), part(11..16));
    with_camera_exif(&jpeg, &CameraExif { taken_at: &taken_at, offset: Some("+00:00"), position })
}
