//! The seed corpora of the fuzz targets, made with the real encoders: valid inputs of every kind
//! each target reads, and a few broken ones. `cargo run -p fieldsync-tests --bin fuzz_seeds`
//! writes them to `fuzz/corpus/<target>/<name>`; they are checked in, so change them only on
//! purpose (a changed encoder or fixture).

use std::collections::BTreeMap;
use std::io::Cursor;

use automerge::sync::{self, SyncDoc};
use automerge::transaction::Transactable;
use automerge::{ActorId, Automerge, ROOT, ScalarValue};
use fieldsync_core::DocumentId;
use fieldsync_core::doc::{DocumentModel, Order, OrderLine, OrderStatus, RetailStore};
use fieldsync_core::sync::protocol::{
    self, DocMessage, LiveFrame, ManifestEntry, Push, Rejection, SyncRequest, SyncResponse, Update,
};
use image::{DynamicImage, ImageFormat, RgbImage};

use super::AdmissionMode;
use super::relay::{self, REP_ID, edit, order, order_value, write};

/// One seed: a file name and its bytes.
pub type Seed = (&'static str, Vec<u8>);

/// The seeds of the target named `target` (empty for an unknown name).
pub fn seeds(target: &str) -> Vec<Seed> {
    match target {
        "sync_request" => sync_request(),
        "admission" => admission(),
        "photo" => photo(),
        "csv_import" => csv_import(),
        _ => Vec::new(),
    }
}

fn sync_request() -> Vec<Seed> {
    let id = |n: u8| DocumentId::from_bytes([n; 16]);
    let request = SyncRequest {
        cursor: 1234,
        digest: [7; 32],
        excluded: vec![id(1)],
        pushes: vec![Push { doc: relay::order_id(), changes: order().save() }],
        want: vec![id(2), id(3)],
        sync: vec![DocMessage { doc: id(4), message: vec![0x42, 1, 2, 3] }],
    };
    let response = SyncResponse {
        cursor: 99,
        updates: vec![Update { doc: id(5), changes: vec![1, 2, 3] }],
        accepted: vec![id(1)],
        rejected: vec![Rejection { doc: id(6), code: "forbidden".into(), reason: "not yours".into() }],
        resync: vec![id(7)],
        sync: vec![],
        purge: vec![id(8)],
        manifest: Some(vec![ManifestEntry { doc: id(9), heads: vec![[3; 32]] }]),
        more: true,
    };
    let encoded = protocol::encode(&request);
    let mut trailing = protocol::encode(&SyncRequest::default());
    trailing.push(0);
    // A request whose `excluded` claims 2^32 - 1 entries and holds none.
    let mut huge_count = vec![b'F', protocol::PROTOCOL_VERSION, 0];
    huge_count.extend_from_slice(&[0; 32]);
    huge_count.extend_from_slice(&[0xff, 0xff, 0xff, 0xff, 0x0f]);
    vec![
        ("request_empty", protocol::encode(&SyncRequest::default())),
        ("request_full", encoded.clone()),
        ("live_request", protocol::encode(&LiveFrame::Request(request))),
        ("live_response", protocol::encode(&LiveFrame::Response(response.clone()))),
        ("live_changed", protocol::encode(&LiveFrame::Changed(42))),
        ("live_error", protocol::encode(&LiveFrame::Error("a device sends only requests".into()))),
        ("response", protocol::encode(&response)),
        ("broken_truncated", encoded[..encoded.len() / 2].to_vec()),
        ("broken_trailing_byte", trailing),
        ("broken_version_9", vec![b'F', 9, 0]),
        ("broken_json", b"{\"cursor\":1}".to_vec()),
        ("broken_huge_count", huge_count),
    ]
}

/// An admission input: the mode byte, then the bytes.
fn push(mode: AdmissionMode, bytes: &[u8]) -> Vec<u8> {
    let mut input = vec![mode as u8];
    input.extend_from_slice(bytes);
    input
}

/// The stored order after ravi's phone applied `change` to it; its new changes.
fn order_change(change: impl FnOnce(&mut Order)) -> (Automerge, Vec<u8>) {
    let mut doc = order();
    let before = doc.get_heads();
    let mut value = order_value();
    change(&mut value);
    edit(&mut doc, &value);
    let changes = doc.save_after(&before);
    (doc, changes)
}

fn new_doc<T: DocumentModel>(actor: ActorId, value: &T) -> Vec<u8> {
    let mut doc = Automerge::new().with_actor(actor);
    write(&mut doc, |tx| {
        tx.put(ROOT, "kind", T::KIND.as_str())?;
        tx.put(ROOT, "schema", ScalarValue::Uint(T::SCHEMA))?;
        Ok(())
    });
    edit(&mut doc, value);
    doc.save()
}

fn admission() -> Vec<Seed> {
    use AdmissionMode::*;
    let (edited, line_added) = order_change(|order| {
        let line = OrderLine { sku: "SKU-2".into(), qty: 3, unit_price_cents: 350, discount_bp: 500, position: 1 };
        order.lines.insert("line-2".into(), line);
        order.notes = "back door".into();
    });
    let (_, submitted) = order_change(|order| {
        order.status = OrderStatus::Submitted;
        order.submitted_at = Some(relay::CHANGE_TIME);
        order.submission = 1;
    });
    let (_, owner_changed) = order_change(|order| order.owner = "someone-else".into());
    let mut flipped = line_added.clone();
    let middle = flipped.len() / 2;
    flipped[middle] ^= 0x10;
    let message = edited.generate_sync_message(&mut sync::State::new()).map(sync::Message::encode).unwrap_or_default();
    let new_order = Order { lines: BTreeMap::new(), notes: "new".into(), ..order_value() };
    let unknown_store = Order { store_id: DocumentId::from_bytes([0x99; 16]).to_string(), ..order_value() };
    let store = RetailStore {
        name: "Squat".into(),
        code: String::new(),
        address: "2 Elm Rd".into(),
        customer_id: "C-2".into(),
        region: relay::REGION.into(),
        tier: "B".into(),
        latitude: 0.0,
        longitude: 0.0,
        geofence_m: 0.0,
        rep: REP_ID.into(),
        supervisor: REP_ID.into(),
        active: true,
    };
    let relay_actor = fieldsync_server::documents::relay_actor(1);
    // Edit scripts (see `edit_script`): three bytes per step.
    let notes_text = [3, 7, 0, 3, 0, 11, 6, 0, 0];
    // A new `line-1`: sku SKU-1, qty 1, unit price 1200, discount 0, position 1.
    let new_line = [5, 6, 0, 1, 12, 0, 0, 32, 0, 0, 33, 1, 0, 148, 1, 0, 16, 1, 0, 17, 1];
    let nested_32 = [7, 18, 0];
    let kind_to_store = [0, 38, 0];
    vec![
        ("order_line_added", push(OrderChanges, &line_added)),
        ("order_submitted", push(OrderChanges, &submitted)),
        ("order_whole_document", push(OrderChanges, &edited.save())),
        ("order_already_stored", push(OrderChanges, &order().save())),
        ("order_nothing", push(OrderChanges, &[])),
        ("order_sync_message", push(OrderSyncMessage, &message)),
        ("new_order", push(NewDocument, &new_doc(relay::rep_actor(), &new_order))),
        ("new_order_of_unknown_store", push(NewDocument, &new_doc(relay::rep_actor(), &unknown_store))),
        ("new_store_by_a_rep", push(NewDocument, &new_doc(relay::rep_actor(), &store))),
        ("new_order_as_the_relay", push(NewDocument, &new_doc(relay_actor, &new_order))),
        ("script_notes_text", push(OrderEdits, &notes_text)),
        ("script_new_line", push(OrderEdits, &new_line)),
        ("script_nested_maps", push(OrderEdits, &nested_32)),
        ("script_kind_to_store", push(OrderEdits, &kind_to_store)),
        ("broken_owner_changed", push(OrderChanges, &owner_changed)),
        ("broken_truncated", push(OrderChanges, &line_added[..line_added.len() / 2])),
        ("broken_bit_flipped", push(OrderChanges, &flipped)),
        ("broken_sync_message", push(OrderSyncMessage, &message[..message.len().min(5)])),
    ]
}

fn encode(image: &DynamicImage, format: ImageFormat) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    image.write_to(&mut out, format).expect("encode a seed image");
    out.into_inner()
}

