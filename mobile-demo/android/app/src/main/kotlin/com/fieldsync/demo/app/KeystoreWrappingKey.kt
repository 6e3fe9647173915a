package com.fieldsync.demo.app

import android.security.keystore.KeyGenParameterSpec
import android.security.keystore.KeyProperties
import java.security.KeyStore
import javax.crypto.KeyGenerator
import javax.crypto.SecretKey

/**
 * The AES-256-GCM key of the Android Keystore that seals the app's secrets (the database key,
 * the session token) in `WrappedSecretStore`. It never leaves the Keystore (hardware-backed on
 * most phones) and is not in any backup, so the sealed files are useless off this phone.
 *
 * No user authentication is required to use it: background sync runs while the screen is locked.
 */
object KeystoreWrappingKey {
    private const val ALIAS = "fieldsync-secrets"

    /** The key, created at the first call. */
    @Synchronized
    fun getOrCreate(): SecretKey {
        val keyStore = KeyStore.getInstance("AndroidKeyStore").apply { load(null) }
        (keyStore.getKey(ALIAS, null) as? SecretKey)?.let { return it }
        val spec = KeyGenParameterSpec.Builder(ALIAS, KeyProperties.PURPOSE_ENCRYPT or KeyProperties.PURPOSE_DECRYPT)
            .setBlockModes(KeyProperties.BLOCK_MODE_GCM)
            .setEncryptionPaddings(KeyProperties.ENCRYPTION_PADDING_NONE)
            .setKeySize(256)
            .setRandomizedEncryptionRequired(true)
            .build()
        return KeyGenerator.getInstance(KeyProperties.KEY_ALGORITHM_AES, "AndroidKeyStore").run {
            init(spec)
            generateKey()
        }
    }
}
