package com.fieldsync.demo.app

import android.app.Application
import android.net.ConnectivityManager
import android.net.Network
import androidx.lifecycle.DefaultLifecycleObserver
import androidx.lifecycle.LifecycleOwner
import androidx.lifecycle.ProcessLifecycleOwner
import com.fieldsync.demo.BuildConfig
import com.fieldsync.demo.PhoneAccess
import com.fieldsync.demo.PhoneSecrets
import com.fieldsync.demo.RelayUrl
import com.fieldsync.demo.WrappedSecretStore
import java.io.File
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.SupervisorJob
import kotlinx.coroutines.launch

/**
 * Holds the app's one [PhoneAccess] and moves sync between the foreground (FieldSync's own
 * background sync and live channel) and the background (WorkManager, [SyncWork]).
 */
class FieldSyncApplication : Application() {
    /** Opens nothing by itself: the database opens at the first `access.phone`, on [io]. */
    val access: PhoneAccess by lazy {
        // noBackupFilesDir: neither the database nor the sealed secrets go to a backup.
        PhoneAccess(
            databasePath = File(noBackupFilesDir, "fieldsync.db").path,
            secrets = PhoneSecrets(WrappedSecretStore(File(noBackupFilesDir, "secrets"), KeystoreWrappingKey::getOrCreate)),
            relayUrl = RelayUrl.parse(BuildConfig.RELAY_URL, if (BuildConfig.DEBUG) RelayUrl.DEVELOPMENT_HOSTS else emptySet()),
            languageTag = java.util.Locale.getDefault().toLanguageTag(),
        )
    }

    /** Where every FieldSync call of the app runs: never the main thread. */
    val io = CoroutineScope(SupervisorJob() + Dispatchers.IO)

    override fun onCreate() {
        super.onCreate()
        ProcessLifecycleOwner.get().lifecycle.addObserver(object : DefaultLifecycleObserver {
            override fun onStart(owner: LifecycleOwner) {
                io.launch { access.foreground() }
            }

            override fun onStop(owner: LifecycleOwner) {
                io.launch { access.background() }
            }
        })
        SyncWork.schedulePeriodic(this)
        getSystemService(ConnectivityManager::class.java).registerDefaultNetworkCallback(object : ConnectivityManager.NetworkCallback() {
            override fun onAvailable(network: Network) {
                io.launch { if (access.isSignedIn()) access.phone.wakeSync() }
            }
        })
    }
}
