// The generated Kotlin bindings on the JVM (JNA), against the real library and a real relay.
//
// scripts/test-bindings compiles this file with the generated bindings and the Android sample's
// plain-Kotlin part (kotlinc -Werror), starts a relay with the demo tenant, and runs `main` with
// FIELDSYNC_RELAY_URL and FIELDSYNC_TEST_PHOTOS set. Each test prints its name and time; any
// failure exits with status 1.
package com.fieldsync.tests

import com.fieldsync.demo.RepPhone
import java.io.File
import java.nio.file.Files
import java.util.Collections
import uniffi.fieldsync_ffi.AnswerValue
import uniffi.fieldsync_ffi.ChangeOrigin
import uniffi.fieldsync_ffi.DocumentChange
import uniffi.fieldsync_ffi.DocumentKind
import uniffi.fieldsync_ffi.FieldSyncException
import uniffi.fieldsync_ffi.FieldSyncPhone
import uniffi.fieldsync_ffi.GeoFix
import uniffi.fieldsync_ffi.OrderFilter
import uniffi.fieldsync_ffi.OrderStatus
import uniffi.fieldsync_ffi.ReviewState
import uniffi.fieldsync_ffi.Role
import uniffi.fieldsync_ffi.SyncOutcome
import uniffi.fieldsync_ffi.Trust

private const val TENANT = "demo"

private fun relayUrl(): String =
    System.getenv("FIELDSYNC_RELAY_URL") ?: error("FIELDSYNC_RELAY_URL is not set: run scripts/test-bindings")

private fun expectThat(condition: Boolean, what: () -> String) {
    if (!condition) throw AssertionError(what())
}

private inline fun <reified E : Throwable> assertThrows(call: () -> Unit): E {
    try {
        call()
    } catch (error: Throwable) {
        if (error is E) return error
        throw AssertionError("expected ${E::class.simpleName}, got $error", error)
    }
    throw AssertionError("expected ${E::class.simpleName}, nothing was thrown")
}

private fun waitFor(seconds: Long = 20, condition: () -> Boolean): Boolean {
    val deadline = System.nanoTime() + seconds * 1_000_000_000
    while (System.nanoTime() < deadline) {
        if (condition()) return true
        Thread.sleep(50)
    }
    return condition()
}

private fun tempDir(): File = Files.createTempDirectory("fieldsync-kotlin").toFile()

/** Errors are exceptions with their fields; a new phone works offline with nobody signed in. */
fun aNewPhoneWorksOfflineAndFailuresAreTypedExceptions() {
    val dir = tempDir()
    try {
        FieldSyncPhone.open(File(dir, "phone.db").path).use { phone ->
            expectThat(phone.user() == null) { "a new phone has no user" }
            expectThat(phone.listOrders(OrderFilter()).isEmpty()) { "a new phone has no orders" }
            val badId = assertThrows<FieldSyncException.InvalidInput> { phone.order("not-an-id") }
            expectThat(badId.field == "id" && badId.reason.contains("not-an-id")) { "field and reason: $badId" }
            assertThrows<FieldSyncException.NotSignedIn> { phone.syncNow() }
            val noCatalog = assertThrows<FieldSyncException.NotFound> { phone.searchProducts("", 5u) }
            expectThat(noCatalog.kind == "catalog") { "not found names the catalog: $noCatalog" }
        }
    } finally {
        dir.deleteRecursively()
    }
}

/**
 * The Android sample's flow: open, register the listener, start background sync, take an order
 * with no signal; the listener hears it on a Rust thread, the background sync pushes it once the
 * relay is reachable, and HQ sees it after its own sync.
 */
fun theAndroidSampleTakesAnOrderOfflineAndHqSeesItAfterSync() {
    val dir = tempDir()
    val main = Thread.currentThread()
    val changes = Collections.synchronizedList(mutableListOf<Pair<DocumentChange, Thread>>())
    val outcomes = Collections.synchronizedList(mutableListOf<Pair<SyncOutcome, Thread>>())
    try {
        // Encrypted at rest, as an app opens it with the key from the Android Keystore.
        val key = ByteArray(32).also { java.security.SecureRandom().nextBytes(it) }
        RepPhone(File(dir, "rep.db").path, key).use { rep ->
            expectThat(rep.phone.isEncrypted()) { "the sample opened its database with a key" }
            val session = rep.signIn(relayUrl(), TENANT, "rep-03", "demo-rep-03", "rep-03 (kotlin test)")
            expectThat(session.role == Role.REP) { "rep-03 is a rep: $session" }
            rep.phone.syncNow()
            val store = rep.phone.stores().first()
            val products = rep.phone.searchProducts("", 20u).filter { it.active }

            rep.listen(changed = { changes.add(it to Thread.currentThread()) }, synced = { outcomes.add(it to Thread.currentThread()) })
            rep.resume("http://127.0.0.1:9", session.token) // no signal in the shop
            val order = rep.takeOrder(store.id, mapOf(products[0].sku to 3L, products[1].sku to 1L), 500, "kotlin")
            expectThat(order.status == OrderStatus.SUBMITTED && order.reviewState == ReviewState.PENDING_REVIEW) {
                "a submitted order without its review is pending review: $order"
            }
            expectThat(order.lines.size == 2 && order.totalCents == order.lines.sumOf { it.totalCents }) { "lines: $order" }
            assertThrows<FieldSyncException.Offline> { rep.phone.syncNow() }
            expectThat(rep.statusLine() != "all synced") { "the order waits: ${rep.statusLine()}" }

            expectThat(waitFor { changes.any { it.first.documentId == order.id } }) { "the listener heard the order" }
            val (change, thread) = changes.first { it.first.documentId == order.id }
            expectThat(change.kind == DocumentKind.ORDER && change.origin == ChangeOrigin.LOCAL) { "change: $change" }
            expectThat(thread !== main) { "document changes come from FieldSync's feed thread" }

            rep.resume(relayUrl(), session.token) // signal is back
            rep.startBackgroundSync(60u)
            expectThat(waitFor { rep.phone.syncStatus().pendingChanges == 0uL }) { "the background sync pushed the order" }
            expectThat(waitFor { outcomes.any { it.first is SyncOutcome.Completed && it.second !== main } }) {
                "the background sync reported a completed sync from its own thread: $outcomes"
            }

            FieldSyncPhone.open(File(dir, "hq.db").path).use { hq ->
                hq.login(relayUrl(), TENANT, "hq-admin", "demo-hq-admin", "hq (kotlin test)")
                hq.syncNow()
                val submitted = hq.listOrders(OrderFilter(status = OrderStatus.SUBMITTED))
                expectThat(submitted.any { it.id == order.id }) { "HQ lists the rep's order" }
                val atHq = hq.order(order.id)
                expectThat(atHq.totalCents == order.totalCents && atHq.notes == "kotlin") { "HQ sees the same order: $atHq" }
            }
        }
    } finally {
        dir.deleteRecursively()
    }
}

