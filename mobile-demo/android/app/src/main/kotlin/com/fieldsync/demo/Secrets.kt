package com.fieldsync.demo

import java.io.File
import java.security.GeneralSecurityException
import java.security.SecureRandom
import javax.crypto.Cipher
import javax.crypto.SecretKey
import javax.crypto.spec.GCMParameterSpec

/** Where the app keeps its small secrets: the database key and the session token. */
interface SecretStore {
    /** The secret called [name], or `null` when there is none. */
    fun read(name: String): ByteArray?

    /** Stores [value] as [name], replacing what was there. */
    fun write(name: String, value: ByteArray)

    /** Forgets [name]; nothing happens when there is none. */
    fun delete(name: String)
}

/** A sealed secret could not be opened: another wrapping key, or a file changed on disk. */
class SecretUnreadable(name: String, cause: Throwable) :
    Exception("secret $name cannot be unsealed with this wrapping key (another key, or the file was changed)", cause)

/**
 * Secrets sealed with AES-256-GCM under a wrapping key that never leaves the platform's key
 * store: on Android a non-exportable key of the Android Keystore (`app/KeystoreWrappingKey.kt`),
 * so the files in [dir] are ciphertext that only this app on this phone can open. Plain JCE, so
 * the same code runs on the JVM in the binding tests with a software key.
 *
 * A file is `version (1) | iv (12) | ciphertext and tag`, authenticated with its own name, so a
 * file copied over another name does not open.
 */
class WrappedSecretStore(private val dir: File, private val wrappingKey: () -> SecretKey) : SecretStore {
    init {
        dir.mkdirs()
        require(dir.isDirectory) { "secret folder ${dir.path} is not a directory" }
    }

    override fun read(name: String): ByteArray? {
        val sealed = file(name).takeIf { it.exists() }?.readBytes() ?: return null
        if (sealed.size < HEADER || sealed[0] != VERSION) {
            throw SecretUnreadable(name, IllegalStateException("${sealed.size} bytes, not a sealed secret"))
        }
        return try {
            val cipher = Cipher.getInstance(TRANSFORMATION)
            cipher.init(Cipher.DECRYPT_MODE, wrappingKey(), GCMParameterSpec(TAG_BITS, sealed, 1, IV_BYTES))
            cipher.updateAAD(name.toByteArray())
            cipher.doFinal(sealed, HEADER, sealed.size - HEADER)
        } catch (error: GeneralSecurityException) {
            throw SecretUnreadable(name, error)
        }
    }

    override fun write(name: String, value: ByteArray) {
        // The cipher picks the IV: a Keystore key refuses one chosen by the caller.
        val cipher = Cipher.getInstance(TRANSFORMATION)
        cipher.init(Cipher.ENCRYPT_MODE, wrappingKey())
        cipher.updateAAD(name.toByteArray())
        val sealed = byteArrayOf(VERSION) + cipher.iv + cipher.doFinal(value)
        // Written beside and renamed over, so a crash leaves the old secret or the new one.
        val partial = File(dir, "$name.partial")
        partial.writeBytes(sealed)
        if (!partial.renameTo(file(name))) {
            partial.delete()
            throw java.io.IOException("cannot store secret $name in ${dir.path}")
        }
    }

    override fun delete(name: String) {
        val target = file(name)
        if (target.exists() && !target.delete()) throw java.io.IOException("cannot delete secret $name in ${dir.path}")
    }

    private fun file(name: String): File {
        require(name.matches(Regex("[a-z0-9-]+"))) { "secret name $name: use lowercase letters, digits and dashes" }
        return File(dir, "$name.sealed")
    }

    private companion object {
        const val TRANSFORMATION = "AES/GCM/NoPadding"
        const val VERSION: Byte = 1
        const val IV_BYTES = 12
        const val TAG_BITS = 128
        const val HEADER = 1 + IV_BYTES
    }
}

/** A session the app can resume at the next launch without asking for the password. */
data class SavedSession(val relayUrl: String, val token: String)

/**
 * The app's policy for its secrets: one database key of 32 random bytes, created at the first
 * open and kept until a remote wipe; the session token from `login`; key rotation that never
 * leaves the database without a stored key that opens it.
 */
class PhoneSecrets(private val store: SecretStore, private val random: SecureRandom = SecureRandom()) {
    /** The database key, created (and stored) at the first call. */
    fun databaseKey(): ByteArray {
        store.read(DATABASE_KEY)?.let { key ->
            check(key.size == KEY_BYTES) { "stored database key has ${key.size} bytes, not $KEY_BYTES" }
            return key
        }
        val key = ByteArray(KEY_BYTES).also(random::nextBytes)
        store.write(DATABASE_KEY, key)
        return key
    }

    /**
     * A key a rotation stored before it re-encrypted the database and did not get to promote
     * (the app died in between): [PhoneAccess] tries it when the current key is refused.
     */
    fun pendingDatabaseKey(): ByteArray? = store.read(NEXT_DATABASE_KEY)

    /** Makes the pending key the database key (the database is encrypted with it now). */
    fun promotePendingKey() {
        val next = store.read(NEXT_DATABASE_KEY) ?: return
        store.write(DATABASE_KEY, next)
        store.delete(NEXT_DATABASE_KEY)
    }

    /** Creates and stores a new key as pending, before the database is re-encrypted with it. */
    fun newPendingKey(): ByteArray {
        val key = ByteArray(KEY_BYTES).also(random::nextBytes)
        store.write(NEXT_DATABASE_KEY, key)
        return key
    }

    /** Keeps the session granted at sign-in. */
    fun saveSession(session: SavedSession) {
        store.write(RELAY_URL, session.relayUrl.toByteArray())
        store.write(TOKEN, session.token.toByteArray())
    }

    /** The session of the last sign-in, if one is kept. */
    fun session(): SavedSession? {
        val url = store.read(RELAY_URL) ?: return null
        val token = store.read(TOKEN) ?: return null
        return SavedSession(String(url), String(token))
    }

    /** Forgets the session (sign-out): the database and its key stay. */
    fun forgetSession() {
        store.delete(TOKEN)
        store.delete(RELAY_URL)
    }

    /** Forgets everything (after a remote wipe): what is left of the old database has no key. */
    fun forgetAll() {
        forgetSession()
        store.delete(DATABASE_KEY)
        store.delete(NEXT_DATABASE_KEY)
    }

    private companion object {
        const val KEY_BYTES = 32
        const val DATABASE_KEY = "database-key"
        const val NEXT_DATABASE_KEY = "database-key-next"
        const val TOKEN = "session-token"
        const val RELAY_URL = "relay-url"
    }
}
