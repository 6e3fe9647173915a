package com.fieldsync.demo.app

import android.Manifest
import android.content.Context
import android.location.LocationManager
import android.os.CancellationSignal
import androidx.annotation.RequiresPermission
import androidx.core.content.ContextCompat
import androidx.core.location.LocationManagerCompat
import com.fieldsync.demo.LocationReading
import kotlin.coroutines.resume
import kotlinx.coroutines.suspendCancellableCoroutine

/**
 * One fresh position from the platform's location manager (no Play services needed;
 * `LocationManagerCompat` back-ports `getCurrentLocation` to API 28), or `null` when the phone
 * cannot tell. `GpsPolicy` decides whether it is good enough.
 */
@RequiresPermission(Manifest.permission.ACCESS_FINE_LOCATION)
suspend fun currentLocation(context: Context): LocationReading? = suspendCancellableCoroutine { continuation ->
    val manager = context.getSystemService(LocationManager::class.java)
    val provider = if (manager.isProviderEnabled(LocationManager.GPS_PROVIDER)) LocationManager.GPS_PROVIDER else LocationManager.NETWORK_PROVIDER
    val cancel = CancellationSignal()
    continuation.invokeOnCancellation { cancel.cancel() }
    LocationManagerCompat.getCurrentLocation(manager, provider, cancel, ContextCompat.getMainExecutor(context)) { location ->
        continuation.resume(location?.let { LocationReading(it.latitude, it.longitude, it.accuracy.toDouble(), it.time) })
    }
}
