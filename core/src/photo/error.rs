//! The one error type of the photo pipeline.

/// Why a photo could not be read, vetted or ingested.
///
/// Each variant carries the offending value so the message can be shown or logged as is.
#[derive(Debug, thiserror::Error)]
pub enum PhotoError {
    /// The input has no bytes at all.
    #[error("image is empty (0 bytes)")]
    Empty,

    /// The input is bigger than [`PhotoLimits::max_input_bytes`](super::PhotoLimits).
    #[error("image is {bytes} bytes, more than the {limit}-byte limit")]
    TooLarge {
        /// Size of the input.
        bytes: usize,
        /// The limit it exceeds.
        limit: usize,
    },

    /// The input starts with no known image signature (a text file, random bytes, ...).
    #[error("input is not an image: it starts with neither a jpeg nor a png signature")]
    NotAnImage,

    /// The input is an image, but of a format that is not accepted (only JPEG and PNG are).
    #[error("{format} images are not accepted; only jpeg and png are")]
    UnsupportedFormat {
        /// The format recognised from the input's first bytes, lowercase (e.g. `gif`).
        format: String,
    },

    /// The header announces more pixels than [`PhotoLimits::max_pixels`](super::PhotoLimits).
    #[error("image is {width}x{height} pixels, more than the {limit}-pixel limit")]
    TooManyPixels {
        /// Width from the header.
        width: u32,
        /// Height from the header.
        height: u32,
        /// The limit the pixel count exceeds.
        limit: u64,
    },

    /// The header announces a side longer than [`PhotoLimits::max_side`](super::PhotoLimits).
    #[error("image is {width}x{height} pixels, a side longer than the {limit}-pixel limit")]
    SideTooLong {
        /// Width from the header.
        width: u32,
        /// Height from the header.
        height: u32,
        /// The longest side allowed.
        limit: u32,
    },

    /// The header announces a decoded size (width x height x bytes per pixel) above
    /// [`PhotoLimits::max_decoded_bytes`](super::PhotoLimits); refused before decoding.
    #[error("image is {width}x{height} pixels, {bytes} bytes once decoded, more than the {limit}-byte budget")]
    DecodedTooLarge {
        /// Width from the header.
        width: u32,
        /// Height from the header.
        height: u32,
        /// Decoded size the header implies.
        bytes: u64,
        /// The budget it exceeds.
        limit: u64,
    },

    /// Decoding would allocate more than [`PhotoLimits::max_alloc_bytes`](super::PhotoLimits).
    #[error("decoding the image would need more memory than the {limit}-byte limit: {reason}")]
    AllocLimit {
        /// The allocation limit in force.
        limit: u64,
        /// What the decoder reported.
        reason: String,
    },

    /// The input claims to be a JPEG or PNG but cannot be decoded (truncated, junk data, ...).
    #[error("image is corrupt: {reason}")]
    Corrupt {
        /// What is wrong with it, starting with the format (`jpeg ...`, `png ...`).
        reason: String,
    },

    /// A perceptual-hash string could not be parsed or compared.
    #[error("perceptual hash {hash:?} is invalid: {reason}")]
    InvalidHash {
        /// The offending hash string.
        hash: String,
        /// Why it was rejected.
        reason: String,
    },

    /// Re-encoding the photo as JPEG failed.
    #[error("could not encode the photo as jpeg: {reason}")]
    Encode {
        /// What the encoder reported.
        reason: String,
    },
}