/** A supervisor previews the score before leaving the store and removes a photo until check-out. */
fun aSupervisorPreviewsTheScoreAndRemovesAPhotoUntilCheckOut() {
    val dir = tempDir()
    try {
        FieldSyncPhone.open(File(dir, "supervisor.db").path).use { phone ->
            phone.login(relayUrl(), TENANT, "supervisor-north", "demo-supervisor-north", "supervisor (kotlin test)")
            phone.syncNow()
            val template = phone.templates().first()
            val store = phone.stores().first()
            val here = GeoFix(store.latitude, store.longitude, 8.0)
            val start = System.currentTimeMillis()
            val inspection = phone.checkIn(store.id, template.id, start, here)
            template.items.forEach { phone.answer(inspection, it.itemId, AnswerValue.YES, null, "") }
            val item = template.items.first { it.requiresPhoto }
            // A photo no other test submits: the preview would rightly call a resubmitted one reused.
            val photos = System.getenv("FIELDSYNC_TEST_PHOTOS") ?: error("FIELDSYNC_TEST_PHOTOS is not set")
            val photo = File(photos, "astronaut.jpg").readBytes()
            val added = phone.addPhoto(inspection, item.itemId, photo, start + 1000, here)

            val preview = phone.previewScore(inspection)
            expectThat(preview.verdict == Trust.REVIEW) { "an open visit's photo needs review: ${preview.reasons}" }
            val backed = preview.items.first { it.itemId == item.itemId }
            expectThat(backed.earned == item.weight && backed.reasons[0].contains("provisionally")) { "item: $backed" }

            val wrong = assertThrows<FieldSyncException.InvalidInput> {
                phone.removePhoto(inspection, template.items.first { it.itemId != item.itemId }.itemId, added.photo.sha256)
            }
            expectThat(wrong.field == "item_id") { "the wrong item is named: $wrong" }
            phone.removePhoto(inspection, item.itemId, added.photo.sha256)
            expectThat(phone.inspection(inspection).photos.isEmpty()) { "the photo is gone" }
            expectThat(phone.previewScore(inspection).items.first { it.itemId == item.itemId }.earned == 0.0) {
                "without its photo the item earns nothing"
            }
            phone.addPhoto(inspection, item.itemId, photo, start + 2000, here)
            phone.checkOut(inspection, start + 60_000, here)
            assertThrows<FieldSyncException.InvalidState> { phone.removePhoto(inspection, item.itemId, added.photo.sha256) }
            expectThat(phone.inspection(inspection).photos.size == 1) { "a checked-out visit keeps its photo" }
        }
    } finally {
        dir.deleteRecursively()
    }
}

fun main() {
    val tests = listOf(
        "a supervisor previews the score and removes a photo until check-out" to ::aSupervisorPreviewsTheScoreAndRemovesAPhotoUntilCheckOut,
        "a new phone works offline and failures are typed exceptions" to ::aNewPhoneWorksOfflineAndFailuresAreTypedExceptions,
        "the android sample takes an order offline and hq sees it after sync" to ::theAndroidSampleTakesAnOrderOfflineAndHqSeesItAfterSync,
    )
    var failed = 0
    for ((name, test) in tests) {
        val started = System.nanoTime()
        val result = runCatching { test() }
        val ms = (System.nanoTime() - started) / 1_000_000
        result.onSuccess { println("ok   $name (${ms} ms)") }
        result.onFailure { error ->
            failed++
            println("FAIL $name (${ms} ms): $error")
            error.printStackTrace()
        }
    }
    println("${tests.size - failed} passed, $failed failed")
    if (failed > 0) kotlin.system.exitProcess(1)
}
