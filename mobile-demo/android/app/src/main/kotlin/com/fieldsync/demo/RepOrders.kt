package com.fieldsync.demo

import uniffi.fieldsync_ffi.DocumentChange
import uniffi.fieldsync_ffi.FieldSyncListener
import uniffi.fieldsync_ffi.FieldSyncPhone
import uniffi.fieldsync_ffi.LineInput
import uniffi.fieldsync_ffi.Order
import uniffi.fieldsync_ffi.OrderFilter
import uniffi.fieldsync_ffi.OrderSummary
import uniffi.fieldsync_ffi.PricePreview
import uniffi.fieldsync_ffi.Product
import uniffi.fieldsync_ffi.QuarantinedDocument
import uniffi.fieldsync_ffi.RetailStore
import uniffi.fieldsync_ffi.SyncOutcome
import uniffi.fieldsync_ffi.SyncReport

/**
 * The rep's order flow, in plain Kotlin (no Android APIs) so the binding tests compile and run
 * it on the JVM against the real library: pick a store, find products, see each line's price,
 * take the order (signal or not), follow its review.
 *
 * Every call blocks on the disk: call it from `Dispatchers.IO`, never the main thread.
 */
class RepOrders(private val phone: FieldSyncPhone) {
    /** The rep's stores. */
    fun stores(): List<RetailStore> = phone.stores().filter { it.active }

    /** Products matching [query] (name or SKU) that can be ordered. */
    fun products(query: String, limit: UInt = 50u): List<Product> = phone.searchProducts(query, limit).filter { it.active }

    /** The price of one line as the relay's review will most likely set it. */
    fun linePrice(sku: String, qty: Long, discountBp: Long = 0): PricePreview = phone.pricePreview(sku, qty, discountBp)

    /**
     * Takes an order at a store, signal or not: prices each line with the catalog's preview,
     * creates the order and submits it. The running background sync pushes it at once.
     */
    fun takeOrder(storeId: String, quantities: Map<String, Long>, discountBp: Long = 0, notes: String = ""): Order {
        require(quantities.isNotEmpty()) { "an order needs at least one line" }
        val lines = quantities.map { (sku, qty) ->
            LineInput(sku = sku, qty = qty, unitPriceCents = linePrice(sku, qty, discountBp).unitPriceCents, discountBp = discountBp)
        }
        val orderId = phone.createOrder(storeId, lines, notes)
        phone.submitOrder(orderId)
        return phone.order(orderId)
    }

    /** The rep's orders, most recently edited first. */
    fun orders(limit: UInt = 50u): List<OrderSummary> = phone.listOrders(OrderFilter(limit = limit))

    /** One order with its lines and its review state. */
    fun order(orderId: String): Order = phone.order(orderId)

    /** One line for the status bar: "3 changes and 2 photos waiting" or "all synced". */
    fun statusLine(): String {
        val status = phone.syncStatus()
        return if (status.pendingChanges == 0uL && status.pendingPhotos == 0uL) {
            "all synced"
        } else {
            "${status.pendingChanges} changes and ${status.pendingPhotos} photos waiting"
        }
    }
}

/**
 * Registers what the app hears. Callbacks arrive on FieldSync's threads: post to the main
 * thread (`viewModelScope.launch(Dispatchers.Main)`) before touching views.
 */
fun FieldSyncPhone.listen(changed: (DocumentChange) -> Unit, synced: (SyncOutcome) -> Unit) {
    setListener(object : FieldSyncListener {
        override fun onSyncProgress(progress: SyncReport) {}
        override fun onSyncFinished(outcome: SyncOutcome) = synced(outcome)
        override fun onDocumentRejected(document: QuarantinedDocument) {}
        override fun onDocumentChanged(change: DocumentChange) = changed(change)
    })
}
