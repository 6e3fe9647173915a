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
        code: String::new(),
        address: "1 Market Square".into(),
        customer_id: format!("CUST-{name}"),
        region: "north".into(),
        tier: "B".into(),
        latitude: 52.37,
        longitude: 4.89,
        geofence_m: 0.0,
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
