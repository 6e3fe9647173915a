// The generated Kotlin bindings on the JVM (JNA), against the real library and a real relay.
//
// scripts/test-bindings compiles this file with the generated bindings and the Android sample's
// plain-Kotlin part (kotlinc -Werror), starts a relay with the demo tenant, and runs `main` with
// FIELDSYNC_RELAY_URL and FIELDSYNC_TEST_PHOTOS set. Each test prints its name and time; any
// failure exits with status 1.
package com.fieldsync.tests

import com.fieldsync.demo.AuditProgress
import com.fieldsync.demo.BackgroundWindows
import com.fieldsync.demo.CameraPhoto
import com.fieldsync.demo.GpsCheck
import com.fieldsync.demo.GpsPolicy
import com.fieldsync.demo.ImageKind
import com.fieldsync.demo.JpegEncoder
import com.fieldsync.demo.Lane
import com.fieldsync.demo.LocationReading
import com.fieldsync.demo.PhoneAccess
import com.fieldsync.demo.PhoneSecrets
import com.fieldsync.demo.PhotoNetwork
import com.fieldsync.demo.PhotoPlan
import com.fieldsync.demo.RelayUrl
import com.fieldsync.demo.RepOrders
import com.fieldsync.demo.SecretUnreadable
import com.fieldsync.demo.SupervisorAudit
import com.fieldsync.demo.SyncSchedule
import com.fieldsync.demo.WindowResult
import com.fieldsync.demo.WrappedSecretStore
import com.fieldsync.demo.listen
import java.io.File
import java.nio.file.Files
import java.util.Collections
import javax.crypto.KeyGenerator
import javax.crypto.SecretKey
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

/** The secrets of a sample app, sealed under a software AES key where the app uses the Android Keystore's. */
private fun sampleSecrets(dir: File, wrappingKey: SecretKey = newWrappingKey()) =
    PhoneSecrets(WrappedSecretStore(File(dir, "secrets"), { wrappingKey }))

private fun newWrappingKey(): SecretKey = KeyGenerator.getInstance("AES").apply { init(256) }.generateKey()

private fun sampleAccess(dir: File, secrets: PhoneSecrets, name: String = "phone.db") =
    PhoneAccess(File(dir, name).path, secrets, RelayUrl.parse(relayUrl(), RelayUrl.DEVELOPMENT_HOSTS))

/** Whether [needle] occurs in [haystack]. */
private fun ByteArray.holds(needle: ByteArray): Boolean =
    (0..size - needle.size).any { start -> needle.indices.all { this[start + it] == needle[it] } }

/**
 * The Android sample's flow: open, register the listener, start background sync, take an order
 * with no signal; the listener hears it on a Rust thread, the background sync pushes it once the
 * relay is reachable, and HQ sees it after its own sync. The next launch resumes with the sealed
 * token and the database key, without the password.
 */
