package com.fieldsync.demo

import uniffi.fieldsync_ffi.FieldSyncException

/** Which network a photo upload should wait for. */
enum class PhotoNetwork {
    /** Any connection: little to send, or the supervisor is waiting for the visit to finish. */
    ANY,

    /** Wi-Fi or another unmetered network: a large backlog, nobody waiting. */
    UNMETERED,
}

/**
 * When the platform gives the app time to sync, and what to run in it. The platform code (the
 * WorkManager worker on Android, the BGTaskScheduler handlers on iOS) only asks these questions
 * and calls [BackgroundWindows].
 */
object SyncSchedule {
    /** The background sync's interval while the app is in the foreground (the live channel wakes it sooner). */
    const val FOREGROUND_INTERVAL_SECONDS: UInt = 60u

    /** The periodic documents window: WorkManager's shortest period, and BGAppRefreshTask's usual one. */
    const val PERIODIC_MINUTES: Long = 15

    /** Above this many photo bytes waiting, a window nobody waits for holds out for an unmetered network. */
    const val METERED_PHOTO_BYTES: ULong = 8_388_608uL

    /** The network a photo window should ask for. */
    fun photoNetwork(pendingPhotoBytes: ULong, userWaiting: Boolean): PhotoNetwork =
        if (userWaiting || pendingPhotoBytes <= METERED_PHOTO_BYTES) PhotoNetwork.ANY else PhotoNetwork.UNMETERED
}

/** Which lane a background window runs. */
enum class Lane {
    /** Orders, check-ins, verdicts: small, every periodic window. */
    DOCUMENTS,

    /** Photos: large and resumable, in a window with a good network. */
    PHOTOS,
}

/** How a background window ended, and so what the platform should do next. */
sealed interface WindowResult {
    /** The lane is done; [photoBytesWaiting] > 0 asks for a photo window. */
    data class Done(val photoBytesWaiting: ULong) : WindowResult

    /** No connection or a relay error that passes: the platform retries with its backoff. */
    data class TryLater(val reason: String) : WindowResult

    /** Nobody signed in, or the relay no longer knows the token: stop until the user signs in. */
    data class SignInNeeded(val reason: String) : WindowResult

    /** HQ revoked the phone: its data is erased and its token and key forgotten. */
    data class Wiped(val reason: String) : WindowResult
}

/** Runs one lane in a window the platform granted (a worker's `doWork`, a BGTask's handler). */
class BackgroundWindows(private val access: PhoneAccess) {
    /** Runs [lane] to completion or failure; blocks, so call it off the main thread. */
    fun run(lane: Lane): WindowResult {
        if (!access.isSignedIn()) return WindowResult.SignInNeeded("nobody is signed in on this phone")
        val phone = access.phone
        return try {
            when (lane) {
                Lane.DOCUMENTS -> phone.syncDocumentsNow()
                Lane.PHOTOS -> phone.uploadPhotosNow()
            }
            WindowResult.Done(phone.syncStatus().pendingPhotoBytes)
        } catch (error: FieldSyncException.Offline) {
            WindowResult.TryLater(error.reason)
        } catch (error: FieldSyncException.Revoked) {
            access.resetAfterWipe()
            WindowResult.Wiped(error.reason)
        } catch (error: FieldSyncException.Unauthenticated) {
            access.sessionEnded()
            WindowResult.SignInNeeded(error.reason)
        } catch (error: FieldSyncException.NotSignedIn) {
            WindowResult.SignInNeeded(error.reason)
        }
    }
}
