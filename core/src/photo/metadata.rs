//! EXIF facts the product keeps: orientation, capture time and GPS position.
//!
//! EXIF is advisory. A photo whose EXIF is missing or malformed is still a photo, so reading it
//! never fails: unreadable fields are simply absent.
//!
//! The writing side, [`with_camera_exif`], puts in what a phone camera would: the demo phone's
//! camera writes it into its shelf photos, and tests make originals with it.

use std::io::Cursor;

use exif::{Exif, In, Reader, Tag, Value};

/// What the photo's EXIF said, as found in the upload (the re-encoded JPEG carries no metadata).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ExifFacts {
    /// EXIF Orientation tag (1-8) if present and valid; it has been applied to the pixels.
    pub orientation: Option<u8>,
    /// `DateTimeOriginal` exactly as written by the camera (`YYYY:MM:DD HH:MM:SS`, local time
    /// with no zone), if any.
    pub date_time_original: Option<String>,
    /// `OffsetTimeOriginal` (`+01:00`) as minutes east of UTC, if the camera wrote a valid one:
    /// with it, [`Self::date_time_original`] is an instant; without it, a local time in an
    /// unknown zone.
    pub utc_offset_minutes: Option<i32>,
    /// GPS position, if the camera recorded a valid one.
    pub gps: Option<GpsPosition>,
}

/// A GPS position in decimal degrees (WGS 84, as EXIF records it).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GpsPosition {
    /// Latitude, positive north, in -90..=90.
    pub latitude: f64,
    /// Longitude, positive east, in -180..=180.
    pub longitude: f64,
}

/// Longest `DateTimeOriginal` kept; the standard value is 19 characters.
const MAX_DATE_TIME_CHARS: usize = 64;

/// Reads the EXIF block of a JPEG (APP1) or PNG (eXIf chunk); absent or broken EXIF gives
/// [`ExifFacts::default`].
pub fn read_exif(input: &[u8]) -> ExifFacts {
    match Reader::new().read_from_container(&mut Cursor::new(input)) {
        Ok(exif) => facts(&exif),
        Err(_) => ExifFacts::default(),
    }
}

fn facts(exif: &Exif) -> ExifFacts {
    let orientation = exif
        .get_field(Tag::Orientation, In::PRIMARY)
        .and_then(|f| f.value.get_uint(0))
        .and_then(|v| u8::try_from(v).ok())
        .filter(|v| (1..=8).contains(v));
    let date_time_original = exif
        .get_field(Tag::DateTimeOriginal, In::PRIMARY)
        .and_then(|f| match &f.value {
            Value::Ascii(parts) => parts.first(),
            _ => None,
        })
        .map(|raw| {
            String::from_utf8_lossy(raw)
                .trim_matches(|c: char| c == '\0' || c.is_whitespace())
                .chars()
                .take(MAX_DATE_TIME_CHARS)
                .collect::<String>()
        })
        .filter(|s| !s.is_empty());
    let utc_offset_minutes = exif
        .get_field(Tag::OffsetTimeOriginal, In::PRIMARY)
        .and_then(|f| match &f.value {
            Value::Ascii(parts) => parts.first(),
            _ => None,
        })
        .and_then(|raw| parse_offset(&String::from_utf8_lossy(raw)));
    let latitude = coordinate(exif, Tag::GPSLatitude, Tag::GPSLatitudeRef, b'S', 90.0);
    let longitude = coordinate(exif, Tag::GPSLongitude, Tag::GPSLongitudeRef, b'W', 180.0);
    let gps = match (latitude, longitude) {
        (Some(latitude), Some(longitude)) => Some(GpsPosition { latitude, longitude }),
        _ => None,
    };
    ExifFacts { orientation, date_time_original, utc_offset_minutes, gps }
}

/// `+HH:MM` or `-HH:MM` (EXIF 2.31 `OffsetTime*`) as minutes east of UTC; anything else, or an
/// offset beyond ±14 h, is `None`.
pub fn parse_offset(text: &str) -> Option<i32> {
    let text = text.trim_matches(|c: char| c == '\0' || c.is_whitespace());
    let (sign, rest) = match text.as_bytes().first()? {
        b'+' => (1, &text[1..]),
        b'-' => (-1, &text[1..]),
        _ => return None,
    };
    let (hours, minutes) = rest.split_once(':')?;
    if hours.len() != 2 || minutes.len() != 2 {
        return None;
    }
    let (hours, minutes): (i32, i32) = (hours.parse().ok()?, minutes.parse().ok()?);
    let total = hours * 60 + minutes;
    (minutes < 60 && total <= 14 * 60).then_some(sign * total)
}

