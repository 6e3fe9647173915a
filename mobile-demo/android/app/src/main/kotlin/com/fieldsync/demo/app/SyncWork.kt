package com.fieldsync.demo.app

import android.content.Context
import androidx.work.Constraints
import androidx.work.CoroutineWorker
import androidx.work.ExistingPeriodicWorkPolicy
import androidx.work.ExistingWorkPolicy
import androidx.work.NetworkType
import androidx.work.OneTimeWorkRequestBuilder
import androidx.work.PeriodicWorkRequestBuilder
import androidx.work.WorkManager
import androidx.work.WorkerParameters
import androidx.work.workDataOf
import com.fieldsync.demo.BackgroundWindows
import com.fieldsync.demo.Lane
import com.fieldsync.demo.PhotoNetwork
import com.fieldsync.demo.SyncSchedule
import com.fieldsync.demo.WindowResult
import java.util.concurrent.TimeUnit
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.withContext

/** One background window: runs a lane with [BackgroundWindows] and maps its result for WorkManager. */
class SyncWorker(context: Context, params: WorkerParameters) : CoroutineWorker(context, params) {
    override suspend fun doWork(): Result = withContext(Dispatchers.IO) {
        val lane = Lane.valueOf(inputData.getString(SyncWork.LANE) ?: Lane.DOCUMENTS.name)
        val access = (applicationContext as FieldSyncApplication).access
        when (val result = BackgroundWindows(access).run(lane)) {
            is WindowResult.Done -> {
                if (lane == Lane.DOCUMENTS && result.photoBytesWaiting > 0u) {
                    SyncWork.enqueuePhotos(applicationContext, result.photoBytesWaiting)
                }
                Result.success()
            }
            is WindowResult.TryLater -> Result.retry()
            is WindowResult.SignInNeeded -> Result.failure()
            is WindowResult.Wiped -> {
                SyncWork.cancelAll(applicationContext)
                Result.failure()
            }
        }
    }
}

/** The WorkManager requests of the app: a periodic documents window and one-off photo windows. */
object SyncWork {
    const val LANE = "lane"
    private const val DOCUMENTS = "fieldsync-documents"
    private const val PHOTOS = "fieldsync-photos"

    /** Every [SyncSchedule.PERIODIC_MINUTES], on any network: orders, check-ins, verdicts. */
    fun schedulePeriodic(context: Context) {
        val request = PeriodicWorkRequestBuilder<SyncWorker>(SyncSchedule.PERIODIC_MINUTES, TimeUnit.MINUTES)
            .setConstraints(Constraints.Builder().setRequiredNetworkType(NetworkType.CONNECTED).build())
            .setInputData(workDataOf(LANE to Lane.DOCUMENTS.name))
            .build()
        WorkManager.getInstance(context).enqueueUniquePeriodicWork(DOCUMENTS, ExistingPeriodicWorkPolicy.KEEP, request)
    }

    /** A photo window on the network [SyncSchedule.photoNetwork] asks for [bytes] waiting. */
    fun enqueuePhotos(context: Context, bytes: ULong) {
        val network = when (SyncSchedule.photoNetwork(bytes, userWaiting = false)) {
            PhotoNetwork.ANY -> NetworkType.CONNECTED
            PhotoNetwork.UNMETERED -> NetworkType.UNMETERED
        }
        val request = OneTimeWorkRequestBuilder<SyncWorker>()
            .setConstraints(Constraints.Builder().setRequiredNetworkType(network).build())
            .setInputData(workDataOf(LANE to Lane.PHOTOS.name))
            .build()
        WorkManager.getInstance(context).enqueueUniqueWork(PHOTOS, ExistingWorkPolicy.REPLACE, request)
    }

    /** After a remote wipe: nothing left to sync until someone signs in. */
    fun cancelAll(context: Context) {
        WorkManager.getInstance(context).cancelUniqueWork(DOCUMENTS)
        WorkManager.getInstance(context).cancelUniqueWork(PHOTOS)
    }
}
