package com.fieldsync.demo

import java.io.File
import java.net.URI
import uniffi.fieldsync_ffi.FieldSyncException
import uniffi.fieldsync_ffi.FieldSyncPhone
import uniffi.fieldsync_ffi.Session

/**
 * The relay's address, checked once: `https://` (Android and iOS refuse plain HTTP by default,
 * and a phone on a café's Wi-Fi must not send its token in clear), or `http://` to one of
 * [cleartextHosts] for development (the emulator's view of the developer's machine, loopback).
 */
class RelayUrl private constructor(val value: String) {
    override fun toString() = value

    companion object {
        /** Hosts a development build may reach over plain HTTP: loopback and the emulator's host. */
        val DEVELOPMENT_HOSTS = setOf("127.0.0.1", "localhost", "10.0.2.2")

        /** Parses [text]; a clear [IllegalArgumentException] says what is wrong with it. */
        fun parse(text: String, cleartextHosts: Set<String> = emptySet()): RelayUrl {
            val uri = try {
                URI(text.trim())
            } catch (error: java.net.URISyntaxException) {
                throw IllegalArgumentException("relay url $text is not a url: ${error.reason}")
            }
            val host = uri.host ?: throw IllegalArgumentException("relay url $text has no host")
            when (uri.scheme?.lowercase()) {
                "https" -> {}
                "http" -> require(host in cleartextHosts) {
                    "relay url $text is plain http: use https (http only reaches ${cleartextHosts.sorted()})"
                }
                else -> throw IllegalArgumentException("relay url $text: the scheme must be https")
            }
            require(uri.rawQuery == null && uri.rawFragment == null) { "relay url $text: no query or fragment" }
            return RelayUrl(text.trim().trimEnd('/'))
        }
    }
}

/**
 * The app's one FieldSync phone and what surrounds it: opened with the database key from
 * [secrets], signed in again at each launch with the token kept there, moved between foreground
 * and background sync, and reset after a remote wipe.
 *
 * Every member blocks on the disk or the network, [phone] included (the first use opens the
 * database): call them from `Dispatchers.IO` or a worker, never the main thread.
 *
 * [languageTag] is the app's locale (`Locale.getDefault().toLanguageTag()`): findings, score
 * reasons and photo quality come back in it; a language FieldSync does not speak reads English.
 */
class PhoneAccess(
    private val databasePath: String,
    private val secrets: PhoneSecrets,
    val relayUrl: RelayUrl,
    private val languageTag: String = "en",
) : AutoCloseable {
    private var current: FieldSyncPhone? = null

    /** The phone, opened at the first use with the stored key and resumed with the stored token. */
    val phone: FieldSyncPhone
        get() = synchronized(this) { current ?: open().also { current = it } }

    private fun open(): FieldSyncPhone {
        val phone = try {
            FieldSyncPhone.open(databasePath, secrets.databaseKey())
        } catch (wrong: FieldSyncException.WrongKey) {
            // A rotation that re-encrypted the database but died before it promoted the new key.
            val pending = secrets.pendingDatabaseKey() ?: throw wrong
            FieldSyncPhone.open(databasePath, pending).also { secrets.promotePendingKey() }
        }
        try {
            phone.setLanguage(languageTag)
        } catch (unspoken: FieldSyncException.InvalidInput) {
            // English, the phone's default, for a locale FieldSync does not speak.
        }
        val saved = secrets.session()
        if (saved != null && phone.user() != null) phone.resumeSession(saved.relayUrl, saved.token)
        return phone
    }

    /** Whether someone is signed in with a kept session (otherwise show the sign-in screen). */
    fun isSignedIn(): Boolean = secrets.session() != null && phone.user() != null

    /** Signs in at the relay and keeps the token for the next launches. */
    fun signIn(tenant: String, username: String, password: String, deviceName: String): Session {
        val session = phone.login(relayUrl.value, tenant, username, password, deviceName)
        secrets.saveSession(SavedSession(relayUrl.value, session.token))
        return session
    }

    /** The app came to the foreground: sync often, and at once when the relay announces a change. */
    fun foreground() {
        if (!isSignedIn()) return
        phone.startBackgroundSync(SyncSchedule.FOREGROUND_INTERVAL_SECONDS)
        phone.startLive()
    }

    /** The app left the foreground: the platform's scheduled work takes over. */
    fun background() {
        val phone = synchronized(this) { current } ?: return
        phone.stopLive()
        phone.stopBackgroundSync()
    }

    /**
     * Rotates the database key: the new key is stored (as pending) before the database is
     * re-encrypted, and promoted after, so a stored key always opens the database.
     */
    fun rotateDatabaseKey() {
        val next = secrets.newPendingKey()
        phone.rekey(next)
        secrets.promotePendingKey()
    }

    /** Signs out: the relay revokes the token; unsynced work stays and syncs after the next sign-in. */
    fun signOut() {
        phone.logout()
        secrets.forgetSession()
    }

    /** The relay no longer knows the token (expired, signed out elsewhere): the data stays, sign in again. */
    fun sessionEnded() = secrets.forgetSession()

    /**
     * After `Revoked`: the phone already erased its data and runs on a new empty store encrypted
     * with the old key. Close it, forget the token and the key, and delete that store: the next
     * use opens a fresh database under a new key, and whatever the flash still holds of the old
     * file is ciphertext without a key.
     */
    fun resetAfterWipe() = synchronized(this) {
        current?.let { closePhone(it) }
        current = null
        secrets.forgetAll()
        for (suffix in listOf("", "-wal", "-shm", "-journal")) {
            val file = File(databasePath + suffix)
            if (file.exists() && !file.delete()) throw java.io.IOException("cannot delete ${file.path}")
        }
    }

    /** Stops syncing and releases the native phone. */
    override fun close() = synchronized(this) {
        current?.let { closePhone(it) }
        current = null
    }

    private fun closePhone(phone: FieldSyncPhone) {
        phone.stopLive()
        phone.stopBackgroundSync()
        phone.clearListener()
        phone.close()
    }
}