/// Degrees/minutes/seconds rationals plus an N/S or E/W reference, as signed decimal degrees.
fn coordinate(exif: &Exif, tag: Tag, reference: Tag, negative: u8, max: f64) -> Option<f64> {
    let Value::Rational(dms) = &exif.get_field(tag, In::PRIMARY)?.value else {
        return None;
    };
    let part = |i: usize| dms.get(i).map(|r| r.to_f64());
    let degrees = part(0)? + part(1).unwrap_or(0.0) / 60.0 + part(2).unwrap_or(0.0) / 3600.0;
    let sign = match &exif.get_field(reference, In::PRIMARY)?.value {
        Value::Ascii(parts) => match parts.first().and_then(|p| p.first()) {
            Some(c) if c.eq_ignore_ascii_case(&negative) => -1.0,
            _ => 1.0,
        },
        _ => return None,
    };
    let value = sign * degrees;
    (value.is_finite() && value.abs() <= max).then_some(value)
}

/// What a camera writes into a photo's EXIF, for [`with_camera_exif`].
pub struct CameraExif<'a> {
    /// `DateTimeOriginal`, `YYYY:MM:DD HH:MM:SS`.
    pub taken_at: &'a str,
    /// `OffsetTimeOriginal`, `+HH:MM`, if the camera records it.
    pub offset: Option<&'a str>,
    /// GPS latitude and longitude in degrees.
    pub position: (f64, f64),
}

