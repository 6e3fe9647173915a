//! Quality verdicts and reuse matching on a folder of real photos:
//! `cargo bench -p fieldsync-core --bench photo_verdicts -- FOLDER...` (`scripts/photo-verdicts`
//! fetches the calibration and held-out sets and runs it on each).
//!
//! For each JPEG or PNG in the folders, and for degraded copies made here (blurred, darkened,
//! overexposed, halved), prints the phone's capture-screen verdict and the relay's quality verdict
//! on the stored bytes the phone would upload, and counts any disagreement (there must be none:
//! the same bytes go through the same code). Then the reuse check over every pair of distinct
//! photos in all eight orientations (false matches), and over each photo's seven flips and turns
//! (true matches). Figures, not assertions.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::io::Cursor;
use std::path::PathBuf;

use fieldsync_core::photo::{self, PhotoAnalysis, PhotoLimits, QualityProblem};
use fieldsync_core::scoring::{EarlierPhoto, TrustThresholds, evidence, score_photo};
use image::{DynamicImage, ImageFormat};

fn main() {
    let folders: Vec<PathBuf> = std::env::args().skip(1).filter(|a| !a.starts_with('-')).map(PathBuf::from).collect();
    if folders.is_empty() {
        eprintln!("usage: cargo bench -p fieldsync-core --bench photo_verdicts -- FOLDER...");
        return;
    }
    let mut photos = Vec::new();
    for folder in &folders {
        let mut paths: Vec<PathBuf> = std::fs::read_dir(folder)
            .unwrap_or_else(|e| panic!("read {}: {e}", folder.display()))
            .map(|entry| entry.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "jpg" || e == "jpeg" || e == "png"))
            .collect();
        paths.sort();
        for path in paths {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            photos.push((name, std::fs::read(&path).unwrap()));
        }
    }

    println!("{:<34} {:<44} {:<34} {:>8}", "photo", "phone says", "relay says (same bytes)", "agree");
    let (mut shown, mut disagreements, mut phone_ok_relay_failed) = (0, 0, 0);
    let mut analyses: Vec<(String, PhotoAnalysis)> = Vec::new();
    for (name, bytes) in &photos {
        let Ok(original) = image::load_from_memory(bytes) else {
            println!("{name:<34} cannot be decoded");
            continue;
        };
        let copies = [
            ("", original.clone()),
            (" blurred 1", original.blur(1.0)),
            (" blurred 2", original.blur(2.0)),
            (" darkened 0.3", exposure(&original, 0.3)),
            (" overexposed 2.5", exposure(&original, 2.5)),
            (" halved", original.thumbnail(original.width() / 2, original.height() / 2)),
        ];
        for (how, copy) in copies {
            let Ok(ingested) = photo::ingest(&png(&copy), &PhotoLimits::default()) else {
                println!("{name}{how}: refused by ingest");
                continue;
            };
            let relay = photo::analyze(&ingested.jpeg, &PhotoLimits::default()).unwrap();
            let verdict = score_photo(&relay.metrics);
            let relay_says = if !verdict.usable() {
                format!("fail: {}", join(&verdict.failures))
            } else if verdict.borderline() {
                format!("review: close to {}", join(&verdict.borderline))
            } else {
                "pass".to_owned()
            };
            let phone_hard: Vec<QualityProblem> =
                ingested.quality.problems.iter().copied().filter(|p| *p != QualityProblem::LowContrast).collect();
            let agree = phone_hard == verdict.failures && relay.metrics == ingested.quality.metrics;
            disagreements += usize::from(!agree);
            phone_ok_relay_failed += usize::from(phone_hard.is_empty() && !verdict.usable());
            println!(
                "{:<34} {:<44} {:<34} {:>8}",
                format!("{name}{how}"),
                ingested.quality.summary(),
                relay_says,
                if agree { "yes" } else { "NO" }
            );
            shown += 1;
            if how.is_empty() {
                analyses.push((name.clone(), relay));
            }
        }
    }
    println!(
        "\n{shown} photos and copies: {disagreements} phone/relay disagreements; {phone_ok_relay_failed} passed on \
         the phone and failed on the relay"
    );

    let t = TrustThresholds::default();
    let earlier = |a: &PhotoAnalysis| EarlierPhoto {
        sha256: "earlier".into(),
        phash: a.phash.clone(),
        inspection_id: "earlier".into(),
        store_id: "store".into(),
        captured_at: 0,
    };
    let (mut pairs, mut false_matches, mut closest) = (0, 0, u32::MAX);
    for (i, (a_name, a)) in analyses.iter().enumerate() {
        for (b_name, b) in &analyses[i + 1..] {
            pairs += 1;
            let found = evidence::check_reuse(
                "new",
                Some(&a.phash),
                &a.transformed_phashes,
                "today",
                "store",
                &[earlier(b)],
                &t,
            );
            for hash in std::iter::once(&a.phash).chain(&a.transformed_phashes) {
                closest = closest.min(photo::phash_distance(hash, &b.phash).unwrap());
            }
            if found.is_some() {
                false_matches += 1;
                println!("false match: {a_name} taken for a copy of {b_name}");
            }
        }
    }
    println!(
        "reuse, distinct photos: {false_matches} false matches in {pairs} pairs compared in 8 orientations \
         (closest pair {closest} bits apart; a copy is within {} bits)",
        t.near_duplicate_bits
    );

    let (mut copies, mut caught, mut farthest) = (0, 0, 0);
    for (name, bytes) in &photos {
        let Ok(original) = image::load_from_memory(bytes) else { continue };
        let stored = photo::ingest(bytes, &PhotoLimits::default()).unwrap().jpeg;
        let before = [earlier(&photo::analyze(&stored, &PhotoLimits::default()).unwrap())];
        let mirrored = original.fliph();
        let turned = [
            mirrored.clone(),
            original.rotate90(),
            original.rotate180(),
            original.rotate270(),
            mirrored.rotate90(),
            mirrored.rotate180(),
            mirrored.rotate270(),
        ];
        for copy in turned {
            let uploaded = photo::ingest(&png(&copy), &PhotoLimits::default()).unwrap().jpeg;
            let seen = photo::analyze(&uploaded, &PhotoLimits::default()).unwrap();
            copies += 1;
            let bits = std::iter::once(&seen.phash)
                .chain(&seen.transformed_phashes)
                .map(|hash| photo::phash_distance(hash, &before[0].phash).unwrap())
                .min()
                .unwrap_or(u32::MAX);
            farthest = farthest.max(bits);
            let found = evidence::check_reuse(
                "new",
                Some(&seen.phash),
                &seen.transformed_phashes,
                "today",
                "store",
                &before,
                &t,
            );
            if found.is_some() {
                caught += 1;
            } else {
                println!("missed: a flipped or turned copy of {name}");
            }
        }
    }
    println!("reuse, flipped and turned copies: {caught} of {copies} caught (farthest copy {farthest} bits apart)");
}

fn join(problems: &[QualityProblem]) -> String {
    problems.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
}

fn png(image: &DynamicImage) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    image.to_rgb8().write_to(&mut out, ImageFormat::Png).unwrap();
    out.into_inner()
}

fn exposure(image: &DynamicImage, gain: f32) -> DynamicImage {
    let mut rgb = image.to_rgb8();
    for channel in rgb.iter_mut() {
        *channel = (f32::from(*channel) * gain).round().clamp(0.0, 255.0) as u8;
    }
    DynamicImage::ImageRgb8(rgb)
}
