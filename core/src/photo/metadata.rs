//! EXIF facts the product keeps: orientation, capture time and GPS position.
//!
//! EXIF is advisory. A photo whose EXIF is missing or malformed is still a photo, so reading it
//! never fails: unreadable fields are simply absent.

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
}
