//! Format sniffing, header vetting and bounded decoding.
//!
//! Order matters: the byte size, the signature and the header dimensions are all checked before
//! a single pixel is decoded, and the decoder itself runs under explicit [`image::Limits`] so a
//! header that lies about its size still cannot make it allocate without bound.

use std::io::Cursor;

use image::{DynamicImage, ImageDecoder, ImageError, ImageFormat, ImageReader};

use super::{ImageHeader, PhotoError, PhotoFormat, PhotoLimits};

/// Checks size and signature; the format is guessed from the bytes only.
fn sniff(input: &[u8], limits: &PhotoLimits) -> Result<PhotoFormat, PhotoError> {
    if input.is_empty() {
        return Err(PhotoError::Empty);
    }
    if input.len() > limits.max_input_bytes {
        return Err(PhotoError::TooLarge { bytes: input.len(), limit: limits.max_input_bytes });
    }
    match image::guess_format(input) {
        Ok(ImageFormat::Jpeg) => Ok(PhotoFormat::Jpeg),
        Ok(ImageFormat::Png) => Ok(PhotoFormat::Png),
        Ok(other) => Err(PhotoError::UnsupportedFormat {
            format: other
                .extensions_str()
                .first()
                .map_or_else(|| format!("{other:?}").to_lowercase(), |ext| ext.to_string()),
        }),
        Err(_) => Err(PhotoError::NotAnImage),
    }
}

fn reader(input: &[u8], format: PhotoFormat, limits: image::Limits) -> ImageReader<Cursor<&[u8]>> {
    let image_format = match format {
        PhotoFormat::Jpeg => ImageFormat::Jpeg,
        PhotoFormat::Png => ImageFormat::Png,
    };
    let mut reader = ImageReader::with_format(Cursor::new(input), image_format);
    reader.limits(limits);
    reader
}

fn decoder_limits(limits: &PhotoLimits, with_dimensions: bool) -> image::Limits {
    let mut decoder_limits = image::Limits::default();
    decoder_limits.max_alloc = Some(limits.max_alloc_bytes);
    if with_dimensions {
        decoder_limits.max_image_width = Some(limits.max_side);
        decoder_limits.max_image_height = Some(limits.max_side);
    }
    decoder_limits
}

fn map_decode_error(format: PhotoFormat, limits: &PhotoLimits, error: ImageError) -> PhotoError {
    match error {
        ImageError::Limits(e) => PhotoError::AllocLimit { limit: limits.max_alloc_bytes, reason: e.to_string() },
        ImageError::IoError(e) => {
            PhotoError::Corrupt { reason: format!("{format} data ends early or cannot be read: {e}") }
        }
        other => PhotoError::Corrupt { reason: format!("{format} cannot be decoded: {other}") },
    }
}

/// Reads and vets the header: see [`super::read_header`].
pub(super) fn read_header(input: &[u8], limits: &PhotoLimits) -> Result<ImageHeader, PhotoError> {
    let format = sniff(input, limits)?;
    // Dimensions are deliberately read without the width/height limits so that an oversized
    // header is reported with its real numbers; only header bytes are parsed here.
    let decoder = reader(input, format, decoder_limits(limits, false))
        .into_decoder()
        .map_err(|e| map_decode_error(format, limits, e))?;
    let (width, height) = decoder.dimensions();
    let bytes_per_pixel = decoder.color_type().bytes_per_pixel();
    drop(decoder);
    if width == 0 || height == 0 {
        return Err(PhotoError::Corrupt { reason: format!("{format} header says {width}x{height} pixels") });
    }
    let pixels = u64::from(width) * u64::from(height);
    if pixels > limits.max_pixels {
        return Err(PhotoError::TooManyPixels { width, height, limit: limits.max_pixels });
    }
    if width.max(height) > limits.max_side {
        return Err(PhotoError::SideTooLong { width, height, limit: limits.max_side });
    }
    let decoded_bytes = pixels * u64::from(bytes_per_pixel);
    if decoded_bytes > limits.max_decoded_bytes {
        return Err(PhotoError::DecodedTooLarge {
            width,
            height,
            bytes: decoded_bytes,
            limit: limits.max_decoded_bytes,
        });
    }
    if format == PhotoFormat::Jpeg {
        // Every 8x8 block of the first component codes at least its DC difference, one bit at
        // the least, in baseline and progressive Huffman JPEG alike: fewer bytes than that
        // cannot hold the declared picture (a pixel bomb, or a truncated upload the decoder
        // would fill with grey after seconds of work).
        let blocks = u64::from(width.div_ceil(8)) * u64::from(height.div_ceil(8));
        let needed = blocks.div_ceil(8);
        if (input.len() as u64) < needed {
            return Err(PhotoError::Corrupt {
                reason: format!(
                    "jpeg declares {width}x{height} pixels in {} bytes; coding that many blocks takes at least \
                     {needed} bytes",
                    input.len()
                ),
            });
        }
    }
    Ok(ImageHeader { format, width, height, bytes_per_pixel })
}

