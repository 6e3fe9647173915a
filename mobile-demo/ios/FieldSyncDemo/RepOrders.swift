// The rep's order flow: pick a store, find products, see each line's price, take the order
// (signal or not), follow its review. It mirrors the Android sample's RepOrders.kt, which the
// binding tests run against a real relay; this file is not compiled on the Linux build machines.
//
// Every FieldSync call is synchronous and may wait for the disk: call these from a background
// task (the views do, through `Task.detached`), never the main actor.

import Foundation

/// Hears FieldSync on its own threads and hands events to the main queue for the UI.
final class PhoneEvents: FieldSyncListener, @unchecked Sendable {
    private let changed: @Sendable () -> Void

    init(changed: @escaping @Sendable () -> Void) {
        self.changed = changed
    }

    func onSyncProgress(progress: SyncReport) {}

    func onSyncFinished(outcome: SyncOutcome) {
        DispatchQueue.main.async { self.changed() }
    }

    func onDocumentRejected(document: QuarantinedDocument) {}

    func onDocumentChanged(change: DocumentChange) {
        DispatchQueue.main.async { self.changed() }
    }
}

/// A rep's orders.
struct RepOrders {
    let phone: FieldSyncPhone

    /// The rep's stores.
    func stores() throws -> [RetailStore] { try phone.stores().filter { $0.active } }

    /// Products matching `query` that can be ordered.
    func products(_ query: String, limit: UInt32 = 50) throws -> [Product] {
        try phone.searchProducts(query: query, limit: limit).filter { $0.active }
    }

    /// Takes an order at a store, signal or not: prices each line with the catalog's preview,
    /// creates the order and submits it. The running background sync pushes it at once.
    func takeOrder(storeId: String, quantities: [String: Int64], discountBp: Int64 = 0, notes: String = "") throws -> Order {
        guard !quantities.isEmpty else {
            throw FieldSyncError.InvalidInput(field: "lines", reason: "an order needs at least one line")
        }
        let lines = try quantities.map { sku, qty in
            let price = try phone.pricePreview(sku: sku, qty: qty, discountBp: discountBp)
            return LineInput(sku: sku, qty: qty, unitPriceCents: price.unitPriceCents, discountBp: discountBp)
        }
        let orderId = try phone.createOrder(storeId: storeId, lines: lines, notes: notes)
        try phone.submitOrder(orderId: orderId)
        return try phone.order(orderId: orderId)
    }

    /// The rep's orders, most recently edited first.
    func orders(limit: UInt32 = 50) throws -> [OrderSummary] {
        try phone.listOrders(filter: OrderFilter(status: nil, storeId: nil, createdFrom: nil, createdTo: nil, limit: limit))
    }

    /// One line for the status bar.
    func statusLine() -> String {
        guard let status = try? phone.syncStatus() else { return "status unavailable" }
        if status.pendingChanges == 0 && status.pendingPhotos == 0 { return "all synced" }
        return "\(status.pendingChanges) changes and \(status.pendingPhotos) photos waiting"
    }
}
