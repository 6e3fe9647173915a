// The FieldSync side of a rep's iOS app: open the store, register the listener, start the
// background sync, take an order. It mirrors mobile-demo/android's RepPhone.kt.
//
// Not compiled on the Linux build machines (no Swift there): build it in Xcode against the
// generated `fieldsync_ffi.swift` and the `FieldSyncFFI.xcframework` (see
// mobile-demo/README-platforms.md). Every FieldSync call is synchronous and may wait for the
// disk or the network: call them from a background queue or a detached Task, never the main actor.

import Foundation

/// Hears FieldSync on its own threads and hands events to the main queue for the UI.
final class PhoneEvents: FieldSyncListener, @unchecked Sendable {
    private let changed: @Sendable (DocumentChange) -> Void
    private let synced: @Sendable (SyncOutcome) -> Void

    init(changed: @escaping @Sendable (DocumentChange) -> Void, synced: @escaping @Sendable (SyncOutcome) -> Void) {
        self.changed = changed
        self.synced = synced
    }

    func onSyncProgress(progress: SyncReport) {}

    func onSyncFinished(outcome: SyncOutcome) {
        DispatchQueue.main.async { self.synced(outcome) }
    }

    func onDocumentRejected(document: QuarantinedDocument) {}

    func onDocumentChanged(change: DocumentChange) {
        DispatchQueue.main.async { self.changed(change) }
    }
}

/// A rep's phone: one per app, created at launch.
final class RepPhone {
    let phone: FieldSyncPhone

    /// Opens (creating if needed) the database in Application Support.
    init() throws {
        let folder = try FileManager.default.url(
            for: .applicationSupportDirectory, in: .userDomainMask, appropriateFor: nil, create: true)
        phone = try FieldSyncPhone.open(path: folder.appendingPathComponent("fieldsync.db").path)
    }

    /// Signs in; keep `session.token` in the Keychain and pass it to `resume` at the next launch.
    func signIn(relayUrl: String, tenant: String, username: String, password: String) throws -> Session {
        try phone.login(baseUrl: relayUrl, tenant: tenant, username: username, password: password,
                        deviceName: "iPhone of \(username)")
    }

    /// Reconnects with the stored token, without the network.
    func resume(relayUrl: String, token: String) throws {
        try phone.resumeSession(baseUrl: relayUrl, token: token)
    }

    /// Registers the listener and syncs in the background (FieldSync's own thread).
    func start(events: PhoneEvents, intervalSeconds: UInt32 = 300) throws {
        phone.setListener(listener: events)
        try phone.startBackgroundSync(intervalSeconds: intervalSeconds)
    }

    /// Takes an order at a store, signal or not: prices each line with the catalog's preview,
    /// creates the order and submits it. It syncs with the next background sync.
    func takeOrder(storeId: String, quantities: [String: Int64], discountBp: Int64 = 0, notes: String = "") throws -> Order {
        let lines = try quantities.map { sku, qty in
            let price = try phone.pricePreview(sku: sku, qty: qty, discountBp: discountBp)
            return LineInput(sku: sku, qty: qty, unitPriceCents: price.unitPriceCents, discountBp: discountBp)
        }
        let orderId = try phone.createOrder(storeId: storeId, lines: lines, notes: notes)
        try phone.submitOrder(orderId: orderId)
        return try phone.order(orderId: orderId)
    }

    /// One line for the status bar.
    func statusLine() -> String {
        guard let status = try? phone.syncStatus() else { return "status unavailable" }
        if status.pendingChanges == 0 && status.pendingPhotos == 0 { return "all synced" }
        return "\(status.pendingChanges) changes and \(status.pendingPhotos) photos waiting"
    }

    /// What to show for a failure: the error's fields say what the rep can do.
    static func explain(_ error: Error) -> String {
        switch error {
        case FieldSyncError.Offline:
            return "No connection: the order is saved on the phone and syncs later."
        case FieldSyncError.Unauthenticated, FieldSyncError.NotSignedIn:
            return "Please sign in again."
        case let FieldSyncError.InvalidInput(field, reason):
            return "Check \(field): \(reason)"
        default:
            return error.localizedDescription
        }
    }

    deinit {
        phone.stopBackgroundSync()
        phone.clearListener()
    }
}
