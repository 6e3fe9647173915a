// The app's one FieldSync phone: opened off the main actor with the key from the Keychain,
// signed in again at each launch with the kept token, moved between foreground and background
// sync, and reset after a remote wipe. It mirrors the Android sample's PhoneAccess.kt, which the
// binding tests run against a real relay; this file is not compiled on the Linux build machines.

import Foundation

/// The relay's address from Info.plist (`FieldSyncRelayURL`): https, or http to loopback for
/// development (App Transport Security refuses other plain-http hosts anyway).
enum Relay {
    static let developmentHosts: Set<String> = ["127.0.0.1", "localhost"]

    static func url(_ bundle: Bundle = .main) throws -> String {
        guard let text = bundle.object(forInfoDictionaryKey: "FieldSyncRelayURL") as? String,
              let url = URL(string: text), let host = url.host else {
            throw FieldSyncError.InvalidInput(field: "FieldSyncRelayURL", reason: "Info.plist has no relay url")
        }
        switch url.scheme?.lowercased() {
        case "https": break
        case "http" where developmentHosts.contains(host): break
        default:
            throw FieldSyncError.InvalidInput(field: "FieldSyncRelayURL", reason: "relay url \(text) is not https")
        }
        return text.hasSuffix("/") ? String(text.dropLast()) : text
    }
}

/// Owns the phone. Every method blocks on the disk or the network: it is an actor, so callers
/// `await` it and the work runs off the main actor.
actor PhoneAccess {
    static let shared = PhoneAccess()

    private var current: FieldSyncPhone?
    private let databasePath: String

    init() {
        // Application Support, excluded from backups: the key stays in this device's Keychain,
        // so a restored copy could not be opened.
        var folder = (try? FileManager.default.url(for: .applicationSupportDirectory, in: .userDomainMask,
                                                   appropriateFor: nil, create: true))
            ?? FileManager.default.temporaryDirectory
        var values = URLResourceValues()
        values.isExcludedFromBackup = true
        try? folder.setResourceValues(values)
        databasePath = folder.appendingPathComponent("fieldsync.db").path
    }

    /// The phone, opened at the first use with the stored key and resumed with the stored token.
    func phone() throws -> FieldSyncPhone {
        if let phone = current { return phone }
        let phone: FieldSyncPhone
        do {
            phone = try FieldSyncPhone.open(path: databasePath, key: PhoneSecrets.databaseKey())
        } catch FieldSyncError.WrongKey(let reason) {
            // A rotation that re-encrypted the database but died before it promoted the new key.
            guard let pending = try PhoneSecrets.pendingDatabaseKey() else { throw FieldSyncError.WrongKey(reason: reason) }
            phone = try FieldSyncPhone.open(path: databasePath, key: pending)
            try PhoneSecrets.promotePendingKey()
        }
        if let saved = try PhoneSecrets.session(), phone.user() != nil {
            try phone.resumeSession(baseUrl: saved.relayUrl, token: saved.token)
        }
        current = phone
        return phone
    }

    /// Whether someone is signed in with a kept session.
    func isSignedIn() throws -> Bool {
        guard try PhoneSecrets.session() != nil else { return false }
        return try phone().user() != nil
    }

    /// Signs in and keeps the token in the Keychain.
    func signIn(tenant: String, username: String, password: String, deviceName: String) throws -> Session {
        let relay = try Relay.url()
        let session = try phone().login(baseUrl: relay, tenant: tenant, username: username, password: password,
                                        deviceName: deviceName)
        try PhoneSecrets.saveSession(relayUrl: relay, token: session.token)
        return session
    }

    /// The app came to the foreground: sync often, and at once when the relay announces a change.
    func foreground() throws {
        guard try isSignedIn() else { return }
        let phone = try phone()
        try phone.startBackgroundSync(intervalSeconds: 60)
        try phone.startLive()
    }

    /// The app left the foreground: BGTaskScheduler's windows take over.
    func background() {
        current?.stopLive()
        current?.stopBackgroundSync()
    }

    /// Rotates the database key: stored as pending first, promoted after the re-encryption.
    func rotateDatabaseKey() throws {
        let next = try PhoneSecrets.newPendingKey()
        try phone().rekey(newKey: next)
        try PhoneSecrets.promotePendingKey()
    }

    /// The relay no longer knows the token: the data stays, sign in again.
    func sessionEnded() throws { try PhoneSecrets.forgetSession() }

    /// After `Revoked`: the phone erased its data and runs on an empty store under the old key.
    /// Drop it, forget token and key, delete that store; the next use starts on a new key.
    func resetAfterWipe() throws {
        if let phone = current {
            phone.stopLive()
            phone.stopBackgroundSync()
            phone.clearListener()
        }
        current = nil // the last reference: the generated class frees the native phone
        try PhoneSecrets.forgetAll()
        for suffix in ["", "-wal", "-shm", "-journal"] {
            let path = databasePath + suffix
            if FileManager.default.fileExists(atPath: path) { try FileManager.default.removeItem(atPath: path) }
        }
    }
}
