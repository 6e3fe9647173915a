// The app's secrets in the iOS Keychain: the database key (32 random bytes) and the session
// token. Generic-password items readable after the first unlock (background sync runs with the
// screen locked), never synced to iCloud nor restored to another device (the ThisDeviceOnly class).

import Foundation
import Security

/// A Keychain failure, with the OSStatus that says why.
struct KeychainError: Error, CustomStringConvertible {
    let status: OSStatus
    let what: String
    var description: String { "keychain: \(what) failed with status \(status)" }
}

/// Generic-password items of this app, by name.
enum Keychain {
    private static let service = "com.fieldsync.demo"

    private static func query(_ name: String) -> [String: Any] {
        [kSecClass as String: kSecClassGenericPassword,
         kSecAttrService as String: service,
         kSecAttrAccount as String: name]
    }

    /// The item called `name`, or nil when there is none.
    static func read(_ name: String) throws -> Data? {
        var q = query(name)
        q[kSecReturnData as String] = true
        q[kSecMatchLimit as String] = kSecMatchLimitOne
        var result: AnyObject?
        let status = SecItemCopyMatching(q as CFDictionary, &result)
        if status == errSecItemNotFound { return nil }
        guard status == errSecSuccess else { throw KeychainError(status: status, what: "reading \(name)") }
        return result as? Data
    }

    /// Stores `value` as `name`, replacing what was there.
    static func write(_ name: String, _ value: Data) throws {
        let update = SecItemUpdate(query(name) as CFDictionary, [kSecValueData as String: value] as CFDictionary)
        if update == errSecSuccess { return }
        guard update == errSecItemNotFound else { throw KeychainError(status: update, what: "updating \(name)") }
        var q = query(name)
        q[kSecValueData as String] = value
        q[kSecAttrAccessible as String] = kSecAttrAccessibleAfterFirstUnlockThisDeviceOnly
        let status = SecItemAdd(q as CFDictionary, nil)
        guard status == errSecSuccess else { throw KeychainError(status: status, what: "storing \(name)") }
    }

    /// Forgets `name`; nothing happens when there is none.
    static func delete(_ name: String) throws {
        let status = SecItemDelete(query(name) as CFDictionary)
        guard status == errSecSuccess || status == errSecItemNotFound else {
            throw KeychainError(status: status, what: "deleting \(name)")
        }
    }
}

/// The app's policy for its secrets; the same as the Android sample's `PhoneSecrets`.
enum PhoneSecrets {
    private static let databaseKeyName = "database-key"
    private static let pendingKeyName = "database-key-next"
    private static let tokenName = "session-token"
    private static let relayName = "relay-url"

    /// The database key, created (and stored) at the first call.
    static func databaseKey() throws -> Data {
        if let key = try Keychain.read(databaseKeyName) {
            guard key.count == 32 else { throw KeychainError(status: errSecDecode, what: "database key of \(key.count) bytes") }
            return key
        }
        let key = try randomKey()
        try Keychain.write(databaseKeyName, key)
        return key
    }

    /// A key a rotation stored but did not get to promote (the app died in between).
    static func pendingDatabaseKey() throws -> Data? { try Keychain.read(pendingKeyName) }

    /// Stores a new key as pending, before the database is re-encrypted with it.
    static func newPendingKey() throws -> Data {
        let key = try randomKey()
        try Keychain.write(pendingKeyName, key)
        return key
    }

    /// Makes the pending key the database key.
    static func promotePendingKey() throws {
        guard let next = try Keychain.read(pendingKeyName) else { return }
        try Keychain.write(databaseKeyName, next)
        try Keychain.delete(pendingKeyName)
    }

    /// Keeps the session granted at sign-in.
    static func saveSession(relayUrl: String, token: String) throws {
        try Keychain.write(relayName, Data(relayUrl.utf8))
        try Keychain.write(tokenName, Data(token.utf8))
    }

    /// The session of the last sign-in, if one is kept.
    static func session() throws -> (relayUrl: String, token: String)? {
        guard let url = try Keychain.read(relayName), let token = try Keychain.read(tokenName) else { return nil }
        return (String(decoding: url, as: UTF8.self), String(decoding: token, as: UTF8.self))
    }

    /// Forgets the session (sign-out, or the relay no longer knows the token).
    static func forgetSession() throws {
        try Keychain.delete(tokenName)
        try Keychain.delete(relayName)
    }

    /// Forgets everything (after a remote wipe).
    static func forgetAll() throws {
        try forgetSession()
        try Keychain.delete(databaseKeyName)
        try Keychain.delete(pendingKeyName)
    }

    private static func randomKey() throws -> Data {
        var bytes = [UInt8](repeating: 0, count: 32)
        let status = SecRandomCopyBytes(kSecRandomDefault, bytes.count, &bytes)
        guard status == errSecSuccess else { throw KeychainError(status: status, what: "making a random key") }
        return Data(bytes)
    }
}