fn photo() -> Vec<Seed> {
    let gradient = RgbImage::from_fn(16, 8, |x, y| image::Rgb([(x * 16) as u8, (y * 32) as u8, 128]));
    let jpeg = encode(&DynamicImage::ImageRgb8(gradient.clone()), ImageFormat::Jpeg);
    let grey = encode(&DynamicImage::ImageRgb8(gradient.clone()).grayscale(), ImageFormat::Jpeg);
    let png = encode(&DynamicImage::ImageRgb8(gradient).to_rgba8().into(), ImageFormat::Png);
    // A PNG whose header claims 100000 x 100000 pixels (a pixel bomb), with a valid CRC.
    let mut bomb = png.clone();
    bomb[16..24].copy_from_slice(&[0, 1, 0x86, 0xa0, 0, 1, 0x86, 0xa0]);
    let crc = crc32(&bomb[12..29]);
    bomb[29..33].copy_from_slice(&crc.to_be_bytes());
    vec![
        ("jpeg_16x8", jpeg.clone()),
        ("jpeg_grey", grey),
        ("png_rgba", png),
        ("jpeg_exif", crate::photo_fixture("exif.jpg")),
        ("jpeg_exif_orientation_6", crate::photo_fixture("hopper_orientation_6.jpg")),
        ("broken_jpeg_truncated", jpeg[..jpeg.len() / 2].to_vec()),
        ("broken_png_pixel_bomb", bomb),
        ("broken_gif", b"GIF89a\x01\x00\x01\x00\x00\x00\x00;".to_vec()),
        ("broken_jpeg_signature_only", vec![0xff, 0xd8, 0xff, 0xe0]),
    ]
}