/// `jpeg` with a big-endian EXIF APP1 segment after SOI holding `exif`, laid out as cameras do
/// (IFD0 pointing to an Exif IFD and a GPS IFD). Bytes that are not a JPEG come back unchanged.
pub fn with_camera_exif(jpeg: &[u8], exif: &CameraExif<'_>) -> Vec<u8> {
    if !jpeg.starts_with(&[0xFF, 0xD8]) {
        return jpeg.to_vec();
    }
    fn entry(out: &mut Vec<u8>, tag: u16, kind: u16, count: u32, value: [u8; 4]) {
        out.extend_from_slice(&tag.to_be_bytes());
        out.extend_from_slice(&kind.to_be_bytes());
        out.extend_from_slice(&count.to_be_bytes());
        out.extend_from_slice(&value);
    }
    fn dms(degrees: f64) -> [(u32, u32); 3] {
        let d = degrees.abs();
        let whole = d.floor();
        let minutes = ((d - whole) * 60.0).floor();
        let seconds = ((d - whole) * 60.0 - minutes) * 60.0;
        [(whole as u32, 1), (minutes as u32, 1), ((seconds * 1000.0).round() as u32, 1000)]
    }
    const ASCII: u16 = 2;
    const LONG: u16 = 4;
    const RATIONAL: u16 = 5;
    // IFD0 at 8 (2 entries, 30 bytes); Exif IFD at 38 (2 entries, 30 bytes); date at 68 (20
    // bytes); offset text at 88 (8 bytes); GPS IFD at 96 (4 entries, 54 bytes); latitude at 150,
    // longitude at 174.
    let mut tiff = b"MM\x00\x2a\x00\x00\x00\x08".to_vec();
    tiff.extend_from_slice(&2u16.to_be_bytes());
    entry(&mut tiff, 0x8769, LONG, 1, 38u32.to_be_bytes());
    entry(&mut tiff, 0x8825, LONG, 1, 96u32.to_be_bytes());
    tiff.extend_from_slice(&0u32.to_be_bytes());
    debug_assert_eq!(tiff.len(), 38);
    let entries: u16 = if exif.offset.is_some() { 2 } else { 1 };
    tiff.extend_from_slice(&entries.to_be_bytes());
    entry(&mut tiff, 0x9003, ASCII, 20, 68u32.to_be_bytes());
    if exif.offset.is_some() {
        entry(&mut tiff, 0x9011, ASCII, 7, 88u32.to_be_bytes());
    } else {
        tiff.extend_from_slice(&[0; 12]); // padding where the entry would be, unreferenced
    }
    tiff.extend_from_slice(&0u32.to_be_bytes());
    debug_assert_eq!(tiff.len(), 68);
    // DateTimeOriginal is 19 characters and a NUL, whatever was passed.
    let mut taken_at = exif.taken_at.as_bytes().to_vec();
    taken_at.resize(19, b' ');
    tiff.extend_from_slice(&taken_at);
    tiff.push(0);
    let mut offset = exif.offset.unwrap_or("+00:00").as_bytes().to_vec();
    offset.resize(8, 0);
    tiff.extend_from_slice(&offset);
    debug_assert_eq!(tiff.len(), 96);
    let (lat, lon) = exif.position;
    tiff.extend_from_slice(&4u16.to_be_bytes());
    entry(&mut tiff, 0x0001, ASCII, 2, [if lat < 0.0 { b'S' } else { b'N' }, 0, 0, 0]);
    entry(&mut tiff, 0x0002, RATIONAL, 3, 150u32.to_be_bytes());
    entry(&mut tiff, 0x0003, ASCII, 2, [if lon < 0.0 { b'W' } else { b'E' }, 0, 0, 0]);
    entry(&mut tiff, 0x0004, RATIONAL, 3, 174u32.to_be_bytes());
    tiff.extend_from_slice(&0u32.to_be_bytes());
    debug_assert_eq!(tiff.len(), 150);
    for (num, den) in dms(lat).into_iter().chain(dms(lon)) {
        tiff.extend_from_slice(&num.to_be_bytes());
        tiff.extend_from_slice(&den.to_be_bytes());
    }
    let mut app1 = b"Exif\0\0".to_vec();
    app1.extend_from_slice(&tiff);
    let mut out = jpeg[..2].to_vec();
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&u16::try_from(app1.len() + 2).unwrap_or(u16::MAX).to_be_bytes());
    out.extend_from_slice(&app1);
    out.extend_from_slice(&jpeg[2..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_without_exif_give_no_facts() {
        assert_eq!(read_exif(b"not an image"), ExifFacts::default());
        assert_eq!(read_exif(&[0xFF, 0xD8, 0xFF]), ExifFacts::default());
    }

    #[test]
    fn offsets_parse_as_minutes_east_of_utc_and_nonsense_is_dropped() {
        assert_eq!(parse_offset("+01:00"), Some(60));
        assert_eq!(parse_offset("-05:30\0"), Some(-330));
        assert_eq!(parse_offset("+14:00"), Some(840));
        for bad in ["", "01:00", "+1:00", "+15:00", "+01:60", "+aa:bb", "+01:00:00"] {
            assert_eq!(parse_offset(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn what_the_camera_writes_is_what_read_exif_finds() {
        let jpeg = [0xFF, 0xD8, 0xFF, 0xD9];
        let written = with_camera_exif(
            &jpeg,
            &CameraExif { taken_at: "2023:01:15 10:30:00", offset: Some("+01:00"), position: (52.37, -4.89) },
        );
        let facts = read_exif(&written);
        assert_eq!(facts.date_time_original.as_deref(), Some("2023:01:15 10:30:00"));
        assert_eq!(facts.utc_offset_minutes, Some(60));
        let gps = facts.gps.map(|g| (g.latitude, g.longitude));
        assert!(gps.is_some_and(|(lat, lon)| (lat - 52.37).abs() < 1e-6 && (lon + 4.89).abs() < 1e-6), "{gps:?}");

        let without_offset = with_camera_exif(
            &jpeg,
            &CameraExif { taken_at: "2023:01:15 10:30:00", offset: None, position: (-1.5, 2.0) },
        );
        let facts = read_exif(&without_offset);
        assert_eq!(facts.utc_offset_minutes, None);
        assert_eq!(facts.gps.map(|g| (g.latitude, g.longitude)), Some((-1.5, 2.0)));
    }

    #[test]
    fn the_camera_leaves_bytes_that_are_not_a_jpeg_as_they_are() {
        let exif = CameraExif { taken_at: "2023:01:15 10:30:00", offset: None, position: (0.0, 0.0) };
        assert_eq!(with_camera_exif(b"\x89PNG", &exif), b"\x89PNG");
    }
}