/// Decodes pixels of an input whose header [`read_header`] has already accepted.
pub(super) fn decode(input: &[u8], header: &ImageHeader, limits: &PhotoLimits) -> Result<DynamicImage, PhotoError> {
    if header.format == PhotoFormat::Jpeg && !jpeg_reaches_end_marker(input) {
        // zune-jpeg fills a truncated scan with grey instead of failing; a half-grey shelf photo
        // must be retaken, not stored.
        return Err(PhotoError::Corrupt {
            reason: format!(
                "jpeg ends after {} bytes, before its end-of-image marker (truncated upload?)",
                input.len()
            ),
        });
    }
    reader(input, header.format, decoder_limits(limits, true))
        .decode()
        .map_err(|e| map_decode_error(header.format, limits, e))
}

/// True when the JPEG's marker segments are intact up to the first scan and an end-of-image
/// marker (FF D9) follows it.
///
/// Walking the segments (instead of searching the whole file) matters: an EXIF thumbnail inside
/// APP1 is a complete JPEG with its own end marker. Inside entropy-coded data every FF byte is
/// followed by 00 or a restart/segment marker, so FF D9 after the first scan is the real end.
/// Data appended after the end marker (motion photos) is allowed.
fn jpeg_reaches_end_marker(input: &[u8]) -> bool {
    let mut pos = 2; // after SOI (FF D8), which sniffing has seen
    loop {
        // Like libjpeg, skip stray bytes between segments, and any FF fill bytes before a marker.
        while input.get(pos).is_some_and(|&b| b != 0xFF) {
            pos += 1;
        }
        while input.get(pos) == Some(&0xFF) && input.get(pos + 1) == Some(&0xFF) {
            pos += 1;
        }
        let (Some(&0xFF), Some(&marker)) = (input.get(pos), input.get(pos + 1)) else {
            return false;
        };
        pos += 2;
        match marker {
            0xD9 => return false, // end of image before any scan
            0x01 | 0xD0..=0xD7 => continue,
            _ => {}
        }
        let (Some(&hi), Some(&lo)) = (input.get(pos), input.get(pos + 1)) else {
            return false;
        };
        let length = usize::from(u16::from_be_bytes([hi, lo]));
        if length < 2 || pos + length > input.len() {
            return false;
        }
        pos += length;
        if marker == 0xDA {
            return input.get(pos..).is_some_and(|rest| rest.windows(2).any(|w| w == [0xFF, 0xD9]));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &[u8] = &[
        0xFF, 0xD8, // SOI
        0xFF, 0xE1, 0x00, 0x08, 0xFF, 0xD8, 0xFF, 0xD9, 0x00, 0x00, // APP1 with an FF D9 inside
        0xFF, 0xDA, 0x00, 0x04, 0x00, 0x00, // SOS header
        0x12, 0xFF, 0x00, 0x34, // entropy-coded data with a stuffed FF
        0xFF, 0xD9, // EOI
    ];

    #[test]
    fn end_marker_after_the_scan_is_found() {
        assert!(jpeg_reaches_end_marker(MINIMAL));
    }

    #[test]
    fn end_marker_inside_an_app_segment_does_not_count() {
        assert!(!jpeg_reaches_end_marker(&MINIMAL[..MINIMAL.len() - 2]));
        assert!(!jpeg_reaches_end_marker(&MINIMAL[..12]));
    }

    #[test]
    fn a_segment_longer_than_the_input_is_truncation() {
        assert!(!jpeg_reaches_end_marker(&MINIMAL[..7]));
        assert!(!jpeg_reaches_end_marker(&[0xFF, 0xD8]));
    }

    #[test]
    fn formats_other_than_jpeg_and_png_are_named() {
        let gif = b"GIF89a\x01\x00\x01\x00\x00\x00\x00;";
        match sniff(gif, &PhotoLimits::default()) {
            Err(PhotoError::UnsupportedFormat { format }) => assert_eq!(format, "gif"),
            other => panic!("unexpected {other:?}"),
        }
    }
}