/// CRC-32 (as PNG chunks use it).
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for byte in bytes {
        crc ^= u32::from(*byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ 0xedb8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

/// A CSV input: the dataset's index in `DATASETS`, then the file.
fn csv(dataset: u8, text: &str) -> Vec<u8> {
    let mut input = vec![dataset];
    input.extend_from_slice(text.as_bytes());
    input
}

fn csv_import() -> Vec<Seed> {
    vec![
        ("stock", csv(0, "warehouse,region,sku,on_hand,safety\nWH-N,north,SKU-1,120,20\nWH-S,south,\"SKU-2\",0,5\r\n")),
        (
            "stores",
            csv(
                1,
                "name,address,customer_id,region,tier,latitude,longitude,rep,supervisor\n\
                 Corner Shop,\"1 Main St, Springfield\",C-1,north,A,52.37,4.89,ravi,sofia\n\
                 Fresh Mart,2 Elm Rd,C-2,north,B,52.36,4.90,ravi,\n",
            ),
        ),
        (
            "products",
            csv(
                2,
                "sku,name,category,unit,base_price,active\nSKU-1,Cola,drinks,case of 12,12.00,true\n\
                 SKU-3,\"Crisps, salted\",snacks,bag of 20,3.5,yes\n",
            ),
        ),
        (
            "prices",
            csv(
                3,
                "price_list,tier,region,sku,min_qty,unit_price\nnorth-b,B,north,SKU-1,1,11.00\n\
                 north-b,B,north,SKU-1,10,10.50\nany,,,SKU-2,1,3.20\n",
            ),
        ),
        (
            "sales",
            csv(4, "day,customer_id,sku,units,amount\n2026-11-01,C-1,SKU-1,12,144.00\n2026-11-02,C-1,SKU-2,0,0\n"),
        ),
        (
            "purchases",
            csv(
                5,
                "day,distributor,region,sku,units,amount\n2026-11-01,DIST-NORTH,north,SKU-1,1200,14400.00\n\
                 2026-11-01,\"Dist, South\",south,SKU-2,300,3600\n",
            ),
        ),
        ("stock_bom_crlf", csv(0, "\u{feff}warehouse,region,sku,on_hand,safety\r\nWH-N,north,SKU-1,1,1\r\n")),
        (
            "broken_stock_bad_rows",
            csv(0, "warehouse,region,sku,on_hand,safety\nWH-N,north,SKU-9,1,1\nWH-S,South,SKU-1,-3\n"),
        ),
        ("broken_unclosed_quote", csv(2, "sku,name,category,unit,base_price,active\n\"SKU-1,Cola\n")),
        ("broken_after_quote", csv(4, "day,customer_id,sku,units,amount\n\"2026-11-01\"x,C-1,SKU-1,1,1\n")),
        ("broken_not_utf8", vec![5, b'd', b'a', b'y', b'\n', 0xff, 0xfe, b'\n']),
        ("broken_unknown_column", csv(1, "name,colour\nx,red\n")),
    ]
}
