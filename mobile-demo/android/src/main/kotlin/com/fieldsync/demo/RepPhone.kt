package com.fieldsync.demo

import uniffi.fieldsync_ffi.DocumentChange
import uniffi.fieldsync_ffi.FieldSyncListener
import uniffi.fieldsync_ffi.FieldSyncPhone
import uniffi.fieldsync_ffi.LineInput
import uniffi.fieldsync_ffi.Order
import uniffi.fieldsync_ffi.QuarantinedDocument
import uniffi.fieldsync_ffi.Session
import uniffi.fieldsync_ffi.SyncOutcome
import uniffi.fieldsync_ffi.SyncReport

/**
 * The FieldSync side of a rep's Android app, in plain Kotlin (no Android APIs), so that the
 * binding tests compile and run it on the JVM against the real library.
 *
 * In the app: create it once (for example in the Application) with a path under
 * `context.filesDir` and the database key (32 random bytes kept wrapped by the Android
 * Keystore; `null` leaves the database unencrypted), and call every method, the constructor
 * included, from a background dispatcher (`Dispatchers.IO`): FieldSync calls are synchronous
 * and may wait for the disk or the network.
 */
class RepPhone(databasePath: String, databaseKey: ByteArray? = null) : AutoCloseable {
    /** The phone's local store and sync engine. */
    val phone: FieldSyncPhone = FieldSyncPhone.open(databasePath, databaseKey)

    /** Signs in at the relay; keep `Session.token` in the Android Keystore for [resume]. */
    fun signIn(relayUrl: String, tenant: String, username: String, password: String, deviceName: String): Session =
        phone.login(relayUrl, tenant, username, password, deviceName)

    /** Reconnects with a stored token at app start, without the network. */
    fun resume(relayUrl: String, token: String) = phone.resumeSession(relayUrl, token)

    /**
     * Registers what the app hears. Callbacks arrive on FieldSync's threads: post to the main
     * thread (a `Handler` or `viewModelScope.launch(Dispatchers.Main)`) before touching views.
     */
    fun listen(changed: (DocumentChange) -> Unit, synced: (SyncOutcome) -> Unit) {
        phone.setListener(object : FieldSyncListener {
            override fun onSyncProgress(progress: SyncReport) {}
            override fun onSyncFinished(outcome: SyncOutcome) = synced(outcome)
            override fun onDocumentRejected(document: QuarantinedDocument) {}
            override fun onDocumentChanged(change: DocumentChange) = changed(change)
        })
    }

    /** Syncs in the background on FieldSync's own thread, at once after each local change. */
    fun startBackgroundSync(intervalSeconds: UInt = 300u) = phone.startBackgroundSync(intervalSeconds)

    /**
     * Takes an order at a store, signal or not: prices each line with the catalog's preview,
     * creates the order and submits it. It syncs with the next (background) sync.
     */
    fun takeOrder(storeId: String, quantities: Map<String, Long>, discountBp: Long = 0, notes: String = ""): Order {
        val lines = quantities.map { (sku, qty) ->
            val price = phone.pricePreview(sku, qty, discountBp)
            LineInput(sku = sku, qty = qty, unitPriceCents = price.unitPriceCents, discountBp = discountBp)
        }
        val orderId = phone.createOrder(storeId, lines, notes)
        phone.submitOrder(orderId)
        return phone.order(orderId)
    }

    /** One line for the status bar: "3 changes and 2 photos waiting" or "all synced". */
    fun statusLine(): String {
        val status = phone.syncStatus()
        return if (status.pendingChanges == 0uL && status.pendingPhotos == 0uL) {
            "all synced"
        } else {
            "${status.pendingChanges} changes and ${status.pendingPhotos} photos waiting"
        }
    }

    /** Stops syncing and releases the native object. */
    override fun close() {
        phone.stopBackgroundSync()
        phone.clearListener()
        phone.close()
    }
}
