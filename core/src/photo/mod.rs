//! Temporary interface stand-in; replaced by the photo ingest implementation.
#![allow(missing_docs)]
#[derive(Debug, thiserror::Error)]
pub enum PhotoError {
    #[error("empty")]
    Empty,
}
#[derive(Debug, Clone, Default)]
pub struct PhotoLimits;
#[derive(Debug, Clone)]
pub struct QualityPreview;
impl QualityPreview {
    pub fn is_acceptable(&self) -> bool {
        true
    }
    pub fn summary(&self) -> String {
        String::new()
    }
}
pub struct IngestedPhoto {
    pub sha256: String,
    pub jpeg: Vec<u8>,
    pub thumbnail_jpeg: Vec<u8>,
    pub width: u32,
    pub height: u32,
    pub phash: String,
    pub quality: QualityPreview,
}
pub fn ingest(_input: &[u8], _limits: &PhotoLimits) -> Result<IngestedPhoto, PhotoError> {
    Err(PhotoError::Empty)
}
