//! The demo phone's camera: what a real phone camera puts into a photo's EXIF (capture time with
//! its UTC offset, GPS position), which the relay compares with the visit
//! ([`fieldsync_core::scoring::evidence::check_original`]). The tests use it too.

use std::io::Cursor;

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
