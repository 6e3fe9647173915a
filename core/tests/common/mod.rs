//! Shared fixtures for the core integration tests: a phone store holding what the relay would
//! have sent it (a catalog, stores, a checklist template), written by a "relay" actor.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::collections::BTreeMap;
use std::path::Path;

use automerge::ActorId;
use fieldsync_core::doc::{self, Catalog, Product, RetailStore, Template, TemplateItem};
use fieldsync_core::local_store::LineInput;
use fieldsync_core::{DocumentId, DocumentModel, Identity, LocalStore, Role};

pub const REP: &str = "rep-1";
pub const SUPERVISOR: &str = "sup-1";

pub struct Fixture {
    pub store: LocalStore,
    pub shop_id: DocumentId,
    pub other_shop_id: DocumentId,
    pub template_id: DocumentId,
    pub catalog_id: DocumentId,
}

/// Writes a document as the relay would, and delivers it to `store`.
pub fn deliver<T: DocumentModel>(store: &LocalStore, value: &T) -> DocumentId {
    let id = DocumentId::random();
    let bytes = doc::create(&id, ActorId::random(), value).unwrap().save();
    assert!(store.receive_changes(&id, &bytes).unwrap());
    id
}

pub fn catalog() -> Catalog {
    let mut products = BTreeMap::new();
    for (sku, name, category, price) in [
        ("SKU-1", "Sparkling water 24x0.5l", "drinks", 1299),
        ("SKU-2", "Orange juice 12x1l", "drinks", 2150),
        ("SKU-3", "Crisps 20x150g", "snacks", 1840),
        ("SKU-4", "Chocolate bar 48x50g", "snacks", 3120),
        ("SKU-5", "Coffee beans 6x1kg", "coffee", 8900),
    ] {
        products.insert(
            sku.to_owned(),
            Product {
                name: name.into(),
                category: category.into(),
                unit: "case".into(),
                base_price_cents: price,
                active: true,
            },
        );
    }
    products.insert(
        "SKU-OLD".to_owned(),
        Product {
            name: "Discontinued".into(),
            category: "drinks".into(),
            unit: "case".into(),
            base_price_cents: 100,
            active: false,
        },
    );
    Catalog::with_products(products, 1_700_000_000_000)
}

pub fn shop(name: &str) -> RetailStore {
    RetailStore {
        name: name.into(),
        address: "1 Market Square".into(),
        customer_id: format!("CUST-{name}"),
        region: "north".into(),
        tier: "B".into(),
        latitude: 52.37,
        longitude: 4.89,
        rep: REP.into(),
        supervisor: SUPERVISOR.into(),
        active: true,
    }
}

pub fn template() -> Template {
    let items = [
        ("facings", "Our brand has at least 4 facings", 3.0, true),
        ("price-tags", "Every product has a price tag", 2.0, false),
        ("promo-display", "The promotion display is up", 1.0, true),
    ];
    Template {
        name: "Shelf standard".into(),
        version: 1,
        items: items
            .into_iter()
            .enumerate()
            .map(|(position, (id, text, weight, requires_photo))| {
                (id.to_owned(), TemplateItem { text: text.into(), weight, requires_photo, position: position as i64 })
            })
            .collect(),
        trust: None,
    }
}

/// Opens a store at `path` with the fixtures delivered and `user` signed in as `role`.
pub fn fixture_at(path: &Path, user: &str, role: Role) -> Fixture {
    fixture_in(LocalStore::open(path).unwrap(), user, role)
}

/// `store` with the fixtures delivered and `user` signed in as `role`.
pub fn fixture_in(store: LocalStore, user: &str, role: Role) -> Fixture {
    store.set_identity(&Identity { tenant: "acme".into(), user_id: user.into(), role }).unwrap();
    let catalog_id = deliver(&store, &catalog());
    let shop_id = deliver(&store, &shop("Corner Market"));
    let other_shop_id = deliver(&store, &shop("Station Kiosk"));
    let template_id = deliver(&store, &template());
    Fixture { store, shop_id, other_shop_id, template_id, catalog_id }
}

pub fn rep_fixture(dir: &tempfile::TempDir) -> Fixture {
    fixture_at(&dir.path().join("phone.db"), REP, Role::Rep)
}

pub fn line(sku: &str, qty: i64) -> LineInput {
    LineInput { sku: sku.into(), qty, unit_price_cents: 1000, discount_bp: 0 }
}