fun theAndroidSampleTakesAnOrderOfflineAndHqSeesItAfterSync() {
    val dir = tempDir()
    val main = Thread.currentThread()
    val changes = Collections.synchronizedList(mutableListOf<Pair<DocumentChange, Thread>>())
    val outcomes = Collections.synchronizedList(mutableListOf<Pair<SyncOutcome, Thread>>())
    val wrappingKey = newWrappingKey()
    try {
        val order = sampleAccess(dir, sampleSecrets(dir, wrappingKey), "rep.db").use { access ->
            expectThat(!access.isSignedIn()) { "a new app shows the sign-in screen" }
            val session = access.signIn(TENANT, "rep-03", "demo-rep-03", "rep-03 (kotlin test)")
            expectThat(session.role == Role.REP) { "rep-03 is a rep: $session" }
            expectThat(access.phone.isEncrypted()) { "the sample opened its database with its key" }
            val sealed = File(dir, "secrets").listFiles()!!.map { it.readBytes() }
            expectThat(sealed.size == 3 && sealed.none { it.holds(session.token.toByteArray()) }) {
                "key, token and relay url are sealed; the token is not on disk in clear"
            }
            val rep = RepOrders(access.phone)
            access.phone.syncNow()
            val store = rep.stores().first()
            val products = rep.products("", 20u)

            access.phone.listen(changed = { changes.add(it to Thread.currentThread()) }, synced = { outcomes.add(it to Thread.currentThread()) })
            access.phone.resumeSession("http://127.0.0.1:9", session.token) // no signal in the shop
            val order = rep.takeOrder(store.id, mapOf(products[0].sku to 3L, products[1].sku to 1L), 500, "kotlin")
            expectThat(order.status == OrderStatus.SUBMITTED && order.reviewState == ReviewState.PENDING_REVIEW) {
                "a submitted order without its review is pending review: $order"
            }
            expectThat(order.lines.size == 2 && order.totalCents == order.lines.sumOf { it.totalCents }) { "lines: $order" }
            expectThat(order.lines.all { it.unitPriceCents == rep.linePrice(it.sku, it.qty, 500).unitPriceCents }) { "priced: $order" }
            assertThrows<FieldSyncException.Offline> { access.phone.syncNow() }
            expectThat(rep.statusLine() != "all synced") { "the order waits: ${rep.statusLine()}" }

            expectThat(waitFor { changes.any { it.first.documentId == order.id } }) { "the listener heard the order" }
            val (change, thread) = changes.first { it.first.documentId == order.id }
            expectThat(change.kind == DocumentKind.ORDER && change.origin == ChangeOrigin.LOCAL) { "change: $change" }
            expectThat(thread !== main) { "document changes come from FieldSync's feed thread" }

            access.phone.resumeSession(relayUrl(), session.token) // signal is back
            access.foreground()
            val status = access.phone.syncStatus()
            expectThat(status.background && status.live) { "in the foreground it syncs in the background and live: $status" }
            expectThat(waitFor { access.phone.syncStatus().pendingChanges == 0uL }) { "the background sync pushed the order" }
            expectThat(waitFor { outcomes.any { it.first is SyncOutcome.Completed && it.second !== main } }) {
                "the background sync reported a completed sync from its own thread: $outcomes"
            }
            access.background()
            expectThat(access.phone.syncStatus().let { !it.background && !it.live }) { "in the background the platform's work takes over" }
            order
        }

        FieldSyncPhone.open(File(dir, "hq.db").path).use { hq ->
            hq.login(relayUrl(), TENANT, "hq-admin", "demo-hq-admin", "hq (kotlin test)")
            hq.syncNow()
            val submitted = hq.listOrders(OrderFilter(status = OrderStatus.SUBMITTED))
            expectThat(submitted.any { it.id == order.id }) { "HQ lists the rep's order" }
            val atHq = hq.order(order.id)
            expectThat(atHq.totalCents == order.totalCents && atHq.notes == "kotlin") { "HQ sees the same order: $atHq" }
        }

        // The next launch: the sealed token and key open and resume, no password asked.
        sampleAccess(dir, sampleSecrets(dir, wrappingKey), "rep.db").use { access ->
            expectThat(access.isSignedIn()) { "the kept session signs the rep in" }
            expectThat(BackgroundWindows(access).run(Lane.DOCUMENTS) is WindowResult.Done) { "a documents window syncs with the kept token" }
            expectThat(RepOrders(access.phone).orders().any { it.id == order.id }) { "the order is still on the phone" }
        }
        val stranger = assertThrows<SecretUnreadable> { sampleSecrets(dir).session() }
        expectThat(stranger.message!!.contains("relay-url")) { "another wrapping key opens nothing: $stranger" }
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
            // The app's locale: the same report, in Simplified Chinese, with the same codes.
            phone.setLanguage("zh-CN")
            val chinese = phone.previewScore(inspection)
            expectThat(chinese.reasons[0] == "结论：待人工复核" && chinese.reasonCodes[0] == "reason-verdict") {
                "the verdict reads in Chinese: ${chinese.reasons}"
            }
            assertThrows<FieldSyncException.InvalidInput> { phone.setLanguage("xx") }
            phone.setLanguage("en")

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

/**
 * Stands in for the OS converter, which cannot run here: Android's `ImageDecoder` and
 * `Bitmap.compress` (iOS: `UIImage.jpegData`) decode HEIC, the JVM cannot. It records what it was
 * asked and re-encodes a real PNG as JPEG with ImageIO, so the audit stores a real converted photo.
 */
private class StandInJpegEncoder(private val png: File) : JpegEncoder {
    val asked = mutableListOf<Pair<Int, Int>>()

    override fun encode(image: ByteArray, quality: Int): ByteArray {
        asked.add(image.size to quality)
        val pixels = javax.imageio.ImageIO.read(png)
        val rgb = java.awt.image.BufferedImage(pixels.width, pixels.height, java.awt.image.BufferedImage.TYPE_INT_RGB)
        rgb.createGraphics().apply { drawImage(pixels, 0, 0, null); dispose() }
        return java.io.ByteArrayOutputStream().also { javax.imageio.ImageIO.write(rgb, "jpg", it) }.toByteArray()
    }
}

private fun fixture(name: String): File =
    File(System.getenv("FIELDSYNC_TEST_PHOTOS") ?: error("FIELDSYNC_TEST_PHOTOS is not set"), name)

/**
 * The supervisor's audit from the samples: check in with a fresh GPS position (a stale one is
 * refused), answer, add a camera JPEG as it is and a HEIC photo converted to JPEG (raw HEIC is
 * refused by the phone, which is why the app converts), check out only once everything is
 * answered, read the score preview, and upload the photos in a photo window.
 */
fun theSupervisorSampleAuditsAStoreWithGpsAConvertedHeicPhotoAndAScorePreview() {
    val dir = tempDir()
    try {
        sampleAccess(dir, sampleSecrets(dir)).use { access ->
            access.signIn(TENANT, "supervisor-south", "demo-supervisor-south", "supervisor (kotlin test)")
            expectThat(BackgroundWindows(access).run(Lane.DOCUMENTS) is WindowResult.Done) { "the first window brings the region" }
            val encoder = StandInJpegEncoder(fixture("camera.png"))
            val audit = SupervisorAudit(access.phone, encoder)
            val store = audit.stores().first()
            val template = audit.templates().first { t -> t.items.count { it.requiresPhoto } >= 2 }
            val now = System.currentTimeMillis()
            val atStore = LocationReading(store.latitude, store.longitude, 12.0, now)

            val stale = assertThrows<IllegalStateException> { audit.checkIn(store.id, template.id, atStore.copy(takenAt = now - 300_000)) }
            expectThat(stale.message!!.contains("300 s old")) { "a stale position is refused: $stale" }
            val inspection = audit.checkIn(store.id, template.id, atStore)

            val last = template.items.last()
            template.items.filter { it != last }.forEach { audit.answer(inspection, it.itemId, AnswerValue.YES) }
            expectThat(audit.progress(inspection).unanswered == listOf(last.text)) { "one item left: ${audit.progress(inspection)}" }
            val early = assertThrows<IllegalStateException> { audit.checkOut(inspection, atStore) }
            expectThat(early.message!!.contains(last.text)) { "check-out names what is unanswered: $early" }
            audit.answer(inspection, last.itemId, AnswerValue.YES, note = "kotlin")
            val needPhotos = template.items.filter { it.requiresPhoto }
            expectThat(audit.progress(inspection) == AuditProgress(emptyList(), needPhotos.map { it.text })) {
                "the items needing a photo are listed: ${audit.progress(inspection)}"
            }

            // A JPEG from the camera goes as it is: the converter is not asked.
            val jpeg = fixture("hopper.jpg").readBytes()
            val asIs = audit.addPhoto(inspection, needPhotos[0].itemId, jpeg, atStore)
            expectThat(encoder.asked.isEmpty() && asIs.photo.position != null) { "as it is, with its position: $asIs" }

            // A HEIC photo (a real HEIF file's bytes) is converted; the phone itself refuses HEIC.
            val heic = fixture("exif.heic").readBytes()
            expectThat(CameraPhoto.kind(heic) == ImageKind.HEIF && CameraPhoto.plan(heic) == PhotoPlan.ConvertToJpeg(90)) {
                "HEIC is recognised from its bytes"
            }
            val raw = assertThrows<FieldSyncException.PhotoRejected> {
                access.phone.addPhoto(inspection, needPhotos[1].itemId, heic, now, null)
            }
            expectThat(raw.reason.contains("jpeg")) { "the phone names the formats it takes: $raw" }
            val converted = audit.addPhoto(inspection, needPhotos[1].itemId, heic, atStore.copy(accuracyM = 500.0))
            expectThat(encoder.asked == listOf(heic.size to CameraPhoto.JPEG_QUALITY)) { "the HEIC went to the converter: ${encoder.asked}" }
            expectThat(converted.photo.position == null) { "a coarse position is not attached to the photo: $converted" }
            expectThat(audit.progress(inspection).missingPhotos == needPhotos.drop(2).map { it.text }) { "photos counted" }
            assertThrows<IllegalArgumentException> { audit.addPhoto(inspection, needPhotos[1].itemId, "GIF89a".toByteArray(), atStore) }

            val preview = audit.checkOut(inspection, atStore)
            expectThat(preview.inspectionId == inspection && preview.items.map { it.itemId }.toSet() == template.items.map { it.itemId }.toSet()) {
                "the preview scores every item of the visit: $preview"
            }
            expectThat(preview.photos.size == 2 && preview.score in 0.0..100.0) { "both photos assessed: $preview" }
            val photos = BackgroundWindows(access).run(Lane.PHOTOS)
            expectThat(photos == WindowResult.Done(0uL) && access.phone.syncStatus().pendingPhotos == 0uL) { "photos uploaded: $photos" }
            expectThat(BackgroundWindows(access).run(Lane.DOCUMENTS) is WindowResult.Done) { "the checked-out visit synced" }
            expectThat(access.phone.syncStatus().pendingChanges == 0uL) { "nothing waits" }
        }
    } finally {
        dir.deleteRecursively()
    }
}

/** POSTs to the relay's API as [token]; returns the status. */
private fun post(path: String, token: String): Int {
    val connection = java.net.URI(relayUrl() + path).toURL().openConnection() as java.net.HttpURLConnection
    connection.requestMethod = "POST"
    connection.setRequestProperty("Authorization", "Bearer $token")
    connection.doOutput = true
    connection.outputStream.close()
    return connection.responseCode.also { connection.disconnect() }
}

/**
 * HQ revokes a rep's phone: the next background window erases it, the sample forgets its token
 * and key and deletes the emptied store, and the app starts over on a new key.
 */
fun aRevokedPhonesBackgroundWindowWipesItAndTheSampleForgetsItsTokenAndKey() {
    val dir = tempDir()
    try {
        val secrets = sampleSecrets(dir)
        sampleAccess(dir, secrets).use { access ->
            val session = access.signIn(TENANT, "rep-05", "demo-rep-05", "rep-05 (kotlin revoke test)")
            val rep = RepOrders(access.phone)
            access.phone.syncDocumentsNow()
            rep.takeOrder(rep.stores().first().id, mapOf(rep.products("", 5u).first().sku to 2L), notes = "revoked")
            val oldKey = secrets.databaseKey()

            val hq = FieldSyncPhone.open(File(dir, "hq.db").path).use { it.login(relayUrl(), TENANT, "hq-admin", "demo-hq-admin", "hq (revoke)") }
            expectThat(post("/v1/devices/${session.deviceId}/revoke", hq.token) == 200) { "HQ revoked the device" }

            val wiped = BackgroundWindows(access).run(Lane.DOCUMENTS)
            expectThat(wiped is WindowResult.Wiped && wiped.reason.contains("revoked")) { "the window reports the wipe: $wiped" }
            expectThat(secrets.session() == null) { "the token is forgotten" }
            expectThat(!File(dir, "phone.db").exists()) { "the emptied store under the old key is deleted" }

            expectThat(!access.isSignedIn() && access.phone.user() == null && access.phone.isEncrypted()) { "a fresh encrypted phone" }
            expectThat(!secrets.databaseKey().contentEquals(oldKey)) { "under a new key" }
            expectThat(RepOrders(access.phone).orders().isEmpty()) { "the orders are gone" }
            expectThat(BackgroundWindows(access).run(Lane.DOCUMENTS) is WindowResult.SignInNeeded) { "next window: sign in" }
        }
    } finally {
        dir.deleteRecursively()
    }
}

/** The samples' decisions that need no relay: key rotation, relay URLs, networks, GPS, formats. */
fun theSamplesPoliciesDecideAsDocumented() {
    val dir = tempDir()
    try {
        // A rotation that died between re-encrypting and promoting the key still opens.
        val secrets = sampleSecrets(dir)
        val next = sampleAccess(dir, secrets).use { access ->
            access.rotateDatabaseKey()
            val rotated = secrets.databaseKey()
            val next = secrets.newPendingKey()
            access.phone.rekey(next) // the app dies here, before promoting
            expectThat(!next.contentEquals(rotated)) { "a new key" }
            next
        }
        sampleAccess(dir, secrets).use { access ->
            expectThat(access.phone.isEncrypted() && secrets.databaseKey().contentEquals(next)) { "opened with the pending key, promoted" }
            expectThat(secrets.pendingDatabaseKey() == null) { "nothing pending" }
        }
        val wrong = assertThrows<FieldSyncException.WrongKey> { FieldSyncPhone.open(File(dir, "phone.db").path, ByteArray(32)) }
        expectThat(wrong.reason.isNotEmpty()) { "a wrong key says so: $wrong" }
    } finally {
        dir.deleteRecursively()
    }

    expectThat(RelayUrl.parse("https://relay.example.com/").value == "https://relay.example.com") { "https, trailing slash dropped" }
    val plain = assertThrows<IllegalArgumentException> { RelayUrl.parse("http://relay.example.com", RelayUrl.DEVELOPMENT_HOSTS) }
    expectThat(plain.message!!.contains("use https")) { "plain http to a real host is refused: $plain" }
    expectThat(RelayUrl.parse("http://10.0.2.2:8080", RelayUrl.DEVELOPMENT_HOSTS).value == "http://10.0.2.2:8080") { "emulator host" }
    assertThrows<IllegalArgumentException> { RelayUrl.parse("ftp://relay.example.com") }

    val big = SyncSchedule.METERED_PHOTO_BYTES + 1u
    expectThat(SyncSchedule.photoNetwork(big, userWaiting = false) == PhotoNetwork.UNMETERED) { "a backlog waits for Wi-Fi" }
    expectThat(SyncSchedule.photoNetwork(big, userWaiting = true) == PhotoNetwork.ANY) { "a waiting supervisor does not" }
    expectThat(SyncSchedule.photoNetwork(1024u, userWaiting = false) == PhotoNetwork.ANY) { "a few photos go on any network" }

    val now = 1_000_000_000L
    expectThat(GpsPolicy.check(null, now) == GpsCheck.Wait("waiting for a GPS position")) { "no reading" }
    expectThat(GpsPolicy.check(LocationReading(50.0, 7.0, 150.0, now), now) is GpsCheck.Wait) { "too coarse" }
    expectThat(GpsPolicy.check(LocationReading(50.0, 7.0, 15.0, now - 1000), now) == GpsCheck.Usable(GeoFix(50.0, 7.0, 15.0))) { "fresh" }

    expectThat(CameraPhoto.kind(fixture("camera.png").readBytes()) == ImageKind.PNG) { "png" }
    expectThat(CameraPhoto.plan(ByteArray(0)) == PhotoPlan.Refuse("the photo is empty (0 bytes)")) { "empty" }
    val notJpeg = assertThrows<IllegalStateException> { CameraPhoto.prepare(fixture("exif.heic").readBytes()) { heic, _ -> heic } }
    expectThat(notJpeg.message!!.contains("not a jpeg")) { "a converter that returns no JPEG is caught: $notJpeg" }
}

fun main() {
    val tests = listOf(
        "a supervisor previews the score and removes a photo until check-out" to ::aSupervisorPreviewsTheScoreAndRemovesAPhotoUntilCheckOut,
        "a new phone works offline and failures are typed exceptions" to ::aNewPhoneWorksOfflineAndFailuresAreTypedExceptions,
        "the android sample takes an order offline and hq sees it after sync" to ::theAndroidSampleTakesAnOrderOfflineAndHqSeesItAfterSync,
        "the supervisor sample audits a store with gps, a converted heic photo and a score preview" to
            ::theSupervisorSampleAuditsAStoreWithGpsAConvertedHeicPhotoAndAScorePreview,
        "a revoked phone's background window wipes it and the sample forgets its token and key" to
            ::aRevokedPhonesBackgroundWindowWipesItAndTheSampleForgetsItsTokenAndKey,
        "the samples' policies decide as documented" to ::theSamplesPoliciesDecideAsDocumented,
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
