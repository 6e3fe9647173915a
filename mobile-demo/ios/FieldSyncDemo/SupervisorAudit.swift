// The supervisor's store audit: check in with a GPS position, answer the checklist, add camera
// photos (HEIC converted to JPEG with ImageIO, keeping the capture time and place), check out,
// read the score preview. It mirrors the Android sample's SupervisorAudit.kt and CameraPhoto.kt,
// which the binding tests run against a real relay; this file is not compiled on the Linux build
// machines.

import CoreLocation
import Foundation
import ImageIO
import UniformTypeIdentifiers

/// The HEIC → JPEG decision, made on the bytes: FieldSync stores JPEG and PNG only.
enum CameraPhoto {
    static let jpegQuality = 0.9
    private static let heifBrands: Set<String> = ["heic", "heix", "hevc", "hevx", "heim", "heis", "hevm", "hevs",
                                                  "mif1", "msf1", "avif", "avis"]

    /// The bytes to hand to `addPhoto`: JPEG and PNG as they are, HEIF converted.
    static func prepare(_ data: Data) throws -> Data {
        let bytes = [UInt8](data.prefix(64))
        if bytes.starts(with: [0xFF, 0xD8, 0xFF]) || bytes.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) {
            return data
        }
        guard isHeif(bytes) else {
            throw FieldSyncError.PhotoRejected(reason: data.isEmpty ? "the photo is empty (0 bytes)"
                                                                    : "the photo is neither jpeg, png nor heic: take it again")
        }
        return try jpeg(fromHeif: data)
    }

    /// Re-encodes with ImageIO: the source's properties (EXIF capture time, GPS, orientation)
    /// are copied into the JPEG, which the relay's scoring compares with the visit.
    private static func jpeg(fromHeif data: Data) throws -> Data {
        guard let source = CGImageSourceCreateWithData(data as CFData, nil) else {
            throw FieldSyncError.PhotoRejected(reason: "the heic photo cannot be decoded")
        }
        let output = NSMutableData()
        guard let destination = CGImageDestinationCreateWithData(output, UTType.jpeg.identifier as CFString, 1, nil) else {
            throw FieldSyncError.PhotoRejected(reason: "jpeg encoding is unavailable")
        }
        let options = [kCGImageDestinationLossyCompressionQuality: jpegQuality] as CFDictionary
        CGImageDestinationAddImageFromSource(destination, source, 0, options)
        guard CGImageDestinationFinalize(destination) else {
            throw FieldSyncError.PhotoRejected(reason: "the heic photo cannot be converted to jpeg")
        }
        return output as Data
    }

    private static func isHeif(_ bytes: [UInt8]) -> Bool {
        guard bytes.count >= 12, String(decoding: bytes[4..<8], as: UTF8.self) == "ftyp" else { return false }
        let size = Int(bytes[0]) << 24 | Int(bytes[1]) << 16 | Int(bytes[2]) << 8 | Int(bytes[3])
        let end = min(size, bytes.count)
        let offsets = [8] + Array(stride(from: 16, to: end - 3, by: 4))
        return offsets.contains { heifBrands.contains(String(decoding: bytes[$0..<$0 + 4], as: UTF8.self)) }
    }
}

/// Which positions a check-in, a photo or a check-out may carry (the same rule as GpsPolicy.kt).
enum GpsPolicy {
    static let maxAge: TimeInterval = 120
    static let maxAccuracy: CLLocationAccuracy = 100

    /// The fix to use, or why to wait for a better one.
    static func check(_ location: CLLocation?, now: Date = Date()) -> Result<GeoFix, FieldSyncError> {
        guard let location else { return .failure(.InvalidState(reason: "waiting for a GPS position")) }
        let age = now.timeIntervalSince(location.timestamp)
        if age > maxAge { return .failure(.InvalidState(reason: "the GPS position is \(Int(age)) s old")) }
        if location.horizontalAccuracy < 0 || location.horizontalAccuracy > maxAccuracy {
            return .failure(.InvalidState(reason: "the GPS position is only accurate to \(Int(location.horizontalAccuracy)) m"))
        }
        return .success(GeoFix(latitude: location.coordinate.latitude, longitude: location.coordinate.longitude,
                               accuracyM: location.horizontalAccuracy))
    }
}

/// A supervisor's audit of one store.
struct SupervisorAudit {
    let phone: FieldSyncPhone

    private var nowMs: Int64 { Int64(Date().timeIntervalSince1970 * 1000) }

    /// Checks in at `storeId` with `templateId`; returns the inspection's id.
    func checkIn(storeId: String, templateId: String, at location: CLLocation?) throws -> String {
        try phone.checkIn(storeId: storeId, templateId: templateId, at: nowMs, position: GpsPolicy.check(location).get())
    }

    /// Answers an item.
    func answer(_ inspectionId: String, itemId: String, value: AnswerValue) throws {
        try phone.answer(inspectionId: inspectionId, itemId: itemId, value: value, count: nil, note: "")
    }

    /// Adds a camera photo (HEIC converted first) and returns its quality preview.
    func addPhoto(_ inspectionId: String, itemId: String, captured: Data, at location: CLLocation?) throws -> PhotoPreview {
        let photo = try CameraPhoto.prepare(captured)
        let position = try? GpsPolicy.check(location).get()
        return try phone.addPhoto(inspectionId: inspectionId, itemId: itemId, photo: photo, capturedAt: nowMs, position: position)
    }

    /// Items not answered yet: check-out waits for them.
    func unanswered(_ inspectionId: String) throws -> [String] {
        let inspection = try phone.inspection(inspectionId: inspectionId)
        guard let template = try phone.templates().first(where: { $0.id == inspection.templateId }) else { return [] }
        let answered = Set(inspection.answers.map(\.itemId))
        return template.items.filter { !answered.contains($0.itemId) }.map(\.text)
    }

    /// Checks out once every item is answered, sends this visit's photos first, and returns the
    /// phone's score preview.
    func checkOut(_ inspectionId: String, at location: CLLocation?) throws -> ScoreReport {
        let left = try unanswered(inspectionId)
        guard left.isEmpty else {
            throw FieldSyncError.InvalidState(reason: "answer every item before checking out: \(left.joined(separator: "; "))")
        }
        try phone.checkOut(inspectionId: inspectionId, at: nowMs, position: GpsPolicy.check(location).get())
        try phone.focusInspection(inspectionId: inspectionId)
        return try phone.previewScore(inspectionId: inspectionId)
    }
}
