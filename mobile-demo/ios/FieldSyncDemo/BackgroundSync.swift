// Background windows with BGTaskScheduler: a BGAppRefreshTask for documents (orders, check-ins,
// verdicts) and a BGProcessingTask with network for photos. The identifiers are listed in
// Info.plist (BGTaskSchedulerPermittedIdentifiers). The decisions are the Android sample's
// SyncSchedule.kt / BackgroundWindows (tested there against a real relay); this file is not
// compiled on the Linux build machines.

import BackgroundTasks
import Foundation

enum BackgroundSync {
    static let documentsTask = "com.fieldsync.demo.documents"
    static let photosTask = "com.fieldsync.demo.photos"
    /// Above this many photo bytes waiting, the photo window waits for Wi-Fi or power.
    static let meteredPhotoBytes: UInt64 = 8 * 1024 * 1024

    /// Registers the handlers; call once, before the app finishes launching.
    static func register() {
        BGTaskScheduler.shared.register(forTaskWithIdentifier: documentsTask, using: nil) { task in
            run(task, photos: false)
        }
        BGTaskScheduler.shared.register(forTaskWithIdentifier: photosTask, using: nil) { task in
            run(task, photos: true)
        }
    }

    /// Asks for the next documents window (about every 15 minutes; iOS decides).
    static func scheduleDocuments() {
        let request = BGAppRefreshTaskRequest(identifier: documentsTask)
        request.earliestBeginDate = Date(timeIntervalSinceNow: 15 * 60)
        try? BGTaskScheduler.shared.submit(request)
    }

    /// Asks for a photo window; a large backlog waits for external power (usually Wi-Fi at night).
    static func schedulePhotos(pendingBytes: UInt64) {
        let request = BGProcessingTaskRequest(identifier: photosTask)
        request.requiresNetworkConnectivity = true
        request.requiresExternalPower = pendingBytes > meteredPhotoBytes
        try? BGTaskScheduler.shared.submit(request)
    }

    private static func run(_ task: BGTask, photos: Bool) {
        if !photos { scheduleDocuments() }
        let work = Task.detached(priority: .background) {
            let finished = await window(photos: photos)
            task.setTaskCompleted(success: finished)
        }
        // An interrupted photo upload loses nothing: the next window resumes at the byte.
        task.expirationHandler = { work.cancel() }
    }

    /// Runs one lane; returns whether it finished (false asks iOS to try again later).
    private static func window(photos: Bool) async -> Bool {
        let access = PhoneAccess.shared
        do {
            guard try await access.isSignedIn() else { return true }
            let phone = try await access.phone()
            if photos { _ = try phone.uploadPhotosNow() } else { _ = try phone.syncDocumentsNow() }
            let waiting = try phone.syncStatus().pendingPhotoBytes
            if !photos && waiting > 0 { schedulePhotos(pendingBytes: waiting) }
            return true
        } catch FieldSyncError.Offline {
            return false
        } catch FieldSyncError.Revoked {
            try? await access.resetAfterWipe()
            return true
        } catch FieldSyncError.Unauthenticated {
            try? await access.sessionEnded()
            return true
        } catch {
            return false
        }
    }
}