/// A small real PNG whose IHDR is rewritten (with a valid CRC) to claim `width` x `height`: a
/// pixel bomb of a few hundred bytes.
pub fn png_claiming(width: u32, height: u32) -> Vec<u8> {
    let mut png = Vec::new();
    image::DynamicImage::new_rgb8(16, 16)
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    // Signature (8) + length (4) + "IHDR" (4), then width, height; the CRC covers type and data.
    assert_eq!(&png[12..16], b"IHDR");
    png[16..20].copy_from_slice(&width.to_be_bytes());
    png[20..24].copy_from_slice(&height.to_be_bytes());
    let crc = crc32(&png[12..29]);
    png[29..33].copy_from_slice(&crc.to_be_bytes());
    png
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

/// The bytes of a photo under `tests/fixtures/photos/`.
pub fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/photos/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"))
}

/// Decodes an image, for making degraded copies.
pub fn decode(bytes: &[u8]) -> image::DynamicImage {
    image::load_from_memory(bytes).expect("decode")
}

/// Encodes an image (as RGB) in `format`.
pub fn encode(image: &image::DynamicImage, format: image::ImageFormat) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    image.to_rgb8().write_to(&mut out, format).expect("encode");
    out.into_inner()
}

/// Multiplies every channel by `gain`, clipping at 255 like a sensor does.
pub fn exposure(image: &image::DynamicImage, gain: f32) -> image::DynamicImage {
    let mut rgb = image.to_rgb8();
    for channel in rgb.iter_mut() {
        *channel = (f32::from(*channel) * gain).round().clamp(0.0, 255.0) as u8;
    }
    image::DynamicImage::ImageRgb8(rgb)
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
/// (IFD0 pointing to an Exif IFD and a GPS IFD).
pub fn with_camera_exif(jpeg: &[u8], exif: &CameraExif<'_>) -> Vec<u8> {
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
    assert_eq!(exif.taken_at.len(), 19, "DateTimeOriginal is 19 characters");
    // IFD0 at 8 (2 entries, 30 bytes); Exif IFD at 38 (2 entries, 30 bytes); date at 68 (20
    // bytes); offset text at 88 (8 bytes); GPS IFD at 96 (4 entries, 54 bytes); latitude at 150,
    // longitude at 174.
    let mut tiff = b"MM\x00\x2a\x00\x00\x00\x08".to_vec();
    tiff.extend_from_slice(&2u16.to_be_bytes());
    entry(&mut tiff, 0x8769, LONG, 1, 38u32.to_be_bytes());
    entry(&mut tiff, 0x8825, LONG, 1, 96u32.to_be_bytes());
    tiff.extend_from_slice(&0u32.to_be_bytes());
    assert_eq!(tiff.len(), 38);
    let entries: u16 = if exif.offset.is_some() { 2 } else { 1 };
    tiff.extend_from_slice(&entries.to_be_bytes());
    entry(&mut tiff, 0x9003, ASCII, 20, 68u32.to_be_bytes());
    if exif.offset.is_some() {
        entry(&mut tiff, 0x9011, ASCII, 7, 88u32.to_be_bytes());
    } else {
        tiff.extend_from_slice(&[0; 12]); // padding where the entry would be, unreferenced
    }
    tiff.extend_from_slice(&0u32.to_be_bytes());
    assert_eq!(tiff.len(), 68);
    tiff.extend_from_slice(exif.taken_at.as_bytes());
    tiff.push(0);
    let mut offset = exif.offset.unwrap_or("+00:00").as_bytes().to_vec();
    offset.resize(8, 0);
    tiff.extend_from_slice(&offset);
    assert_eq!(tiff.len(), 96);
    let (lat, lon) = exif.position;
    tiff.extend_from_slice(&4u16.to_be_bytes());
    entry(&mut tiff, 0x0001, ASCII, 2, [if lat < 0.0 { b'S' } else { b'N' }, 0, 0, 0]);
    entry(&mut tiff, 0x0002, RATIONAL, 3, 150u32.to_be_bytes());
    entry(&mut tiff, 0x0003, ASCII, 2, [if lon < 0.0 { b'W' } else { b'E' }, 0, 0, 0]);
    entry(&mut tiff, 0x0004, RATIONAL, 3, 174u32.to_be_bytes());
    tiff.extend_from_slice(&0u32.to_be_bytes());
    assert_eq!(tiff.len(), 150);
    for (num, den) in dms(lat).into_iter().chain(dms(lon)) {
        tiff.extend_from_slice(&num.to_be_bytes());
        tiff.extend_from_slice(&den.to_be_bytes());
    }
    let mut app1 = b"Exif\0\0".to_vec();
    app1.extend_from_slice(&tiff);
    let mut out = jpeg[..2].to_vec();
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&u16::try_from(app1.len() + 2).expect("small segment").to_be_bytes());
    out.extend_from_slice(&app1);
    out.extend_from_slice(&jpeg[2..]);
    out
}
