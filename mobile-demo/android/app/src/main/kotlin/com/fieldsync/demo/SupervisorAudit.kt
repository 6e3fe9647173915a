package com.fieldsync.demo

import uniffi.fieldsync_ffi.AnswerValue
import uniffi.fieldsync_ffi.FieldSyncPhone
import uniffi.fieldsync_ffi.GeoFix
import uniffi.fieldsync_ffi.PhotoPreview
import uniffi.fieldsync_ffi.RetailStore
import uniffi.fieldsync_ffi.ScoreReport
import uniffi.fieldsync_ffi.Template

/** A position as the platform's location API reported it (Android `Location`, iOS `CLLocation`). */
data class LocationReading(val latitude: Double, val longitude: Double, val accuracyM: Double, val takenAt: Long)

/** Whether a location reading is good enough to stamp a visit with. */
sealed interface GpsCheck {
    /** Use [fix]. */
    data class Usable(val fix: GeoFix) : GpsCheck

    /** Wait for a better reading; [reason] is for the screen. */
    data class Wait(val reason: String) : GpsCheck
}

/** Which readings a check-in, a photo or a check-out may carry. */
object GpsPolicy {
    /** Older readings may be from the previous store. */
    const val MAX_AGE_MS: Long = 2 * 60_000

    /** Coarser readings cannot tell neighbouring stores apart. */
    const val MAX_ACCURACY_M: Double = 100.0

    /** Checks [reading] at time [now] (ms since the Unix epoch). */
    fun check(reading: LocationReading?, now: Long): GpsCheck = when {
        reading == null -> GpsCheck.Wait("waiting for a GPS position")
        now - reading.takenAt > MAX_AGE_MS -> GpsCheck.Wait("the GPS position is ${(now - reading.takenAt) / 1000} s old")
        reading.accuracyM > MAX_ACCURACY_M -> GpsCheck.Wait("the GPS position is only accurate to ${reading.accuracyM.toInt()} m")
        else -> GpsCheck.Usable(GeoFix(reading.latitude, reading.longitude, reading.accuracyM))
    }
}

/** What is left to do before leaving the store. */
data class AuditProgress(
    /** Texts of items not answered yet: check-out waits for them. */
    val unanswered: List<String>,
    /** Texts of items answered "yes" that need a photo and have none: they will score nothing. */
    val missingPhotos: List<String>,
)

/**
 * The supervisor's store audit, in plain Kotlin (no Android APIs) so the binding tests run it on
 * the JVM against the real library and relay: check in with a GPS position, answer the
 * checklist, add photos (HEIC converted to JPEG by [encoder]), see what is left, check out, and
 * read the score preview.
 *
 * Every call blocks on the disk: call it from `Dispatchers.IO`.
 */
class SupervisorAudit(
    private val phone: FieldSyncPhone,
    private val encoder: JpegEncoder,
    private val clock: () -> Long = System::currentTimeMillis,
) {
    /** The stores of the supervisor's region. */
    fun stores(): List<RetailStore> = phone.stores().filter { it.active }

    /** The checklists. */
    fun templates(): List<Template> = phone.templates()

    /** Checks in at [storeId] with [templateId]; returns the inspection's id. */
    fun checkIn(storeId: String, templateId: String, reading: LocationReading?): String =
        phone.checkIn(storeId, templateId, clock(), usable(reading, "check in"))

    /** Answers an item (a new answer replaces the old one). */
    fun answer(inspectionId: String, itemId: String, value: AnswerValue, count: Long? = null, note: String = "") =
        phone.answer(inspectionId, itemId, value, count, note)

    /**
     * Adds a camera photo as evidence for [itemId]: a HEIC photo is converted to JPEG first, a
     * JPEG or PNG goes as it is. The position is attached when the reading is usable. The
     * preview says whether to retake it.
     */
    fun addPhoto(inspectionId: String, itemId: String, captured: ByteArray, reading: LocationReading?): PhotoPreview {
        val photo = CameraPhoto.prepare(captured, encoder)
        val position = (GpsPolicy.check(reading, clock()) as? GpsCheck.Usable)?.fix
        return phone.addPhoto(inspectionId, itemId, photo, clock(), position)
    }

    /** What is left before check-out. */
    fun progress(inspectionId: String): AuditProgress {
        val inspection = phone.inspection(inspectionId)
        val template = phone.templates().first { it.id == inspection.templateId }
        val answers = inspection.answers.associateBy { it.itemId }
        val photographed = inspection.photos.map { it.itemId }.toSet()
        return AuditProgress(
            unanswered = template.items.filter { it.itemId !in answers }.map { it.text },
            missingPhotos = template.items
                .filter { it.requiresPhoto && answers[it.itemId]?.value == AnswerValue.YES && it.itemId !in photographed }
                .map { it.text },
        )
    }

    /** What the relay will most likely say, computed on the phone. */
    fun scorePreview(inspectionId: String): ScoreReport = phone.previewScore(inspectionId)

    /**
     * Checks out once every item is answered, sends this visit's photos first, and returns the
     * score preview; the relay's own score arrives with a later sync ([relayScore]).
     */
    fun checkOut(inspectionId: String, reading: LocationReading?): ScoreReport {
        val unanswered = progress(inspectionId).unanswered
        check(unanswered.isEmpty()) { "answer every item before checking out: ${unanswered.joinToString("; ")}" }
        phone.checkOut(inspectionId, clock(), usable(reading, "check out"))
        phone.focusInspection(inspectionId)
        return phone.previewScore(inspectionId)
    }

    /** The relay's score, once it has synced to the phone. */
    fun relayScore(inspectionId: String): ScoreReport? = phone.inspectionScore(inspectionId)

    private fun usable(reading: LocationReading?, what: String): GeoFix =
        when (val gps = GpsPolicy.check(reading, clock())) {
            is GpsCheck.Usable -> gps.fix
            is GpsCheck.Wait -> throw IllegalStateException("cannot $what yet: ${gps.reason}")
        }
}
